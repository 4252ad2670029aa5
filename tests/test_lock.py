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

"""The migration lock, on every backend (issue 4, sections 1 and 6).

Runs that change the database (upgrade, downgrade, stamp) exclude each
other; read-only ones take no lock; a lock whose holder died is taken over
at once; a run that waits too long gives up having changed nothing; a
statement waiting for a table lock gives up after --ddl-lock-timeout.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from solum_db_manage import db, lock
from tests import dbutil
from tests.helpers import (
    HEAD,
    KILO,
)

RUNS = 8


def revisions():
    from alembic.script import ScriptDirectory

    from solum_db_manage.config import make_config

    script = ScriptDirectory.from_config(make_config(None))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def tool(url, config_file, *args):
    """The command line of a real solum-db-manage process."""
    return [sys.executable, "-m", "solum_db_manage", "--config-file",
            config_file, "--database-connection", url, *args]


def run_together(commands):
    """Start every command at once; return [(code, out, err)]."""
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
                 for command in commands]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=600)
        results.append((process.returncode, out, err))
    return results


def applied(results, direction):
    """Every "Running upgrade A -> B" (or downgrade) line, over all runs."""
    pattern = re.compile(rf"Running {direction} (\w*) -> (\w+)")
    return [match.groups() for _, _, err in results
            for match in pattern.finditer(err)]


def test_concurrent_upgrades_run_each_revision_once(
        db_url, engine, empty_config, solum):
    """From icehouse, so the chain is walked: each revision by one run."""
    assert solum("upgrade", "icehouse", url=db_url).code == 0
    results = run_together(
        [tool(db_url, empty_config, "upgrade", "head")] * RUNS)
    assert [code for code, _, _ in results] == [0] * RUNS, results
    steps = applied(results, "upgrade")
    assert [target for _, target in steps] == revisions()[1:]
    # One run walked the whole chain; none built the head schema.
    walkers = [err for _, _, err in results if "Running upgrade" in err]
    assert len(walkers) == 1, results
    assert not any(FAST in err for _, _, err in results), results
    nothing = [out for _, out, _ in results if out.startswith(
        "Nothing to do: the database is already at " + HEAD)]
    assert len(nothing) == RUNS - 1
    assert dbutil.version_rows(engine) == [HEAD]
    assert solum("check", url=db_url).code == 0


FAST = f"Created the head schema {HEAD} directly"


def test_concurrent_upgrades_of_an_empty_database_build_head_once(
        db_url, engine, empty_config, solum):
    """From empty: one run builds the head schema, the others wait."""
    results = run_together(
        [tool(db_url, empty_config, "upgrade", "head")] * RUNS)
    assert [code for code, _, _ in results] == [0] * RUNS, results
    assert applied(results, "upgrade") == []
    built = [number for number, (_, _, err) in enumerate(results)
             if FAST in err]
    assert len(built) == 1, results
    for number, (_, out, _) in enumerate(results):
        if number not in built:
            assert out.startswith(
                "Nothing to do: the database is already at " + HEAD), \
                results[number]
    assert results[built[0]][1] == ""
    assert dbutil.version_rows(engine) == [HEAD]
    assert solum("check", url=db_url).code == 0


def test_concurrent_downgrades_run_each_revision_once(
        db_url, engine, empty_config, solum):
    assert solum("upgrade", url=db_url).code == 0
    results = run_together(
        [tool(db_url, empty_config, "downgrade", "kilo")] * RUNS)
    assert [code for code, _, _ in results] == [0] * RUNS, results
    undone = [source for source, _ in applied(results, "downgrade")]
    chain = revisions()
    assert undone == list(reversed(chain[chain.index(KILO) + 1:]))
    assert dbutil.version_rows(engine) == [KILO]


def held_lock(url, command="upgrade head"):
    return lock.MigrationLock(url, command, timeout=10).hold()


def test_a_waiting_run_names_the_holder_and_gives_up_unchanged(
        db_url, engine, solum):
    with held_lock(db_url):
        started = time.monotonic()
        result = solum("upgrade", "head", "--lock-timeout", "1",
                       url=db_url)
        waited = time.monotonic() - started
    assert result.code == 7, result.err
    holder = (f"'upgrade head' on host {socket.gethostname()} "
              f"(pid {os.getpid()}) since ")
    assert f"Waiting for the migration lock, held by {holder}" in result.err
    assert "waiting up to 1 s more (--lock-timeout)" in result.err
    last = result.err.splitlines()[-1]
    assert last.startswith(
        f"ERROR: the migration lock is still held by {holder}"), last
    assert last.endswith(
        "after waiting 1 s (--lock-timeout); nothing was changed")
    assert 1 <= waited < 5
    assert not sa.inspect(engine).has_table(dbutil.VERSION_TABLE)


def test_a_lock_is_taken_as_soon_as_it_is_released(db_url, engine, solum):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SCRIPT, db_url, "2"],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    started = time.monotonic()
    result = solum("upgrade", "head", "--lock-timeout", "60", url=db_url)
    waited = time.monotonic() - started
    holder.wait(timeout=30)
    assert result.code == 0, result.err
    assert "Waiting for the migration lock" in result.err
    assert waited < 10
    assert dbutil.version_rows(engine) == [HEAD]


# Takes the lock, says so, holds it for argv[2] seconds.
HOLD_SCRIPT = """
import sys, time
from solum_db_manage import lock
with lock.MigrationLock(sys.argv[1], "upgrade head").hold():
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_a_lock_whose_holder_was_killed_is_taken_over_at_once(
        db_url, engine, solum):
    """The bound, off Galera: one poll of the lock (under a second).

    The server drops the session lock with the dead holder's connection;
    the lease row left behind is then known to be dead.
    """
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SCRIPT, db_url, "600"],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)

    checked = solum("check", url=db_url)
    assert checked.code == 7, checked.out
    assert checked.out.startswith(
        "A migration was interrupted: 'upgrade head' on host "
        f"{socket.gethostname()} (pid {holder.pid})")

    started = time.monotonic()
    result = solum("upgrade", "head", "--lock-timeout", "60", url=db_url)
    took = time.monotonic() - started
    assert result.code == 0, result.err
    assert [line for line in result.err.splitlines()
            if " WARNING " in line and "the previous 'upgrade head' on "
            f"host {socket.gethostname()} (pid {holder.pid})" in line]
    assert "did not finish" in result.err
    assert "Waiting for the migration lock" not in result.err
    assert took < 10
    assert solum("check", url=db_url).code == 0


