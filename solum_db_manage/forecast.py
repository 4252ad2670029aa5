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

"""What an upgrade or downgrade will do to this database: ``--plan``.

For each step the run would take: its operations (operations.py), each
table it touches with its rows and the way this server carries the
change out (server_rules.py), the values it loses (dataloss.py, counted
by the caller) and the failures the data will cause: rows that violate a
constraint the step adds. Only reads, on the caller's connection.

``upgrade`` and ``downgrade`` make the same forecast under the lock
(``measure=False``: no row counts or sizes, only the failures) and
refuse, changing nothing, where it predicts one.
"""

import dataclasses
import functools
import logging
import os
import shutil

import sqlalchemy as sa

from solum_db_manage import dataloss, operations, releases, server_rules

LOG = logging.getLogger("solum_db_manage")

# The version of the layout of ``--plan --json``; raised as check's is.
JSON_FORMAT = 1

# Tables the server estimates at more rows than this are not counted
# exactly (the plan marks the figure as an estimate).
EXACT_BELOW = 200_000
# The first offending keys a failure names.
KEYS_SHOWN = 5


@dataclasses.dataclass
class Failure:
    """Rows that make a step fail, found before it runs."""

    revision: str
    direction: str
    kind: str           # "duplicate", "null", "orphan", "too_long"
    table: str
    what: str           # the constraint, in words
    count: int          # rows that violate it
    keys: list          # the first offending keys
    fix: str

    def __str__(self):
        keys = "; ".join(", ".join(f"{k}={v!r}" for k, v in key.items())
                         for key in self.keys)
        violate = ("1 row violates it" if self.count == 1
                   else f"{self.count} rows violate it")
        return (f"{self.direction} {self.revision} will fail: {self.what}: "
                f"{violate} (first: {keys}). {self.fix}")

    def as_dict(self):
        return {"kind": self.kind, "table": self.table, "what": self.what,
                "count": self.count, "keys": self.keys, "fix": self.fix}


@dataclasses.dataclass
class TableEffect:
    name: str
    rows: int | None
    rows_exact: bool
    way: server_rules.Way
    bytes: int | None = None
    created: bool = False

    def as_dict(self):
        found = {"name": self.name, "rows": self.rows,
                 "rows_estimated": not self.rows_exact
                 if self.rows is not None else None,
                 "bytes": self.bytes}
        found.update(self.way.as_dict())
        return found


@dataclasses.dataclass
class Step:
    revision: str
    direction: str
    title: str = ""
    operations: list = dataclasses.field(default_factory=list)  # (op, way)
    tables: dict = dataclasses.field(default_factory=dict)
    losses: list = dataclasses.field(default_factory=list)
    failures: list = dataclasses.field(default_factory=list)

    @property
    def release(self):
        return releases.describe(self.revision) if self.revision else ""


@dataclasses.dataclass
class Forecast:
    server: server_rules.Server
    steps: list = dataclasses.field(default_factory=list)
    unmeasured: list = dataclasses.field(default_factory=list)
    free_bytes: int | None = None
    # Flags the run needs for the losses (downgrade: --force).
    flag: str | None = None

    @property
    def failures(self):
        return [failure for step in self.steps for failure in step.failures]

    def rewritten(self):
        """{table: rows} of the tables some step rewrites."""
        tables = {}
        for step in self.steps:
            for effect in step.tables.values():
                if effect.way.rewrite and not effect.created:
                    tables[effect.name] = max(tables.get(effect.name, 0),
                                              effect.rows or 0)
        return tables

    def needed_bytes(self):
        sizes = [effect.bytes for step in self.steps
                 for effect in step.tables.values()
                 if effect.way.rewrite and not effect.created]
        if any(size is None for size in sizes):
            return None
        return max(sizes, default=0)

    def summary(self):
        rewritten = self.rewritten()
        return {"tables_rewritten": len(rewritten),
                "rows_rewritten": sum(rewritten.values()),
                "values_lost": sum(loss.rows for step in self.steps
                                   for loss in step.losses),
                "failures": len(self.failures)}


