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

"""No dead ends: every state the tool can leave has a way forward it prints.

Issue 10, point 5, against real SQLite, MariaDB and PostgreSQL: the man
page's order on an empty database (``stamp icehouse``, then ``upgrade
head``) ends at head; ``stamp`` refuses to record more than exists (unless
``--force``) and says what fits; ``version`` warns where the revision alone
misleads; a target the other way from the database says so; and the 20
revisions the 2014 squash removed are named as such, as targets and as
recorded revisions.
"""

import json

from tests import dbutil, legacy
from tests.helpers import (
    HEAD,
    JUNO,
    KILO,
    PROG,
    SQUASH,
    error_lines,
    follow,
    run_ok,
    warning_lines,
)

# The 21 pre-squash revisions but the last, whose id the squash kept
# (SOLUM_SCHEMA_FACTS.md, section 1.3): written out here, not read from
# the code under test.
PRE_SQUASH = (
    "594288b1585a", "a42f578cef8", "37d6ad94f2ce", "4d72260e56e",
    "46ffedad6d56", "3d1c8e21f103", "1767df1e2659", "3f2eaf30c19f",
    "396a439167dc", "27e7701946fe", "365ff074069c", "3d69d7ff26cb",
    "2e60bd23410d", "49f732ce446c", "9012e1a6ff1", "23f2a946d20e",
    "44fcd06e4009", "12d90235e174", "18b94e085cf9", "4ee48e775ad7")


def one_error(result, code):
    """The promised failure: one ERROR line, the last, no traceback."""
    assert result.code == code, result.err
    lines = error_lines(result.err)
    assert len(lines) == 1, result.err
    assert result.err.rstrip().splitlines()[-1] == lines[0]
    assert "Traceback" not in result.err
    return lines[0]


def found(solum, url):
    """check --json: (status, the findings)."""
    result = solum("check", "--json", url=url)
    assert "Traceback" not in result.err
    return result.code, json.loads(result.out)


def everything(engine):
    """What a refused command must leave as it was."""
    return (dbutil.snapshot(engine, include_version_table=True),
            dbutil.version_rows(engine))


def assert_at_head(solum, url):
    assert found(solum, url)[0] == 0
    assert run_ok(solum, "version", url=url).out.startswith(
        f"Current DB revision is {HEAD} ")


# --- stamp records no more than exists ---------------------------------------

def test_man_page_order_on_an_empty_database_ends_at_head(
        solum, db_url, engine):
    before = everything(engine)
    line = one_error(solum("stamp", "icehouse", url=db_url), 6)
    assert line.startswith("ERROR: stamp refused, nothing was changed: ")
    assert "holds no Solum table" in line
    assert line.endswith(f"To repair, run: {PROG} upgrade head")
    assert everything(engine) == before
    # The man page's next command, run as printed, reaches head.
    run_ok(solum, "upgrade", "head", url=db_url)
    assert_at_head(solum, db_url)


def test_stamp_force_on_an_empty_database_gets_advice_that_works(
        solum, db_url, engine):
    result = run_ok(solum, "stamp", "--force", "icehouse", url=db_url)
    assert any("--force" in line for line in warning_lines(result.err))
    assert dbutil.version_rows(engine) == ["icehouse"]

    # Every command says the same way out; upgrade changes nothing.
    status, findings = found(solum, db_url)
    assert (status, findings["state"]) == (6, "mismatch")
    assert "holds none of its tables" in findings["message"]
    repair = [f"{PROG} stamp base", f"{PROG} upgrade head"]
    assert findings["repair"] == repair
    # One warning line per item: read them as one text.
    warning = " ".join(warning_lines(run_ok(solum, "version", url=db_url).err))
    assert "holds none of its tables" in warning
    assert "; then ".join(repair) in warning
    before = everything(engine)
    line = one_error(solum("upgrade", "head", url=db_url), 6)
    assert "; then ".join(repair) in line
    assert "restore it from a backup" not in line
    assert everything(engine) == before

    follow(solum, repair, db_url)
    assert_at_head(solum, db_url)


