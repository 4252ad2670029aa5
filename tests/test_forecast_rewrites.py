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

"""The plan is right: what ``--plan`` predicts each step does to each
table is what the step does (issue 13, section 3, first point).

The chain is walked one revision at a time, up from base to head and
back down, with rows in every table (rows_spec.Ledger). Before each step
the forecast of that step alone is made (forecast.forecast, as
``upgrade --plan +1`` makes it); then the step runs, and:

- the tables the forecast touches are exactly the tables whose columns,
  keys, constraints or indexes the step changed (the reflected schema
  before and after): a missing or wrong declaration in operations.py
  shows here;
- each table the forecast says is rewritten has a new physical identity
  afterwards, and every other table keeps its own, observed as
  benchmarks/ observes it: the InnoDB table id, PostgreSQL's
  pg_class.relfilenode, SQLite's root page;
- on MariaDB each ALTER TABLE the step really runs (caught as it is sent)
  is first run on a copy of its table in a scratch database (CREATE
  TABLE ... LIKE and INSERT ... SELECT, taken just before the statement
  runs): with ``ALGORITHM=`` and ``LOCK=`` as predicted it must succeed,
  and change the copy's table id exactly where a rewrite is predicted;
  with the next cheaper algorithm, or the next weaker lock, the server
  must refuse it (1845/1846: not supported). The copy has the table's
  indexes, row format and character set but not its foreign keys
  (CREATE TABLE ... LIKE drops them); no statement of the chain touches
  a foreign key's columns.

Two starts: the icehouse one (the walk from base), which takes
498adc6185ae's completion branches (plan.raw_content VARCHAR to TEXT,
image.source_format widened); and each 2014 form (tests/legacy.py)
stamped icehouse, where 498adc6185ae finds part of its work done and
alembic_version without its primary key.

On PostgreSQL, three steps (an added column, a wider VARCHAR, a unique
constraint) run while another session reads the table: the lock they
wait for in pg_locks is the one the forecast names. On Galera (marked
``galera``) a node's forecast says which statements stall every node.

By default: the walk on every backend, the 2014 forms' step, and on
MariaDB the step of 43df309dbf3f (VARCHAR(36) to VARCHAR(100)) on a
latin1, a ROW_FORMAT=REDUNDANT and a COMPRESSED image table. Marked
``slow``: the whole walk, with every statement tried, on a latin1
database and with every table REDUNDANT or COMPRESSED.
"""

import re
import uuid

import pymysql
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from solum_db_manage import commands, forecast, server_rules
from solum_db_manage.config import make_config
from tests import dbutil, legacy
from tests.helpers import (
    Blocker,
    Run,
    admin_engine,
    chain,
    execute,
    galera_engine,
    provision,
    scripts,
    wait_until_blocked,
)
from tests.rows_spec import Ledger

REVISIONS = chain()
# The ALTERs MariaDB refuses with these where the algorithm or the lock
# asked for cannot be had: ER_ALTER_OPERATION_NOT_SUPPORTED(_REASON).
NOT_SUPPORTED = (1845, 1846)


def below(revision):
    at = REVISIONS.index(revision)
    return REVISIONS[at - 1] if at else None


# --- what a step did ---------------------------------------------------------

def identities(engine):
    """{table: physical identity} of the database's tables."""
    with engine.connect() as connection:
        name = engine.dialect.name
        if name == "sqlite":
            sql = ("SELECT name, rootpage FROM sqlite_master "
                   "WHERE type = 'table'")
        elif name == "mysql":
            sql = ("SELECT SUBSTRING_INDEX(NAME, '/', -1), TABLE_ID FROM "
                   "information_schema.INNODB_SYS_TABLES WHERE NAME LIKE "
                   "CONCAT(DATABASE(), '/%%')")
        else:
            sql = ("SELECT relname, relfilenode FROM pg_class WHERE "
                   "relkind = 'r' AND relnamespace = "
                   "current_schema()::regnamespace")
        found = dict(connection.exec_driver_sql(sql).all())
    found.pop(dbutil.LOCK_TABLE, None)
    return found


