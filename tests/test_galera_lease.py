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

"""The migration lock's lease on the three-node Galera cluster (issue 10,
point 1): its lock connection cut, a holder keeps its lock against runs
through its own node and through another; a lease that cannot expire by
itself is named, and ``unlock`` clears it. The helpers are those of
test_lock_lease.py (tests/helpers.py), the cluster that of test_galera.py
(conftest)."""

import time

import sqlalchemy as sa

from solum_db_manage import db
from tests.helpers import (
    HEAD,
    KILO,
    Run,
    after,
    applied,
    blocked_upgrade,
    cut,
    forge_lease,
    galera_engine,
    session_lock_connection,
)


def node_engine(url):
    """An autocommit engine on the test database through one node."""
    return galera_engine(url)


def version_on(url):
    engine = node_engine(url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SET SESSION wsrep_sync_wait = 1")
            return [row[0] for row in connection.exec_driver_sql(
                "SELECT version_num FROM alembic_version")]
    finally:
        engine.dispose()


def test_a_holder_on_node_1_whose_lock_connection_is_killed_keeps_its_lock(
        solum, galera_db, empty_config, tmp_path):
    """Runs through node 1 (whose session lock is free now) and node 2
    (which sees only the lease) wait; all end with exit 0, the first
    having applied every revision once."""
    node1, node2, node3 = galera_db
    assert solum("upgrade", KILO, url=node1).code == 0
    server = node_engine(node1)
    with blocked_upgrade(tmp_path, node1, empty_config, server) as first:
        lock_connection = session_lock_connection(server)
        assert lock_connection is not None
        cut(server, lock_connection)
        others = [Run(tmp_path, url, empty_config, "upgrade", "head",
                      "--lock-timeout", "120") for url in (node2, node1)]
        for run in others:
            run.wait_for_err("Waiting for the migration lock")
        time.sleep(1.5)
    code, _, err = first.finish()
    assert code == 0, err
    assert applied(err) == after(KILO), err
    for run in others:
        other_code, out, other_err = run.finish()
        assert other_code == 0, other_err
        assert applied(other_err) == [], other_err
        assert "did not finish" not in other_err
        assert out.startswith(
            f"Nothing to do: the database is already at {HEAD}"), out
    assert version_on(node3) == [HEAD]
    for url in galera_db:
        assert solum("check", url=url).code == 0
    server.dispose()


def test_a_lease_of_a_node_gone_that_cannot_expire_is_cleared_by_unlock(
        solum, galera_db):
    node1, node2, node3 = galera_db
    assert solum("upgrade", KILO, url=node1).code == 0
    engine = node_engine(node1)
    try:
        forge_lease(engine, expires_in=365 * 86400)
    finally:
        engine.dispose()
    holder = "'upgrade head' on host ctl9 (pid 4242)"
    checked = solum("check", url=node2)
    assert checked.code == 7, checked.out
    assert checked.out.startswith(f"A migration is running: {holder}")
    assert "clear the lock with 'solum-db-manage unlock'" in checked.out
    waited = solum("upgrade", "head", "--lock-timeout", "1", url=node3)
    assert waited.code == 7, waited.err
    assert "clear the lock with 'solum-db-manage unlock'" in \
        waited.err.splitlines()[-1]
    cleared = solum("unlock", url=node2)
    assert cleared.code == 0, cleared.err
    assert cleared.out.startswith(f"Cleared the migration lock of {holder}")
    result = solum("upgrade", "head", url=node3)
    assert result.code == 0, result.err
    assert version_on(node1) == [HEAD]
    assert solum("check", url=node1).code == 0
    engine = node_engine(node2)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SET SESSION wsrep_sync_wait = 1")
            row = connection.execute(sa.text(
                f"SELECT token, state FROM {db.LOCK_TABLE}")).one()
    finally:
        engine.dispose()
    assert tuple(row) == (None, "done")
