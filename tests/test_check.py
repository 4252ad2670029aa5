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

"""``check``: what state a database is in, on every backend.

One test per state of issue 4, section 2, against real databases: the
exit status, the lines printed and the ``--json`` object. With them, the
guards of section 3 (``upgrade`` refuses what ``check`` finds wrong and
changes nothing) and the messages ``version`` reuses. Wherever ``check``
prints a repair, the test runs it and checks again.
"""

import json
import os
import re
import socket
import time
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from solum_db_manage import db, lock, releases
from tests import dbutil, legacy
from tests.helpers import (
    BEFORE_UNIQUE,
    HEAD,
    HEAD_NAMED,
    KILO,
    LIBERTY,
    PROG,
    UNKNOWN,
    after,
    block_the_unique_step,
    chain,
    comparable,
    execute,
    follow,
    lock_holder,
    read_only_user,
    run_ok,
    unblock_the_unique_step,
    warning_lines,
)

# 112cfe038dd3 adds app.app_url and app.status to what 390c6c4aa97b left.
BEFORE_APP_URL = "390c6c4aa97b"

KEYS = {"format", "status", "state", "message", "revisions", "releases",
        "head", "pending", "differences", "matches", "repair", "notes", "lock"}


# What a Python repr looks like, which no line of check may hold.
REPR = re.compile(r"<|>|\bobject at\b|\b[A-Z]\w*\((?:'|\w+=)|\bColumn\(")


@dataclass
class Checked:
    status: int
    lines: list
    found: dict
    err: str


def expected_lines(found):
    """The lines check prints for a JSON object (no lock line)."""
    lines = [found["message"]]
    if found["pending"]:
        lines.append("Pending revisions: " + ", ".join(found["pending"]))
    lines += [f"  {difference}" for difference in found["differences"]]
    lines += found["notes"]
    if found["repair"]:
        lines.append("To repair, run: " + "; then ".join(found["repair"]))
    return lines


def check(solum, url):
    """Run ``check`` and ``check --json``: one state, told the same way."""
    text = solum("check", url=url)
    as_json = solum("check", "--json", url=url)
    for result in (text, as_json):
        assert "Traceback" not in result.err
        assert "ERROR" not in result.err, result.err
    assert text.code == as_json.code, (text, as_json)
    assert len(as_json.out.splitlines()) == 1, as_json.out
    found = json.loads(as_json.out)
    assert set(found) == KEYS
    # Raised only with a release note (README: check --json's format).
    assert found["format"] == 1
    assert found["status"] == text.code
    assert found["head"] == HEAD
    assert found["releases"] == [releases.describe(r) or None
                                 for r in found["revisions"]]
    lines = text.out.splitlines()
    if found["lock"] is None or found["state"] in ("locked", "interrupted"):
        assert lines == expected_lines(found)
    for line in lines:
        assert not REPR.search(line), line
    return Checked(text.code, lines, found, text.err)


def check_at_head_after(solum, engine, url, *statements):
    """``check`` (as ``check`` above) of the database upgraded to head,
    then changed by ``statements``."""
    run_ok(solum, "upgrade", "head", url=url)
    execute(engine, *statements)
    return check(solum, url)


def state(solum, url):
    """(status, state) of ``check --json``: for the checks after a repair."""
    result = solum("check", "--json", url=url)
    assert "Traceback" not in result.err
    return result.code, json.loads(result.out)["state"]


def table_names(engine):
    return set(sa.inspect(engine).get_table_names())


_fresh_heads = {}


def fresh_head(backend, new_db_url, solum):
    """What ``upgrade head`` makes of a new database: once per backend."""
    if backend not in _fresh_heads:
        url = new_db_url()
        run_ok(solum, "upgrade", "head", url=url)
        engine = db.create_engine(url)
        try:
            _fresh_heads[backend] = (
                dbutil.snapshot(engine, include_version_table=True),
                dbutil.mysql_create_tables(engine)
                if backend == "mysql" else None)
        finally:
            engine.dispose()
    return _fresh_heads[backend]