def schema(engine):
    """{table: its columns in order (type, nullable, default), primary
    key, foreign keys, unique constraints and indexes}, comparable; one
    reflection query per kind (dbutil.snapshot's per-table reflection
    takes half the walk's time on PostgreSQL)."""
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        kinds = (inspector.get_multi_columns(),
                 inspector.get_multi_pk_constraint(),
                 inspector.get_multi_foreign_keys(),
                 inspector.get_multi_unique_constraints(),
                 inspector.get_multi_indexes())
    found = {}
    for key, columns in kinds[0].items():
        if key[1] == dbutil.LOCK_TABLE:
            continue
        found[key[1]] = (
            [(column["name"], repr(column["type"]), column["nullable"],
              column.get("default")) for column in columns],
            *(repr(sorted(map(repr, kind.get(key) or ())))
              if isinstance(kind.get(key), list) else repr(kind.get(key))
              for kind in kinds[1:]))
    return found


# --- MariaDB: each statement tried on a copy of its table --------------------

_KINDS = (
    (re.compile(r"\bADD (CONSTRAINT \S+ )?PRIMARY KEY\b", re.I),
     "version_key"),
    (re.compile(r"\bADD (CONSTRAINT \S+ )?UNIQUE\b", re.I), "add_unique"),
    (re.compile(r"\bDROP (INDEX|KEY)\b", re.I), "drop_unique"),
    (re.compile(r"\bADD COLUMN\b", re.I), "add_column"),
    (re.compile(r"\bDROP COLUMN\b", re.I), "drop_column"),
    (re.compile(r"\bCHANGE\b", re.I), "rename_column"),
    (re.compile(r"\bMODIFY\b", re.I), "change_type"),
)
_ALTER = re.compile(r"\s*ALTER\s+TABLE\s+`?(\w+)`?\s", re.I)


def kind_of(statement):
    for pattern, kind in _KINDS:
        if pattern.search(statement):
            return kind
    return None


def cheaper(order, value):
    at = order.index(value)
    return order[at - 1] if at else None


class Trials:
    """Each ALTER TABLE sent to ``database``, tried first on a copy of
    its table in a scratch database, against the step's forecast."""

    def __init__(self, database, problems):
        self.database = database
        self.problems = problems
        self.step = None        # forecast.Step of the step running
        self.seen = []          # (kind, table) of the step's ALTERs
        self.tried = 0
        self.scratch = f"solum_scratch_{uuid.uuid4().hex[:12]}"
        self.admin = admin_engine("mysql")
        execute(self.admin, f"CREATE DATABASE {self.scratch}")
        self.raw = self.admin.raw_connection()
        with self.raw.cursor() as cursor:
            cursor.execute(f"USE {self.scratch}")
            cursor.execute("SET SESSION sql_mode = 'TRADITIONAL'")
            # Copying reads the rows without locking them: the step's own
            # transaction may hold them (5583c6e70156's UPDATE).
            cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL "
                           "READ COMMITTED")
            cursor.execute("SET SESSION lock_wait_timeout = 20")
        event.listen(sa.engine.Engine, "before_cursor_execute", self.caught)

    def close(self):
        event.remove(sa.engine.Engine, "before_cursor_execute", self.caught)
        self.raw.close()
        execute(self.admin, f"DROP DATABASE {self.scratch}")
        self.admin.dispose()

    def caught(self, connection, cursor, statement, parameters, context,
               executemany):
        if connection.engine.url.database != self.database:
            return
        found = _ALTER.match(statement)
        if not found or found.group(1) == dbutil.LOCK_TABLE or \
                self.step is None:
            return
        self.try_statement(found.group(1), " ".join(statement.split()))

    def _run(self, sql):
        with self.raw.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    def _table_id(self, table):
        return self._run(
            f"SELECT TABLE_ID FROM information_schema.INNODB_SYS_TABLES "
            f"WHERE NAME = '{self.scratch}/{table}'")[0][0]

    def _refused(self, sql):
        """None where the server refused ``sql`` as not supported; else
        what happened."""
        try:
            self._run(sql)
        except pymysql.MySQLError as error:
            if error.args[0] in NOT_SUPPORTED:
                return None
            return f"failed otherwise: {error.args}"
        return "accepted"

    def try_statement(self, table, statement):
        kind = kind_of(statement)
        self.seen.append((kind, table))
        where = f"{self.step.direction} {self.step.revision}: {statement}"
        ways = [way for op, way in self.step.operations
                if op.table == table and op.kind == kind]
        if not ways:
            self.problems.append(f"{where}: no declared {kind} operation "
                                 f"on {table} predicts it")
            return
        way = ways[0]
        if way.algorithm not in server_rules.ALGORITHMS or \
                way.lock not in server_rules.LOCKS:
            self.problems.append(f"{where}: predicted {way.algorithm}, "
                                 f"{way.lock}: not a MariaDB way")
            return
        self._run(f"DROP TABLE IF EXISTS `{table}`")
        self._run(f"CREATE TABLE `{table}` LIKE "
                  f"`{self.database}`.`{table}`")
        self._run(f"INSERT INTO `{table}` SELECT * FROM "
                  f"`{self.database}`.`{table}`")
        self.tried += 1
        weaker = cheaper(server_rules.LOCKS, way.lock)
        lower = cheaper(server_rules.ALGORITHMS, way.algorithm)
        for clause in ([f"ALGORITHM={lower}"] if lower else []) + (
                [f"LOCK={weaker}"] if weaker else []):
            outcome = self._refused(f"{statement}, {clause}")
            if outcome is not None:
                self.problems.append(
                    f"{where}: predicted ALGORITHM={way.algorithm}, "
                    f"LOCK={way.lock}, but with {clause} it was {outcome}")
                return
        before = self._table_id(table)
        try:
            self._run(f"{statement}, ALGORITHM={way.algorithm}, "
                      f"LOCK={way.lock}")
        except pymysql.MySQLError as error:
            self.problems.append(
                f"{where}: refused with ALGORITHM={way.algorithm}, "
                f"LOCK={way.lock} as predicted: {error.args}")
            return
        rebuilt = self._table_id(table) != before
        if rebuilt != bool(way.rewrite):
            self.problems.append(
                f"{where}: ALGORITHM={way.algorithm} predicted "
                f"rewrite={way.rewrite}, the copy was "
                f"{'rebuilt' if rebuilt else 'kept'}")
        self._run(f"DROP TABLE `{table}`")

    def check_step(self, step):
        """Every declared ALTER of the step was seen."""
        for op, _ in step.operations:
            if op.kind in ("create_table", "drop_table", "update"):
                continue
            if (op.kind, op.table) not in self.seen:
                self.problems.append(
                    f"{step.direction} {step.revision}: declared "
                    f"{op.kind} on {op.table}, no such ALTER ran")
        self.seen = []


