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

"""SQLite's own ALTER TABLE where it can, a rebuild where it cannot.

Renaming and dropping a column run as ``ALTER TABLE ... RENAME COLUMN`` /
``DROP COLUMN`` on a SQLite library that has them, where the column
allows it; anything else rebuilds the table (Alembic's batch mode), as
every change did before. Both ways must give the same schema, as SQLite's
PRAGMAs and SQLAlchemy's inspector see it, and the same rows, at every
revision up and down. The rebuild is forced by making the version check
answer an old library's version: the database itself is real.

Which tables a step rebuilt is read from the statements it ran: Alembic's
batch mode copies a table into ``_alembic_tmp_<table>``.
"""

import contextlib
import copy
import re
import shutil
import sqlite3

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import event

from solum_db_manage import commands
from solum_db_manage.alembic_migrations import helpers
from solum_db_manage.config import make_config
from tests import dbutil, rows_spec, schema_spec
from tests.helpers import (
    revisions_of,
    run_cli,
    run_killed,
)

REVISIONS = schema_spec.REVISIONS
# Before RENAME COLUMN (3.25.0): every change is a rebuild.
OLD_SQLITE = (3, 24, 0)

# The steps that still rebuild a table, and why: a type, a constraint or a
# column's position changes, which SQLite's ALTER TABLE cannot do, or more
# than one column goes (one DROP COLUMN rewrites the rows once a column;
# a rebuild copies them once).
STILL_REBUILT = {
    # Widen image.source_format, plan.raw_content to TEXT; assembly.trust_id
    # and component.component_type go in the middle of their tables.
    ("up", "498adc6185ae"): {"assembly", "component", "image", "plan"},
    ("up", "1f57763d7871"): {"image"},  # rename and widen state
    ("up", "5583c6e70156"): {"assembly"},  # drop trigger_id, trust_id
    ("up", "43df309dbf3f"): {"image"},  # widen base_image_id
    ("up", "e5f2e8af3b8"): {"workflow"},  # add a unique constraint
    ("down", "e5f2e8af3b8"): {"workflow"},  # drop it
    ("down", "112cfe038dd3"): {"app"},  # drop app_url, status
    ("down", "43df309dbf3f"): {"image"},
    ("down", "1f57763d7871"): {"image"},
    # trigger_id and trust_id go back between status and application_uri;
    # plan loses trigger_id, trust_id and username.
    ("down", "5583c6e70156"): {"assembly", "plan"},
    # Narrow image.source_format; plan.raw_content back to VARCHAR(2048);
    # drop component_type and heat_stack_id.
    ("down", "498adc6185ae"): {"component", "image", "plan"},
}


def _old_sqlite(monkeypatch, version=OLD_SQLITE):
    monkeypatch.setattr(helpers, "sqlite_version", lambda: version)


# --- what SQLite says of a database ------------------------------------------


