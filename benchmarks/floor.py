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

"""The floor of an upgrade (issue 13): the work the chain forces on a
backend, defined without the tool's plan, each part timed alone on a
clone of the same template database as the upgrade.

* Each table rebuild the backend needs for the chain's type changes,
  that statement or copy alone (:data:`REBUILDS`, written out here, not
  read from ``operations.py`` or ``server_rules.py``):

  - MariaDB: the two ALTERs InnoDB can only do by copying the table
    (a VARCHAR whose length in bytes passes 255 on utf8mb4 needs a
    second length byte; VARCHAR to TEXT changes the storage):
    ``image.base_image_id`` 36 -> 100 (43df309dbf3f) and, from Icehouse,
    ``plan.raw_content`` VARCHAR(2048) -> TEXT (498adc6185ae);
  - SQLite: each table its batch mode rebuilds (create the new table,
    copy the rows, drop the old one, rename, recreate the indexes):
    image twice (1f57763d7871, 43df309dbf3f) and assembly (5583c6e70156)
    and, from Icehouse, plan, image, assembly and component
    (498adc6185ae);
  - PostgreSQL: none (widening a VARCHAR, VARCHAR to TEXT and dropping
    columns touch the catalog only).

* The UPDATE that moves the trigger values to the plans (5583c6e70156's
  own statement, the fastest form known for each backend), after adding
  the columns it writes (untimed: they are catalog changes).

* Process start: the interpreter starting and loading what any Alembic
  run on this backend loads (``alembic.command``, Alembic's migration
  runtime, SQLAlchemy and the driver: sqlite3, PyMySQL or psycopg) and
  nothing of this tool. ``solum-db-manage --version``, which loads none
  of them (30 ms), would price start-up below what plain Alembic pays.
"""

import importlib.util
import os
import re
import sys
import time

from benchmarks import common

_DRIVERS = {"sqlite": "sqlite3", "mysql": "pymysql",
            "postgresql": "psycopg"}

# backend -> [(start revisions it applies from, revision, table, what)]
REBUILDS = {
    "mysql": [
        (("icehouse",), "498adc6185ae", "plan",
         "ALTER TABLE plan MODIFY raw_content TEXT NULL"),
        (("icehouse", "498adc6185ae"), "43df309dbf3f", "image",
         "ALTER TABLE image MODIFY base_image_id VARCHAR(100) NULL"),
    ],
    "sqlite": [
        *((("icehouse",), "498adc6185ae", table, "rebuild")
          for table in ("plan", "image", "assembly", "component")),
        (("icehouse", "498adc6185ae"), "1f57763d7871", "image", "rebuild"),
        (("icehouse", "498adc6185ae"), "5583c6e70156", "assembly",
         "rebuild"),
        (("icehouse", "498adc6185ae"), "43df309dbf3f", "image", "rebuild"),
    ],
    "postgresql": [],
}

# The columns the trigger move reads and writes, added (empty) where the
# start revision lacks them, as the chain does before it.
_MOVE_COLUMNS = {
    "plan": (("trigger_id", "VARCHAR(36)"), ("trust_id", "VARCHAR(255)"),
             ("username", "VARCHAR(256)")),
    "assembly": (("trust_id", "VARCHAR(255)"), ("username", "VARCHAR(256)")),
}


def rebuilds(backend_name, start):
    """The (revision, table, what) rebuilds of the floor from ``start``."""
    return [(revision, table, what) for starts, revision, table, what
            in REBUILDS.get(backend_name, ()) if start in starts]


def _move_script():
    import solum_db_manage

    path = os.path.join(
        os.path.dirname(solum_db_manage.__file__), "alembic_migrations",
        "versions", "5583c6e70156_move_triggers_from_assembly_to_plan.py")
    spec = importlib.util.spec_from_file_location("_floor_move", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sqlite_rebuild(connection, table):
    """What SQLite's batch mode does to one table, without Alembic."""
    create, = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
        (table,)).one()
    indexes = [sql for sql, in connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND "
        "tbl_name = ? AND sql IS NOT NULL", (table,))]
    temporary = f"_floor_tmp_{table}"
    connection.exec_driver_sql(re.sub(
        r'^CREATE TABLE\s+("?)\w+\1', f"CREATE TABLE {temporary}", create))
    connection.exec_driver_sql(
        f"INSERT INTO {temporary} SELECT * FROM {table}")
    connection.exec_driver_sql(f"DROP TABLE {table}")
    connection.exec_driver_sql(
        f"ALTER TABLE {temporary} RENAME TO {table}")
    for sql in indexes:
        connection.exec_driver_sql(sql)


def _columns(connection, table):
    import sqlalchemy as sa

    return {c["name"] for c in sa.inspect(connection).get_columns(table)}


def measure(backend, name, start):
    """{"rebuilds": [(revision, table, seconds)], "update": s,
    "start": s, "total": s} on database ``name`` (changed: a clone)."""
    parts = {"rebuilds": [], "update": None, "start": None}
    engine = backend.engine(name)
    try:
        with engine.connect() as connection:
            backend.on_connect(connection)
            connection.commit()
            for revision, table, what in rebuilds(backend.name, start):
                t0 = time.perf_counter()
                if what == "rebuild":
                    _sqlite_rebuild(connection, table)
                else:
                    connection.exec_driver_sql(what)
                connection.commit()
                parts["rebuilds"].append(
                    (revision, table, time.perf_counter() - t0))
            for table, columns in _MOVE_COLUMNS.items():
                present = _columns(connection, table)
                for column, type_ in columns:
                    if column not in present:
                        connection.exec_driver_sql(
                            f"ALTER TABLE {table} ADD COLUMN {column} "
                            f"{type_}")
            connection.commit()
            update = _move_script().copy_to_plans(connection.dialect.name)
            t0 = time.perf_counter()
            connection.exec_driver_sql(update)
            connection.commit()
            parts["update"] = time.perf_counter() - t0
    finally:
        engine.dispose()
    parts["start"] = common.run([sys.executable, "-c", (
        "import alembic.command, alembic.runtime.migration, sqlalchemy, "
        + _DRIVERS[backend.name])]).check().seconds
    parts["total"] = (sum(seconds for _, _, seconds in parts["rebuilds"])
                      + parts["update"] + parts["start"])
    return parts
