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

"""``upgrade --plan`` and ``downgrade --plan``: the command line's promises.

Issue 13, section 1, against real SQLite, MariaDB and PostgreSQL: the
plan changes nothing another session could see (schema, rows, version
table, no lock table, the SQLite file's bytes) and takes no lock; where
``check`` would not pass the database to a run, the plan says so with
check's status; a read-only account still gets a plan; the JSON object's
keys (format 1, forecast_report's docstring) and its summary; the usage
errors; ``-h``. Whether the plan is *right* is tested elsewhere.
"""

import hashlib
import json
import os
import re
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from solum_db_manage import db, errors, forecast_report
from tests import dbutil
from tests.helpers import (
    DUPLICATE_WORKFLOWS,
    HEAD,
    JUNO,
    KILO,
    PROG,
    SECRET_URL,
    UNKNOWN,
    assert_failed,
    assert_no_password,
    execute,
    insert,
    lock_holder,
    read_only_user,
    run_ok,
    with_rows,
)

# The keys forecast_report's docstring promises, at each level.
TOP_KEYS = {"format", "command", "from", "to", "server", "state", "steps",
            "losses_need", "disk", "summary", "unmeasured", "notes",
            "complete", "asked"}
SERVER_KEYS = {"name", "version", "covered", "galera"}
STEP_KEYS = {"revision", "release", "title", "direction", "operations",
             "tables", "losses", "failures"}
OPERATION_KEYS = {"text", "table", "rewrite", "algorithm", "lock"}
TABLE_KEYS = {"name", "rows", "rows_estimated", "bytes", "rewrite",
              "algorithm", "lock", "waits", "scan", "stalls_cluster", "note",
              "created"}
LOSS_KEYS = {"what", "rows", "text"}
FAILURE_KEYS = {"kind", "table", "what", "count", "keys", "fix"}
DISK_KEYS = {"needed_bytes", "free_bytes"}
SUMMARY_KEYS = {"tables_rewritten", "rows_rewritten", "values_lost",
                "failures"}

# The first line of every plan.
HEADER = re.compile(r"^Plan: (upgrade|downgrade) from .* to .* on .* "
                    r"\(\d+ revisions?\); nothing was changed\.$")
SUMMARY = re.compile(r"^Summary: (\d+) tables? rewritten \((\d+) rows?\), "
                     r"(\d+) values? lost, (\d+) failures? predicted\.$")
# Where the run would be refused or would complete an interrupted run.
NOT_MADE = "Summary: no plan made; the run would not start from here."


# --- what another session sees -----------------------------------------------

def everything(engine):
    """The whole database as another session sees it: every table's
    definition and rows (the version table's and the lock table's too)."""
    with engine.connect() as connection:
        names = sorted(sa.inspect(connection).get_table_names())
        quote = engine.dialect.identifier_preparer.quote
        rows = {name: sorted(map(repr, connection.exec_driver_sql(
            f"SELECT * FROM {quote(name)}").all())) for name in names}
    return (names, dbutil.snapshot(engine, include_version_table=True),
            rows)


def sqlite_files(url):
    """{path: (size, mtime, sha256)} of the SQLite file and any journal
    beside it; {} on a server."""
    path = db.parse_url(url).database
    if not url.startswith("sqlite"):
        return {}
    found = {}
    for name in (path, path + "-journal", path + "-wal", path + "-shm"):
        if os.path.exists(name):
            with open(name, "rb") as data:
                digest = hashlib.sha256(data.read()).hexdigest()
            stat = os.stat(name)
            found[name] = (stat.st_size, stat.st_mtime_ns, digest)
    return found


def plan_text(solum, *args, url, code=0):
    """``*args`` (an ``upgrade --plan`` or ``downgrade --plan``): its
    lines, once the exit status and the output's form are checked."""
    result = solum(*args, url=url)
    assert result.code == code, (args, result.out, result.err)
    assert "ERROR" not in result.err and "Traceback" not in result.err, \
        result.err
    assert_no_password(result.out, result.err)
    lines = result.out.splitlines()
    assert HEADER.match(lines[0]), lines[0]
    assert SUMMARY.match(lines[-1]) or (
        code not in (0, errors.EXIT_PLAN_FAILS) and lines[-1] == NOT_MADE), \
        lines[-1]
    return lines


