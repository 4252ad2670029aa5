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

"""Databases in the forms the original Solum's chain left, built with raw DDL.

``build(url, revision, era)`` creates, on an empty database, the schema
the original's chain left at ``revision`` on that backend, as its
SQLAlchemy of ``era`` ("1.3" or "1.4") rendered it (SOLUM_SCHEMA_FACTS.md
sections 2, 2.23, 5.4.5, 5.4.11): the tables and columns of
tests/schema_spec.py at that revision (columns in the original's order,
unnamed inline foreign keys), but with

* ``image.status`` VARCHAR(12) on SQLite and PostgreSQL from 1f57763d7871
  on (the original widened it on MySQL only);
* with SQLAlchemy 1.3, on MySQL/MariaDB and SQLite, an unnamed ``CHECK
  (deleted IN (0, 1))`` on ``app`` and ``workflow``;
* YAML/JSON columns as TEXT(n) (MySQL sizes it by the database's charset,
  SQLite keeps it), and plain TEXT on PostgreSQL: the one patch that lets
  the original run there;
* ``alembic_version`` with or without its primary key (Alembic before
  0.8.10 made none), recording ``revision``.

Nothing here comes from this tool's migrations or models.
"""

import datetime

import sqlalchemy as sa

from solum_db_manage import db
from tests import schema_spec

ERAS = ("1.3", "1.4")
# The revisions the original reached on each backend (section 2.23): on
# SQLite it fails at 43df309dbf3f; on PostgreSQL it runs with the patch.
ORIGINAL_REVISIONS = schema_spec.REVISIONS[1:]  # icehouse is ours
REACHED = {
    "mysql": ORIGINAL_REVISIONS,
    "postgresql": ORIGINAL_REVISIONS,
    "sqlite": ORIGINAL_REVISIONS[:ORIGINAL_REVISIONS.index(
        "40df542e345") + 1],
}
STATUS_SINCE = "1f57763d7871"


def differs_from_ours(dialect, revision, era, version_key=True):
    """True if the original's form at ``revision`` is not this tool's."""
    index = ORIGINAL_REVISIONS.index
    tables = schema_spec.SCHEMAS[revision]
    return (not version_key
            or (dialect != "mysql" and index(revision) >= index(
                STATUS_SINCE))
            or (era == "1.3" and dialect != "postgresql"
                and ("app" in tables or "workflow" in tables)))


def _type(dialect, table, column):
    spec = column.type
    if column.name == "id" and spec == schema_spec.INT:
        return {"mysql": "INTEGER NOT NULL AUTO_INCREMENT",
                "postgresql": "SERIAL NOT NULL"}.get(
            dialect, "INTEGER NOT NULL")
    if column.text_length is not None:
        rendered = ("TEXT" if dialect == "postgresql"
                    else f"TEXT({column.text_length})")
    elif spec == schema_spec.INT:
        rendered = "INTEGER"
    elif spec == schema_spec.BOOLEAN:
        rendered = "BOOL" if dialect == "mysql" else "BOOLEAN"
    elif spec == schema_spec.DATETIME:
        rendered = ("TIMESTAMP WITHOUT TIME ZONE" if dialect == "postgresql"
                    else "DATETIME")
    elif spec == schema_spec.TEXT:
        rendered = "TEXT"
    else:
        assert spec.startswith("varchar("), spec
        rendered = spec.upper()
    return rendered + ("" if column.nullable else " NOT NULL")


def create_statements(dialect, revision, era):
    """The original's CREATE TABLE (and ALTER for the unique key) each."""
    schema = schema_spec.SCHEMAS[revision]
    statements, later = [], []
    for name in _creation_order(schema):
        table = schema[name]
        lines = []
        for column in table.columns:
            rendered = _type(dialect, name, column)
            if name == "image" and column.name == "status":
                # 1f57763d7871 widened it on MySQL only (section 2.11).
                rendered = f"VARCHAR({36 if dialect == 'mysql' else 12})"
            lines.append(f"\t{column.name} {rendered}")
        lines.append("\tPRIMARY KEY (id)")
        if era == "1.3" and dialect != "postgresql" and any(
                c.name == "deleted" for c in table.columns):
            lines.append("\tCHECK (deleted IN (0, 1))")
        lines.extend(f"\tFOREIGN KEY({fk.column}) REFERENCES "
                     f"{fk.referred_table} (id)" for fk in table.foreign_keys)
        statements.append(f"CREATE TABLE {name} (\n" + ",\n".join(lines)
                          + "\n)")
        # e5f2e8af3b8 added it with ALTER (never reached on SQLite).
        later.extend(
            f"ALTER TABLE {name} ADD CONSTRAINT {unique} UNIQUE "
            f"({', '.join(columns)})" for unique, columns in table.unique)
    return statements + later


def _creation_order(schema):
    done = []
    while len(done) < len(schema):
        for name, table in schema.items():
            if name not in done and all(
                    fk.referred_table in done + [name]
                    for fk in table.foreign_keys):
                done.append(name)
    return done


def build(url, revision, era, version_key=True, rows=True):
    """Make the empty database at ``url`` the original's ``revision``."""
    engine = db.create_engine(url)
    try:
        dialect = engine.dialect.name
        with engine.begin() as connection:
            for statement in create_statements(dialect, revision, era):
                connection.exec_driver_sql(statement)
            key = (",\n\tCONSTRAINT alembic_version_pkc PRIMARY KEY "
                   "(version_num)" if version_key else "")
            connection.exec_driver_sql(
                f"CREATE TABLE alembic_version (\n\tversion_num VARCHAR(32) "
                f"NOT NULL{key}\n)")
            connection.exec_driver_sql(
                f"INSERT INTO alembic_version (version_num) VALUES "
                f"('{revision}')")
            if rows:
                fill(connection, revision)
    finally:
        engine.dispose()


def _value(table, column, n):
    """A value of the column's type for row ``n`` (1 or 2)."""
    spec = column.type
    if column.name == "id":
        return n if spec == schema_spec.INT else f"{table}-{n}"
    if column.name in ("plan_id", "pipeline_id", "assembly_id"):
        return 1
    if column.name == "parent_component_id":
        return None if n == 1 else 1
    if column.name == "wf_id":
        return n
    if column.text_length is not None:
        return f"key: {table}-{column.name}-{n}\nlist:\n- 1\n- 2\n"
    if spec == schema_spec.INT:
        return 10 * n
    if spec == schema_spec.BOOLEAN:
        return n == 2
    if spec == schema_spec.DATETIME:
        return datetime.datetime(2015, 3, n, 12, 30, 15)
    if spec == schema_spec.TEXT:
        return f"text of {table}.{column.name} #{n} " * 3
    length = int(spec[len("varchar("):-1])
    # The widest value its column takes; image.status the original's 12.
    if table == "image" and column.name in ("status", "state"):
        length = 12
    return (f"{column.name[:4]}{n}-" * length)[:length]


def fill(connection, revision):
    """Two rows in every table, every column set, each value at its
    column's full length."""
    schema = schema_spec.SCHEMAS[revision]
    for name in _creation_order(schema):
        table = schema[name]
        for n in (1, 2):
            values = {c.name: _value(name, c, n) for c in table.columns}
            connection.execute(
                sa.text(f"INSERT INTO {name} ({', '.join(values)}) VALUES "
                        f"({', '.join(':' + c for c in values)})"), values)