# --- the walk ----------------------------------------------------------------

class Walk:
    """Steps one revision at a time, each checked against its forecast."""

    def __init__(self, url, engine, trials=None, prepare=None):
        self.url = url
        self.config = make_config(url)
        self.engine = engine
        self.trials = trials
        self.prepare = prepare      # called on the engine before each step
        self.script = scripts()
        self.problems = trials.problems if trials else []
        self.ledger = Ledger()
        self.checked = 0

    def forecast(self, direction, revision):
        recorded = tuple(dbutil.version_rows(self.engine))
        if direction == "upgrade":
            steps = list(self.script._upgrade_revs(revision, recorded))
        else:
            steps = list(self.script._downgrade_revs(
                below(revision) or "base", recorded))
        assert [step.revision.revision for step in steps] == [revision]
        with self.engine.connect() as connection:
            found = forecast.forecast(connection, steps, measure=True)
            connection.rollback()
        assert len(found.steps) == 1
        return found.steps[0]

    def step(self, direction, revision):
        if self.prepare is not None:
            self.prepare(self.engine)
        step = self.forecast(direction, revision)
        where = f"{direction} {revision}"
        ids, tables = identities(self.engine), schema(self.engine)
        if self.trials is not None:
            self.trials.step = step
        try:
            if direction == "upgrade":
                commands.upgrade(self.config, revision)
            else:
                commands.downgrade(self.config, below(revision) or "base",
                                   force=True)
        finally:
            if self.trials is not None:
                self.trials.step = None
        if self.trials is not None:
            self.trials.check_step(step)
        ids_after, tables_after = identities(self.engine), \
            schema(self.engine)
        changed = {name for name in tables.keys() | tables_after.keys()
                   if tables.get(name) != tables_after.get(name)}
        # Alembic's own: the version table the first step creates.
        if dbutil.VERSION_TABLE not in tables:
            changed.discard(dbutil.VERSION_TABLE)
        if set(step.tables) != changed:
            self.problems.append(
                f"{where}: the forecast touches {sorted(step.tables)}, the "
                f"step changed {sorted(changed)}")
        for name in sorted(ids.keys() & ids_after.keys()):
            effect = step.tables.get(name)
            predicted = effect.way.rewrite if effect else False
            observed = ids[name] != ids_after[name]
            if predicted is not observed:
                self.problems.append(
                    f"{where}: {name} predicted rewrite={predicted} "
                    f"({effect.way.algorithm if effect else 'untouched'}), "
                    f"its identity {ids[name]} -> {ids_after[name]}")
            self.checked += 1
        return step

    def up(self, revisions=REVISIONS):
        for number, revision in enumerate(revisions):
            self.step("upgrade", revision)
            self.ledger.upgraded(revision)
            self.ledger.insert(self.engine, number)

    def down(self, revisions=REVISIONS):
        for revision in reversed(revisions):
            self.step("downgrade", revision)
            self.ledger.downgraded(revision)

    def assert_right(self):
        assert not self.problems, "\n".join(self.problems)