def plan_json(solum, *args, url, code=0):
    """``*args --json``: the object, its layout checked."""
    result = solum(*args, "--json", url=url)
    assert result.code == code, (args, result.out, result.err)
    assert "ERROR" not in result.err and "Traceback" not in result.err, \
        result.err
    assert_no_password(result.out, result.err)
    assert len(result.out.splitlines()) == 1, result.out
    found = json.loads(result.out)
    assert_layout(found)
    # Stable: what json.loads reads, json.dumps writes back the same.
    assert json.dumps(found, sort_keys=True) == result.out.strip()
    return found


def assert_layout(found):
    """Format 1's keys at each level, and a summary the steps add up to."""
    assert set(found) == TOP_KEYS
    assert found["format"] == 1
    assert set(found["server"]) == SERVER_KEYS
    assert set(found["disk"]) == DISK_KEYS
    assert set(found["summary"]) == SUMMARY_KEYS
    assert isinstance(found["unmeasured"], list)
    assert isinstance(found["notes"], list)
    rewritten = {}
    for step in found["steps"]:
        assert set(step) == STEP_KEYS
        assert step["direction"] in ("upgrade", "downgrade")
        for operation in step["operations"]:
            assert set(operation) == OPERATION_KEYS
            assert isinstance(operation["rewrite"], bool)
        for table in step["tables"]:
            assert set(table) == TABLE_KEYS
            assert isinstance(table["rewrite"], bool)
            assert table["name"] in {op["table"] for op in
                                     step["operations"]}
            if table["rewrite"] and not table["created"]:
                rewritten[table["name"]] = max(
                    rewritten.get(table["name"], 0), table["rows"] or 0)
        for loss in step["losses"]:
            assert set(loss) == LOSS_KEYS
        for failure in step["failures"]:
            assert set(failure) == FAILURE_KEYS
    assert found["summary"] == {
        "tables_rewritten": len(rewritten),
        "rows_rewritten": sum(rewritten.values()),
        "values_lost": sum(loss["rows"] for step in found["steps"]
                           for loss in step["losses"]),
        "failures": sum(len(step["failures"]) for step in found["steps"]),
    }


def test_the_layout_is_the_one_the_docstring_promises():
    """Each key the JSON carries is named in forecast_report's docstring
    (README's, too), and none the docstring names is missing."""
    named = set(re.findall(r"``(\w+)``", forecast_report.__doc__))
    promised = (TOP_KEYS | SERVER_KEYS | STEP_KEYS | OPERATION_KEYS
                | TABLE_KEYS | LOSS_KEYS | FAILURE_KEYS | DISK_KEYS
                | SUMMARY_KEYS)
    assert named == promised, named ^ promised


