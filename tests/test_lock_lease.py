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

"""The migration lock's lease (issue 10, point 1; point 6's lock table).

A free session lock is no proof that its holder died: the server drops an
idle lock connection (KILL, pg_terminate_backend, a short wait_timeout or
idle_session_timeout) while the holder migrates on another connection.
Here a first run is blocked mid-chain by a table lock another session
holds, its lock connection is cut, a second run is started, and the block
is released: every revision is applied once, by the first run; the second
finds nothing to do. A run whose lease was taken stops before its next
revision with exit 7; a lease that cannot expire by itself is named, with
the command that clears it (``unlock``).
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest
import sqlalchemy as sa

from solum_db_manage import db, lock, lock_sessions
from tests import dbutil
from tests.helpers import (
    BLOCKED_AT,
    HEAD,
    KILO,
    SERVER_URLS,
    Run,
    admin_engine,
    after,
    applied,
    blocked_upgrade,
    cut,
    forge_lease,
    session_lock_connection,
)

servers = pytest.mark.parametrize("backend", ["mysql", "postgresql"])


def lease_row(engine):
    with engine.connect() as connection:
        return connection.execute(sa.text(
            f"SELECT * FROM {db.LOCK_TABLE} WHERE id = 1")).one()._mapping


def short_idle_timeout_url(url, engine, roles):
    """The URL of a user whose idle connections the server cuts fast.

    PostgreSQL: a role with ``idle_session_timeout = '1500ms'`` that owns
    the database. MariaDB has no per-user setting: the session's own
    ``wait_timeout`` of 2 s, announced the same way (@@session).
    """
    parsed = db.parse_url(url)
    if engine.dialect.name == "mysql":
        return parsed.update_query_dict(
            {"init_command": "SET SESSION wait_timeout = 2"}
        ).render_as_string(hide_password=False)
    role = f"solum_idle_{uuid.uuid4().hex[:10]}"
    with engine.connect() as connection:
        connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        roles.append(role)
        connection.exec_driver_sql(
            f"ALTER ROLE {role} SET idle_session_timeout = '1500ms'")
        connection.exec_driver_sql(
            f"ALTER DATABASE {parsed.database} OWNER TO {role}")
        # Tables made by the earlier upgrade go to the role too.
        for (table,) in connection.exec_driver_sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = "
                "'public'"):
            connection.exec_driver_sql(f"ALTER TABLE {table} OWNER TO {role}")
    return parsed.set(username=role, password=None).render_as_string(
        hide_password=False)


@pytest.fixture
def roles(db_url):
    """PostgreSQL roles a test creates, dropped with what they own."""
    made = []
    yield made
    if not made:
        return
    engine = admin_engine(db_url)
    server = admin_engine(SERVER_URLS["postgresql"])
    try:
        for role in made:
            with engine.connect() as connection:
                connection.exec_driver_sql(
                    f"REASSIGN OWNED BY {role} TO CURRENT_USER")
                connection.exec_driver_sql(f"DROP OWNED BY {role}")
            with server.connect() as connection:
                connection.exec_driver_sql(f"DROP ROLE {role}")
    finally:
        engine.dispose()
        server.dispose()


@servers
@pytest.mark.parametrize("how", ["kill", "idle_timeout"])
def test_a_holder_whose_lock_connection_is_cut_keeps_its_lock(
        backend, how, db_url, engine, empty_config, solum, tmp_path, roles):
    """Both runs end well: exit 0; the second finds nothing to do.

    On main the second run saw the session lock free, took the lease over
    and ran the same revisions as the first: one of them failed.
    """
    assert solum("upgrade", KILO, url=db_url).code == 0
    server = admin_engine(db_url)
    url = db_url
    if how == "idle_timeout":
        url = short_idle_timeout_url(db_url, server, roles)
    with blocked_upgrade(tmp_path, url, empty_config, server,
                         blocked_url=db_url) as first:
        lock_connection = session_lock_connection(server)
        assert lock_connection is not None
        if how == "kill":
            cut(server, lock_connection)
        else:
            time.sleep(3.5)   # more than the idle timeout, twice
        second = Run(tmp_path, url, empty_config, "upgrade", "head",
                     "--lock-timeout", "120")
        second.wait_for_err("Waiting for the migration lock")
        checked = solum("check", url=db_url)
        assert checked.code == 7, checked.out
        assert checked.out.startswith("A migration is running: 'upgrade "
                                      "head'"), checked.out
        time.sleep(1.5)
    first_code, _, first_err = first.finish()
    second_code, second_out, second_err = second.finish()
    assert first_code == 0, first_err
    assert second_code == 0, second_err
    assert applied(first_err) == after(KILO), first_err
    assert applied(second_err) == [], second_err
    assert "did not finish" not in second_err
    assert second_out.startswith(
        f"Nothing to do: the database is already at {HEAD}"), second_out
    assert "ERROR" not in first_err + second_err
    assert dbutil.version_rows(engine) == [HEAD]
    if how == "kill":
        # The holder renewed its lease on a new connection.
        assert lease_row(server)["token"] is None
    assert solum("check", url=db_url).code == 0
    server.dispose()


@servers
def test_a_run_that_lost_its_lock_stops_before_its_next_revision(
        backend, db_url, engine, empty_config, solum, tmp_path):
    """Its lease taken (as through another Galera node, once expired), the
    first run ends the revision in progress and stops: exit 7, one ERROR
    line. The run that took over completes the work."""
    assert solum("upgrade", KILO, url=db_url).code == 0
    server = admin_engine(db_url)
    with blocked_upgrade(tmp_path, db_url, empty_config, server) as first:
        with server.connect() as connection:
            # What a run on another node does once the lease expired.
            taken = connection.execute(sa.text(
                f"UPDATE {db.LOCK_TABLE} SET token = :token, "
                f"host = 'ctl2', pid = 4242, node = 'other-node:3306', "
                f"expires_at = 0 WHERE id = 1 AND token IS NOT NULL"),
                {"token": str(uuid.uuid4())}).rowcount
        assert taken == 1
    code, out, err = first.finish()
    assert code == 7, err
    lines = err.splitlines()
    assert [line for line in lines if "ERROR" in line] == [lines[-1]], err
    assert lines[-1].startswith(
        "ERROR: lost the migration lock: 'upgrade head' on host ctl2 "
        "(pid 4242)"), lines[-1]
    assert "stopped before the next revision" in lines[-1]
    assert "Traceback" not in err
    # The revision in progress was finished, the next one not begun.
    assert applied(err) == [after(KILO)[0], BLOCKED_AT], err
    assert dbutil.version_rows(engine) == [BLOCKED_AT]

    # The taker's lease expired too (it is gone): the next run completes.
    result = solum("upgrade", "head", url=db_url)
    assert result.code == 0, result.err
    assert applied(err, result.err) == after(KILO)
    assert dbutil.version_rows(engine) == [HEAD]
    assert solum("check", url=db_url).code == 0
    server.dispose()


@servers
def test_a_lease_that_cannot_expire_is_named_with_the_command_clearing_it(
        backend, db_url, engine, solum):
    """An expiry a year ahead (clock skew, a restore), on a node gone."""
    assert solum("upgrade", KILO, url=db_url).code == 0
    forge_lease(engine, expires_in=365 * 86400)
    holder = "'upgrade head' on host ctl9 (pid 4242)"

    checked = solum("check", url=db_url)
    assert checked.code == 7, checked.out
    assert checked.out.startswith(f"A migration is running: {holder}")
    assert "will not expire by itself" in checked.out
    assert "clear the lock with 'solum-db-manage unlock'" in checked.out

    waited = solum("upgrade", "head", "--lock-timeout", "1", url=db_url)
    assert waited.code == 7, waited.err
    assert f"Waiting for the migration lock, held by {holder}" in waited.err
    last = waited.err.splitlines()[-1]
    assert last.startswith(f"ERROR: the migration lock is still held by "
                           f"{holder}"), last
    assert "clear the lock with 'solum-db-manage unlock'" in last
    assert dbutil.version_rows(engine) == [KILO]

    cleared = solum("unlock", url=db_url)
    assert cleared.code == 0, cleared.err
    assert cleared.out.startswith(f"Cleared the migration lock of {holder}")
    result = solum("upgrade", "head", url=db_url)
    assert result.code == 0, result.err
    assert dbutil.version_rows(engine) == [HEAD]
    assert solum("check", url=db_url).code == 0
    assert solum("unlock", url=db_url).out.startswith(
        "The migration lock is free: nothing to unlock.")


@servers
def test_unlock_refuses_a_lease_of_another_node_within_its_term(
        backend, db_url, engine, solum):
    assert solum("upgrade", KILO, url=db_url).code == 0
    forge_lease(engine, expires_in=100)
    refused = solum("unlock", url=db_url)
    assert refused.code == 7, refused.err
    assert refused.err.splitlines()[-1].startswith(
        "ERROR: unlock refused: the lock's holder 'upgrade head' on host "
        "ctl9 (pid 4242)"), refused.err
    assert "another Galera node (gone-node:3306)" in refused.err
    assert lease_row(engine)["host"] == "ctl9"
    assert lease_row(engine)["token"] is not None


# Takes the lock, says so, holds it for argv[2] seconds.
HOLD_SCRIPT = """
import sys, time
from solum_db_manage import lock
with lock.MigrationLock(sys.argv[1], "upgrade head").hold():
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_unlock_refuses_while_the_holder_is_connected(db_url, solum):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SCRIPT, db_url, "600"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        refused = solum("unlock", url=db_url)
        assert refused.code == 7, refused.err
        last = refused.err.splitlines()[-1]
        assert last.startswith(
            f"ERROR: unlock refused: the lock's holder 'upgrade head' on "
            f"host {socket.gethostname()} (pid {holder.pid})"), last
        assert "it is running, not gone" in last
        assert holder.poll() is None
        assert solum("check", url=db_url).code == 7
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
    # Gone: its connections went with it.
    deadline = time.monotonic() + 10
    while True:
        cleared = solum("unlock", url=db_url)
        if cleared.code == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert cleared.code == 0, cleared.err
    assert cleared.out.startswith("Cleared the migration lock of 'upgrade "
                                  "head'"), cleared.out
    assert solum("upgrade", "head", url=db_url).code == 0
    assert solum("check", url=db_url).code == 0


