# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Every command end to end through ``main()``, on every backend.

The ``solum`` fixture runs the tool in-process as a user would; the
database is inspected afterwards with plain SQLAlchemy (tests/dbutil.py).
"""

import contextlib
import re
import uuid

import pytest
import sqlalchemy as sa

from solum_db_manage import db
from tests import dbutil
from tests.helpers import (
    BEFORE_UNIQUE,
    ENCODED,
    HEAD,
    HEAD_LINE,
    JUNO,
    KILO,
    PASSWORD,
    SERVER_URLS,
    assert_no_password,
    assert_one_error,
    block_the_unique_step,
    chain,
    execute,
    mysql_user,
    new_scripts,
    require_backend,
    run_ok,
    scripts,
    unblock_the_unique_step,
    user_url,
)

# The first revision of 2014, squashed away before Icehouse: the man page's
# downgrade example names it.
PRE_SQUASH = "594288b1585a"


# --- version ----------------------------------------------------------------

def test_version_of_an_empty_database_is_none(solum, db_url):
    result = run_ok(solum, "version", url=db_url)
    assert result.out == "Current DB revision is None\n"
    assert "Current DB revision" not in result.err


def test_version_at_head_names_the_releases(solum, db_url):
    upgrade = solum("upgrade", url=db_url)
    assert upgrade.code == 0
    # Logging goes to stderr, never into the parsable stdout.
    assert "INFO" in upgrade.err and upgrade.out == ""
    result = run_ok(solum, "version", url=db_url)
    assert result.out == HEAD_LINE
    # Nothing to say at head: no Alembic start-up lines either.
    assert result.err == ""


def test_version_survives_several_recorded_heads(solum, db_url, engine):
    assert solum("upgrade", url=db_url).code == 0
    execute(engine,
            f"INSERT INTO alembic_version (version_num) VALUES ('{KILO}')")
    result = run_ok(solum, "version", url=db_url)
    described = sorted(result.out.removeprefix(
        "Current DB revision is ").rstrip("\n").split(", "))
    assert described == sorted([f"{HEAD} (mitaka ... 2023.2)",
                                f"{KILO} (kilo)"])


# --- upgrade ----------------------------------------------------------------

FAST_PATH_LINE = (f"INFO solum_db_manage [-] Created the head schema {HEAD} "
                  f"directly: the database was empty, so no revision was "
                  f"walked.")


def test_upgrade_defaults_to_head_and_builds_it_directly_when_empty(
        solum, db_url, engine):
    result = run_ok(solum, "upgrade", url=db_url)
    assert result.out == ""
    assert dbutil.version_rows(engine) == [HEAD]
    [line] = result.err.splitlines()
    assert line.endswith(FAST_PATH_LINE)
    assert solum("check", url=db_url).code == 0


@pytest.mark.parametrize("target", ["head", "heads", HEAD, "mitaka",
                                    "2023.2", "bobcat"])
def test_every_name_of_head_takes_the_fast_path(solum, target, tmp_path):
    url = f"sqlite:///{tmp_path}/solum.sqlite"
    result = run_ok(solum, "upgrade", target, url=url)
    assert FAST_PATH_LINE in result.err
    assert "Running upgrade" not in result.err


@pytest.mark.parametrize("target", ["kilo", "+1", "a271"])
def test_other_targets_walk_the_chain_on_an_empty_database(
        solum, target, tmp_path):
    url = f"sqlite:///{tmp_path}/solum.sqlite"
    result = run_ok(solum, "upgrade", target, url=url)
    assert "Created the head schema" not in result.err
    assert "Running upgrade  -> icehouse" in result.err


def test_upgrade_reports_every_step_it_walks(solum, db_url, engine):
    assert solum("upgrade", "icehouse", url=db_url).code == 0
    result = run_ok(solum, "upgrade", url=db_url)
    assert result.out == ""
    assert dbutil.version_rows(engine) == [HEAD]
    revisions = chain()
    script_dir = scripts()
    for down, up in zip(revisions, revisions[1:], strict=False):
        title = script_dir.get_revision(up).doc
        assert f"Running upgrade {down} -> {up}, {title}" in result.err
    assert "INFO alembic.runtime.migration" in result.err
    # Alembic's own start-up chatter is kept out at INFO.
    assert "setup plugin" not in result.err


def test_upgrade_at_head_does_nothing(solum, db_url, engine):
    assert solum("upgrade", "head", url=db_url).code == 0
    before = dbutil.snapshot(engine, include_version_table=True)
    result = run_ok(solum, "upgrade", url=db_url)
    assert "Running upgrade" not in result.err
    assert dbutil.snapshot(engine, include_version_table=True) == before


def test_upgrade_by_relative_steps(solum, db_url, engine):
    revisions = chain()
    assert solum("upgrade", "+2", url=db_url).code == 0
    assert dbutil.version_rows(engine) == [revisions[1]]
    assert solum("upgrade", "+1", url=db_url).code == 0
    assert dbutil.version_rows(engine) == [revisions[2]]
    # REV+N counts from REV, here a partial id.
    run_ok(solum, "upgrade", f"{revisions[3][:6]}+2", url=db_url)
    assert dbutil.version_rows(engine) == [revisions[5]]


def test_upgrade_to_a_partial_id(solum, db_url, engine):
    result = run_ok(solum, "upgrade", KILO[:6], url=db_url)
    assert dbutil.version_rows(engine) == [KILO]
    assert f"-> {KILO}," in result.err
    assert "-> 40df542e345," not in result.err


def test_upgrade_to_heads(solum, db_url, engine):
    run_ok(solum, "upgrade", "heads", url=db_url)
    assert dbutil.version_rows(engine) == [HEAD]


def test_upgrade_to_an_eleven_character_id(solum, db_url, engine):
    assert solum("upgrade", "40df542e345", url=db_url).code == 0
    assert dbutil.version_rows(engine) == ["40df542e345"]


# --- downgrade --------------------------------------------------------------

def test_downgrade_without_revision_changes_nothing(solum, db_url, engine):
    assert solum("upgrade", url=db_url).code == 0
    before = dbutil.snapshot(engine, include_version_table=True)
    result = solum("downgrade", url=db_url)
    line = assert_one_error(result, code=2)
    assert "downgrade needs a target revision" in line
    assert "Running downgrade" not in result.err
    assert dbutil.snapshot(engine, include_version_table=True) == before
    assert dbutil.version_rows(engine) == [HEAD]


def test_downgrade_one_step(solum, db_url, engine):
    revisions = chain()
    assert solum("upgrade", url=db_url).code == 0
    result = run_ok(solum, "downgrade", "-1", url=db_url)
    assert f"Running downgrade {HEAD} -> {revisions[-2]}" in result.err
    assert dbutil.version_rows(engine) == [revisions[-2]]


def test_downgrade_to_an_id_then_to_base(solum, db_url, engine):
    assert solum("upgrade", url=db_url).code == 0
    result = run_ok(solum, "downgrade", JUNO, url=db_url)
    assert dbutil.version_rows(engine) == [JUNO]
    assert f"Running downgrade 27dff58cbc65 -> {JUNO}" in result.err

    result = run_ok(solum, "downgrade", "base", url=db_url)
    assert dbutil.version_rows(engine) == []
    assert dbutil.snapshot(engine) == {}
    assert solum("version", url=db_url).out == (
        "Current DB revision is None\n")


def test_downgrade_schema_matches_upgrade_to_the_same_revision(
        solum, db_url, new_db_url, engine):
    assert solum("upgrade", url=db_url).code == 0
    assert solum("downgrade", KILO, url=db_url).code == 0
    other_url = new_db_url()
    assert solum("upgrade", KILO, url=other_url).code == 0
    other = db.create_engine(other_url)
    try:
        assert dbutil.snapshot(engine) == dbutil.snapshot(other)
    finally:
        other.dispose()


# --- stamp ------------------------------------------------------------------

def test_stamp_without_revision_leaves_the_version_table(
        solum, db_url, engine):
    result = solum("stamp", url=db_url)
    line = assert_one_error(result, code=2)
    assert "stamp needs a revision" in line
    assert not sa.inspect(engine).has_table(dbutil.VERSION_TABLE)

    # An empty database: only --force records a revision there.
    assert solum("stamp", "--force", KILO, url=db_url).code == 0
    assert_one_error(solum("stamp", url=db_url), code=2)
    assert dbutil.version_rows(engine) == [KILO]


def test_stamp_records_without_migrating(solum, db_url, engine):
    result = run_ok(solum, "stamp", "--force", "head", url=db_url)
    assert dbutil.version_rows(engine) == [HEAD]
    assert dbutil.snapshot(engine) == {}
    assert "Running stamp_revision  -> " + HEAD in result.err
    assert solum("version", url=db_url).out == HEAD_LINE


def test_stamp_moves_between_revisions(solum, db_url, engine):
    assert solum("stamp", "--force", "head", url=db_url).code == 0
    assert solum("stamp", "--force", JUNO[:8], url=db_url).code == 0
    assert dbutil.version_rows(engine) == [JUNO]


def test_stamp_purge_replaces_an_unknown_version(solum, db_url, engine):
    assert solum("upgrade", "head", url=db_url).code == 0
    execute(engine, "UPDATE alembic_version SET version_num = 'feedface0000'")

    # Exit 4, as check says of a revision unknown here, naming the purge.
    line = assert_one_error(solum("stamp", "head", url=db_url), code=4)
    assert "feedface0000" in line
    assert "stamp --purge REV' replaces what it records" in line
    assert dbutil.version_rows(engine) == ["feedface0000"]

    run_ok(solum, "stamp", "--purge", "head", url=db_url)
    assert dbutil.version_rows(engine) == [HEAD]


# --- revision ---------------------------------------------------------------

def test_revision_writes_a_template_with_a_downgrade(solum, script_copy):
    before = new_scripts(script_copy)
    result = run_ok(solum, "revision", "-m", "add frobnication to app")
    [path] = sorted(set(new_scripts(script_copy)) - set(before))
    assert path.name.endswith("_add_frobnication_to_app.py")
    text = path.read_text()
    # The license header (issue 12), then the docstring.
    assert text.startswith("# Licensed under the Apache License")
    assert text.split("\n\n", 1)[1].startswith(
        '"""add frobnication to app\n')
    assert f"down_revision = {HEAD!r}" in text
    assert "def upgrade():\n    pass\n" in text
    assert "def downgrade():\n    pass\n" in text
    revision = re.search(r"^revision = '(\w+)'$", text, re.M)[1]
    assert path.name.startswith(revision)
    assert f"Generating {path}" in result.out + result.err

    heads = solum("heads")
    assert heads.out == f"{revision} (head)\n"


