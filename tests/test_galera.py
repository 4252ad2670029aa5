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

"""The tool on a three-node MariaDB Galera cluster.

The cluster comes from ``tools/galera-cluster start`` (nodes on
127.0.0.1:3311-3313), its URLs from SOLUM_TEST_GALERA_URLS (see
conftest.py): without it these tests skip, or fail where
SOLUM_TEST_REQUIRE_BACKENDS names galera. Each test gets a database of its
own, created through node 1 and reached through every node.
"""

import collections
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid

import sqlalchemy as sa

from solum_db_manage import lock
from tests.helpers import (
    HEAD,
    chain,
    galera_engine,
)

# What upgrade head logs where it builds an empty database's head schema
# directly instead of walking the chain.
FAST = f"Created the head schema {HEAD} directly"


def tables(url):
    """The tables of the database at url, read with wsrep_sync_wait=1."""
    engine = galera_engine(url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SET SESSION wsrep_sync_wait = 1")
            return set(sa.inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_on_node_1_is_head_on_node_3(solum, galera_db):
    """The fast path's tables and version row replicate to every node."""
    node1, _, node3 = galera_db
    result = solum("upgrade", "head", url=node1)
    assert result.code == 0, result.err
    assert FAST in result.err, result.err
    assert "Running upgrade" not in result.err

    # The tool reads with wsrep_sync_wait=1 on a Galera node, so node 3
    # sees what node 1 committed, even right after it.
    result = solum("version", url=node3)
    assert result.code == 0, result.err
    assert result.out.startswith(f"Current DB revision is {HEAD} "), \
        result.out
    assert tables(node3) == tables(node1)
    assert {"alembic_version", "app", "plan"} <= tables(node3)

    result = solum("upgrade", "head", url=node3)
    assert result.code == 0, result.err
    assert "Running upgrade" not in result.err
    assert FAST not in result.err
    assert result.out.startswith(
        f"Nothing to do: the database is already at {HEAD}"), result.out
    assert solum("check", url=node3).code == 0


def test_a_walk_on_node_1_is_head_on_node_3(solum, galera_db):
    """The chain's steps (ALTERs, a table rebuilt) replicate too."""
    node1, _, node3 = galera_db
    assert solum("upgrade", "icehouse", url=node1).code == 0
    result = solum("upgrade", "head", url=node1)
    assert result.code == 0, result.err
    assert FAST not in result.err
    walked = re.findall(r"Running upgrade \w* -> (\w+)", result.err)
    assert walked == chain()[1:], result.err
    assert tables(node3) == tables(node1)
    result = solum("version", url=node3)
    assert result.out.startswith(f"Current DB revision is {HEAD} "), \
        result.out
    assert solum("check", url=node3).code == 0


def test_get_lock_on_one_node_does_not_exclude_another_node(galera):
    """GET_LOCK is not replicated: it excludes clients of one node only.

    This is why the tool's migration lock is a committed lease row: a lock
    taken on node 1 is free on node 2, where a second client gets it too.
    """
    name = f"solum_test_{uuid.uuid4().hex[:12]}"
    get_lock = sa.text("SELECT GET_LOCK(:name, 0)")
    is_free = sa.text("SELECT IS_FREE_LOCK(:name)")
    node1, node2 = galera_engine(galera[0]), galera_engine(galera[1])
    try:
        with node1.connect() as holder, node1.connect() as same_node, \
                node2.connect() as other_node:
            assert holder.execute(get_lock, {"name": name}).scalar() == 1
            # Excluded on the same node ...
            assert same_node.execute(get_lock, {"name": name}).scalar() == 0
            # ... but node 2 does not even see it taken, and grants it.
            assert other_node.execute(is_free, {"name": name}).scalar() == 1
            assert other_node.execute(get_lock, {"name": name}).scalar() == 1
            # Both hold it now; node 1 still sees only its own holder.
            assert same_node.execute(get_lock, {"name": name}).scalar() == 0
    finally:
        node1.dispose()
        node2.dispose()


def upgrade_together(galera_db, empty_config, runs=4):
    """``runs`` upgrades at once, through nodes 1 and 2 in turn: their
    [(exit status, stdout, stderr)], and a report of them all."""
    env = dict(os.environ)
    env.pop("OS_DATABASE__CONNECTION", None)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "solum_db_manage",
             "--config-file", empty_config,
             "--database-connection", galera_db[number % 2],
             "upgrade", "head"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env)
        for number in range(runs)]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=600)
        results.append((process.returncode, out, err))
    report = "\n".join(f"--- run {number} (node {number % 2 + 1}): exit "
                       f"{code}\n{out}{err}"
                       for number, (code, out, err) in enumerate(results))
    return results, report