# --- The lock table's own schema --------------------------------------------

OLD_TABLE = (f"CREATE TABLE {db.LOCK_TABLE} (id INTEGER NOT NULL PRIMARY "
             f"KEY, token VARCHAR(36), host VARCHAR(255), pid INTEGER, "
             f"command VARCHAR(255), node VARCHAR(255), acquired_at BIGINT, "
             f"expires_at BIGINT, state VARCHAR(16), detail VARCHAR(1024))")


def test_a_lock_table_with_missing_columns_names_the_repair(
        db_url, engine, solum):
    """Point 6: a schema problem, not privileges, with the repair."""
    with engine.begin() as connection:
        connection.exec_driver_sql(
            f"CREATE TABLE {db.LOCK_TABLE} (id INTEGER NOT NULL PRIMARY "
            f"KEY, token VARCHAR(36), state VARCHAR(16))")
        connection.exec_driver_sql(
            f"INSERT INTO {db.LOCK_TABLE} (id, state) VALUES (1, 'done')")
    for command in (["upgrade", "head"], ["check"], ["unlock"]):
        result = solum(*command, url=db_url)
        assert result.code == 1, (command, result.err)
        lines = result.err.splitlines()
        assert [line for line in lines if "ERROR" in line] == [lines[-1]]
        assert lines[-1] == (
            f"ERROR: the migration lock table {db.LOCK_TABLE} lacks the "
            f"column(s) host, pid, command, node, acquired_at, expires_at, "
            f"detail: it was not created by this tool, or was altered "
            f"since. Repair: drop it (DROP TABLE {db.LOCK_TABLE}; it "
            f"holds only the lock's record, no Solum data) and run the "
            f"command again, which recreates it; nothing was changed"), \
            lines[-1]
        assert "permission" not in result.err
    assert set(sa.inspect(engine).get_table_names()) == {db.LOCK_TABLE}
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TABLE {db.LOCK_TABLE}")
    assert solum("upgrade", "head", url=db_url).code == 0
    assert solum("check", url=db_url).code == 0