# --- reading the server and the live schema -------------------------------

def read_server(connection, details=True):
    """The server; ``details``: also what the rules ask of its tables."""
    dialect = connection.dialect
    server = server_rules.Server(
        dialect.name, tuple(dialect.server_version_info or ()),
        mariadb=bool(getattr(dialect, "is_mariadb", False)))
    if not details:
        return server
    if server.dialect == "mysql":
        _read_mysql(connection, server)
    elif server.dialect == "sqlite":
        _read_sqlite(connection, server)
    return server


def _read_mysql(connection, server):
    variables = dict(connection.exec_driver_sql(
        "SHOW VARIABLES WHERE Variable_name IN "
        "('wsrep_on', 'wsrep_OSU_method')").all())
    server.galera = (variables.get("wsrep_on", "OFF").upper() == "ON"
                     and variables.get("wsrep_OSU_method", "TOI") == "TOI")
    for table, row_format, per_char in connection.exec_driver_sql(
            "SELECT t.TABLE_NAME, t.ROW_FORMAT, c.MAXLEN FROM "
            "information_schema.TABLES t LEFT JOIN "
            "information_schema.COLLATION_CHARACTER_SET_APPLICABILITY a "
            "ON a.COLLATION_NAME = t.TABLE_COLLATION LEFT JOIN "
            "information_schema.CHARACTER_SETS c "
            "ON c.CHARACTER_SET_NAME = a.CHARACTER_SET_NAME "
            "WHERE t.TABLE_SCHEMA = DATABASE()"):
        server.row_formats[table] = row_format
        server.table_bytes[table] = int(per_char or 4)
    for table, column, chars, octets in connection.exec_driver_sql(
            "SELECT TABLE_NAME, COLUMN_NAME, CHARACTER_MAXIMUM_LENGTH, "
            "CHARACTER_OCTET_LENGTH FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = DATABASE() AND DATA_TYPE = 'varchar'"):
        if chars:
            server.column_bytes[(table, column)] = int(octets) // int(chars)


def _read_sqlite(connection, server):
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    from solum_db_manage.alembic_migrations import helpers

    # The scripts' own decision (helpers.py), asked on this connection;
    # without Alembic's "Context impl" lines, which belong to a run.
    quiet = logging.getLogger("alembic.runtime.migration")
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        context = MigrationContext.configure(connection)
    finally:
        quiet.setLevel(level)

    def drop_in_place(table, column):
        with Operations.context(context):
            return helpers.sqlite_can_drop_column(table, column)

    server.sqlite_drop_in_place = drop_in_place
    with Operations.context(context):
        server.sqlite_rename_in_place = helpers.sqlite_can_rename_columns()


def _kind(type_):
    if isinstance(type_, sa.Text):
        return "text", type_.length
    if isinstance(type_, sa.String):
        return "varchar", type_.length
    return "other", None


def live_schema(connection):
    """The live schema as operations.SimSchema, without row counts: one
    reflection query per kind of object (SQLAlchemy's get_multi_*)."""
    inspector = sa.inspect(connection)
    columns = inspector.get_multi_columns()
    uniques = inspector.get_multi_unique_constraints()
    indexes = inspector.get_multi_indexes()
    keys = inspector.get_multi_pk_constraint()
    tables = []
    for key, reflected in columns.items():
        found = operations.Table(key[1])
        for column in reflected:
            kind, length = _kind(column["type"])
            found.columns.append(operations.Column(
                column["name"], kind, length, column["nullable"]))
        found.uniques = {uc["name"] for uc in uniques.get(key, ())}
        found.uniques |= {ix["name"] for ix in indexes.get(key, ())
                          if ix.get("unique")}
        if (keys.get(key) or {}).get("constrained_columns"):
            found.uniques.add("primary key")
        tables.append(found)
    return operations.SimSchema(tables)