def assert_head_on_every_node(solum, galera_db):
    for url in galera_db:
        result = solum("version", url=url)
        assert result.out.startswith(f"Current DB revision is {HEAD} "), \
            (url, result.out, result.err)
    assert solum("check", url=galera_db[2]).code == 0


def test_concurrent_upgrades_on_two_nodes_exclude_each_other(
        solum, galera_db, empty_config):
    """Four upgrades at once from icehouse, through nodes 1 and 2: one
    does the work.

    Each revision runs exactly once in all; every other run waits for the
    lock and then finds nothing to do.
    """
    assert solum("upgrade", "icehouse", url=galera_db[0]).code == 0
    results, report = upgrade_together(galera_db, empty_config)

    assert [code for code, _, _ in results] == [0] * 4, report
    upgraded = collections.Counter(
        match.group(1) for _, _, err in results
        for match in re.finditer(r"Running upgrade .*?-> (\w+)", err))
    assert upgraded == dict.fromkeys(chain()[1:], 1), report
    assert not any(FAST in err for _, _, err in results), report
    walkers = [out for _, out, err in results if "Running upgrade" in err]
    assert len(walkers) == 1, report
    for _, out, err in results:
        if "Running upgrade" not in err:
            assert out.startswith("Nothing to do"), report
    assert_head_on_every_node(solum, galera_db)


def test_concurrent_upgrades_of_an_empty_database_build_head_once(
        solum, galera_db, empty_config):
    """Four upgrades at once of an empty database, through nodes 1 and 2:
    one builds the head schema, every other finds nothing to do."""
    results, report = upgrade_together(galera_db, empty_config)

    assert [code for code, _, _ in results] == [0] * 4, report
    assert not any("Running upgrade" in err for _, _, err in results), \
        report
    built = [out for _, out, err in results if FAST in err]
    assert built == [""], report
    nothing = [out for _, out, _ in results if out.startswith(
        f"Nothing to do: the database is already at {HEAD}")]
    assert len(nothing) == 3, report
    assert_head_on_every_node(solum, galera_db)


# Takes the lock through the node at argv[1] with a lease of argv[2]
# seconds, says so, then holds it until killed.
HOLD_SCRIPT = """
import sys, time
from solum_db_manage import lock
held = lock.MigrationLock(sys.argv[1], "upgrade head",
                          lease=float(sys.argv[2]))
with held.hold():
    print("held", flush=True)
    time.sleep(600)
"""


def hold_and_kill(url, lease):
    """A holder through ``url`` killed with SIGKILL; return its pid."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SCRIPT, url, str(lease)],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    return holder.pid


def test_a_lock_held_through_node_1_excludes_node_2(solum, galera_db):
    node1, node2, _ = galera_db
    with lock.MigrationLock(node1, "upgrade head").hold():
        waited = solum("upgrade", "head", "--lock-timeout", "1", url=node2)
        checked = solum("check", url=node2)
    assert waited.code == 7, waited.err
    assert f"held by 'upgrade head' on host {socket.gethostname()} " \
        f"(pid {os.getpid()})" in waited.err.splitlines()[-1]
    assert "nothing was changed" in waited.err.splitlines()[-1]
    assert checked.code == 7
    assert checked.out.startswith("A migration is running: 'upgrade head'")
    assert "alembic_version" not in tables(node2)


def test_a_dead_holder_on_another_node_is_taken_over_after_its_lease(
        solum, galera_db):
    """The bound across nodes: the lease (--lock-lease), plus one poll.

    Node 2 cannot see node 1's session locks, so it waits until the dead
    holder's lease expired: here 4 s; 120 s by default.
    """
    node1, node2, _ = galera_db
    pid = hold_and_kill(node1, lease=4)
    killed = time.monotonic()
    result = solum("upgrade", "head", "--lock-timeout", "60", url=node2)
    took = time.monotonic() - killed
    assert result.code == 0, result.err
    assert "Waiting for the migration lock" in result.err
    assert f"the previous 'upgrade head' on host {socket.gethostname()} " \
        f"(pid {pid})" in result.err
    assert 2 <= took < 4 + 20
    assert solum("check", url=node1).code == 0


def test_a_dead_holder_on_the_same_node_is_taken_over_at_once(
        solum, galera_db):
    """Through the node it held it on, the session lock tells at once."""
    node1, node2, _ = galera_db
    pid = hold_and_kill(node1, lease=120)
    checked = solum("check", url=node1)
    assert checked.code == 7
    assert checked.out.startswith(
        f"A migration was interrupted: 'upgrade head' on host "
        f"{socket.gethostname()} (pid {pid})")
    started = time.monotonic()
    result = solum("upgrade", "head", "--lock-timeout", "60", url=node1)
    assert result.code == 0, result.err
    assert "Waiting for the migration lock" not in result.err
    assert time.monotonic() - started < 20
    assert solum("check", url=node2).code == 0