def test_a_new_revision_runs_on_top_of_head(solum, db_url, engine,
                                            script_copy):
    assert solum("revision", "-m", "nothing yet").code == 0
    [new_head] = scripts().get_heads()
    assert new_head != HEAD
    # chain_data.py does not know the new revision yet: the scripts are walked
    # instead (with a warning), and the models, of the old head, are not
    # taken for the head schema.
    result = run_ok(solum, "upgrade", url=db_url)
    assert "solum_db_manage.chain --write" in result.err
    assert "Created the head schema" not in result.err
    assert f"Running upgrade {HEAD} -> {new_head}" in result.err
    assert dbutil.version_rows(engine) == [new_head]
    assert solum("check", url=db_url).code == 0
    assert solum("downgrade", "-1", url=db_url).code == 0
    assert dbutil.version_rows(engine) == [HEAD]


def test_autogenerate_at_head_finds_no_changes(solum, db_url, script_copy):
    before = new_scripts(script_copy)
    assert solum("upgrade", url=db_url).code == 0
    result = run_ok(solum, "revision", "-m", "nothing", "--autogenerate",
                    url=db_url)
    assert result.out.strip().splitlines()[-1] == (
        "No changes in schema detected.")
    assert new_scripts(script_copy) == before


def test_autogenerate_writes_the_differences(
        solum, db_url, engine, script_copy):
    before = new_scripts(script_copy)
    assert solum("upgrade", url=db_url).code == 0
    execute(engine, "CREATE TABLE stray_table (id INTEGER PRIMARY KEY)")
    result = solum("revision", "-m", "drop stray", "--autogenerate",
                   url=db_url)
    assert result.code == 0, result.err
    [path] = sorted(set(new_scripts(script_copy)) - set(before))
    text = path.read_text()
    assert "op.drop_table('stray_table')" in text
    assert "op.create_table('stray_table'" in text
    assert "No changes in schema detected." not in result.out


