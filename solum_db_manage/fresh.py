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

"""The fresh-install fast path: build an empty database's head schema.

Walking the 23 revisions on an empty database creates, alters and
rebuilds tables one step at a time; :func:`build_head` creates the head
schema from tables.py in one go and records the head revision, as
Alembic records it. ``tests/test_fast_path.py`` proves, on every backend,
that the result is the schema walking the chain leaves (column order,
constraint names, table options included) with the same version row.

No Alembic and no SQLAlchemy ORM here (tables.py is plain Core):
importing either costs more than building the schema.
"""

import logging

import sqlalchemy as sa

from solum_db_manage import chain_data, tables
from solum_db_manage.db import VERSION_TABLE

LOG = logging.getLogger("solum_db_manage")


def _version_table():
    """The version table exactly as Alembic creates it (1.x, since 0.8.10):
    VARCHAR(32) NOT NULL, primary key named <table>_pkc.

    A new Table each time: AddConstraint marks the constraint it adds as
    not to be created with its table again.
    """
    return sa.Table(
        VERSION_TABLE, sa.MetaData(),
        sa.Column("version_num", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("version_num", name=f"{VERSION_TABLE}_pkc"),
    )


def build_head(connection, resume=False):
    """Create the head schema and record its revision, on a fresh database.

    Runs in the connection's current transaction; the caller commits (on
    MySQL/MariaDB each CREATE TABLE commits on its own anyway). Returns the
    head revision (``chain_data.HEAD``); or None, having changed nothing, where
    the database is not fresh: a table of the head schema exists (a first
    upgrade stopped half-way leaves some) or alembic_version records a
    revision. The chain handles those. Tables of other applications do not
    matter. An empty alembic_version is reused, given the primary key a
    2014 one lacks, as the chain's 498adc6185ae does.

    ``resume``: the head schema's tables that exist are what a run of this
    function killed half-way on MySQL/MariaDB made (the caller checked
    that each is whole, see diagnose.py): create only the others.
    """
    existing = set(sa.inspect(connection).get_table_names())
    made = existing & {table.name for table in tables.solum_tables()}
    LOG.debug("Fresh install: %d of the head tables exist%s", len(made),
              " (resuming)" if resume else "")
    if made and not resume:
        return None
    version = _version_table()
    if VERSION_TABLE in existing:
        if connection.execute(
                sa.select(version.c.version_num).limit(1)).first():
            return None
        _complete_version_table(connection, version)
    else:
        connection.execute(sa.schema.CreateTable(version))
    for statement in tables.create_statements(connection.dialect.name):
        if statement.element.name not in made:
            connection.execute(statement)
    connection.execute(version.insert().values(version_num=chain_data.HEAD))
    return chain_data.HEAD


def _complete_version_table(connection, version):
    """Give an empty version table without primary key Alembic's key."""
    key = sa.inspect(connection).get_pk_constraint(VERSION_TABLE)
    if key["constrained_columns"]:
        return
    if connection.dialect.name == "sqlite":
        # SQLite cannot add a primary key; the table is empty.
        connection.execute(sa.schema.DropTable(version))
        connection.execute(sa.schema.CreateTable(version))
    else:
        connection.execute(sa.schema.AddConstraint(version.primary_key))