def test_the_plan_changes_nothing(backend, db_url, engine, solum,
                                  secret_url):
    """Up and down, as text and as JSON, on a database at kilo with rows
    and no lock table (as the original tool left databases)."""
    run_ok(solum, "upgrade", KILO, url=db_url)
    with_rows(engine)
    insert(engine, "assembly", name="assembly-a",
           plan_id=insert(engine, "plan", name="plan-c"))
    for number in range(3):
        insert(engine, "image", name=f"image-{number}")
    execute(engine, f"DROP TABLE {dbutil.LOCK_TABLE}")
    before, files = everything(engine), sqlite_files(db_url)
    engine.dispose()    # nothing of this test's own held open

    lines = plan_text(solum, "upgrade", "--plan", url=secret_url)
    assert lines[0].startswith(f"Plan: upgrade from {KILO} (kilo) to head")
    # Each step named, in order, with its tables.
    steps = [line.split()[1].rstrip(":") for line in lines
             if line.startswith("upgrade ")]
    found = plan_json(solum, "upgrade", "--plan", url=secret_url)
    assert steps == [step["revision"] for step in found["steps"]]
    assert steps[-1] == HEAD and KILO not in steps
    # The text's summary is the JSON's.
    assert [int(n) for n in SUMMARY.match(lines[-1]).groups()] == [
        found["summary"][key] for key in ("tables_rewritten",
                                          "rows_rewritten", "values_lost",
                                          "failures")]
    assert (found["command"], found["from"], found["to"], found["asked"],
            found["state"]) == ("upgrade", [KILO], HEAD, "head", "behind")
    assert found["server"]["covered"] is True
    assert found["unmeasured"] == []
    # The rows are counted, exactly: image (43df309dbf3f) holds three.
    counted = {(table["name"], table["rows"], table["rows_estimated"])
               for step in found["steps"] for table in step["tables"]
               if not table["created"]}
    assert counted == {("image", 3, False)}, counted
    assert "  table image: 3 rows" in {line.split(",")[0] for line in lines}

    down = plan_json(solum, "downgrade", "--plan", JUNO, url=secret_url)
    assert down["to"] == JUNO and down["steps"]
    assert {step["direction"] for step in down["steps"]} == {"downgrade"}
    assert down["steps"][0]["revision"] == KILO
    # The trigger's move back to assembly touches plan's three rows.
    assert {table["rows"] for step in down["steps"]
            for table in step["tables"] if table["name"] == "plan"} == {3}
    text = plan_text(solum, "downgrade", "--plan", JUNO, url=secret_url)
    assert text[0].startswith(f"Plan: downgrade from {KILO} (kilo) to "
                              f"{JUNO} (juno)")
    # To base, plan's rows go: the run needs --force, which may be given.
    to_base = plan_text(solum, "downgrade", "--plan", "base", url=secret_url)
    assert "Losses: the run needs --force to lose them." in to_base
    assert "--force is given: the run would lose them." not in to_base
    forced = plan_text(solum, "downgrade", "--plan", "--force", "base",
                       url=secret_url)
    assert "--force is given: the run would lose them." in forced
    assert plan_json(solum, "downgrade", "--plan", "base",
                     url=secret_url)["losses_need"] == "--force"

    assert everything(engine) == before
    assert dbutil.LOCK_TABLE not in before[0]
    assert sqlite_files(db_url) == files


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_plan_creates_no_sqlite_file(backend, db_url, solum):
    path = db.parse_url(db_url).database
    lines = plan_text(solum, "upgrade", "--plan", url=db_url)
    assert "No revision to run." in "\n".join(lines)
    assert not os.path.exists(path)


def test_an_empty_database_gets_the_head_schema_directly(backend, db_url,
                                                         engine, solum):
    lines = plan_text(solum, "upgrade", "--plan", url=db_url)
    assert ("The database is empty: the run creates the head schema "
            "directly, no revision is walked, nothing is rewritten or "
            "lost.") in lines
    found = plan_json(solum, "upgrade", "--plan", url=db_url)
    assert (found["state"], found["steps"], found["from"]) == \
        ("empty", [], [])
    assert sa.inspect(engine).get_table_names() == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_at_head_there_is_no_revision_to_run(backend, db_url, solum):
    run_ok(solum, "upgrade", "head", url=db_url)
    lines = plan_text(solum, "upgrade", "--plan", url=db_url)
    assert "  No revision to run." in lines
    assert lines[-1] == ("Summary: 0 tables rewritten (0 rows), 0 values "
                         "lost, 0 failures predicted.")
    found = plan_json(solum, "upgrade", "--plan", "head", url=db_url)
    assert (found["state"], found["steps"]) == ("current", [])


# --- states check would not pass to a run ------------------------------------

REFUSED = "upgrade would be refused or would wait: "
COMPLETES = ("upgrade would first complete the interrupted run; no plan is "
             "made until it has: ")