def test_autogenerate_refuses_an_outdated_database(
        solum, db_url, script_copy):
    before = new_scripts(script_copy)
    assert solum("upgrade", KILO, url=db_url).code == 0
    line = assert_one_error(
        solum("revision", "-m", "x", "--autogenerate", url=db_url))
    assert "not up to date" in line
    assert new_scripts(script_copy) == before


def test_revision_needs_no_database(solum, script_copy):
    # No URL at all: a template needs only the scripts.
    assert solum("revision", "-m", "offline").code == 0


# --- current, history, heads, branches, show --------------------------------

def test_current_on_an_empty_database_prints_nothing(solum, db_url):
    result = run_ok(solum, "current", url=db_url)
    assert result.out == ""


def test_current_at_head(solum, db_url):
    assert solum("upgrade", url=db_url).code == 0
    result = run_ok(solum, "current", url=db_url)
    assert result.out == f"{HEAD} (head)\n"


def test_current_verbose(solum, db_url):
    assert solum("upgrade", url=db_url).code == 0
    result = run_ok(solum, "current", "--verbose", url=db_url)
    assert f"Rev: {HEAD} (head)" in result.out
    assert "Parent: 272e7cd352f9" in result.out


def test_history_lists_every_revision_newest_first(solum):
    result = run_ok(solum, "history")
    lines = result.out.splitlines()
    revisions = chain()
    assert len(lines) == len(revisions)
    assert lines[0].startswith(f"272e7cd352f9 -> {HEAD} (head), ")
    for line, revision in zip(lines, reversed(revisions), strict=True):
        assert f"-> {revision}" in line
    assert lines[-1].startswith(f"<base> -> {revisions[0]}")