def assert_head_schema(backend, engine, new_db_url, solum, ordered=True):
    """The database's schema is exactly what a fresh ``upgrade head`` makes.

    PostgreSQL cannot add a column anywhere but last: there the column
    order is compared only where ``ordered`` says (as test_icehouse).
    """
    snapshot, created = fresh_head(backend, new_db_url, solum)
    ordered = ordered or backend != "postgresql"
    assert comparable(dbutil.snapshot(engine, include_version_table=True),
                      ordered) == comparable(snapshot, ordered)
    if backend == "mysql":
        assert dbutil.mysql_create_tables(engine) == created
    assert dbutil.version_rows(engine) == [HEAD]


def assert_refused(solum, engine, url, status, *words):
    """``upgrade head`` refuses with ``status`` and changes nothing."""
    before = dbutil.snapshot(engine, include_version_table=True)
    rows = dbutil.version_rows(engine)
    result = solum("upgrade", "head", url=url)
    assert result.code == status, result.err
    assert "Traceback" not in result.err
    last = result.err.splitlines()[-1]
    assert last.startswith("ERROR: upgrade refused, nothing was changed: "), \
        last
    for word in words:
        assert word in last, (word, last)
    assert "Running upgrade" not in result.err
    assert dbutil.snapshot(engine, include_version_table=True) == before
    assert dbutil.version_rows(engine) == rows
    return last


# --- 0: current ------------------------------------------------------------

def test_current_after_upgrade_head(db_url, engine, solum):
    run_ok(solum, "upgrade", "head", url=db_url)
    # check takes no lock: it creates no lock table where there was none.
    execute(engine, f"DROP TABLE {dbutil.LOCK_TABLE}")
    schema = dbutil.snapshot(engine, include_version_table=True)
    checked = check(solum, db_url)
    assert checked.status == 0
    assert checked.lines == [
        f"The database is at head {HEAD_NAMED}, and its schema matches "
        f"the models."]
    assert checked.found == {
        "format": 1,
        "status": 0, "state": "current", "message": checked.lines[0],
        "revisions": [HEAD], "releases": ["mitaka ... 2023.2"],
        "head": HEAD, "pending": [], "differences": [], "matches": None,
        "repair": [], "notes": [], "lock": None}
    assert dbutil.LOCK_TABLE not in table_names(engine)
    assert dbutil.snapshot(engine, include_version_table=True) == schema
    result = run_ok(solum, "version", url=db_url)
    assert result.out == f"Current DB revision is {HEAD_NAMED}\n"
    assert warning_lines(result.err) == []
    assert dbutil.LOCK_TABLE not in table_names(engine)


# --- 3: empty, behind ------------------------------------------------------

def test_empty_database(db_url, engine, solum):
    with engine.connect():
        pass    # an empty SQLite file (a missing one gets a note)
    checked = check(solum, db_url)
    assert checked.status == 3
    repair = [f"{PROG} upgrade head"]
    assert checked.lines == [
        "The database holds no Solum table and no version: 'upgrade head' "
        "creates the schema.",
        "Pending revisions: " + ", ".join(chain()),
        f"To repair, run: {PROG} upgrade head"]
    assert checked.found == {
        "format": 1,
        "status": 3, "state": "empty", "message": checked.lines[0],
        "revisions": [], "releases": [], "head": HEAD, "pending": chain(),
        "differences": [], "matches": None, "repair": repair, "notes": [],
        "lock": None}
    assert chain()[0] == "icehouse" and chain()[-1] == HEAD
    # check wrote nothing: no version table, no lock table.
    assert table_names(engine) == set()