def unmeasured(what, error):
    """The "Not measured" line of a read the server refused."""
    return (f"{what}: {type(error.orig).__name__}: "
            f"{str(error.orig).splitlines()[0][:120]}")


class _Measure:
    """Row counts and sizes of the live tables, each read once; what
    cannot be read (a read-only account's missing grant) is noted."""

    def __init__(self, connection, forecast):
        self.connection = connection
        self.forecast = forecast
        self.dialect = connection.dialect.name
        self._estimates = None
        self._rows = {}
        self._bytes = None

    def safely(self, what, read, default=None):
        try:
            return read()
        except sa.exc.DBAPIError as error:
            self.connection.rollback()
            self.forecast.unmeasured.append(unmeasured(what, error))
            return default

    def estimates(self):
        if self._estimates is None:
            sql = {
                "mysql": "SELECT TABLE_NAME, TABLE_ROWS, DATA_LENGTH + "
                         "INDEX_LENGTH FROM information_schema.TABLES "
                         "WHERE TABLE_SCHEMA = DATABASE()",
                "postgresql":
                    "SELECT c.relname, c.reltuples::bigint, "
                    "pg_total_relation_size(c.oid) FROM pg_class c "
                    "WHERE c.relkind = 'r' AND "
                    "c.relnamespace = current_schema()::regnamespace",
            }.get(self.dialect)
            self._estimates = {}
            if sql:
                rows = self.safely("the server's table statistics",
                                    lambda: self.connection.exec_driver_sql(
                                        sql).all(), [])
                self._estimates = {name: (rows, size)
                                   for name, rows, size in rows}
        return self._estimates

    def rows(self, table):
        """(rows, exact): the server's estimate where it is large."""
        if table not in self._rows:
            estimate = (self.estimates().get(table) or (None, None))[0]
            if estimate is not None and estimate >= EXACT_BELOW:
                self._rows[table] = (int(estimate), False)
            else:
                quoted = self.connection.dialect.identifier_preparer.quote(
                    table)
                count = self.safely(
                    f"the rows of {table}", lambda: self.connection.scalar(
                        sa.text(f"SELECT COUNT(*) FROM {quoted}")))
                self._rows[table] = (count, count is not None)
        return self._rows[table]

    def size(self, table):
        if self.dialect == "sqlite":
            return self._sqlite_size(table)
        return (self.estimates().get(table) or (None, None))[1]

    def _sqlite_size(self, table):
        def read():
            return self.connection.exec_driver_sql(
                "SELECT SUM(pgsize) FROM dbstat WHERE name = ?",
                (table,)).scalar()
        try:
            return read()
        except sa.exc.DBAPIError:
            # No dbstat in this SQLite: the whole file bounds it.
            self.connection.rollback()
            path = self.connection.engine.url.database
            return os.path.getsize(path) if path and os.path.exists(
                path) else None

    def free(self):
        """Free bytes where the tables live, where that can be told: the
        SQLite file's file system; MariaDB's DISKS plugin; else, for a
        server on this machine (a loopback address or a socket), the file
        system of the data directory it reports."""
        url = self.connection.engine.url
        if self.dialect == "sqlite":
            if url.database and url.database != ":memory:":
                try:
                    return shutil.disk_usage(os.path.dirname(
                        os.path.abspath(url.database))).free
                except OSError:
                    # A URI filename (file:...?mode=ro): not a path.
                    return None
            return None
        if self.dialect == "mysql":
            try:
                # information_schema.DISKS, where the plugin is loaded.
                free = self.connection.exec_driver_sql(
                    "SELECT MIN(Available) * 1024 FROM "
                    "information_schema.DISKS").scalar()
                if free is not None:
                    return int(free)
            except sa.exc.DBAPIError:
                self.connection.rollback()
        if url.host not in (None, "", "localhost", "127.0.0.1", "::1"):
            return None
        sql = {"mysql": "SELECT @@datadir",
               "postgresql": "SELECT current_setting('data_directory')"}
        try:
            directory = self.connection.exec_driver_sql(
                sql[self.dialect]).scalar()
        except (sa.exc.DBAPIError, KeyError):
            # PostgreSQL shows it to superusers and pg_read_all_settings.
            self.connection.rollback()
            return None
        try:
            return shutil.disk_usage(directory).free
        except OSError:
            return None