def test_history_of_a_range(solum):
    revisions = chain()
    result = run_ok(solum, "history", "-r", f"{JUNO}:{KILO}")
    listed = [re.search(r"-> (\w+)", line)[1]
              for line in result.out.splitlines()]
    expected = revisions[revisions.index(JUNO):revisions.index(KILO) + 1]
    assert listed == list(reversed(expected))


def test_history_verbose(solum):
    result = run_ok(solum, "history", "-r", f"{KILO}:{KILO}", "--verbose")
    assert f"Rev: {KILO}" in result.out
    assert "Add image id to assembly table" in result.out


def test_heads(solum):
    result = run_ok(solum, "heads")
    assert result.out == f"{HEAD} (head)\n"
    verbose = solum("heads", "--verbose")
    assert f"Rev: {HEAD} (head)" in verbose.out


def test_branches_lists_the_branch_points(solum):
    points = [script.revision for script in scripts().walk_revisions()
              if script.is_branch_point]
    result = run_ok(solum, "branches")
    listed = [line.split()[0] for line in result.out.splitlines()
              if line and not line.startswith(" ")]
    assert sorted(listed) == sorted(points)


def test_show_a_revision(solum):
    result = run_ok(solum, "show", KILO[:7])
    assert f"Rev: {KILO}" in result.out
    assert "Parent: 452f34e8ea3" in result.out
    assert "Add image id to assembly table" in result.out


def test_commands_on_scripts_need_no_database(solum):
    for argv in (["history"], ["heads"], ["branches"], ["show", "head"]):
        assert solum(*argv).code == 0, argv


# --- configuration ----------------------------------------------------------

def test_connection_from_a_config_file(solum, db_url, tmp_path):
    path = tmp_path / "with-connection.conf"
    path.write_text(f"[database]\nconnection = {db_url}\n")
    result = solum("version", config_file=str(path))
    assert result.code == 0, result.err
    assert result.out == "Current DB revision is None\n"


def test_connection_from_a_config_dir(solum, db_url, tmp_path):
    directory = tmp_path / "solum.conf.d"
    directory.mkdir()
    (directory / "db.conf").write_text(
        f"[database]\nconnection = {db_url}\n")
    assert solum("--config-dir", str(directory), "upgrade").code == 0
    assert solum("version", url=db_url).out == HEAD_LINE


def test_command_line_connection_overrides_the_config_file(
        solum, db_url, tmp_path):
    path = tmp_path / "elsewhere.conf"
    path.write_text("[database]\nconnection = "
                    "mysql+pymysql://nobody@127.0.0.1:1/nothing\n")
    result = solum("version", url=db_url, config_file=str(path))
    assert result.code == 0, result.err
    assert result.out == "Current DB revision is None\n"


def test_connection_from_the_environment(solum, db_url, monkeypatch):
    monkeypatch.setenv("OS_DATABASE__CONNECTION", db_url)
    result = run_ok(solum, "version")
    assert result.out == "Current DB revision is None\n"


# --- errors -----------------------------------------------------------------