def test_behind_after_upgrade_to_a_release_name(db_url, engine, solum):
    run_ok(solum, "upgrade", "kilo", url=db_url)
    assert dbutil.version_rows(engine) == [KILO]
    checked = check(solum, db_url)
    assert checked.status == 3
    pending = after(KILO)
    assert pending[0] == "40df542e345" and pending[-1] == HEAD
    assert checked.lines == [
        f"The database is at revision {KILO} (kilo); head is {HEAD_NAMED}: "
        f"upgrade needed.",
        "Pending revisions: " + ", ".join(pending),
        f"To repair, run: {PROG} upgrade head"]
    assert checked.found == {
        "format": 1,
        "status": 3, "state": "behind", "message": checked.lines[0],
        "revisions": [KILO], "releases": ["kilo"], "head": HEAD,
        "pending": pending, "differences": [], "matches": None,
        "repair": [f"{PROG} upgrade head"], "notes": [], "lock": None}


def test_behind_with_a_column_of_the_next_revision(db_url, engine, solum):
    """The state an upgrade interrupted inside 112cfe038dd3 leaves on MySQL.

    Its first column is there; the version still names the revision
    before.
    """
    run_ok(solum, "upgrade", BEFORE_APP_URL, url=db_url)
    execute(engine, "ALTER TABLE app ADD COLUMN app_url VARCHAR(1024)")
    checked = check(solum, db_url)
    assert checked.status == 3
    found = checked.found
    assert found["state"] == "behind"
    assert found["revisions"] == [BEFORE_APP_URL]
    assert found["pending"] == after(BEFORE_APP_URL)
    assert found["pending"][0] == BEFORE_UNIQUE
    assert found["differences"] == []
    assert found["repair"] == [f"{PROG} upgrade head"]
    assert len(found["notes"]) == 1
    assert "column app.app_url" in found["notes"][0]
    assert "column app.app_url" in "\n".join(checked.lines)
    follow(solum, found["repair"], db_url)
    assert state(solum, db_url) == (0, "current")


# --- 4: newer --------------------------------------------------------------

def test_newer_revision_than_this_code(db_url, engine, solum):
    checked = check_at_head_after(
        solum, engine, db_url,
        f"UPDATE alembic_version SET version_num = '{UNKNOWN}'")
    assert checked.status == 4
    found = checked.found
    assert found["state"] == "newer"
    assert found["revisions"] == [UNKNOWN]
    assert found["releases"] == [None]
    assert UNKNOWN in found["message"] and HEAD in found["message"]
    assert (found["pending"], found["differences"], found["matches"],
            found["repair"], found["lock"]) == ([], [], None, [], None)
    assert checked.lines == [found["message"]]

    assert_refused(solum, engine, db_url, 4, UNKNOWN)
    assert dbutil.version_rows(engine) == [UNKNOWN]

    result = run_ok(solum, "version", url=db_url)
    assert result.out == f"Current DB revision is {UNKNOWN}\n"
    (warning,) = warning_lines(result.err)
    assert UNKNOWN in warning and "newer" in warning


# --- 5: untracked ----------------------------------------------------------

def lose_version(engine, how):
    if how == "drop":
        execute(engine, "DROP TABLE alembic_version")
    else:
        execute(engine, "DELETE FROM alembic_version")
    assert dbutil.version_rows(engine) == []


@pytest.mark.parametrize("revision, how, named", [
    pytest.param(HEAD, "drop", HEAD, id="head"),
    pytest.param(KILO, "empty", KILO, id="kilo"),
    pytest.param("icehouse", "drop", "icehouse", id="icehouse"),
    # Revisions that share a schema: the earliest is named.
    pytest.param(LIBERTY, "empty", BEFORE_UNIQUE, id="liberty"),
])
def test_untracked_names_the_revision_and_the_repair_works(
        backend, db_url, new_db_url, engine, solum, revision, how, named):
    run_ok(solum, "upgrade", revision, url=db_url)
    lose_version(engine, how)
    checked = check(solum, db_url)
    assert checked.status == 5
    found = checked.found
    assert found["state"] == "untracked"
    assert found["message"] == (
        "The database holds Solum tables but no version (alembic_version "
        "is missing or empty).")
    assert (found["revisions"], found["pending"], found["differences"],
            found["lock"]) == ([], [], [], None)
    assert found["matches"] == {"revision": named, "exact": True}
    repair = [f"{PROG} stamp {named}"]
    if named != HEAD:
        repair.append(f"{PROG} upgrade head")
    assert found["repair"] == repair
    assert checked.lines[-1] == "To repair, run: " + "; then ".join(repair)
    assert len(found["notes"]) == 1 and named in found["notes"][0]

    last = assert_refused(solum, engine, db_url, 5, f"stamp {named}")
    assert "no version" in last

    # version reads the tables' columns: it says None, and the stamp.
    result = run_ok(solum, "version", url=db_url)
    assert result.out == "Current DB revision is None\n"
    # One line each: the state, then what to run.
    first, *more = warning_lines(result.err)
    assert "no version" in first
    assert any(f"{PROG} stamp {named}" in line for line in [first, *more])

    follow(solum, found["repair"], db_url)
    assert state(solum, db_url) == (0, "current")
    assert_head_schema(backend, engine, new_db_url, solum)