def _engine(url):
    connect_args = {}
    if url.startswith("mysql"):
        connect_args["init_command"] = "SET SESSION sql_mode = 'TRADITIONAL'"
    return sa.create_engine(url, connect_args=connect_args)


def _walk(backend, url, prepare=None):
    engine = _engine(url)
    trials = None
    if backend == "mysql":
        trials = Trials(sa.engine.make_url(url).database, [])
    try:
        walk = Walk(url, engine, trials, prepare)
        walk.up()
        walk.down()
    finally:
        if trials is not None:
            trials.close()
        engine.dispose()
    return walk


def test_every_step_up_and_down_does_what_its_forecast_says(backend,
                                                            db_url):
    walk = _walk(backend, db_url)
    walk.assert_right()
    # Every step was looked at, every table before and after it.
    assert walk.checked > 10 * len(REVISIONS)
    if backend == "mysql":
        assert walk.trials.tried >= 40


@pytest.mark.parametrize("form", legacy.FORMS)
def test_498adc6185ae_completing_a_2014_form(backend, db_url, form):
    """498adc6185ae over each 2014 form, stamped icehouse: it does only
    what is missing, and gives alembic_version its primary key."""
    legacy.build(db_url, form)
    commands.stamp(make_config(db_url), "icehouse")
    engine = _engine(db_url)
    trials = None
    if backend == "mysql":
        trials = Trials(sa.engine.make_url(db_url).database, [])
    try:
        walk = Walk(db_url, engine, trials)
        step = walk.step("upgrade", "498adc6185ae")
    finally:
        if trials is not None:
            trials.close()
        engine.dispose()
    walk.assert_right()
    assert "alembic_version" in step.tables


# --- MariaDB: the table's definition decides ---------------------------------

# (character set, row format) of image, and the way the forecast must
# name for VARCHAR(36) -> VARCHAR(100) there: 36 latin1 characters and
# 100 stay within one length byte (up to 255 bytes), 100 utf8mb4 ones
# (400 bytes) need two; a REDUNDANT row has two-byte lengths throughout.
TABLE_FORMS = {
    "latin1": ("latin1", "DYNAMIC", "INSTANT"),
    "utf8mb4": ("utf8mb4", "DYNAMIC", "COPY"),
    "redundant": ("utf8mb4", "REDUNDANT", "INSTANT"),
    "compressed": ("utf8mb4", "COMPRESSED", "COPY"),
}


@pytest.mark.parametrize("form", sorted(TABLE_FORMS))
def test_widening_base_image_id_by_the_table_definition(tmp_path, form):
    charset, row_format, expected = TABLE_FORMS[form]
    with provision("mysql", tmp_path) as url:
        commands.upgrade(make_config(url), "40df542e345")
        engine = _engine(url)
        try:
            execute(engine, f"ALTER TABLE image CONVERT TO CHARACTER SET "
                            f"{charset}, ROW_FORMAT={row_format}")
            with engine.connect() as connection:
                created = connection.exec_driver_sql(
                    "SHOW CREATE TABLE image").one()[1]
            assert f"CHARSET={charset}" in created
            assert row_format == "DYNAMIC" or \
                f"ROW_FORMAT={row_format}" in created
            for number in range(3):
                execute(engine, f"INSERT INTO image (uuid, base_image_id) "
                                f"VALUES ('{uuid.uuid4()}', "
                                f"'base-{number}')")
            trials = Trials(sa.engine.make_url(url).database, [])
            try:
                walk = Walk(url, engine, trials)
                walk.ledger.revision = "40df542e345"
                step = walk.step("upgrade", "43df309dbf3f")
                walk.step("downgrade", "43df309dbf3f")
            finally:
                trials.close()
            walk.assert_right()
            assert trials.tried == 2
            assert step.tables["image"].way.algorithm == expected
        finally:
            engine.dispose()


