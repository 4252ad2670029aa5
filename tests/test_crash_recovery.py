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

"""Crash recovery: an upgrade killed after any statement resumes.

MySQL/MariaDB commits every DDL statement on its own, so a run killed
half-way leaves part of a revision applied while alembic_version still
names the revision before. Every step is written to run again from any
such state. Here the upgrade runs in a child process that sends itself
SIGKILL right after its N-th statement that changes something, for every
N of the whole chain, from an empty database and from an Icehouse one
holding rows; then ``upgrade head`` runs again and must leave exactly the
schema of an uninterrupted run, at head, with every row kept.

On an empty database ``upgrade head`` does not walk the chain: it builds
the head schema directly (fresh.py). The walk from empty is therefore
killed as ``upgrade +23`` (every revision, by count), and the fast path
has campaigns of its own: on MySQL/MariaDB, where each CREATE TABLE
commits, a kill leaves some whole head tables that the next ``upgrade
head`` completes.

PostgreSQL and SQLite run each revision, and the fast path, in one
transaction: a kill anywhere inside one leaves the revision before it
intact, and a fast path killed before its commit leaves nothing.

Kill points are independent, so they run in forked processes,
SOLUM_TEST_CRASH_WORKERS (default 2) at a time.
"""

import contextlib
import copy
import dataclasses
import json
import os
import re
import shutil
import traceback
import uuid

import pytest
import sqlalchemy as sa
from alembic import command

from solum_db_manage import commands, db
from solum_db_manage.config import make_config
from tests import dbutil, rows_spec, schema_spec
from tests.helpers import (
    HEAD,
    LOCK_TABLE,
    SERVER_URLS,
    admin_engine,
    require_backend,
    revisions_of,
    run_cli,
    run_killed,
)

REVISIONS = schema_spec.REVISIONS
WORKERS = int(os.environ.get("SOLUM_TEST_CRASH_WORKERS", "2"))


# --- processes ---------------------------------------------------------------


def in_parallel(function, items, directory):
    """[function(item) for item in items], each in a forked process.

    ``function`` returns a list of strings; WORKERS run at a time.
    """
    results, running, pending = {}, {}, list(enumerate(items))
    while pending or running:
        while pending and len(running) < WORKERS:
            index, item = pending.pop(0)
            path = os.path.join(directory, f"result-{index}.json")
            pid = os.fork()
            if pid == 0:
                code = 70
                try:
                    try:
                        result = function(item)
                    except Exception:
                        result = [f"{item}: {traceback.format_exc()}"]
                    with open(path, "w") as out:
                        json.dump(result, out)
                    code = 0
                finally:
                    os._exit(code)
            running[pid] = (index, item, path)
        pid, status = os.wait()
        index, item, path = running.pop(pid)
        if status == 0:
            with open(path) as result:
                results[index] = json.load(result)
        else:
            results[index] = [f"{item}: the worker died (status {status})"]
    return [results[index] for index in range(len(items))]


def same_parts(statement):
    """A statement as compared between runs: its words, in any order.

    Alembic's SQLite batch mode copies a table's foreign keys from a set:
    the order of their clauses in the copy's CREATE TABLE changes from
    one process to the next (the schema does not).
    """
    return sorted(re.split(r"[\s,()]+", statement))


# --- databases ---------------------------------------------------------------