def test_read_only_commands_take_no_lock(backend, db_url, solum):
    assert solum("upgrade", url=db_url).code == 0
    with held_lock(db_url):
        started = time.monotonic()
        version = solum("version", url=db_url)
        current = solum("current", url=db_url)
        checked = solum("check", "--json", url=db_url)
        offline = (solum("upgrade", "--sql", f"{KILO}:head", url=db_url)
                   if backend != "sqlite" else None)
        took = time.monotonic() - started
    assert version.code == 0 and version.out.startswith(
        f"Current DB revision is {HEAD}")
    assert current.code == 0 and HEAD in current.out
    assert checked.code == 7
    assert '"state": "locked"' in checked.out
    if offline is not None:
        assert offline.code == 0 and "ALTER TABLE" in offline.out
    for result in (version, current, checked, offline):
        if result is not None:
            assert "Waiting for the migration lock" not in result.err
    assert took < 30


def test_the_lock_table_is_not_part_of_the_schema(db_url, engine, solum):
    assert solum("upgrade", url=db_url).code == 0
    assert sa.inspect(engine).has_table(db.LOCK_TABLE)
    assert solum("downgrade", "base", url=db_url).code == 0
    tables = set(sa.inspect(engine).get_table_names())
    assert tables <= {dbutil.VERSION_TABLE, db.LOCK_TABLE}
    # Nor is it a difference from the models at head.
    assert solum("upgrade", url=db_url).code == 0
    assert solum("check", url=db_url).code == 0


# --- Lock waits during DDL ---------------------------------------------------

@pytest.mark.parametrize("backend", ["mysql", "postgresql"])
def test_a_statement_waiting_for_a_table_lock_gives_up(
        backend, db_url, engine, solum):
    """A long transaction on app blocks the DDL of a271b35952be's downgrade.

    The statement gives up after --ddl-lock-timeout; the error names the
    table; nothing of that step was applied.
    """
    assert solum("upgrade", url=db_url).code == 0
    blocker = engine.connect()
    try:
        blocker.begin()
        blocker.exec_driver_sql("SELECT * FROM app").fetchall()
        started = time.monotonic()
        result = solum("downgrade", "-1", "--ddl-lock-timeout", "1",
                       url=db_url)
        took = time.monotonic() - started
    finally:
        blocker.rollback()
        blocker.close()
    assert result.code == 1, result.err
    last = result.err.splitlines()[-1]
    assert last.startswith(
        "ERROR: a migration statement waited longer than "
        "--ddl-lock-timeout for a lock on table app"), last
    assert "nothing of it was applied" in last
    assert took < 15
    assert dbutil.version_rows(engine) == [HEAD]
    columns = {c["name"] for c in sa.inspect(engine).get_columns("app")}
    assert "scale_config" in columns
    # Once the table is free, the same command goes through.
    assert solum("downgrade", "-1", url=db_url).code == 0
