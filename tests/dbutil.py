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

"""Reading a database's schema and rows back, the same way on every backend.

``snapshot(engine)`` is what the schema tests compare: per table, the
columns in physical order (name, type as the database renders it,
nullability, server default), the primary key, foreign keys, unique
constraints and indexes. On MySQL/MariaDB the type is the server's own
COLUMN_TYPE and the foreign keys carry the names MySQL gave them.
"""

import re

import sqlalchemy as sa

VERSION_TABLE = "alembic_version"
# The migration lock's table: the tool's own, not part of Solum's schema.
LOCK_TABLE = "solum_db_manage_lock"


def _type_string(engine, column):
    try:
        return column["type"].compile(dialect=engine.dialect).lower()
    except Exception:  # a type the dialect cannot render back
        return repr(column["type"]).lower()


def _mysql_columns(connection, table):
    rows = connection.execute(sa.text(
        "SELECT column_name, column_type, is_nullable, column_default, extra "
        "FROM information_schema.columns WHERE table_schema = DATABASE() "
        "AND table_name = :t ORDER BY ordinal_position"), {"t": table})
    return [
        {"name": name, "type": ctype.lower(), "nullable": nullable == "YES",
         "default": default, "extra": extra.lower()}
        for name, ctype, nullable, default, extra in rows
    ]


def snapshot(engine, include_version_table=False):
    """Return the schema as plain, comparable data."""
    inspector = sa.inspect(engine)
    schema = {}
    with engine.connect() as connection:
        for table in sorted(inspector.get_table_names()):
            if table == LOCK_TABLE or (
                    table == VERSION_TABLE and not include_version_table):
                continue
            if engine.dialect.name == "mysql":
                columns = _mysql_columns(connection, table)
            else:
                columns = [
                    {"name": c["name"], "type": _type_string(engine, c),
                     "nullable": c["nullable"], "default": c.get("default")}
                    for c in inspector.get_columns(table)
                ]
            schema[table] = {
                "columns": columns,
                "primary_key": inspector.get_pk_constraint(table)[
                    "constrained_columns"],
                "foreign_keys": sorted(
                    (fk["name"] if engine.dialect.name == "mysql" else None,
                     tuple(fk["constrained_columns"]), fk["referred_table"],
                     tuple(fk["referred_columns"]),
                     tuple(sorted((fk.get("options") or {}).items())))
                    for fk in inspector.get_foreign_keys(table)),
                "unique": sorted(
                    (uc["name"], tuple(uc["column_names"]))
                    for uc in inspector.get_unique_constraints(table)),
                "indexes": sorted(
                    (ix["name"], tuple(ix["column_names"]),
                     bool(ix["unique"]))
                    for ix in inspector.get_indexes(table)),
            }
    return schema


def mysql_create_tables(engine):
    """SHOW CREATE TABLE of every table, without AUTO_INCREMENT counters."""
    with engine.connect() as connection:
        tables = [row[0] for row in connection.exec_driver_sql(
            "SHOW TABLES")]
        created = {}
        for table in sorted(tables):
            if table not in (VERSION_TABLE, LOCK_TABLE):
                text = connection.exec_driver_sql(
                    f"SHOW CREATE TABLE `{table}`").one()[1]
                created[table] = re.sub(r" AUTO_INCREMENT=\d+", "", text)
        return created


def version_rows(engine):
    """The revisions recorded in alembic_version; [] without the table."""
    if not sa.inspect(engine).has_table(VERSION_TABLE):
        return []
    with engine.connect() as connection:
        return sorted(row[0] for row in connection.exec_driver_sql(
            f"SELECT version_num FROM {VERSION_TABLE}"))


def rows(engine, table, order_by="id"):
    """Every row of a table as dicts, in a stable order."""
    with engine.connect() as connection:
        result = connection.execute(sa.text(
            f"SELECT * FROM {table} ORDER BY {order_by}"))
        return [dict(row._mapping) for row in result]