def _all_tables(row_format):
    def prepare(engine):
        with engine.connect() as connection:
            tables = connection.exec_driver_sql(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE "
                "TABLE_SCHEMA = DATABASE() AND ROW_FORMAT <> %s",
                (row_format.capitalize(),)).scalars().all()
        for table in tables:
            # REDUNDANT keeps 768 bytes of each TEXT in the row: app's
            # TEXT columns then outgrow a row at a271b35952be (1118,
            # "Row size too large"), a limit of the format, not a way.
            if table != dbutil.LOCK_TABLE and not (
                    row_format == "REDUNDANT" and table == "app"):
                execute(engine, f"ALTER TABLE `{table}` "
                                f"ROW_FORMAT={row_format}")
    return prepare


@pytest.mark.slow
@pytest.mark.parametrize("form", ["latin1", "redundant", "compressed"])
def test_every_step_on_each_table_definition(tmp_path, form):
    """The whole walk, every statement tried, on a latin1 database, and
    with every table REDUNDANT or COMPRESSED before each step."""
    charset = "latin1" if form == "latin1" else "utf8mb4"
    prepare = None if form == "latin1" else _all_tables(form.upper())
    with provision("mysql", tmp_path, mysql_charset=charset) as url:
        walk = _walk("mysql", url, prepare)
    walk.assert_right()
    assert walk.trials.tried >= 40


# --- Galera: what stalls every node ------------------------------------------

@pytest.mark.galera
def test_galera_node_forecast_names_the_statements_that_stall(galera_db):
    """On a node in TOI mode the rebuild (43df309dbf3f's COPY) and the
    unique index build (e5f2e8af3b8) stall writes on every node; an
    INSTANT added column does not."""
    node1 = galera_db[0]
    commands.upgrade(make_config(node1), "40df542e345")
    engine = galera_engine(node1)
    try:
        with engine.connect() as connection:
            recorded = tuple(dbutil.version_rows(engine))
            steps = list(scripts()._upgrade_revs("head", recorded))
            found = forecast.forecast(connection, steps, measure=True)
            connection.rollback()
    finally:
        engine.dispose()
    assert found.server.galera is True
    by_revision = {step.revision: step for step in found.steps}
    assert by_revision["43df309dbf3f"].tables["image"].way.stalls_cluster
    assert by_revision["e5f2e8af3b8"].tables["workflow"].way.stalls_cluster
    added = by_revision["112cfe038dd3"].tables["app"].way
    assert (added.algorithm, added.stalls_cluster) == ("INSTANT", False)


# --- PostgreSQL: the lock a step waits for -----------------------------------

# pg_locks' names of the locks the rules name.
PG_MODES = {"ACCESS EXCLUSIVE": "AccessExclusiveLock",
            "SHARE ROW EXCLUSIVE": "ShareRowExclusiveLock",
            "SHARE": "ShareLock",
            "SHARE UPDATE EXCLUSIVE": "ShareUpdateExclusiveLock"}


@pytest.mark.parametrize("revision, table", [
    ("3a615b3b2eae", "image"),      # ADD COLUMN: catalog only
    ("43df309dbf3f", "image"),      # a wider VARCHAR: catalog only
    ("e5f2e8af3b8", "workflow"),    # a unique constraint: index build
])
def test_postgresql_step_waits_for_the_lock_it_predicts(
        tmp_path, empty_config, revision, table):
    """The step, run while another session reads the table in an open
    transaction, waits for exactly the lock the forecast names."""
    with provision("postgresql", tmp_path) as url:
        commands.upgrade(make_config(url), below(revision))
        engine = _engine(url)
        try:
            way = Walk(url, engine).forecast("upgrade", revision).tables[
                table].way
            blocker = Blocker(url, table)
            try:
                run = Run(tmp_path, url, empty_config, "upgrade", revision,
                          "--ddl-lock-timeout", "120")
                # Autocommit: pg_stat_activity is read once a transaction.
                watcher = admin_engine(url)
                wait_until_blocked(watcher, run, timeout=30)
                with watcher.connect() as connection:
                    waiting = connection.execute(sa.text(
                        "SELECT l.mode FROM pg_locks l JOIN pg_class c ON "
                        "c.oid = l.relation WHERE NOT l.granted AND "
                        "c.relname = :table"), {"table": table}).scalars()
                    waiting = waiting.all()
                watcher.dispose()
            finally:
                blocker.release()
            code, _, err = run.finish()
        finally:
            engine.dispose()
    assert code == 0, err
    assert waiting == [PG_MODES.get(way.lock, way.lock)]