def test_unknown_revision_is_one_error_line(solum, db_url, engine):
    line = assert_one_error(solum("upgrade", "deadbeef", url=db_url))
    assert "deadbeef" in line
    assert dbutil.version_rows(engine) == []
    line = assert_one_error(solum("show", "deadbeef"))
    assert "deadbeef" in line


def test_debug_adds_the_traceback(solum, db_url):
    result = solum("--debug", "upgrade", "deadbeef", url=db_url)
    assert result.code == 1
    assert "Traceback (most recent call last)" in result.err
    assert result.err.rstrip().splitlines()[-1].startswith("ERROR: ")


def test_ambiguous_partial_revision_is_one_error_line(solum, db_url, engine):
    # 450600086a09 and 452f34e8ea3 both start with "45".
    line = assert_one_error(solum("upgrade", "45", url=db_url))
    assert "Multiple revisions start with '45'" in line
    assert "450600086a09" in line and "452f34e8ea3" in line
    assert dbutil.version_rows(engine) == []


def test_pre_squash_revision_of_the_man_page_is_an_error(
        solum, db_url, engine):
    assert solum("upgrade", url=db_url).code == 0
    line = assert_one_error(solum("downgrade", PRE_SQUASH, url=db_url))
    assert PRE_SQUASH in line
    assert dbutil.version_rows(engine) == [HEAD]


def test_failing_migration_is_one_error_line(solum, db_url, engine):
    assert solum("upgrade", BEFORE_UNIQUE, url=db_url).code == 0
    block_the_unique_step(engine)
    line = assert_one_error(solum("upgrade", url=db_url))
    assert line.startswith("ERROR: database error: ")
    assert "workflow" in line
    assert dbutil.version_rows(engine) == [BEFORE_UNIQUE]


@pytest.mark.parametrize("url", [
    "mysql+pymysql://solum@127.0.0.1:1/solum",
    "postgresql+psycopg://solum@127.0.0.1:1/solum",
])
def test_unreachable_server_is_one_error_line(solum, url):
    line = assert_one_error(solum("version", url=url))
    assert line.startswith("ERROR: cannot connect to the database")
    assert "127.0.0.1:1" in line


@pytest.mark.parametrize("backend", ["mysql", "postgresql"])
def test_missing_database_is_one_error_line(solum, backend):
    require_backend(backend)
    name = f"solum_absent_{uuid.uuid4().hex[:8]}"
    url = db.parse_url(SERVER_URLS[backend]).set(database=name)
    line = assert_one_error(solum(
        "upgrade", url=url.render_as_string(hide_password=False)))
    assert "cannot connect to the database" in line
    assert name in line


def test_missing_sqlite_directory_is_one_error_line(solum, tmp_path):
    url = f"sqlite:///{tmp_path}/no/such/dir/solum.sqlite"
    line = assert_one_error(solum("version", url=url))
    assert "unable to open database file" in line


# --- passwords --------------------------------------------------------------


@pytest.mark.parametrize("backend", ["mysql"])
def test_password_with_special_characters_connects(solum, db_url, engine):
    database = db.parse_url(db_url).database
    with mysql_user(database, PASSWORD) as user:
        url = user_url(db_url, user, ENCODED)
        result = solum("upgrade", url=url)
        assert result.code == 0, result.err
        assert dbutil.version_rows(engine) == [HEAD]
        version = solum("version", url=url)
        assert version.out == HEAD_LINE
        assert_no_password(result.out, result.err, version.out, version.err)


@pytest.mark.parametrize("backend", ["mysql"])
def test_wrong_password_is_one_error_line(solum, db_url):
    database = db.parse_url(db_url).database
    with mysql_user(database, PASSWORD) as user:
        url = user_url(db_url, user, "S3cretWrong")
        result = solum("version", url=url)
        line = assert_one_error(result)
        assert "cannot connect to the database" in line
        assert "Access denied" in line
        assert "S3cretWrong" not in result.err

        debug = solum("--debug", "version", url=url)
        assert "Traceback" in debug.err
        assert "S3cretWrong" not in debug.out + debug.err