# --- the failures the data will cause ---------------------------------------
#
# The classes, and where each can happen in this chain to a database that
# ``check`` passes to a run (below head, check compares the tables and
# their column names, not types, nullability or constraints, so a column
# an operator widened or made nullable passes):
#
# - duplicate: e5f2e8af3b8's unique app_id_wf_id over workflow rows that
#   share (app_id, wf_id): every backend (rows with a NULL in either
#   column never collide).
# - null: MySQL's CHANGE restates the column it renames, and 176c26131889
#   restates userlogs.assembly_uuid (up) and resource_uuid (down) NOT
#   NULL: MySQL/MariaDB only, where the live column was made nullable and
#   holds NULLs. PostgreSQL's RENAME COLUMN and SQLite's (in place, or the
#   batch rebuild, which keeps the reflected nullability) do not touch it.
# - too_long: a rename that gives the column a shorter VARCHAR and cuts
#   nothing first: 1f57763d7871's upgrade makes image.state VARCHAR(36)
#   status (PostgreSQL and MySQL/MariaDB, where state was widened and
#   holds longer values), and MySQL's CHANGE in 176c26131889 restates
#   VARCHAR(36). SQLite does not enforce a VARCHAR's length. Every other
#   narrowing is cut to fit by the run itself: the downgrades'
#   (dataloss.Narrow: a loss, allowed by --force, not a failure), and the
#   upgrades' type changes only widen (their conditions skip a column
#   already as long).
# - orphan: cannot happen in this chain. No step adds a foreign key to a
#   table that exists before it: the keys come with CREATE TABLE of new,
#   empty tables (pipeline, execution, parameter; Icehouse's own), and
#   the rebuilds (MySQL's COPY, SQLite's batch copy, PostgreSQL's rewrite)
#   do not check the keys a table already has; the tool never turns on
#   SQLite's foreign_keys. Assemblies and components whose plan or
#   assembly is gone upgrade and downgrade on every backend
#   (tests/test_forecast_failures.py seeds them).
# - 498adc6185ae's primary key on a 2014 alembic_version: a table holding
#   the same revision twice is refused by check first ("several
#   revisions"), so it cannot fail there.
#
# Not predicted: the trigger move of 5583c6e70156 (either way) copies
# values into VARCHARs as long as the chain's own columns; it would fail
# only where an operator widened the source column (assembly.trigger_id,
# plan.trigger_id, ...) and a moved value outgrew the chain's length.


def _key_columns(connection, table):
    """The primary key columns of ``table`` (id where it has none)."""
    key = sa.inspect(connection).get_pk_constraint(table)
    return key.get("constrained_columns") or ["id"]


def _first_keys(connection, table, where):
    """The primary keys (dicts) of the first rows ``where`` selects."""
    quote = connection.dialect.identifier_preparer.quote
    columns = _key_columns(connection, table)
    listed = ", ".join(quote(column) for column in columns)
    return [dict(zip(columns, row, strict=True)) for row in
            connection.exec_driver_sql(
                f"SELECT {listed} FROM {quote(table)} WHERE {where} "
                f"ORDER BY {listed} LIMIT {KEYS_SHOWN}")]


