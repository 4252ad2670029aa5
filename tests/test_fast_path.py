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

"""The fresh-install fast path builds the schema the chain walks to (issue 5).

``fresh.build_head`` creates the head schema from tables.py in one go.
It is welcome only if, on every backend, the schema is identical to the
one walking the 23 revisions leaves, column order included, and ``upgrade
head`` through it takes the same lock and leaves the same version row.

What is compared (:func:`describe_schema`), the tool's lock table aside:

- MySQL/MariaDB: SHOW CREATE TABLE byte for byte (AUTO_INCREMENT counters
  removed), and from information_schema the table options (engine, row
  format, collation, create options), every column in ordinal order (type,
  nullability, default, extra, character set, collation), every index
  column, every constraint with its name and foreign key rules.
- PostgreSQL: per table its kind, persistence, options and owner; its
  columns in order (type, NOT NULL, default, identity, generation,
  collation); every constraint as ``pg_get_constraintdef``; every index as
  ``pg_get_indexdef``; every sequence with its parameters and owning
  column. The order is the rank among live columns, not attnum: a column
  the chain added and dropped again (assembly.trigger_id and trust_id,
  plan.deploy_keys_uri) leaves a gap in attnum (and in
  information_schema's ordinal_position) that no SQL statement, ``SELECT
  *`` or pg_dump shows, and that a dump and restore does not keep either.
- SQLite: PRAGMA table_xinfo, index_list, index_xinfo and
  foreign_key_list; the CREATE TABLE text of sqlite_master with
  whitespace collapsed, identifiers unquoted and the table constraints
  sorted; every other sqlite_master object. The text is not compared as
  stored: the chain's table rebuilds (batch mode) and ALTER TABLE leave
  other whitespace and quote the table name. Foreign keys are compared as
  a set, not in PRAGMA order: the chain's own order for component's two
  foreign keys changes from run to run (Alembic's batch rebuild of the
  table iterates over a set of constraints).
"""

import datetime
import re
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from solum_db_manage import chain_data, coltypes, db, fresh, lock, tables
from solum_db_manage.config import make_config
from tests import dbutil
from tests.helpers import (
    HEAD,
    KILO,
    provision,
)

# alembic_version as Alembic creates it.
VERSION_TABLE = ("CREATE TABLE alembic_version (version_num VARCHAR(32) "
                 "NOT NULL, CONSTRAINT alembic_version_pkc "
                 "PRIMARY KEY (version_num))")

# The lock table is the tool's, compared on its own (lock_rows).
_NOT_SCHEMA = (db.LOCK_TABLE,)


# --- describing a schema ----------------------------------------------------


def _rows(connection, sql, **params):
    return [tuple(row) for row in connection.execute(sa.text(sql), params)]


def _describe_mysql(connection):
    names = [name for (name,) in _rows(
        connection, "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = DATABASE() ORDER BY table_name")
        if name not in _NOT_SCHEMA]
    where = ("table_schema = DATABASE() AND table_name NOT IN "
             "('solum_db_manage_lock')")
    return {
        "database": _rows(
            connection, "SELECT default_character_set_name, "
            "default_collation_name FROM information_schema.schemata "
            "WHERE schema_name = DATABASE()"),
        "show create table": [
            (table, re.sub(r" AUTO_INCREMENT=\d+", "", connection.
                           exec_driver_sql(f"SHOW CREATE TABLE `{table}`")
                           .one()[1]))
            for table in names],
        "tables": _rows(
            connection, "SELECT table_name, engine, row_format, "
            "table_collation, create_options, table_comment "
            f"FROM information_schema.tables WHERE {where} "
            "ORDER BY table_name"),
        "columns": _rows(
            connection, "SELECT table_name, ordinal_position, column_name, "
            "column_type, is_nullable, column_default, extra, "
            "character_set_name, collation_name, column_key "
            f"FROM information_schema.columns WHERE {where} "
            "ORDER BY table_name, ordinal_position"),
        "indexes": _rows(
            connection, "SELECT table_name, index_name, seq_in_index, "
            "column_name, non_unique, index_type, sub_part, collation "
            f"FROM information_schema.statistics WHERE {where} "
            "ORDER BY table_name, index_name, seq_in_index"),
        "constraints": _rows(
            connection, "SELECT table_name, constraint_name, "
            "constraint_type FROM information_schema.table_constraints "
            f"WHERE {where} ORDER BY table_name, constraint_name"),
        "constraint columns": _rows(
            connection, "SELECT table_name, constraint_name, "
            "ordinal_position, column_name, referenced_table_name, "
            "referenced_column_name FROM information_schema.key_column_usage "
            f"WHERE {where} ORDER BY table_name, constraint_name, "
            "ordinal_position"),
        "foreign key rules": _rows(
            connection, "SELECT table_name, constraint_name, "
            "referenced_table_name, match_option, update_rule, delete_rule "
            "FROM information_schema.referential_constraints "
            "WHERE constraint_schema = DATABASE() AND table_name NOT IN "
            "('solum_db_manage_lock') ORDER BY table_name, constraint_name"),
    }