def test_stamp_refuses_a_revision_whose_tables_are_missing(
        solum, db_url, engine):
    run_ok(solum, "upgrade", "kilo", url=db_url)
    before = everything(engine)
    line = one_error(solum("stamp", "head", url=db_url), 6)
    assert line.startswith("ERROR: stamp refused, nothing was changed: ")
    assert "table app is missing" in line
    assert "table workflow is missing" in line
    assert f"Its schema is that of revision {KILO} (kilo)" in line
    # Already recorded as kilo: the way on is upgrade alone.
    assert line.endswith(f"'{PROG} stamp --force head' records it "
                         f"anyway. To repair, run: {PROG} upgrade head")
    assert everything(engine) == before

    # A database lacking a column of the revision's, not only tables.
    run_ok(solum, "upgrade", "head", url=db_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE app DROP COLUMN scale_config")
        connection.exec_driver_sql("DELETE FROM alembic_version")
    before = everything(engine)
    line = one_error(solum("stamp", "head", url=db_url), 6)
    assert "column app.scale_config is missing" in line
    previous = "272e7cd352f9"
    assert (f"To repair, run: {PROG} stamp {previous}; then {PROG} "
            f"upgrade head") in line
    assert everything(engine) == before
    follow(solum, [f"{PROG} stamp {previous}", f"{PROG} upgrade head"],
           db_url)
    assert_at_head(solum, db_url)


def test_stamp_of_a_schema_the_database_holds_stays_allowed(
        solum, db_url, engine):
    # Head holds every table and column of kilo: the documented repair
    # "stamp an earlier revision, then upgrade head" keeps working.
    run_ok(solum, "upgrade", "head", url=db_url)
    run_ok(solum, "stamp", "kilo", url=db_url)
    assert dbutil.version_rows(engine) == [KILO]
    run_ok(solum, "upgrade", "head", url=db_url)
    assert_at_head(solum, db_url)
    # stamp base always works.
    run_ok(solum, "stamp", "base", url=db_url)
    assert dbutil.version_rows(engine) == []


def test_stamp_icehouse_on_the_icehouse_form_stays_allowed(
        solum, db_url):
    # The Icehouse (2014.1.0) form: test_icehouse.py runs every form.
    form = "2014.1.0"
    legacy.build(db_url, form, rows=False)
    run_ok(solum, "stamp", "icehouse", url=db_url)
    run_ok(solum, "upgrade", "head", url=db_url)
    assert_at_head(solum, db_url)


# --- version warns where the revision alone misleads -------------------------

def test_version_warns_on_an_icehouse_schema_recorded_as_the_squash(
        solum, db_url):
    legacy.build(db_url, "2014.1.0", rows=False)
    result = run_ok(solum, "version", url=db_url)
    assert result.out == f"Current DB revision is {SQUASH}\n"
    warning = " ".join(warning_lines(result.err))
    assert "its schema is not that revision's" in warning
    assert "column plan.deploy_keys_uri is missing" in warning
    assert (f"{PROG} stamp icehouse; then {PROG} upgrade head"
            in warning)


def test_version_stays_quiet_where_the_revision_tells(solum, db_url):
    run_ok(solum, "upgrade", "kilo", url=db_url)
    result = run_ok(solum, "version", url=db_url)
    assert result.out == f"Current DB revision is {KILO} (kilo)\n"
    assert warning_lines(result.err) == []


# --- a target the other way from the database --------------------------------

def test_a_target_the_other_way_from_the_database_says_so(
        solum, db_url, engine):
    run_ok(solum, "upgrade", "kilo", url=db_url)
    before = everything(engine)

    result = run_ok(solum, "upgrade", "juno", url=db_url)
    assert result.out == (
        f"Nothing to do: the database is at {KILO} (kilo), later than "
        f"{JUNO} (juno), and upgrade never goes back; '{PROG} downgrade "
        f"juno' would.\n")
    result = run_ok(solum, "upgrade", "base", url=db_url)
    assert f"'{PROG} downgrade base' would" in result.out
    assert everything(engine) == before

    for target, named in (("head", "head"), (HEAD[:6], HEAD[:6]),
                          ("liberty", "liberty")):
        line = one_error(solum("downgrade", target, url=db_url), 1)
        assert line.startswith(
            f"ERROR: downgrade refused, nothing was changed: the database "
            f"is at {KILO} (kilo), earlier than "), line
        assert line.endswith(f"'{PROG} upgrade {named}' would."), line
        assert "valid downgrade target" not in line
    assert everything(engine) == before
    # What it names works.
    run_ok(solum, "downgrade", "juno", url=db_url)
    assert dbutil.version_rows(engine) == [JUNO]


# --- the revisions the 2014 squash removed -----------------------------------

def test_every_pre_squash_id_as_a_target_is_named(solum, db_url, engine):
    run_ok(solum, "upgrade", "icehouse", url=db_url)
    before = everything(engine)
    assert len(set(PRE_SQUASH)) == 20
    for revision in PRE_SQUASH:
        for args, instead in (
                (["upgrade", revision], f"'{PROG} upgrade head'"),
                (["downgrade", revision], f"'{PROG} downgrade icehouse'"),
                (["stamp", revision], f"'{PROG} check'"),
                (["show", revision], f"'{PROG} show {SQUASH}'"),
                (["history", "-r", f"{revision}:head"],
                 f"'{PROG} history -r base:{SQUASH}'"),
                (["upgrade", "--sql", f"{revision}:head"],
                 f"'{PROG} upgrade head'"),
                (["downgrade", f"{revision.upper()}+1"],
                 f"'{PROG} downgrade icehouse'")):
            result = solum(*args, url=db_url)
            line = one_error(result, 1)
            assert line.startswith(f"ERROR: {revision} ("), (args, line)
            assert ("is a pre-Icehouse development revision of Solum"
                    in line), line
            assert f"folded them all into {SQUASH}" in line
            assert instead in line, (args, line)
            assert result.out == ""
    assert everything(engine) == before


def test_the_man_page_downgrade_example_says_what_works(
        solum, db_url, engine):
    run_ok(solum, "upgrade", "head", url=db_url)
    before = everything(engine)
    line = one_error(solum("downgrade", "594288b1585a", url=db_url), 1)
    assert "('Add applications') is a pre-Icehouse development" in line
    assert "No such revision" not in line
    assert everything(engine) == before
    run_ok(solum, "downgrade", "icehouse", url=db_url)
    assert dbutil.version_rows(engine) == ["icehouse"]


def record(engine, revision):
    with engine.begin() as connection:
        connection.exec_driver_sql(
            f"UPDATE alembic_version SET version_num = '{revision}'")


def test_a_database_recorded_at_a_pre_squash_id_is_diagnosed_by_its_schema(
        solum, db_url, new_db_url, engine):
    run_ok(solum, "upgrade", "icehouse", url=db_url)
    record(engine, "4ee48e775ad7")

    status, findings = found(solum, db_url)
    assert (status, findings["state"]) == (6, "mismatch")
    assert findings["message"].startswith(
        "The database records revision 4ee48e775ad7: 4ee48e775ad7 ('Add "
        "application_uri to assembly') is a pre-Icehouse development "
        "revision")
    assert findings["matches"] == {"revision": "icehouse", "exact": True}
    repair = [f"{PROG} stamp --purge icehouse", f"{PROG} upgrade head"]
    assert findings["repair"] == repair

    result = run_ok(solum, "version", url=db_url)
    assert result.out == "Current DB revision is 4ee48e775ad7\n"
    warning = " ".join(warning_lines(result.err))
    assert "pre-Icehouse development revision" in warning
    assert "newer release" not in warning
    before = everything(engine)
    line = one_error(solum("upgrade", "head", url=db_url), 6)
    assert "pre-Icehouse development revision" in line
    assert "; then ".join(repair) in line
    # current and stamp (without --purge) read the recorded id through
    # Alembic, which knows no such revision: the same diagnosis instead.
    for argv in (["current"], ["stamp", "head"], ["stamp", "icehouse"]):
        line = one_error(solum(*argv, url=db_url), 6)
        assert "No such revision" not in line, argv
        assert "pre-Icehouse development revision" in line, argv
        assert "; then ".join(repair) in line, argv
    assert everything(engine) == before
    follow(solum, repair, db_url)
    assert_at_head(solum, db_url)


def test_an_empty_database_recorded_at_a_pre_squash_id(solum, db_url, engine):
    run_ok(solum, "stamp", "--force", "icehouse", url=db_url)
    record(engine, "594288b1585a")
    status, findings = found(solum, db_url)
    assert (status, findings["state"]) == (6, "mismatch")
    assert "('Add applications')" in findings["message"]
    assert "It holds no Solum table." in findings["notes"]
    assert findings["repair"] == [f"{PROG} stamp --purge base",
                                  f"{PROG} upgrade head"]
    follow(solum, findings["repair"], db_url)
    assert_at_head(solum, db_url)