# The repair is run for the first and the last form.
REPAIRED_FORMS = ("2014.1.0", "2014.2.1")


@pytest.mark.parametrize("form", legacy.FORMS)
def test_untracked_2014_database_is_stamped_icehouse(
        backend, db_url, new_db_url, engine, solum, form):
    legacy.build(db_url, form)
    execute(engine, "DROP TABLE alembic_version")
    checked = check(solum, db_url)
    assert checked.status == 5
    found = checked.found
    assert found["state"] == "untracked"
    # Only the Icehouse form is icehouse exactly; later forms hold more
    # of 498adc6185ae, never all of it (plan.deploy_keys_uri).
    exact = form == "2014.1.0"
    assert found["matches"] == {"revision": "icehouse", "exact": exact}
    assert found["repair"] == [f"{PROG} stamp icehouse",
                               f"{PROG} upgrade head"]
    assert "icehouse" in found["notes"][0]
    assert_refused(solum, engine, db_url, 5, "stamp icehouse")
    if form not in REPAIRED_FORMS:
        return      # the repair takes the same path: spare the time

    follow(solum, found["repair"], db_url)
    assert state(solum, db_url) == (0, "current")
    assert_head_schema(backend, engine, new_db_url, solum,
                       ordered=form == "2014.1.0")


# --- 6: mismatch -----------------------------------------------------------

def test_mismatch_icehouse_recorded_as_498adc6185ae(db_url, engine, solum):
    legacy.build(db_url, "2014.1.0")
    checked = check(solum, db_url)
    assert checked.status == 6
    found = checked.found
    assert found["state"] == "mismatch"
    assert found["revisions"] == [legacy.LEGACY_REVISION]
    assert legacy.LEGACY_REVISION in found["message"]
    assert "column plan.deploy_keys_uri is missing" in found["differences"]
    assert "  column plan.deploy_keys_uri is missing" in checked.lines
    assert found["matches"] == {"revision": "icehouse", "exact": True}
    assert found["repair"] == [f"{PROG} stamp icehouse",
                               f"{PROG} upgrade head"]
    assert_refused(solum, engine, db_url, 6, "stamp icehouse",
                   "plan.deploy_keys_uri")
    follow(solum, found["repair"], db_url)
    assert state(solum, db_url) == (0, "current")


def _narrow_base_image_id(engine):
    dialect = engine.dialect.name
    if dialect == "mysql":
        execute(engine,
                "ALTER TABLE image MODIFY base_image_id VARCHAR(36) NULL")
    elif dialect == "postgresql":
        execute(engine, "ALTER TABLE image ALTER COLUMN base_image_id "
                        "TYPE VARCHAR(36)")
    else:
        from alembic.operations import Operations
        from alembic.runtime.migration import MigrationContext

        with engine.begin() as connection:
            operations = Operations(MigrationContext.configure(connection))
            with operations.batch_alter_table("image") as batch:
                batch.alter_column("base_image_id",
                                   type_=sa.String(36),
                                   existing_type=sa.String(100))