def assert_not_passed(solum, url, status, state, *words):
    """The plan says what the run would do instead (with check's words)
    and exits with check's status."""
    checked = solum("check", "--json", url=url)
    assert checked.code == status, checked.out
    assert json.loads(checked.out)["state"] == state
    said = COMPLETES if state == "interrupted" else REFUSED
    lines = plan_text(solum, "upgrade", "--plan", url=url, code=status)
    (refused,) = [line for line in lines if line.startswith(said)]
    for word in words:
        assert word in refused, refused
    found = plan_json(solum, "upgrade", "--plan", url=url, code=status)
    assert found["state"] == state
    assert found["steps"] == []
    assert any(note.startswith(said) for note in found["notes"])


def test_newer_untracked_mismatch_get_checks_status(backend, db_url, engine,
                                                     solum):
    run_ok(solum, "upgrade", "head", url=db_url)
    execute(engine, f"UPDATE alembic_version SET version_num = '{UNKNOWN}'")
    assert_not_passed(solum, db_url, errors.EXIT_NEWER, "newer", UNKNOWN)
    execute(engine, "DELETE FROM alembic_version")
    assert_not_passed(solum, db_url, errors.EXIT_UNTRACKED, "untracked",
                      "no version")
    execute(engine, f"INSERT INTO alembic_version VALUES ('{HEAD}')",
            "DROP TABLE userlogs")
    assert_not_passed(solum, db_url, errors.EXIT_MISMATCH, "mismatch",
                      "userlogs")
    before = everything(engine)
    # downgrade --plan too.
    result = solum("downgrade", "--plan", KILO, url=db_url)
    assert result.code == errors.EXIT_MISMATCH, result.out
    assert "downgrade would be refused or would wait: " in result.out
    assert everything(engine) == before


def test_a_held_lock_is_not_waited_for(backend, db_url, engine, solum):
    """Another run holds the migration lock: the plan does not wait for it
    (it takes none) and says, with check's status 7, that the run would
    wait; once the holder is killed, the run it left is interrupted: 7."""
    run_ok(solum, "upgrade", KILO, url=db_url)
    with lock_holder(db_url, "upgrade head") as holder:
        before = everything(engine)
        started = time.monotonic()
        assert_not_passed(solum, db_url, errors.EXIT_LOCKED, "locked",
                          "A migration is running: 'upgrade head'",
                          f"(pid {holder.pid})")
        assert time.monotonic() - started < 5
        assert everything(engine) == before
    deadline = time.monotonic() + 5
    while json.loads(solum("check", "--json", url=db_url).out)["state"] \
            == "locked" and time.monotonic() < deadline:
        time.sleep(0.1)     # the server drops the killed one's session lock
    before = everything(engine)
    assert_not_passed(solum, db_url, errors.EXIT_LOCKED, "interrupted",
                      "A migration was interrupted: 'upgrade head'")
    assert everything(engine) == before
    # As the plan said: the run takes the lock over and completes.
    run_ok(solum, "upgrade", "head", "--lock-timeout", "5", url=db_url)
    assert "  No revision to run." in plan_text(solum, "upgrade", "--plan",
                                                url=db_url)


# --- a predicted failure -----------------------------------------------------

@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_predicted_failure_exits_8_and_the_run_refuses(backend, db_url,
                                                         engine, solum):
    run_ok(solum, "upgrade", "112cfe038dd3", url=db_url)
    execute(engine, *DUPLICATE_WORKFLOWS)
    lines = plan_text(solum, "upgrade", "--plan", url=db_url,
                      code=errors.EXIT_PLAN_FAILS)
    (fails,) = [line for line in lines if line.startswith("  FAILS: ")]
    assert "app_id_wf_id" in fails and "2 rows" in fails
    found = plan_json(solum, "upgrade", "--plan", url=db_url,
                      code=errors.EXIT_PLAN_FAILS)
    (failure,) = [failure for step in found["steps"]
                  for failure in step["failures"]]
    assert (failure["kind"], failure["table"], failure["count"]) == \
        ("duplicate", "workflow", 2)
    assert failure["keys"] == [{"app_id": "app-1", "wf_id": 1}]
    before = everything(engine)
    refused = solum("upgrade", url=db_url)
    assert refused.code == errors.EXIT_PLAN_FAILS, refused.err
    line = assert_failed(refused, errors.EXIT_PLAN_FAILS)
    assert line.startswith("ERROR: upgrade refused, nothing was changed: "
                           "the data would make it fail: ")
    assert f"'{PROG} upgrade --plan head'" in line
    assert "Running upgrade" not in refused.err
    # The run held the lock (its table records that): nothing else.
    names, schema, rows = everything(engine)
    rows.pop(dbutil.LOCK_TABLE)
    before[2].pop(dbutil.LOCK_TABLE)
    assert (names, schema, rows) == before