class Server:
    """The databases of one test on one server, all dropped at the end."""

    def __init__(self, backend):
        require_backend(backend)
        self.backend = backend
        self.admin = admin_engine(backend)
        self.prefix = f"solum_test_{uuid.uuid4().hex[:8]}_"

    def url(self, name):
        return db.parse_url(SERVER_URLS[self.backend]).set(
            database=name).render_as_string(hide_password=False)

    def create(self, template=None):
        """A new database, empty or a copy of ``template``; its URL."""
        name = self.prefix + uuid.uuid4().hex[:8]
        with self.admin.connect() as connection:
            if self.backend == "postgresql":
                suffix = f" TEMPLATE {template}" if template else ""
                connection.exec_driver_sql(f"CREATE DATABASE {name}{suffix}")
            else:
                connection.exec_driver_sql(
                    f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
                if template:
                    _copy_mysql(connection, template, name)
        return self.url(name)

    def drop(self, url):
        self._drop(sa.engine.make_url(url).database)

    def _drop(self, name):
        with self.admin.connect() as connection:
            if self.backend == "postgresql":
                connection.exec_driver_sql(
                    f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            else:
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")

    def close(self):
        """Drop every database of the test, those of dead workers too."""
        with self.admin.connect() as connection:
            if self.backend == "postgresql":
                names = connection.exec_driver_sql(
                    "SELECT datname FROM pg_database").scalars()
            else:
                names = connection.exec_driver_sql(
                    "SHOW DATABASES").scalars()
            names = [name for name in names
                     if name.startswith(self.prefix)]
        for name in names:
            self._drop(name)
        self.admin.dispose()


class SqliteFiles:
    """Server's interface for SQLite: one file a database."""

    backend = "sqlite"

    def __init__(self, directory):
        self.directory = os.path.join(directory, "databases")
        os.makedirs(self.directory, exist_ok=True)

    def create(self, template=None):
        """A new database file, empty (not there yet) or a copy; its URL."""
        path = os.path.join(self.directory,
                            f"solum_test_{uuid.uuid4().hex[:8]}.sqlite")
        if template:
            shutil.copyfile(template, path)
        return f"sqlite:///{path}"

    def drop(self, url):
        path = sa.engine.make_url(url).database
        for leftover in (path, path + "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)

    def close(self):
        shutil.rmtree(self.directory, ignore_errors=True)


def _copy_mysql(connection, source, target):
    """Copy every table, with its keys and foreign key names, and rows.

    SHOW CREATE TABLE keeps what CREATE TABLE ... LIKE loses: the foreign
    keys, with the names InnoDB gave them.
    """
    connection.exec_driver_sql(f"USE {target}")
    connection.exec_driver_sql("SET SESSION foreign_key_checks = 0")
    tables = connection.exec_driver_sql(
        f"SHOW TABLES FROM {source}").scalars().all()
    for table in tables:
        created = connection.exec_driver_sql(
            f"SHOW CREATE TABLE {source}.`{table}`").one()[1]
        connection.exec_driver_sql(created)
        connection.exec_driver_sql(
            f"INSERT INTO `{table}` SELECT * FROM {source}.`{table}`")


@pytest.fixture
def server(tmp_path):
    """``server(backend)``: a Server whose databases go at the end."""
    opened = []

    def open_(backend):
        opened.append(SqliteFiles(str(tmp_path)) if backend == "sqlite"
                      else Server(backend))
        return opened[-1]

    yield open_
    for each in opened:
        each.close()


def open_engine(url):
    """A pooled engine: reflection opens a connection per call."""
    parsed = db.parse_url(url)
    connect_args = {}
    if parsed.get_backend_name() == "mysql":
        connect_args["init_command"] = "SET SESSION sql_mode = 'TRADITIONAL'"
    return sa.create_engine(parsed, connect_args=connect_args)


@contextlib.contextmanager
def engine_on(url):
    engine = open_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def with_rows_at_icehouse(server):
    """A database at icehouse holding rows in every table; its ledger."""
    url = server.create()
    commands.upgrade(make_config(url), "icehouse")
    ledger = rows_spec.Ledger()
    ledger.upgraded("icehouse")
    with engine_on(url) as engine:
        ledger.insert(engine, 0)
    return url, ledger


def ledgers_from(ledger):
    """{revision: the rows as they should be there}, up to head."""
    found = {ledger.revision: copy.deepcopy(ledger)}
    ledger = copy.deepcopy(ledger)
    for revision in REVISIONS[REVISIONS.index(ledger.revision) + 1:]:
        ledger.upgraded(revision)
        found[revision] = copy.deepcopy(ledger)
    return found


@dataclasses.dataclass
class State:
    """What a database holds, as the checks compare it."""

    versions: list
    schema: dict
    tables: dict | None  # MySQL's SHOW CREATE TABLE, without counters
    names: list  # every table, alembic_version too, the lock's aside

    @classmethod
    def of(cls, engine):
        tables = None
        if engine.dialect.name == "mysql":
            tables = dbutil.mysql_create_tables(engine)
            tables.pop(LOCK_TABLE, None)
        schema = dbutil.snapshot(engine)
        schema.pop(LOCK_TABLE, None)
        names = sorted(set(sa.inspect(engine).get_table_names())
                       - {LOCK_TABLE})
        return cls(dbutil.version_rows(engine), schema, tables, names)


def differences(url, expected, ledger=None):
    """How the database differs from ``expected`` and the ledger's rows."""
    with engine_on(url) as engine:
        actual = State.of(engine)
        found = []
        if actual.versions != expected.versions:
            found.append(f"alembic_version holds {actual.versions}, "
                         f"expected {expected.versions}")
        found += rows_spec.schema_differences(expected.schema, actual.schema,
                                         engine.dialect.name)
        if not found and actual.schema != expected.schema:
            found.append("the schema differs from an uninterrupted run's")
        if actual.names != expected.names:
            found.append(f"the tables are {actual.names}, expected "
                         f"{expected.names}")
        if actual.tables != expected.tables:
            changed = sorted(
                table for table in set(actual.tables) | set(expected.tables)
                if actual.tables.get(table) != expected.tables.get(table))
            found.append(f"SHOW CREATE TABLE differs for {changed}")
        if ledger is not None:
            found += rows_spec.row_differences(engine, ledger, actual.schema)
    return found


def error_line(text):
    return " ".join(line for line in text.splitlines()
                    if line.startswith("ERROR"))


def complete_without_the_tool(url):
    """Upgrade to head through Alembic alone, without the tool's checks."""
    config = make_config(url)
    with db.connect(config):
        command.upgrade(config, "head")


# --- the campaign ------------------------------------------------------------

REFUSED = "refused by solum-db-manage"  # and no repair advised


@dataclasses.dataclass(frozen=True)
class Point:
    """Where to kill, and what to run and expect around it.

    Kill after statement ``n``; run the commands of ``before``, then
    ``upgrade head``. ``killed`` is the state expected right after the
    kill, as (State, ledger), where one is known (PostgreSQL, SQLite);
    ``names`` the tables expected then, where only those are known.
    """

    n: int
    before: tuple = ()
    killed: tuple | None = None
    names: list | None = None


# What the fast path logs; the walk logs "Running upgrade" per revision.
FAST = f"Created the head schema {HEAD} directly"
# The walk of every revision from an empty database, which ``upgrade
# head`` no longer takes there.
WALK = ("upgrade", f"+{len(REVISIONS)}")


class Campaign:
    """Kill an upgrade at chosen statements; resume; compare.

    ``command`` is the upgrade killed (``upgrade head`` unless told);
    ``upgrade head`` resumes it.
    """

    def __init__(self, server, tmp_path, template=None, ledgers=None,
                 command=("upgrade", "head")):
        self.server = server
        self.command = tuple(command)
        self.directory = str(tmp_path)
        os.makedirs(self.directory, exist_ok=True)
        self.config = os.path.join(self.directory, "solum.conf")
        with open(self.config, "w"):
            pass
        self.template = template
        self.ledgers = ledgers or {}
        # An uninterrupted run: the statements to kill after, and the
        # state every resumed run must reach.
        url = self.fresh()
        run = run_killed(self.argv(url, *self.command), 0,
                         os.path.join(self.directory, "uninterrupted.log"))
        assert run.exit_code == 0, run.output
        self.output = run.output
        # Run again, in this process: nothing to do. The processes forked
        # from here then find whatever the tool caches warm.
        code, err = run_cli(self.argv(url, "upgrade", "head"))
        assert code == 0, err
        self.statements = run.statements
        self.owners = revisions_of(run.statements)
        # The revisions whose version write it made, in order: every one
        # from the run's start for a walk, HEAD alone for the fast path.
        self.walked = [owner for owner in dict.fromkeys(self.owners)
                       if owner is not None]
        with engine_on(url) as engine:
            self.expected = State.of(engine)
        assert self.expected.versions == [HEAD]
        if HEAD in self.ledgers:
            assert not differences(url, self.expected, self.ledgers[HEAD])
        server.drop(url)

    def fresh(self):
        if self.template is None:
            return self.server.create()
        return self.server.create(
            template=sa.engine.make_url(self.template).database)

    def argv(self, url, *args):
        return ["--config-file", self.config, "--database-connection", url,
                *args]

    def find(self, revision, position):
        """The n of statement ``position`` among the revision's."""
        return [n for n, owner in enumerate(self.owners, 1)
                if owner == revision][position]

    def where(self, point):
        n = point.n
        stamp = "".join(f", {' '.join(c)}" for c in point.before)
        return (f"{' '.join(self.command)}: "
                f"kill after statement {n}/{len(self.statements)} "
                f"({self.owners[n - 1] or 'lock'}: "
                f"{self.statements[n - 1][:70]}){stamp}")

    def run(self, points):
        """Every point, in parallel; assert that none found a problem."""
        found = in_parallel(self.check, points, self.directory)
        problems = [problem for each in found for problem in each]
        refused = sum(1 for each in found
                      if any(REFUSED in problem for problem in each))
        summary = (f"{len(points)} kill points; {refused} {REFUSED} with "
                   f"no way on; {len(problems) - refused} other problems\n")
        assert not problems, summary + "\n".join(problems)

    def check(self, point):
        """Kill, check, resume, check: the problems found (in a worker)."""
        url = self.fresh()
        output = os.path.join(self.directory, "killed-{}{}.log".format(
            point.n, "".join(f"-{'_'.join(c)}" for c in point.before)))
        run = run_killed(self.argv(url, *self.command), point.n, output)
        where = self.where(point)
        if not run.by_sigkill:
            return [f"{where}: the run was not killed (status {run.status})"
                    f": {error_line(run.output)}"]
        if (list(map(same_parts, run.statements))
                != list(map(same_parts, self.statements[:point.n]))):
            return [f"{where}: the run took other statements than the "
                    f"uninterrupted one"]
        problems = []
        if point.killed is not None:
            problems += [f"{where}, before resuming: {problem}"
                         for problem in differences(url, *point.killed)]
        if point.names is not None:
            with engine_on(url) as engine:
                names = State.of(engine).names
            if names != point.names:
                problems.append(f"{where}, before resuming: the tables are "
                                f"{names}, expected {point.names}")
        refusal = self.resume(url, point.before)
        if refusal:
            problems.append(f"{where}: {REFUSED}: {refusal}")
            # Still find out whether the migrations alone complete it.
            complete_without_the_tool(url)
        problems += [f"{where}: {problem}" for problem in differences(
            url, self.expected, self.ledgers.get(HEAD))]
        self.server.drop(url)
        return problems

    def resume(self, url, before):
        """Run ``before`` and ``upgrade head`` as an operator would.

        Where a command is refused with a repair to run instead (``stamp``
        an earlier revision, then ``upgrade head``), that is run. Returns
        None, or what was refused with no way on.
        """
        for args in (*before, ("upgrade", "head")):
            code, err = run_cli(self.argv(url, *args))
            if code == 0:
                continue
            refused = f"'{' '.join(args)}' exited {code}: {error_line(err)}"
            repair = advised_repair(err)
            if repair is None:
                return refused
            for step in repair:
                code, err = run_cli(self.argv(url, *step))
                if code != 0:
                    return (f"{refused}; then '{' '.join(step)}', as "
                            f"advised, exited {code}: {error_line(err)}")
        return None


def advised_repair(err):
    """The commands an ERROR line says to run instead, or None."""
    found = re.search(r"To repair, run: (.*)$", error_line(err))
    if not found:
        return None
    steps = []
    for step in found.group(1).split("; then "):
        words = step.split()
        if words[:1] != ["solum-db-manage"]:
            return None
        steps.append(words[1:])
    return steps


# --- MySQL/MariaDB: every statement ----------------------------------------


@pytest.mark.slow
def test_upgrade_resumes_after_a_kill_at_every_statement_from_empty(
        server, tmp_path):
    """The walk of every revision from nothing, killed at every statement."""
    campaign = Campaign(server("mysql"), tmp_path, command=WALK)
    assert campaign.walked == list(REVISIONS)
    campaign.run([Point(n) for n in range(1, len(campaign.statements) + 1)])


@pytest.mark.slow
def test_upgrade_resumes_after_a_kill_at_every_statement_with_rows(
        server, tmp_path):
    mysql = server("mysql")
    template, ledger = with_rows_at_icehouse(mysql)
    campaign = Campaign(mysql, tmp_path, template, ledgers_from(ledger))
    assert campaign.walked == list(REVISIONS[1:])
    campaign.run([Point(n) for n in range(1, len(campaign.statements) + 1)])


def fast_path_campaign(server, tmp_path):
    """``upgrade head`` on an empty database: the head schema built."""
    campaign = Campaign(server, tmp_path)
    assert FAST in campaign.output, campaign.output
    assert "Running upgrade" not in campaign.output, campaign.output
    assert campaign.walked == [HEAD]
    # The version table, every head table, the version row.
    built = [statement for statement, owner
             in zip(campaign.statements, campaign.owners, strict=True)
             if owner == HEAD]
    assert len(built) == len(campaign.expected.names) + 1, built
    return campaign


def test_upgrade_head_resumes_after_a_kill_inside_the_fast_path_mysql(
        server, tmp_path):
    """Each CREATE TABLE commits: a kill leaves the head tables made so
    far, and the version table without a row; ``upgrade head`` completes
    them to the schema of an uninterrupted run."""
    campaign = fast_path_campaign(server("mysql"), tmp_path)
    created = [re.match(r"CREATE TABLE `?(\w+)", statement)
               for statement in campaign.statements]
    points = [Point(n, names=sorted(
        made.group(1) for made in created[:n]
        if made and made.group(1) != LOCK_TABLE))
        for n in range(1, len(campaign.statements) + 1)]
    # Some kills leave part of the head schema: the resume completes it.
    assert 0 < len(points[5].names) < len(campaign.expected.names)
    # Another target walks the chain over what the kill left; upgrade
    # head then completes that.
    points += [Point(n, before=(("upgrade", "kilo"),))
               for n in (4, 10, len(created) - 1)]
    campaign.run(points)


# Kill points (revision, index among its statements), and the earlier
# revision then stamped: the steps from there run again on a schema that
# holds them already. Each earlier revision's tables and columns are all
# there (upgrade refuses a schema that lacks some of the recorded
# revision's).
STAMPED = [
    ("450600086a09", 0, "icehouse"),
    ("586c15b92842", 0, "icehouse"),
    ("27dff58cbc65", 0, "icehouse"),
    ("2f15f41cd87f", 0, "icehouse"),
    ("40df542e345", 0, "5583c6e70156"),
    ("390c6c4aa97b", 0, "5583c6e70156"),
    ("e5f2e8af3b8", 0, "1393c21ea82c"),
    (HEAD, -1, "1393c21ea82c"),
]


def test_stamp_earlier_then_upgrade_resumes_after_a_kill(server, tmp_path):
    mysql = server("mysql")
    template, ledger = with_rows_at_icehouse(mysql)
    campaign = Campaign(mysql, tmp_path, template, ledgers_from(ledger))
    campaign.run([
        Point(campaign.find(revision, position), before=(("stamp", at),))
        for revision, position, at in STAMPED])


# --- PostgreSQL and SQLite: one transaction a revision ----------------------

# (revision, index among its statements); the last statement of a
# revision writes its id to alembic_version, before the commit.
FROM_EMPTY = [
    ("icehouse", 0),
    ("icehouse", 4),
    ("icehouse", -1),
    ("498adc6185ae", 4),
]
WITH_ROWS = [
    ("498adc6185ae", 0),
    ("498adc6185ae", 4),
    ("498adc6185ae", -1),
    ("27dff58cbc65", 0),
    ("1f57763d7871", 0),
    ("5583c6e70156", 0),
    ("5583c6e70156", 3),  # the copy to plans
    ("5583c6e70156", -2),
    ("5583c6e70156", -1),
    ("e5f2e8af3b8", 0),
    (HEAD, -1),
]


def uninterrupted_states(server):
    """{revision: State} after an uninterrupted upgrade to it."""
    url = server.create()
    config = make_config(url)
    with engine_on(url) as engine:
        states = {None: State.of(engine)}
        for revision in REVISIONS:
            commands.upgrade(config, revision)
            states[revision] = State.of(engine)
    server.drop(url)
    return states


def killed_inside(campaign, chosen, states):
    points = []
    for revision, position in chosen:
        before = schema_spec.below(revision)
        points.append(Point(campaign.find(revision, position), killed=(
            states[before], campaign.ledgers.get(before))))
    return points


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_a_kill_inside_a_revision_leaves_the_one_before(
        backend, server, tmp_path):
    files = server(backend)
    states = uninterrupted_states(files)

    empty = Campaign(files, tmp_path / "empty", command=WALK)
    assert empty.walked == list(REVISIONS)
    assert empty.expected == states[HEAD]
    empty.run(killed_inside(empty, FROM_EMPTY, states))

    template, ledger = with_rows_at_icehouse(files)
    with_rows = Campaign(files, tmp_path / "rows", template,
                         ledgers_from(ledger))
    with_rows.run(killed_inside(with_rows, WITH_ROWS, states))


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_a_kill_inside_the_fast_path_leaves_nothing(
        backend, server, tmp_path):
    """One transaction: killed before its commit, nothing of the head
    schema is there, not even alembic_version; after it, all of it.
    Either way ``upgrade head`` then leaves what the walk leaves."""
    files = server(backend)
    states = uninterrupted_states(files)
    campaign = fast_path_campaign(files, tmp_path)
    # The fast path's schema is the walk's, column order included.
    assert campaign.expected == states[HEAD]
    last = max(n for n, owner in enumerate(campaign.owners, 1)
               if owner == HEAD)
    points = [Point(n, killed=(states[None] if n <= last
                               else campaign.expected, None))
              for n in range(1, len(campaign.statements) + 1)]
    assert len(points) > last > len(campaign.expected.names)
    campaign.run(points)