def test_a_lock_table_of_the_first_release_gets_the_lease_columns(
        db_url, engine, solum):
    with engine.begin() as connection:
        connection.exec_driver_sql(OLD_TABLE)
        connection.exec_driver_sql(
            f"INSERT INTO {db.LOCK_TABLE} (id, state) VALUES (1, 'done')")
    assert solum("check", url=db_url).code == 3
    result = solum("upgrade", "head", url=db_url)
    assert result.code == 0, result.err
    columns = {c["name"] for c in sa.inspect(engine).get_columns(
        db.LOCK_TABLE)}
    assert {"connections", "lease", "renewed_at"} <= columns
    row = lease_row(engine)
    assert row["token"] is None and row["state"] == "done"
    assert row["lease"] == lock.DEFAULT_LEASE
    assert solum("check", url=db_url).code == 0


def test_the_lease_outlasts_the_ddl_lock_timeout(db_url, engine, solum):
    """On Galera a statement waiting for a table lock blocks renewals."""
    result = solum("upgrade", KILO, "--lock-lease", "10",
                   "--ddl-lock-timeout", "100", url=db_url)
    assert result.code == 0, result.err
    assert lease_row(engine)["lease"] == 160
    result = solum("upgrade", "head", "--lock-lease", "500", url=db_url)
    assert result.code == 0, result.err
    assert lease_row(engine)["lease"] == 500