# --- a read-only account -----------------------------------------------------

@pytest.mark.parametrize("backend", ["mysql", "postgresql"])
def test_a_read_only_account_gets_a_plan(backend, db_url, engine, solum):
    """MariaDB: SELECT on the database only; PostgreSQL: CONNECT, USAGE
    and SELECT. What it cannot measure is listed, not an error."""
    run_ok(solum, "upgrade", KILO, url=db_url)
    with_rows(engine)
    before = everything(engine)
    with read_only_user(backend, [db_url]) as (reader,):
        assert solum("upgrade", "head", url=reader).code == 1   # it reads
        lines = plan_text(solum, "upgrade", "--plan", url=reader)
        found = plan_json(solum, "upgrade", "--plan", url=reader)
        down = plan_json(solum, "downgrade", "--plan", JUNO, url=reader)
        plan_lines = plan_text(solum, "downgrade", "--plan", JUNO,
                               url=reader)
    assert everything(engine) == before
    assert found["steps"][-1]["revision"] == HEAD
    not_measured = [line.removeprefix("Not measured: ") for line in lines
                    if line.startswith("Not measured: ")]
    assert not_measured == found["unmeasured"]
    for plan in (found, down):
        # Everything the plan measures is measurable with SELECT (the
        # free disk space is not measured, it is what the server reports).
        assert plan["unmeasured"] == []
        counted = {table["name"]: table["rows"] for step in plan["steps"]
                   for table in step["tables"] if not table["created"]}
        assert counted
        assert all(isinstance(rows, int) for rows in counted.values()), \
            counted
    assert counted["plan"] == 2
    assert "  table plan: 2 rows" in plan_lines