_PG_OURS = ("n.nspname = 'public' "
            "AND c.relname NOT LIKE 'solum\\_db\\_manage\\_lock%'")


def _describe_postgresql(connection):
    return {
        "tables": _rows(
            connection, "SELECT c.relname, c.relkind, c.relpersistence, "
            "c.reloptions, pg_get_userbyid(c.relowner), c.reltablespace, "
            "c.relrowsecurity FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace "
            f"WHERE {_PG_OURS} ORDER BY c.relname"),
        "columns": _rows(
            connection, "SELECT c.relname, row_number() OVER (PARTITION BY "
            "c.oid ORDER BY a.attnum), a.attname, "
            "format_type(a.atttypid, a.atttypmod), a.attnotnull, "
            "pg_get_expr(d.adbin, d.adrelid), a.attidentity, "
            "a.attgenerated, a.attcollation::regcollation::text "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid "
            "AND d.adnum = a.attnum "
            f"WHERE {_PG_OURS} AND c.relkind = 'r' AND a.attnum > 0 "
            "AND NOT a.attisdropped ORDER BY c.relname, a.attnum"),
        "constraints": _rows(
            connection, "SELECT c.relname, o.conname, o.contype, "
            "pg_get_constraintdef(o.oid) FROM pg_constraint o "
            "JOIN pg_class c ON c.oid = o.conrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE {_PG_OURS} ORDER BY c.relname, o.conname"),
        "indexes": _rows(
            connection, "SELECT c.relname, i.relname, "
            "pg_get_indexdef(x.indexrelid) FROM pg_index x "
            "JOIN pg_class c ON c.oid = x.indrelid "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE {_PG_OURS} ORDER BY c.relname, i.relname"),
        "sequences": _rows(
            connection, "SELECT s.sequencename, s.data_type::text, "
            "s.start_value, s.min_value, s.max_value, s.increment_by, "
            "s.cycle, s.cache_size, s.last_value, "
            "(SELECT t.relname || '.' || a.attname FROM pg_depend d "
            "JOIN pg_class t ON t.oid = d.refobjid "
            "JOIN pg_attribute a ON a.attrelid = d.refobjid "
            "AND a.attnum = d.refobjsubid "
            "WHERE d.objid = (quote_ident(s.schemaname) || '.' || "
            "quote_ident(s.sequencename))::regclass "
            "AND d.classid = 'pg_class'::regclass AND d.deptype IN "
            "('a', 'i')) FROM pg_sequences s "
            "WHERE s.schemaname = 'public' ORDER BY s.sequencename"),
    }


_SQLITE_CONSTRAINTS = ("PRIMARY KEY", "FOREIGN KEY", "CONSTRAINT ",
                       "UNIQUE", "CHECK")


def _top_level_items(body):
    """Split a CREATE TABLE body on the commas outside parentheses."""
    items, depth, start = [], 0, 0
    for at, character in enumerate(body):
        if character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
        elif character == "," and depth == 0:
            items.append(body[start:at].strip())
            start = at + 1
    items.append(body[start:].strip())
    return items


def sqlite_create_table(sql):
    """CREATE TABLE text: (start, column definitions, sorted constraints)."""
    text = re.sub(r'"(\w+)"', r"\1", " ".join(sql.split()))
    start, _, body = text.partition("(")
    items = _top_level_items(body[:body.rindex(")")])
    constraints = sorted(item for item in items
                         if item.startswith(_SQLITE_CONSTRAINTS))
    columns = [item for item in items
               if not item.startswith(_SQLITE_CONSTRAINTS)]
    return start.strip(), columns, constraints


def _describe_sqlite(connection):
    objects = _rows(connection, "SELECT type, name, tbl_name, sql "
                    "FROM sqlite_master ORDER BY type, name")
    described = {"objects": [], "tables": []}
    for kind, name, table, sql in objects:
        if table in _NOT_SCHEMA:
            continue
        if kind != "table":
            described["objects"].append(
                (kind, name, table, sql and " ".join(sql.split())))
            continue
        indexes = _rows(connection, f'PRAGMA index_list("{name}")')
        described["tables"].append({
            "name": name,
            "create table": sqlite_create_table(sql),
            "columns": _rows(connection, f'PRAGMA table_xinfo("{name}")'),
            "indexes": [
                (index, _rows(connection, f'PRAGMA index_xinfo("{index[1]}")'))
                for index in indexes],
            # (seq, table, from, to, on update, on delete, match); not id.
            "foreign keys": sorted(
                row[1:] for row in _rows(
                    connection, f'PRAGMA foreign_key_list("{name}")')),
        })
    return described


def describe_schema(url):
    """Everything about the schema that the fast path must reproduce."""
    engine = db.create_engine(url)
    try:
        with engine.connect() as connection:
            describe = {"mysql": _describe_mysql,
                        "postgresql": _describe_postgresql,
                        "sqlite": _describe_sqlite}[connection.dialect.name]
            return describe(connection)
    finally:
        engine.dispose()


def lock_rows(url):
    """What the lock table says of the last run (never who or when)."""
    engine = db.create_engine(url)
    try:
        with engine.connect() as connection:
            return _rows(connection, "SELECT id, command, state, detail "
                         f"FROM {db.LOCK_TABLE} ORDER BY id")
    finally:
        engine.dispose()


def table_names(url):
    engine = db.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def version_rows(url):
    engine = db.create_engine(url)
    try:
        return dbutil.version_rows(engine)
    finally:
        engine.dispose()


# --- building the two databases ----------------------------------------------


def walk_the_chain(solum, url):
    """Every revision, one at a time: a target other than head first."""
    for target in ("kilo", "head"):
        result = solum("upgrade", target, url=url)
        assert result.code == 0, result.err
        assert "Running upgrade" in result.err


def build(url):
    """build_head on its own connection, committed; what it returned."""
    engine = db.create_engine(url)
    try:
        with engine.connect() as connection:
            built = fresh.build_head(connection)
            connection.commit()
        return built
    finally:
        engine.dispose()


def execute(url, *statements):
    engine = db.create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def assert_same_schema(chain_url, fast_url):
    chain, fast = describe_schema(chain_url), describe_schema(fast_url)
    assert fast.keys() == chain.keys()
    for section in chain:
        assert fast[section] == chain[section], section
    assert version_rows(fast_url) == version_rows(chain_url) == [HEAD]


# --- build_head itself ---------------------------------------------------


def test_the_head_recorded_is_the_chains_head():
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(make_config(None))
    assert chain_data.HEAD == script.get_current_head() == HEAD


def test_the_fast_path_imports_no_alembic(tmp_path):
    """Not on import, and not while it builds (a fresh interpreter)."""
    url = f"sqlite:///{tmp_path}/fresh.sqlite"
    script = (
        "import sys\n"
        "from solum_db_manage import db, fresh\n"
        "imported = [m for m in sys.modules if m.split('.')[0] == 'alembic']\n"
        "engine = db.create_engine(sys.argv[1])\n"
        "with engine.connect() as connection:\n"
        "    built = fresh.build_head(connection)\n"
        "    connection.commit()\n"
        "imported += [m for m in sys.modules "
        "if m.split('.')[0] == 'alembic']\n"
        "print(built, sorted(set(imported)))\n")
    result = subprocess.run([sys.executable, "-c", script, url],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{HEAD} []\n"
    assert version_rows(url) == [HEAD]


def test_build_head_gives_the_schema_of_the_chain(backend, new_db_url,
                                                  solum):
    chain_url, fast_url = new_db_url(), new_db_url()
    walk_the_chain(solum, chain_url)
    assert build(fast_url) == HEAD
    assert_same_schema(chain_url, fast_url)


@pytest.mark.parametrize("charset", ["utf8", "utf8mb4"])
def test_build_head_gives_the_schema_of_the_chain_in_mysql_charsets(
        charset, tmp_path, solum):
    with provision("mysql", tmp_path, charset) as chain_url, \
            provision("mysql", tmp_path, charset) as fast_url:
        walk_the_chain(solum, chain_url)
        assert build(fast_url) == HEAD
        assert_same_schema(chain_url, fast_url)
        options = describe_schema(fast_url)["tables"]
        assert {collation.split("_")[0] for _, _, _, collation, _, _
                in options} == {"utf8mb3" if charset == "utf8" else charset}


def test_the_comparison_sees_column_order_and_indexes(backend, new_db_url):
    """describe_schema is not equal for want of looking."""
    right, wrong_order, extra_index = new_db_url(), new_db_url(), new_db_url()
    build(right)
    # component in the other dialects' order: PostgreSQL's is not theirs.
    other = "mysql" if backend == "postgresql" else "postgresql"
    engine = db.create_engine(wrong_order)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(VERSION_TABLE)
            for statement in tables.create_statements(other):
                connection.execute(statement)
            connection.exec_driver_sql(
                f"INSERT INTO alembic_version VALUES ('{HEAD}')")
    finally:
        engine.dispose()
    build(extra_index)
    execute(extra_index, "CREATE INDEX ix_plan_uuid ON plan (uuid)")
    described = describe_schema(right)
    assert describe_schema(wrong_order) != described
    assert describe_schema(extra_index) != described


@pytest.mark.parametrize("version_table", ["alembic", "2014"])
def test_an_empty_version_table_is_reused(backend, new_db_url, solum,
                                          version_table):
    """As Alembic (and 498adc6185ae, for a 2014 one without key) would."""
    create = {
        "alembic": VERSION_TABLE,
        "2014": "CREATE TABLE alembic_version "
                "(version_num VARCHAR(32) NOT NULL)",
    }[version_table]
    chain_url, fast_url = new_db_url(), new_db_url()
    execute(chain_url, create)
    execute(fast_url, create)
    walk_the_chain(solum, chain_url)
    assert build(fast_url) == HEAD
    assert_same_schema(chain_url, fast_url)
    # Adding the key there changed nothing for the next build in-process.
    next_url = new_db_url()
    assert build(next_url) == HEAD
    assert_same_schema(chain_url, next_url)


@pytest.mark.parametrize("statement", [
    "CREATE TABLE sensor (id INTEGER PRIMARY KEY)",
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL); "
    "INSERT INTO alembic_version VALUES ('icehouse')",
], ids=["a-solum-table", "a-version"])
def test_a_database_that_is_not_fresh_is_left_alone(backend, db_url,
                                                    statement):
    execute(db_url, *statement.split("; "))
    before = describe_schema(db_url), version_rows(db_url)
    assert build(db_url) is None
    assert (describe_schema(db_url), version_rows(db_url)) == before


def test_other_tables_do_not_stop_the_fast_path(backend, new_db_url,
                                                solum):
    """The diagnosis calls a database without Solum tables empty."""
    chain_url, fast_url = new_db_url(), new_db_url()
    for url in (chain_url, fast_url):
        execute(url, "CREATE TABLE not_solum (id INTEGER PRIMARY KEY)")
    walk_the_chain(solum, chain_url)
    assert build(fast_url) == HEAD
    assert_same_schema(chain_url, fast_url)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_build_head_runs_in_the_callers_transaction(backend, db_url):
    """Rolled back, nothing of it stays (where DDL is transactional)."""
    engine = db.create_engine(db_url)
    try:
        with engine.connect() as connection:
            assert fresh.build_head(connection) == HEAD
            assert "plan" in sa.inspect(connection).get_table_names()
            connection.rollback()
    finally:
        engine.dispose()
    assert table_names(db_url) == set()


def test_column_order_names_every_column_once():
    for table in tables.metadata.sorted_tables:
        names = [column.name for column in table.columns]
        for dialect in ("mysql", "postgresql", "sqlite"):
            order = tables.column_order(table, dialect)
            assert sorted(order) == sorted(names), (table.name, dialect)
            if dialect != "postgresql":
                assert order == names
    component = tables.metadata.tables["component"]
    assert tables.column_order(component, "postgresql")[-3:] == [
        "resource_uri", "component_type", "heat_stack_id"]


# --- upgrade head through the fast path (commands.upgrade's hook) --------


def took_the_fast_path(result):
    """The chain logs each revision it runs; the fast path runs none."""
    return result.code == 0 and "Running upgrade" not in result.err


def test_upgrade_head_on_an_empty_database_leaves_what_the_chain_leaves(
        new_db_url, solum):
    chain_url, fast_url = new_db_url(), new_db_url()
    walk_the_chain(solum, chain_url)
    result = solum("upgrade", "head", url=fast_url)
    assert took_the_fast_path(result), result.err
    assert_same_schema(chain_url, fast_url)
    assert lock_rows(fast_url) == lock_rows(chain_url) == [
        (1, "upgrade head", lock.DONE, None)]
    assert table_names(fast_url) == table_names(chain_url)
    again = solum("upgrade", "head", url=fast_url)
    assert again.code == 0, again.err
    assert again.out.startswith(f"Nothing to do: the database is already "
                                f"at {HEAD}")


# Takes the lock, says so, holds it for argv[2] seconds.
HOLD_SCRIPT = """
import sys, time
from solum_db_manage import lock
with lock.MigrationLock(sys.argv[1], "upgrade head").hold():
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_the_fast_path_gives_up_on_a_held_lock_as_the_chain_does(
        new_db_url, solum):
    """Exit 7 with the same words, nothing created, for either target."""
    chain_url, fast_url = new_db_url(), new_db_url()
    results = {}
    for url, target in ((chain_url, "kilo"), (fast_url, "head")):
        with lock.MigrationLock(url, "upgrade head", timeout=10).hold():
            results[target] = solum("upgrade", target, "--lock-timeout",
                                    "1", url=url)
        assert table_names(url) == {db.LOCK_TABLE}
        assert version_rows(url) == []

    def words(result):
        last = result.err.splitlines()[-1]
        return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "", last)

    assert results["head"].code == results["kilo"].code == 7
    assert words(results["head"]) == words(results["kilo"])
    assert "nothing was changed" in words(results["head"])
    assert lock_rows(fast_url) == lock_rows(chain_url)


def test_the_fast_path_waits_for_the_lock(new_db_url, solum):
    chain_url, fast_url = new_db_url(), new_db_url()
    walk_the_chain(solum, chain_url)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SCRIPT, fast_url, "2"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        started = time.monotonic()
        result = solum("upgrade", "head", "--lock-timeout", "60",
                       url=fast_url)
        waited = time.monotonic() - started
    finally:
        holder.wait(timeout=30)
    assert "Waiting for the migration lock" in result.err
    assert took_the_fast_path(result), result.err
    assert 1 < waited < 30
    assert_same_schema(chain_url, fast_url)
    assert lock_rows(fast_url) == lock_rows(chain_url)


def test_the_fast_built_schema_checks_clean_and_migrates(new_db_url,
                                                         solum):
    chain_url, fast_url = new_db_url(), new_db_url()
    walk_the_chain(solum, chain_url)
    assert took_the_fast_path(solum("upgrade", "head", url=fast_url))
    assert solum("check", url=fast_url).code == 0
    # Down the chain's steps and back up, from the fast-built tables.
    down = solum("downgrade", "kilo", url=fast_url)
    assert down.code == 0, down.err
    assert version_rows(fast_url) == [KILO]
    assert solum("check", url=fast_url).code == 3
    up = solum("upgrade", "head", url=fast_url)
    assert up.code == 0 and "Running upgrade" in up.err, up.err
    assert solum("check", url=fast_url).code == 0
    assert_same_schema(chain_url, fast_url)
    # To base, then up again: the fast path, reusing the version table.
    base = solum("downgrade", "base", url=fast_url)
    assert base.code == 0, base.err
    assert table_names(fast_url) == {"alembic_version", db.LOCK_TABLE}
    assert version_rows(fast_url) == []
    assert took_the_fast_path(solum("upgrade", "head", url=fast_url))
    assert solum("check", url=fast_url).code == 0
    assert_same_schema(chain_url, fast_url)


def _value(table, column):
    """A value of the column's type that fits it; a parent's id for a key."""
    if column.foreign_keys:
        referred = next(iter(column.foreign_keys)).column.table
        return None if referred is table else 1
    type_ = column.type
    if isinstance(type_, (coltypes.YAMLEncodedDict, coltypes.JSONEncodedDict)):
        return {"key": [1, "two"]}
    if isinstance(type_, sa.Boolean):
        return True
    if isinstance(type_, sa.Integer):
        return 7
    if isinstance(type_, sa.DateTime):
        return datetime.datetime(2024, 3, 12, 9, 30, 15)
    if isinstance(type_, sa.String) and type_.length:
        return f"{table.name}.{column.name}"[:type_.length]
    return f"text of {table.name}.{column.name}"


def test_rows_go_into_every_table_after_the_fast_path(db_url, solum):
    assert took_the_fast_path(solum("upgrade", "head", url=db_url))
    engine = db.create_engine(db_url)
    try:
        with engine.begin() as connection:
            expected = {}
            for table in tables.solum_tables():
                values = {
                    column.name: (f"{table.name}-1"
                                  if column.primary_key else
                                  _value(table, column))
                    for column in table.columns
                    if not (column.primary_key
                            and isinstance(column.type, sa.Integer))}
                connection.execute(table.insert(), values)
                expected[table.name] = values
        with engine.connect() as connection:
            for table in tables.solum_tables():
                stored = connection.execute(sa.select(table)).one()._asdict()
                assert {name: stored[name] for name in
                        expected[table.name]} == expected[table.name]
                if "id" not in expected[table.name]:
                    assert stored["id"] == 1
    finally:
        engine.dispose()