def test_mismatch_drift_at_head(db_url, engine, solum):
    run_ok(solum, "upgrade", "head", url=db_url)
    _narrow_base_image_id(engine)
    execute(engine, "CREATE INDEX ix_drift ON image (name)")
    checked = check(solum, db_url)
    assert checked.status == 6
    found = checked.found
    assert found["state"] == "mismatch"
    assert found["revisions"] == [HEAD]
    assert found["message"] == (
        f"The database is at head {HEAD_NAMED} but its schema differs "
        f"from Solum's models.")
    differences = [
        "column image.base_image_id is VARCHAR(36); the models say "
        "VARCHAR(100)",
        "index ix_drift on image(name) is not in the models"]
    assert sorted(found["differences"]) == differences
    for difference in differences:
        assert f"  {difference}" in checked.lines
    assert found["repair"] == [] and found["matches"] is None
    assert len(found["notes"]) == 1

    # Drift at head does not block upgrade: nothing is left to run.
    schema = dbutil.snapshot(engine, include_version_table=True)
    result = run_ok(solum, "upgrade", "head", url=db_url)
    assert result.out == f"Nothing to do: the database is already at " \
                         f"{HEAD_NAMED}.\n"
    assert dbutil.snapshot(engine, include_version_table=True) == schema
    assert state(solum, db_url) == (6, "mismatch")


def test_mismatch_column_dropped_at_head(backend, db_url, new_db_url,
                                         engine, solum):
    """Head's last column gone: the schema is 272e7cd352f9's, recorded as
    head. check says so and how to repair it."""
    checked = check_at_head_after(
        solum, engine, db_url, "ALTER TABLE app DROP COLUMN scale_config")
    assert checked.status == 6
    found = checked.found
    assert found["state"] == "mismatch"
    assert "column app.scale_config is missing" in found["differences"]
    previous = chain()[-2]
    assert found["matches"] == {"revision": previous, "exact": True}
    assert found["repair"] == [f"{PROG} stamp {previous}",
                               f"{PROG} upgrade head"]
    # Not "Nothing to do": upgrade refuses it with check's repair.
    assert_refused(solum, engine, db_url, 6, "app.scale_config",
                   f"{PROG} stamp {previous}")
    follow(solum, found["repair"], db_url)
    assert state(solum, db_url) == (0, "current")
    assert_head_schema(backend, engine, new_db_url, solum, ordered=False)


def test_mismatch_two_rows_in_the_version_table(backend, db_url, new_db_url,
                                                engine, solum):
    checked = check_at_head_after(
        solum, engine, db_url,
        f"INSERT INTO alembic_version (version_num) VALUES ('{KILO}')")
    assert checked.status == 6
    found = checked.found
    assert found["state"] == "mismatch"
    assert sorted(found["revisions"]) == sorted([HEAD, KILO])
    assert HEAD in found["message"] and KILO in found["message"]
    assert found["matches"] == {"revision": HEAD, "exact": True}
    assert found["repair"] == [f"{PROG} stamp --purge {HEAD}"]
    assert_refused(solum, engine, db_url, 6, f"stamp --purge {HEAD}")
    follow(solum, found["repair"], db_url)
    assert dbutil.version_rows(engine) == [HEAD]
    assert state(solum, db_url) == (0, "current")
    assert_head_schema(backend, engine, new_db_url, solum)


# --- 7: locked, interrupted, failed -----------------------------------------

def same_host(text):
    return f"on host {socket.gethostname()} (pid " in text


def test_locked_while_a_migration_runs(db_url, solum):
    with lock.MigrationLock(db_url, "upgrade head", timeout=5).hold():
        started = time.monotonic()
        checked = check(solum, db_url)
        elapsed = time.monotonic() - started
    assert elapsed < 5      # check takes no lock: it does not wait
    assert checked.status == 7
    found = checked.found
    assert found["state"] == "locked"
    message = found["message"]
    assert message.startswith("A migration is running: 'upgrade head' on host")
    assert same_host(message)
    assert f"(pid {os.getpid()})" in message
    assert checked.lines[0] == message
    assert found["lock"]["state"] == "running"
    assert found["lock"]["command"] == "upgrade head"
    assert found["lock"]["host"] == socket.gethostname()
    assert found["lock"]["pid"] == os.getpid()
    assert found["lock"]["detail"] is None
    assert found["repair"] == [] and found["pending"] == []
    # Released: the database is what it was, empty.
    assert state(solum, db_url) == (3, "empty")