def forge_own_node_lease(engine, connection_id, unrenewed_for):
    """A lease row of a run on this server that died long ago, whose
    recorded connection id now belongs to an unrelated connection."""
    with engine.connect() as connection:
        node = lock_sessions.session_for(connection).node()
    now = int(time.time())
    with engine.begin() as connection:
        connection.execute(sa.text(
            f"UPDATE {db.LOCK_TABLE} SET token = :token, host = 'ctl9', "
            f"pid = 4242, command = 'upgrade head', node = :node, "
            f"acquired_at = :renewed, expires_at = :expires, lease = 120, "
            f"renewed_at = :renewed, connections = :ids, state = 'running' "
            f"WHERE id = 1"),
            {"token": str(uuid.uuid4()), "node": node,
             "renewed": now - unrenewed_for,
             "expires": now - unrenewed_for + 120,
             "ids": str(connection_id)})


@servers
def test_a_dead_holder_whose_connection_id_was_reused_is_taken_over(
        backend, db_url, engine, solum):
    """Connection ids are reused (PostgreSQL pids, MariaDB ids after a
    restart): an unrelated connection holding a dead holder's id must not
    keep its lock forever once its lease went unrenewed for a further
    term; within its term it still counts as alive."""
    assert solum("upgrade", KILO, url=db_url).code == 0
    with engine.connect() as unrelated:
        other_id = lock_sessions.session_for(unrelated).connection_id(
            unrelated)
        # Expired, but not yet a whole term ago: still the holder's.
        forge_own_node_lease(engine, other_id, unrenewed_for=150)
        waited = solum("upgrade", "head", "--lock-timeout", "1",
                       url=db_url)
        assert waited.code == 7, waited.err
        assert dbutil.version_rows(engine) == [KILO]
        assert solum("unlock", url=db_url).code == 7

        # Unrenewed for 600 s: gone, whatever holds its id now.
        forge_own_node_lease(engine, other_id, unrenewed_for=600)
        checked = solum("check", url=db_url)
        assert checked.code == 7, checked.out
        assert checked.out.startswith("A migration was interrupted"), (
            checked.out)
        result = solum("upgrade", "head", url=db_url)
        assert result.code == 0, result.err
        assert "did not finish" in result.err
    assert dbutil.version_rows(engine) == [HEAD]
    assert solum("check", url=db_url).code == 0