@pytest.mark.parametrize("backend", ["mysql", "postgresql"])
def test_password_never_appears_in_any_output(
        solum, db_url, engine, tmp_path):
    url_parts = db.parse_url(db_url)
    log_file = tmp_path / "solum-db-manage.log"
    with contextlib.ExitStack() as stack:
        if url_parts.get_backend_name() == "mysql":
            user = stack.enter_context(
                mysql_user(url_parts.database, PASSWORD))
        else:
            # Local trust authentication takes any password: still, the
            # URL carries one, and it must not be shown.
            user = url_parts.username
        url = user_url(db_url, user, ENCODED)
        runs = [
            solum("--debug", "upgrade", "+3", url=url),
            solum("--debug", "--log-file", str(log_file), "upgrade",
                  url=url),
            solum("--debug", "version", url=url),
            solum("--debug", "current", "--verbose", url=url),
            solum("--debug", "upgrade", "deadbeef", url=url),
            solum("--debug", "stamp", "--sql", "head", url=url),
            solum("--debug", "upgrade", "--sql", f"{KILO}:head", url=url),
        ]
    assert [run.code for run in runs] == [0, 0, 0, 0, 1, 0, 0]
    assert "Traceback" in runs[4].err
    logged = log_file.read_text()
    assert "Running upgrade" in logged
    for run in runs:
        assert_no_password(run.out, run.err)
    assert_no_password(logged)
    assert dbutil.version_rows(engine) == [HEAD]


def test_password_of_an_unreachable_server_is_hidden(solum):
    url = f"mysql+pymysql://solum:{ENCODED}@127.0.0.1:1/solum"
    result = solum("--debug", "upgrade", url=url)
    assert result.code == 1
    assert "Traceback" in result.err
    assert "solum:***@127.0.0.1:1" in result.err
    assert_no_password(result.out, result.err)


@pytest.mark.parametrize("url", [
    # Malformed: no pattern for a URL finds the password in these.
    f"mysql+pymysql:/solum:{ENCODED}@127.0.0.1:1/solum",
    f"solum:{ENCODED}@127.0.0.1:1/solum",
    # The password as a query parameter.
    f"postgresql+psycopg://solum@127.0.0.1:1/solum?password={ENCODED}",
    f"mysql+pymysql://solum@127.0.0.1:1/solum?charset=utf8&passwd={ENCODED}",
])
@pytest.mark.filterwarnings("ignore:'passwd' is deprecated")
def test_password_in_an_odd_url_is_hidden(solum, url):
    result = solum("version", url=url)
    assert_one_error(result)
    assert_no_password(result.out, result.err)
    debug = solum("--debug", "version", url=url)
    assert debug.code == 1 and "Traceback" in debug.err
    assert_no_password(debug.out, debug.err)


def test_failed_step_keeps_the_steps_before_it(solum, db_url, engine):
    """Each revision is committed on its own, on every backend.

    A name it needs being taken makes e5f2e8af3b8 fail (no plan foresees
    that): 112cfe038dd3, run before it in the same command, stays applied
    and recorded, and once the name is free the same command carries on.
    """
    assert solum("upgrade", "390c6c4aa97b", url=db_url).code == 0
    block_the_unique_step(engine)
    line = assert_one_error(solum("upgrade", "head", url=db_url))
    assert "workflow" in line
    assert dbutil.version_rows(engine) == [BEFORE_UNIQUE]
    assert solum("version", url=db_url).out == (
        f"Current DB revision is {BEFORE_UNIQUE}\n")
    unblock_the_unique_step(engine)
    assert solum("upgrade", "head", url=db_url).code == 0
    assert dbutil.version_rows(engine) == [HEAD]


# --- the man page's examples, in its order -----------------------------------

def test_man_page_examples(solum, db_url, engine, script_copy):
    # An Icehouse database without version tracking.
    assert solum("upgrade", "icehouse", url=db_url).code == 0
    execute(engine, "DELETE FROM alembic_version")
    assert solum("version", url=db_url).out == "Current DB revision is None\n"

    result = run_ok(solum, "stamp", "icehouse", url=db_url)
    result = run_ok(solum, "upgrade", "head", url=db_url)
    result = solum("version", url=db_url)
    assert (result.code, result.out) == (0, HEAD_LINE)

    line = assert_one_error(solum("downgrade", PRE_SQUASH, url=db_url))
    assert PRE_SQUASH in line

    result = solum("revision", "-m", "description of revision",
                   "--autogenerate", url=db_url)
    assert result.code == 0, result.err
    assert "No changes in schema detected." in result.out
    result = run_ok(solum, "revision", "-m", "description of revision")
    assert any(path.name.endswith("_description_of_revision.py")
               for path in new_scripts(script_copy))