def _duplicates(connection, revision, direction, op):
    """Rows sharing the key of a unique constraint the step adds; the
    keys named are the shared values (app_id, wf_id), each once."""
    quote = connection.dialect.identifier_preparer.quote
    table = quote(op.table)
    columns = ", ".join(quote(column) for column in op.columns)
    present = " AND ".join(f"{quote(column)} IS NOT NULL"
                           for column in op.columns)
    groups = (f"SELECT {columns}, COUNT(*) AS n FROM {table} WHERE "
              f"{present} GROUP BY {columns} HAVING COUNT(*) > 1")
    count = connection.exec_driver_sql(
        f"SELECT COUNT(*), SUM(d.n) FROM ({groups}) d").one()
    if not count[0]:
        return None
    keys = [dict(zip(op.columns, row[:-1], strict=True)) for row in
            connection.exec_driver_sql(
                f"{groups} ORDER BY {columns} LIMIT {KEYS_SHOWN}")]
    held = ("1 key is held" if count[0] == 1
            else f"{count[0]} keys are held")
    return Failure(
        revision, direction, "duplicate", op.table,
        f"unique constraint {op.name} on {op.table} "
        f"({', '.join(op.columns)})", int(count[1]), keys,
        f"{held} by more than one row of {op.table}: delete or change all "
        f"but one row of each before the {direction}.")


def _nulls(connection, revision, direction, op, column):
    """Rows whose ``column`` is NULL, where the step makes it NOT NULL."""
    where = f"{connection.dialect.identifier_preparer.quote(column)} IS NULL"
    count = connection.scalar(sa.text(
        f"SELECT COUNT(*) FROM "
        f"{connection.dialect.identifier_preparer.quote(op.table)} "
        f"WHERE {where}"))
    if not count:
        return None
    rows = "that row" if count == 1 else "those rows"
    article = "an" if column[:1] in "aeiou" else "a"
    return Failure(
        revision, direction, "null", op.table,
        f"{op.table}.{column} becomes NOT NULL", count,
        _first_keys(connection, op.table, where),
        f"Give {rows} {article} {column} before the {direction}.")


def _too_long(connection, revision, direction, op, column, length):
    """Rows whose ``column`` holds more than ``length`` characters, where
    the step makes it VARCHAR(length) without cutting them."""
    quote = connection.dialect.identifier_preparer.quote
    measure = "LENGTH" if connection.dialect.name == "sqlite" \
        else "CHAR_LENGTH"
    where = f"{measure}({quote(column)}) > {int(length)}"
    count = connection.scalar(sa.text(
        f"SELECT COUNT(*) FROM {quote(op.table)} WHERE {where}"))
    if not count:
        return None
    values = "that value" if count == 1 else "those values"
    return Failure(
        revision, direction, "too_long", op.table,
        f"{op.table}.{column} becomes VARCHAR({length})", count,
        _first_keys(connection, op.table, where),
        f"Shorten {values} to at most {length} characters before the "
        f"{direction}.")


def _narrows(column, type_):
    """True if ``type_`` is a VARCHAR shorter than the live ``column``."""
    if type_ is None or type_.kind != "varchar" or not type_.length:
        return False
    return column.kind == "text" or (
        column.kind == "varchar" and (column.length or 0) > type_.length)


def _cut_first(revision, direction, table, column):
    """True if the step cuts the column's long values itself, first (a
    declared loss: dataloss.Narrow)."""
    return any(isinstance(loss, dataloss.Narrow) and loss.table == table
               and loss.column == column
               for loss in dataloss.declared(revision, direction))


def _rename_failures(connection, revision, direction, op, column, server):
    found = []
    mysql = server.dialect == "mysql"
    if mysql and not op.nullable and column.nullable:
        # MySQL's CHANGE restates the column NOT NULL.
        found.append(_nulls(connection, revision, direction, op, op.column))
    becomes = op.to_type or (op.restates if mysql else None)
    if server.dialect != "sqlite" and _narrows(column, becomes) and \
            not _cut_first(revision, direction, op.table, op.column):
        found.append(_too_long(connection, revision, direction, op,
                               op.column, becomes.length))
    return found