def kill_a_lock_holder(solum, db_url, command="upgrade head"):
    """Take the lock in another process, kill -9 it; return its pid."""
    with lock_holder(db_url, command) as process:
        assert state(solum, db_url) == (7, "locked")
    return process.pid


def check_after_kill(solum, db_url):
    """check, once the server saw the killed holder's connection close.

    It drops the session lock at once on loopback, but not synchronously.
    """
    deadline = time.monotonic() + 5
    while True:
        checked = check(solum, db_url)
        if checked.found["state"] != "locked" or \
                time.monotonic() > deadline:
            return checked
        time.sleep(0.1)


def test_interrupted_run_is_reported_and_taken_over(db_url, solum):
    run_ok(solum, "upgrade", "kilo", url=db_url)
    pid = kill_a_lock_holder(solum, db_url)
    checked = check_after_kill(solum, db_url)
    assert checked.status == 7
    found = checked.found
    assert found["state"] == "interrupted"
    assert found["message"].startswith(
        "A migration was interrupted: 'upgrade head' on host")
    assert same_host(found["message"])
    assert f"(pid {pid})" in found["message"]
    assert found["lock"]["state"] == "interrupted"
    assert found["lock"]["command"] == "upgrade head"
    assert found["lock"]["pid"] == pid
    assert found["revisions"] == [KILO]
    assert found["pending"] == after(KILO)
    assert found["repair"] == [f"{PROG} upgrade head"]
    assert found["notes"][0].startswith(f"The database is at revision {KILO}")

    started = time.monotonic()
    result = run_ok(solum, "upgrade", "head", "--lock-timeout", "5",
                    url=db_url)
    assert time.monotonic() - started < 4
    assert "taking over its lock" in result.err
    assert "Waiting for the migration lock" not in result.err
    assert state(solum, db_url) == (0, "current")


@pytest.mark.parametrize("backend", ["sqlite"])     # diagnose's, not lock's
def test_interrupted_at_head_says_how_to_clear_it(backend, db_url, solum):
    run_ok(solum, "upgrade", "head", url=db_url)
    kill_a_lock_holder(solum, db_url)
    checked = check_after_kill(solum, db_url)
    assert checked.status == 7
    found = checked.found
    assert found["state"] == "interrupted"
    assert found["pending"] == []
    # What clears it, as the test shows; check should say so.
    assert found["repair"] == [f"{PROG} upgrade head"]
    follow(solum, found["repair"], db_url)
    assert state(solum, db_url) == (0, "current")


@pytest.mark.parametrize("backend", ["sqlite"])     # diagnose's, not lock's
@pytest.mark.parametrize("command, repair", [
    ("upgrade +3", "upgrade head"),
    ("upgrade kilo+1", "upgrade head"),
    ("upgrade kilo", "upgrade kilo"),
    ("downgrade -1", None),
])
def test_an_interrupted_relative_target_is_not_advised_again(
        backend, db_url, solum, command, repair):
    """'upgrade +3' run again would count from where the run stopped."""
    run_ok(solum, "upgrade", "juno", url=db_url)
    kill_a_lock_holder(solum, db_url, command)
    found = check_after_kill(solum, db_url).found
    assert found["state"] == "interrupted"
    if repair is None:
        assert found["repair"] == []
        assert "naming the revision it was to reach" in found["notes"][-1]
    else:
        assert found["repair"] == [f"{PROG} {repair}"]
        follow(solum, found["repair"], db_url)
        assert state(solum, db_url) == (
            (0, "current") if repair == "upgrade head" else (3, "behind"))