@pytest.mark.parametrize("backend", ["postgresql"])
def test_what_the_account_may_not_read_is_listed(backend, db_url, engine,
                                                 solum):
    """A PostgreSQL role without SELECT on one table (MariaDB shows such
    a table to nobody, so check would call the schema a mismatch): the
    plan still comes, exit 0, its rows and losses listed as not
    measured."""
    run_ok(solum, "upgrade", KILO, url=db_url)
    with_rows(engine)
    with read_only_user(backend, [db_url]) as (reader,):
        execute(engine, f"REVOKE SELECT ON image FROM "
                        f"{db.parse_url(reader).username}")
        for args in (("upgrade", "--plan"), ("downgrade", "--plan", JUNO)):
            lines = plan_text(solum, *args, url=reader)
            found = plan_json(solum, *args, url=reader)
            not_measured = [line.removeprefix("Not measured: ")
                            for line in lines
                            if line.startswith("Not measured: ")]
            assert not_measured == found["unmeasured"]
            assert any(what.startswith("the rows of image: ")
                       for what in not_measured), not_measured
            assert "  table image: rows not counted" in lines
            (image,) = {table["rows"] for step in found["steps"]
                        for table in step["tables"]
                        if table["name"] == "image"}
            assert image is None
            # The rest is counted.
            assert {table["rows"] for step in found["steps"]
                    for table in step["tables"]
                    if table["name"] == "plan"} in ({2}, set())
        # The downgrade's losses over image could not be counted.
        assert any(what.startswith("the values lost: ")
                   for what in found["unmeasured"]), found["unmeasured"]


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_failure_check_the_account_may_not_make_is_listed(
        backend, db_url, engine, solum):
    """Without SELECT on workflow, the duplicates under e5f2e8af3b8's
    unique constraint cannot be looked for: not measured, and the plan
    says its figures are lower bounds."""
    run_ok(solum, "upgrade", "112cfe038dd3", url=db_url)
    execute(engine, *DUPLICATE_WORKFLOWS)
    with read_only_user(backend, [db_url]) as (reader,):
        execute(engine, f"REVOKE SELECT ON workflow FROM "
                        f"{db.parse_url(reader).username}")
        lines = plan_text(solum, "upgrade", "--plan", url=reader)
        found = plan_json(solum, "upgrade", "--plan", url=reader)
    assert any(what.startswith("the failures of e5f2e8af3b8 on workflow: ")
               for what in found["unmeasured"]), found["unmeasured"]
    assert found["complete"] is False
    assert ("Not everything could be measured (above): the figures below "
            "are lower bounds.") in lines
    # Readable, the same database's failure is found.
    assert plan_json(solum, "upgrade", "--plan", url=db_url,
                     code=errors.EXIT_PLAN_FAILS)["complete"] is True


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_plan_does_not_wait_for_a_sqlite_writer(backend, db_url, engine,
                                                    solum):
    """--plan reads (a plain BEGIN): another connection's write
    transaction does not hold it up, nor does it hold the writer up."""
    import sqlite3

    run_ok(solum, "upgrade", KILO, url=db_url)
    writer = sqlite3.connect(db.parse_url(db_url).database,
                             isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO plan (uuid) VALUES ('p-writing')")
        started = time.monotonic()
        plan_text(solum, "upgrade", "--plan", url=db_url)
        assert time.monotonic() - started < 10
        writer.execute("COMMIT")
    finally:
        writer.close()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_holder_whose_plan_is_gone_is_counted_as_the_run_counts(
        backend, db_url, engine, solum):
    """SQLite keeps assemblies whose plan is gone: their trigger passes
    to no plan, in the plan's count as in the run's warning."""
    run_ok(solum, "upgrade", "icehouse", url=db_url)
    execute(engine, "INSERT INTO plan (id, uuid) VALUES (1, 'p')",
            "INSERT INTO assembly (uuid, plan_id, trigger_id) VALUES "
            "('a', 1, 't'), ('b', 99, 't2'), ('c', 1, 't3')")
    (step,) = [step for step in plan_json(solum, "upgrade", "--plan",
                                          url=db_url)["steps"]
               if step["revision"] == "5583c6e70156"]
    planned = [loss["text"] for loss in step["losses"]]
    ran = solum("upgrade", url=db_url)
    assert ran.code == 0, ran.err
    warned = [line.split(" [-] ", 1)[1] for line in ran.err.splitlines()
              if " WARNING " in line and "5583c6e70156" in line]
    assert planned == warned
    assert "2 rows hold" in planned[0]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_sqlite_uri_filename_gets_a_plan(backend, db_url, solum):
    run_ok(solum, "upgrade", KILO, url=db_url)
    path = db.parse_url(db_url).database
    found = plan_json(solum, "upgrade", "--plan",
                      url=f"sqlite:///file:{path}?mode=ro&uri=true")
    assert found["from"] == [KILO]
    assert found["disk"]["free_bytes"] is None


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_normalisation_of_an_original_form_is_a_step(backend, db_url,
                                                         engine, solum):
    """An original Solum's image.status VARCHAR(12) at head: the plan's
    first step widens it, rebuilding image on SQLite, as the run does."""
    run_ok(solum, "upgrade", "head", url=db_url)
    execute(engine, "INSERT INTO image (uuid, status) VALUES ('i', 'ok')",
            "PRAGMA writable_schema = ON",
            "UPDATE sqlite_master SET sql = replace(sql, 'status "
            "VARCHAR(36)', 'status VARCHAR(12)') WHERE name = 'image'")
    engine.dispose()
    found = plan_json(solum, "upgrade", "--plan", url=db_url)
    (step,) = found["steps"]
    assert step["revision"] is None
    (image,) = step["tables"]
    assert (image["name"], image["rows"], image["rewrite"]) == ("image", 1,
                                                                True)
    assert found["summary"]["tables_rewritten"] == 1

    def root():
        with engine.connect() as connection:
            return connection.exec_driver_sql(
                "SELECT rootpage FROM sqlite_master WHERE name = 'image'"
            ).scalar()

    before = root()
    run_ok(solum, "upgrade", "head", url=db_url)
    assert root() != before


# --- usage -------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("args, words", [
    (("upgrade", "--plan", "--sql"), "--plan and --sql cannot be combined"),
    (("downgrade", "--plan", "--sql", "base"),
     "--plan and --sql cannot be combined"),
    (("upgrade", "--json"), "--json goes with --plan"),
    (("downgrade", "--json", "base"), "--json goes with --plan"),
    (("downgrade", "--plan"), "downgrade needs a target revision"),
    (("downgrade", "--plan", "--json"), "downgrade needs a target revision"),
])
def test_usage_errors(backend, db_url, solum, args, words):
    line = assert_failed(solum(*args, url=db_url), errors.EXIT_USAGE)
    assert words in line, line
    assert not os.path.exists(db.parse_url(db_url).database)


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("args", [
    ("upgrade", "nonsense"), ("downgrade", "nonsense"),
    ("upgrade", UNKNOWN), ("downgrade", "head")])