def failures_of(connection, revision, direction, op, schema, server):
    """The failures ``op`` will meet on the live data (schema: before
    it). Only tables that hold rows now can make it fail."""
    table = schema.table(op.table)
    if table is None or table.created:
        return []
    found = []
    if op.kind == "add_unique":
        found.append(_duplicates(connection, revision, direction, op))
    elif op.kind == "rename_column":
        column = table.column(op.column)
        if column is not None:
            found += _rename_failures(connection, revision, direction, op,
                                      column, server)
    return [failure for failure in found if failure is not None]


# --- the forecast -----------------------------------------------------------

def forecast(connection, steps, losses=(), measure=True, normalise=()):
    """The :class:`Forecast` of ``steps`` (Alembic's migration steps, in
    order) on this connection's database; ``losses``: dataloss.Loss of
    the same steps. ``measure``: count rows and sizes (``--plan``);
    without, only what the run needs (the failures). ``normalise``: the
    forms.Difference an upgrade turns into this tool's form first, as a
    step of its own (revision None)."""
    server = read_server(connection, details=measure)
    found = Forecast(server)
    schema = live_schema(connection)
    meter = _Measure(connection, found) if measure else None
    if normalise:
        step = Step(None, operations.UPGRADE,
                    "Make the original Solum's forms this tool's (forms.py)")
        for op in operations.normalising(normalise):
            if op.applies(schema):
                way = server_rules.way(server, op, schema)
                step.operations.append((op, way))
                _touch(step, op, way, schema, meter)
                op.apply(schema)
        found.steps.append(step)
    for migration_step in steps:
        revision = migration_step.revision.revision
        direction = (operations.UPGRADE if migration_step.is_upgrade
                     else operations.DOWNGRADE)
        step = Step(revision, direction,
                    (migration_step.revision.doc or "").strip())
        step.losses = [loss for loss in losses if loss.revision == revision
                       and loss.direction == direction]
        for op in operations.declared(revision, direction):
            if not op.applies(schema):
                continue
            way = server_rules.way(server, op, schema)
            step.operations.append((op, way))
            if meter is None:
                step.failures += failures_of(connection, revision,
                                             direction, op, schema, server)
            else:
                step.failures += meter.safely(
                    f"the failures of {revision} on {op.table}",
                    functools.partial(failures_of, connection, revision,
                                      direction, op, schema, server), [])
            _touch(step, op, way, schema, meter)
            op.apply(schema)
        found.steps.append(step)
    if meter is not None:
        found.free_bytes = meter.free()
    return found


_ORDER = {None: 0, "catalog": 1, "in place": 1, "INSTANT": 1, "NOCOPY": 2,
          "index build": 2, "INPLACE": 3, "rewrite": 4, "rebuild": 4,
          "COPY": 4, server_rules.UNKNOWN: 5}


def _touch(step, op, way, schema, meter):
    """Fold ``way`` into the step's entry for the op's table."""
    table = schema.table(op.table)
    created = op.kind == "create_table" or bool(table and table.created)
    effect = step.tables.get(op.table)
    if effect is None:
        rows, exact = (0, True) if created else (
            meter.rows(op.table) if meter else (None, True))
        size = None if created or meter is None or not way.rewrite else \
            meter.size(op.table)
        effect = step.tables[op.table] = TableEffect(
            op.table, rows, exact, dataclasses.replace(way), size, created)
        return
    current = effect.way
    if _ORDER.get(way.algorithm, 0) > _ORDER.get(current.algorithm, 0):
        current.algorithm, current.lock = way.algorithm, way.lock
    current.rewrite = bool(current.rewrite or way.rewrite)
    current.scan = current.scan or way.scan
    current.stalls_cluster = current.stalls_cluster or way.stalls_cluster
    if way.rewrite and effect.bytes is None and meter and not created:
        effect.bytes = meter.size(op.table)
