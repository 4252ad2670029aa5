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

"""The original's forms of a revision's schema, and making them ours.

The original Solum's chain left one revision's schema in more than one
form, by backend and by SQLAlchemy era (SOLUM_SCHEMA_FACTS.md 2.11, 2.15,
2.17, 5.4.11, 6). Where its form differs from what this tool's chain
leaves, :func:`find` names each difference, and :func:`normalise` turns it
into this tool's form, keeping every row. ``check`` reports such a
database as needing ``upgrade head`` (exit 3), which normalises it first,
also when it is already recorded at head: no revision is added for it.

The forms recognised:

* ``image.status`` VARCHAR(12): the original's 1f57763d7871 kept the
  length on SQLite and PostgreSQL (it widened it to 36 on MySQL only, by
  accident; here it is 36 on every backend).
* An unnamed ``CHECK (deleted IN (0, 1))`` on ``app`` and ``workflow``:
  SQLAlchemy 1.3 and earlier created one for each Boolean column on
  MySQL/MariaDB and SQLite; 1.4 and later do not, nor does this tool.
* ``alembic_version`` without a primary key: Alembic before 0.8.10 (2017)
  created it so, and only its 498adc6185ae gives it one.

Column order on PostgreSQL is not compared (as elsewhere), and a latin1
MySQL database's TEXT(65535) columns being TEXT, not MEDIUMTEXT, is what
the chain itself leaves there: neither is a difference here.

Statements run on the caller's connection, in its transaction; on
MySQL/MariaDB each commits on its own, and each is looked for again
before it runs, so an interrupted normalisation completes when run again.
"""

import dataclasses
import re
import warnings

import sqlalchemy as sa

from solum_db_manage.db import VERSION_TABLE

STATUS_LENGTH = 36
_BOOLEAN_TABLES = ("app", "workflow")
_BOOLEAN_CHECK = re.compile(r"^\(*\s*deleted\s+in\s*\(\s*0\s*,\s*1\s*\)\s*"
                            r"\)*$")


@dataclasses.dataclass(frozen=True)
class Difference:
    """One part of the schema in the original's form."""

    kind: str    # "status", "check" or "version_key"
    table: str
    name: str    # the column or the constraint
    line: str    # what check prints

    def __str__(self):
        return self.line


def find(connection):
    """The parts of the live schema in the original's form, as Differences.

    Reads only; cheap enough for every diagnosis (a few catalog reads).
    """
    inspector = sa.inspect(connection)
    tables = set(inspector.get_table_names())
    found = []
    if "image" in tables:
        for column in inspector.get_columns("image"):
            length = getattr(column["type"], "length", None)
            if column["name"] == "status" and length and (
                    length < STATUS_LENGTH):
                found.append(Difference(
                    "status", "image", "status",
                    f"column image.status is VARCHAR({length}), as the "
                    f"original's 1f57763d7871 left it on SQLite and "
                    f"PostgreSQL; here it is VARCHAR({STATUS_LENGTH})"))
    for table in _BOOLEAN_TABLES:
        if table in tables:
            for check in _boolean_checks(inspector, table):
                found.append(Difference(
                    "check", table, check["name"] or "",
                    f"table {table} has the unnamed CHECK (deleted IN (0, "
                    f"1)) that SQLAlchemy 1.3 created for a Boolean column"
                    + (f" (named {check['name']} by the server)"
                       if check["name"] else "")))
    if VERSION_TABLE in tables and not inspector.get_pk_constraint(
            VERSION_TABLE)["constrained_columns"]:
        found.append(Difference(
            "version_key", VERSION_TABLE, f"{VERSION_TABLE}_pkc",
            f"table {VERSION_TABLE} has no primary key, as Alembic before "
            f"0.8.10 created it"))
    return found


def _boolean_checks(inspector, table):
    checks = []
    for check in inspector.get_check_constraints(table):
        text = re.sub(r"[`\"]", "", check.get("sqltext") or "").lower()
        if _BOOLEAN_CHECK.match(text.strip()):
            checks.append(check)
    return checks


def explains(differences, line):
    """True if a line of model drift is one of these Differences."""
    return any(d.kind == "status" and line.startswith(
        f"column {d.table}.{d.name} is ") for d in differences)


def normalise(connection):
    """Turn every part found in the original's form into ours.

    Returns the Differences it changed ([] where there were none). Rows
    are kept: each change widens a column, drops a constraint or adds a
    key, or (SQLite) rebuilds a table with the same rows.
    """
    found = find(connection)
    if not found:
        return []
    if connection.dialect.name == "sqlite":
        _normalise_sqlite(connection, found)
    else:
        for difference in found:
            _STATEMENTS[difference.kind](connection, difference)
    return found


def _widen_status(connection, difference):
    if connection.dialect.name == "mysql":
        connection.exec_driver_sql(
            f"ALTER TABLE image MODIFY status VARCHAR({STATUS_LENGTH}) NULL")
    else:
        connection.exec_driver_sql(
            f"ALTER TABLE image ALTER COLUMN status TYPE "
            f"VARCHAR({STATUS_LENGTH})")


def _drop_check(connection, difference):
    quote = connection.dialect.identifier_preparer.quote
    connection.exec_driver_sql(
        f"ALTER TABLE {quote(difference.table)} DROP CONSTRAINT "
        f"{quote(difference.name)}")


def _add_version_key(connection, difference):
    connection.exec_driver_sql(
        f"ALTER TABLE {VERSION_TABLE} ADD CONSTRAINT {difference.name} "
        f"PRIMARY KEY (version_num)")


_STATEMENTS = {
    "status": _widen_status,
    "check": _drop_check,
    "version_key": _add_version_key,
}


def _normalise_sqlite(connection, found):
    """SQLite alters neither types nor constraints: rebuild the tables, as
    the chain's batch steps do, so that they come out as the chain's."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    operations = Operations(MigrationContext.configure(connection))
    tables = {}
    for difference in found:
        tables.setdefault(difference.table, []).append(difference)
    for table, differences in tables.items():
        with warnings.catch_warnings():
            # Alembic warns that it leaves unnamed CHECKs out: the point.
            warnings.filterwarnings(
                "ignore", message="Unnamed CHECK constraint",
                category=UserWarning)
            with operations.batch_alter_table(
                    table, recreate="always") as batch:
                for difference in differences:
                    if difference.kind == "status":
                        batch.alter_column(
                            "status", type_=sa.String(STATUS_LENGTH),
                            existing_type=sa.String(12),
                            existing_nullable=True)
                    elif difference.kind == "version_key":
                        batch.create_primary_key(difference.name,
                                                 ["version_num"])