def pragma_schema(engine):
    """Per table: PRAGMA table_xinfo, index_list/index_xinfo and
    foreign_key_list, as comparable data (foreign keys without their id,
    which only numbers them)."""
    schema = {}
    with engine.connect() as connection:
        def pragma(name, argument):
            return [tuple(row) for row in connection.exec_driver_sql(
                f'PRAGMA {name}("{argument}")')]

        tables = [row[0] for row in connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        for table in tables:
            if table == dbutil.LOCK_TABLE:
                continue
            schema[table] = {
                "columns": pragma("table_xinfo", table),
                "indexes": {
                    name: (unique, origin, partial,
                           pragma("index_xinfo", name))
                    for _, name, unique, origin, partial
                    in pragma("index_list", table)},
                "foreign_keys": sorted(
                    row[1:] for row in pragma("foreign_key_list", table)),
            }
    return schema


_REBUILD = re.compile(r'\s*CREATE TABLE "?_alembic_tmp_(\w+)', re.IGNORECASE)
_IN_PLACE = re.compile(r'\s*ALTER TABLE "?(\w+)"? (DROP|RENAME) COLUMN',
                       re.IGNORECASE)


@contextlib.contextmanager
def statements(engine):
    """The statements run meanwhile on the engine's database, by any
    engine (the tool makes its own); a list, filled as they run."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if conn.engine.url.database == engine.url.database:
            seen.append(statement)

    event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(sa.engine.Engine, "before_cursor_execute", record)


def rebuilt(seen):
    """The tables the statements rebuilt."""
    return {match.group(1) for match in map(_REBUILD.match, seen) if match}


def altered_in_place(seen):
    """The tables native ALTER TABLE statements changed."""
    return {match.group(1) for match in map(_IN_PLACE.match, seen) if match}


def integrity(engine):
    with engine.connect() as connection:
        return [row[0] for row in connection.exec_driver_sql(
            "PRAGMA integrity_check")]


def all_rows(engine):
    # Some tables have no integer id (app, alembic_version): any order.
    return {table: sorted(dbutil.rows(engine, table, order_by="1"), key=repr)
            for table in sa.inspect(engine).get_table_names()
            if table != dbutil.LOCK_TABLE}


# --- the walk ----------------------------------------------------------------


class Database:
    """One SQLite database walked through the chain, with its ledger."""

    def __init__(self, path, rebuild_only):
        self.url = f"sqlite:///{path}"
        self.engine = sa.create_engine(self.url)
        self.config = make_config(self.url)
        self.ledger = rows_spec.Ledger()
        self.rebuild_only = rebuild_only
        self.rebuilt = {}  # (direction, revision) -> tables
        self.in_place = {}  # (direction, revision) -> tables

    def step(self, monkeypatch, direction, revision):
        with (monkeypatch.context() as patch,
              statements(self.engine) as seen):
            if self.rebuild_only:
                _old_sqlite(patch)
            if direction == "up":
                commands.upgrade(self.config, revision)
                self.ledger.upgraded(revision)
            else:
                target = schema_spec.below(revision)
                # The rows fill the columns each step drops.
                commands.downgrade(self.config, target or "base",
                                    force=True)
                self.ledger.downgraded(revision)
        self.rebuilt[direction, revision] = rebuilt(seen)
        self.in_place[direction, revision] = altered_in_place(seen)


def _compare(native, batch, step_name):
    problems = []
    for what, read in (("PRAGMA schema", pragma_schema),
                       ("inspector snapshot", dbutil.snapshot),
                       ("rows", all_rows)):
        ours, theirs = read(native.engine), read(batch.engine)
        if ours != theirs:
            for table in sorted(ours.keys() | theirs.keys()):
                if ours.get(table) != theirs.get(table):
                    problems.append(
                        f"{step_name}: {what} of {table}: in place "
                        f"{ours.get(table)!r}, rebuilt {theirs.get(table)!r}")
    for database in (native, batch):
        problems += [f"{step_name}: {problem}"
                     for _, problem in rows_spec.check(
                         database.engine, database.ledger, step_name,
                         "sqlite")]
    if integrity(native.engine) != ["ok"]:
        problems.append(f"{step_name}: integrity_check "
                        f"{integrity(native.engine)}")
    return problems


def test_in_place_alter_gives_the_schema_and_rows_a_rebuild_gives(
        tmp_path, monkeypatch):
    assert sqlite3.sqlite_version_info >= helpers.SQLITE_DROP_COLUMN, (
        "this test needs a SQLite library with DROP COLUMN")
    native = Database(tmp_path / "native.sqlite", rebuild_only=False)
    batch = Database(tmp_path / "batch.sqlite", rebuild_only=True)
    problems = []
    steps = [("up", revision) for revision in REVISIONS]
    steps += [("down", revision) for revision in reversed(REVISIONS)]
    for n, (direction, revision) in enumerate(steps):
        for database in (native, batch):
            database.step(monkeypatch, direction, revision)
        problems += _compare(native, batch, f"{direction} {revision}")
        if direction == "up":
            for database in (native, batch):
                database.ledger.insert(database.engine, n)
            problems += _compare(native, batch, f"rows at {revision}")
    assert not problems, "\n".join(problems[:40])

    # Native ALTER TABLE took the place of rebuilds, table for table; the
    # rebuilds left are those SQLite's ALTER TABLE cannot replace (a table
    # can have both: a column dropped in place, another's type changed).
    assert {step: tables for step, tables in native.rebuilt.items()
            if tables} == STILL_REBUILT
    assert not any(batch.in_place.values())
    for step, tables in batch.rebuilt.items():
        assert native.rebuilt[step] | native.in_place[step] == tables, step
    assert native.in_place[("up", "27dff58cbc65")] == {"plan"}
    assert native.in_place[("up", "176c26131889")] == {"userlogs"}


# --- the version check -------------------------------------------------------


@pytest.mark.parametrize(("version", "rebuilds"), [
    ((3, 40, 1), set()),
    # DROP COLUMN before the release that fixed its corruption bugs.
    ((3, 35, 4), {"plan"}),
    # RENAME COLUMN before the release that fixed it for all tables.
    ((3, 26, 0), {"plan", "userlogs"}),
    (OLD_SQLITE, {"plan", "userlogs"}),
])
def test_older_sqlite_libraries_rebuild_instead(tmp_path, monkeypatch,
                                                version, rebuilds):
    url = f"sqlite:///{tmp_path}/old.sqlite"
    engine = sa.create_engine(url)
    config = make_config(url)
    commands.upgrade(config, schema_spec.below("27dff58cbc65"))
    _old_sqlite(monkeypatch, version)
    # 27dff58cbc65 drops plan.deploy_keys_uri; 176c26131889 renames
    # userlogs.assembly_uuid.
    with statements(engine) as seen:
        commands.upgrade(config, "176c26131889")
    assert rebuilt(seen) == rebuilds
    assert altered_in_place(seen) == {"plan", "userlogs"} - rebuilds
    assert dbutil.snapshot(engine) == schema_spec.expected(
        "176c26131889", "sqlite")


# --- columns SQLite will not drop in place -----------------------------------


SCRATCH = (
    "CREATE TABLE parent (id INTEGER PRIMARY KEY, code VARCHAR(10) UNIQUE, "
    "tag VARCHAR(10), note TEXT, label TEXT)",
    "CREATE INDEX ix_parent_tag ON parent (tag)",
    "CREATE TABLE child (id INTEGER PRIMARY KEY, "
    "parent_id INTEGER REFERENCES parent (id), plain TEXT)",
    "CREATE TABLE linked (id INTEGER PRIMARY KEY, parent_id INTEGER, "
    "FOREIGN KEY (parent_id) REFERENCES parent (id))",
    "CREATE TABLE pointed (id INTEGER PRIMARY KEY, "
    "label TEXT REFERENCES parent (label))",
    "CREATE TABLE flagged (id INTEGER PRIMARY KEY, a TEXT, picked TEXT, "
    "c TEXT)",
    "CREATE INDEX ix_flagged_a ON flagged (a) WHERE picked IS NULL",
    "CREATE TABLE checked (id INTEGER PRIMARY KEY, a INTEGER CHECK (a > 0), "
    "b TEXT)",
    "CREATE TABLE computed (id INTEGER PRIMARY KEY, a INTEGER, "
    "b INTEGER GENERATED ALWAYS AS (a * 2), c TEXT)",
)

# Columns SQLite itself refuses to drop: the primary key, a UNIQUE one, an
# indexed one, one in a FOREIGN KEY clause, one a partial index or a
# generated column names.
REFUSED = [("parent", "id"), ("parent", "code"), ("parent", "tag"),
           ("linked", "parent_id"), ("flagged", "picked"), ("computed", "a")]
# Columns SQLite drops but the check leaves to a rebuild all the same: one
# with a REFERENCES clause, one a foreign key points at, one in a table
# with a partial index, a CHECK or a generated column.
CAUTIOUS = [("child", "parent_id"), ("parent", "label"), ("flagged", "c"),
            ("checked", "b"), ("computed", "c")]
DROPPABLE = [("parent", "note"), ("child", "plain")]


@pytest.fixture
def scratch(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path}/scratch.sqlite")
    with engine.begin() as connection:
        for statement in SCRATCH:
            connection.exec_driver_sql(statement)
    yield engine
    engine.dispose()


def can_drop(engine, table, column):
    with engine.connect() as connection:
        with Operations.context(MigrationContext.configure(connection)):
            return helpers.sqlite_can_drop_column(table, column)


def sqlite_drops(engine, table, column):
    """Whether SQLite itself drops the column (rolled back after)."""
    with engine.connect() as connection:
        # pysqlite opens no transaction before DDL by itself.
        connection.exec_driver_sql("BEGIN")
        try:
            connection.exec_driver_sql(
                f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
        except sa.exc.OperationalError:
            return False
        finally:
            connection.rollback()
        return True


@pytest.mark.parametrize(("table", "column"), REFUSED)
def test_columns_sqlite_refuses_to_drop_are_left_to_the_rebuild(
        scratch, table, column):
    assert not sqlite_drops(scratch, table, column)
    assert not can_drop(scratch, table, column)


@pytest.mark.parametrize(("table", "column"), CAUTIOUS + DROPPABLE)
def test_only_plain_columns_of_plain_tables_drop_in_place(
        scratch, table, column):
    assert sqlite_drops(scratch, table, column)
    assert can_drop(scratch, table, column) == ((table, column) in DROPPABLE)


@pytest.mark.parametrize("statement", [
    "CREATE VIEW parent_notes AS SELECT id, note FROM parent",
    "CREATE TRIGGER parent_noted AFTER UPDATE OF note ON parent "
    "BEGIN SELECT 1; END",
])
def test_a_column_a_view_or_trigger_names_is_left_to_the_rebuild(
        scratch, statement):
    with scratch.begin() as connection:
        connection.exec_driver_sql(statement)
    assert not can_drop(scratch, "parent", "note")
    # Columns it does not name still drop in place, keeping it (a rebuild
    # would fail on the view, and lose the trigger).
    assert can_drop(scratch, "child", "plain")
    assert sqlite_drops(scratch, "child", "plain")


def test_an_old_library_never_drops_in_place(scratch, monkeypatch):
    assert can_drop(scratch, "parent", "note")
    _old_sqlite(monkeypatch, (3, 35, 4))
    assert not can_drop(scratch, "parent", "note")


def test_a_view_of_the_table_no_longer_stops_a_drop(tmp_path, monkeypatch):
    """A rebuild fails on a view of the table: SQLite checks the view while
    the table is away (and it would lose the table's triggers). Dropping
    the column in place keeps both."""
    url = f"sqlite:///{tmp_path}/viewed.sqlite"
    engine = sa.create_engine(url)
    config = make_config(url)
    before = schema_spec.below("27dff58cbc65")
    commands.upgrade(config, before)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE VIEW plan_names AS SELECT id, name FROM plan")
        connection.exec_driver_sql(
            "CREATE TRIGGER plan_touched AFTER UPDATE ON plan "
            "BEGIN SELECT 1; END")
        connection.exec_driver_sql(
            "INSERT INTO plan (id, uuid, name, deploy_keys_uri) "
            "VALUES (1, 'u-1', 'plan-1', 'swift://keys/1')")

    with monkeypatch.context() as patch:
        _old_sqlite(patch)
        with pytest.raises(Exception, match="error in view plan_names"):
            commands.upgrade(config, "27dff58cbc65")
    # The revision was rolled back whole.
    assert dbutil.version_rows(engine) == [before]
    assert dbutil.snapshot(engine) == schema_spec.expected(before, "sqlite")

    commands.upgrade(config, "27dff58cbc65")
    assert dbutil.version_rows(engine) == ["27dff58cbc65"]
    with engine.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT * FROM plan_names").all() == [(1, "plan-1")]
        assert connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        ).all() == [("plan_touched",)]


# --- crash safety ------------------------------------------------------------


@pytest.mark.parametrize(("revision", "alter"), [
    ("27dff58cbc65", "DROP COLUMN"),
    ("176c26131889", "RENAME COLUMN"),
])
def test_a_kill_inside_a_revision_that_alters_in_place_leaves_the_one_before(
        tmp_path, empty_config, revision, alter):
    """SQLite rolls the revision back whole, its ALTER TABLE with it,
    wherever it is killed; the upgrade run again then completes it."""
    before = schema_spec.below(revision)
    template = tmp_path / "template.sqlite"
    commands.upgrade(make_config(f"sqlite:///{template}"), before)
    ledger = rows_spec.Ledger()
    for step in REVISIONS[:REVISIONS.index(before) + 1]:
        ledger.upgraded(step)
    engine = sa.create_engine(f"sqlite:///{template}")
    ledger.insert(engine, 1)
    engine.dispose()
    after = copy.deepcopy(ledger)
    after.upgraded(revision)

    def run(name, kill_after):
        path = tmp_path / f"{name}.sqlite"
        shutil.copy(template, path)
        url = f"sqlite:///{path}"
        argv = ["--config-file", empty_config, "--database-connection", url,
                "upgrade", revision]
        return url, run_killed(argv, kill_after, tmp_path / name)

    def state(url, rows):
        engine = sa.create_engine(url)
        try:
            return (dbutil.version_rows(engine), dbutil.snapshot(engine),
                    rows_spec.row_differences(engine, rows, rows.tables))
        finally:
            engine.dispose()

    url, whole = run("whole", 0)
    assert whole.exit_code == 0, whole.output
    uninterrupted = state(url, after)
    assert uninterrupted[0] == [revision]
    assert uninterrupted[2] == []
    owners = revisions_of(whole.statements)
    points = [n for n, owner in enumerate(owners, 1) if owner == revision]
    assert any(alter in whole.statements[n - 1] for n in points)

    for n in points:
        url, killed = run(f"killed-{n}", n)
        assert killed.by_sigkill, killed.output
        assert state(url, ledger) == (
            [before], schema_spec.expected(before, "sqlite"), []), n
        code, err = run_cli(["--config-file", empty_config,
                                   "--database-connection", url,
                                   "upgrade", revision])
        assert code == 0, err
        assert state(url, after) == uninterrupted, n