def fail_at_the_unique_constraint(solum, db_url, engine):
    """An upgrade head that fails in e5f2e8af3b8 (a name it needs is
    taken: the plan foresees duplicate workflows, not that)."""
    run_ok(solum, "upgrade", BEFORE_UNIQUE, url=db_url)
    block_the_unique_step(engine)
    failed = solum("upgrade", "head", url=db_url)
    assert failed.code == 1
    assert failed.err.splitlines()[-1].startswith("ERROR: database error: ")
    assert dbutil.version_rows(engine) == [BEFORE_UNIQUE]


def test_failed_run_is_reported_until_an_upgrade_completes(
        db_url, engine, solum):
    fail_at_the_unique_constraint(solum, db_url, engine)
    checked = check(solum, db_url)
    assert checked.status == 7
    found = checked.found
    assert found["state"] == "interrupted"
    assert found["lock"]["state"] == "failed"
    assert found["lock"]["command"] == "upgrade head"
    assert found["lock"]["pid"] == os.getpid()
    detail = found["lock"]["detail"]
    assert detail.split(":")[0] in ("OperationalError",
                                    "ProgrammingError"), detail
    assert found["message"].startswith(
        "The last migration failed: 'upgrade head' on host")
    # The failure's detail and the time, verbatim in the line.
    assert found["message"].endswith(f": {detail}.")
    assert found["lock"]["since"].endswith(" UTC")
    assert f"since {found['lock']['since']}: " in found["message"]
    assert found["revisions"] == [BEFORE_UNIQUE]
    assert found["pending"] == after(BEFORE_UNIQUE)
    assert found["pending"][0] == LIBERTY
    assert found["repair"] == [f"{PROG} upgrade head"]
    assert found["notes"][0].startswith(
        f"The database is at revision {BEFORE_UNIQUE}")

    unblock_the_unique_step(engine)
    run_ok(solum, "upgrade", "head", url=db_url)
    assert state(solum, db_url) == (0, "current")


# --- check only reads ------------------------------------------------------

@pytest.mark.parametrize("backend", ["sqlite"])
def test_check_creates_no_sqlite_file(backend, db_url, solum):
    path = db.parse_url(db_url).database
    assert not os.path.exists(path)
    result = solum("check", url=db_url)
    assert "Traceback" not in result.err
    assert result.code == 3
    assert f"The SQLite file {path} does not exist (yet)" in result.out
    assert solum("version", url=db_url).out == "Current DB revision is None\n"
    assert not os.path.exists(path)




@pytest.mark.parametrize("backend", ["mysql", "postgresql"])
def test_check_as_a_read_only_user(backend, db_url, new_db_url, engine,
                                   solum):
    run_ok(solum, "upgrade", "head", url=db_url)
    empty_url = new_db_url()
    with read_only_user(backend, [db_url, empty_url]) as (at_head, empty):
        # The user really cannot write.
        denied = solum("upgrade", "head", url=empty)
        assert denied.code == 1, denied.err
        checked = check(solum, at_head)
        assert checked.status == 0, checked.lines
        checked = check(solum, empty)
        assert checked.status == 3
        assert checked.found["state"] == "empty"
        assert run_ok(solum, "version", url=at_head).out == \
            f"Current DB revision is {HEAD_NAMED}\n"
    empty_engine = db.create_engine(empty_url)
    try:
        assert table_names(empty_engine) == set()
    finally:
        empty_engine.dispose()


@pytest.mark.parametrize("url", [
    "mysql+pymysql://solum@127.0.0.1:1/solum",
    "postgresql+psycopg://solum@127.0.0.1:1/solum",
])
@pytest.mark.parametrize("as_json", [False, True])
def test_check_on_an_unreachable_server_is_an_error(solum, url, as_json):
    result = solum("check", *(["--json"] if as_json else []), url=url)
    assert result.code == 1
    assert result.out == ""
    assert "Traceback" not in result.err
    assert result.err.splitlines()[-1].startswith(
        "ERROR: cannot connect to the database")