def test_a_bad_revision_is_the_run_s_error(backend, db_url, solum, args):
    """The plan's ERROR line and status are the run's."""
    run_ok(solum, "upgrade", KILO, url=db_url)
    run = solum(*args, url=db_url)
    assert run.code in (1, 2), run.err
    ran = assert_failed(run, run.code)
    for extra in ((), ("--json",)):
        planned = solum(args[0], "--plan", *extra, *args[1:], url=db_url)
        assert assert_failed(planned, run.code) == ran


@pytest.mark.parametrize("args", [
    ("upgrade", "--plan"), ("upgrade", "--plan", "--json"),
    ("downgrade", "--plan", "base")])
def test_no_server_is_one_error_line_soon(solum, args):
    started = time.monotonic()
    line = assert_failed(solum(*args, url=SECRET_URL), errors.EXIT_ERROR)
    assert time.monotonic() - started < 30
    assert line.startswith("ERROR: cannot connect to the database"), line


@pytest.mark.parametrize("command", ["upgrade", "downgrade"])
def test_help_shows_plan_and_json(solum, command):
    result = solum(command, "-h")
    assert result.code == 0, result.err
    assert "--plan" in result.out and "--json" in result.out
    assert "exit 8" in " ".join(result.out.split())


# --- the documentation ------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def section(text, title, underline):
    """The body of the section ``title`` (underlined with ``underline``)."""
    start = text.index(f"\n{title}\n{underline * len(title)}\n")
    body = text[start + len(title) * 2 + 3:]
    following = re.search(r"\n[^\n]+\n[-=]{4,}\n", body)
    return body[:following.start()] if following else body


def test_every_exit_status_is_documented():
    """README's "Exit status" table and the man page's EXIT STATUS list
    each status of errors.py (8 came with --plan), and both document
    --plan and --json of upgrade and downgrade."""
    statuses = {value for name, value in vars(errors).items()
                if name.startswith("EXIT_") and isinstance(value, int)}
    readme = (ROOT / "README.rst").read_text()
    man = (ROOT / "doc/source/man/solum-db-manage.rst").read_text()
    table = section(readme, "Exit status", "-")
    assert {int(number) for number in re.findall(
        r"^(\d+)  ", table, re.MULTILINE)} == statuses
    listed = section(man, "EXIT STATUS", "=")
    assert {int(number) for number in re.findall(
        r"^(\d+)$", listed, re.MULTILINE)} == statuses
    for text in (readme, man):
        assert "upgrade --plan [REV] [--json]" in text
        assert "downgrade --plan REV [--json]" in text
