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

"""The head schema as SQLAlchemy Core tables: what ``upgrade head`` creates.

Where Solum's own models disagreed with its migrations (app.languagepack,
app.raw_content, image.base_image_id, image.status, service.read_only,
plan.name, workflow.deleted_at and its unique constraint, and the NOT NULL
columns the models left nullable), these follow the migrations: the
database is the truth, and autogenerate must find nothing to change at
head. Defaults are Python-side only, as in Solum; no server defaults, no
indexes, unnamed foreign keys.

Each table lists its columns in the order the migration chain leaves them
on MySQL/MariaDB and SQLite. PostgreSQL cannot place an added column, so
there the chain leaves a few columns last: :func:`create_statements` gives
the CREATE TABLE statements in each dialect's order, so that a schema built
from these tables (the fresh-install fast path) is the chain's, column
order included.

Plain Core, no ``sqlalchemy.orm``: the fast path (fresh.py) needs only
the tables, and importing the ORM costs more than building the schema.
The ORM classes of models.py are mapped onto these very tables.
"""

import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.schema import CreateColumn, CreateTable

from solum_db_manage.coltypes import (
    EncodedText,
    JSONEncodedDict,
    YAMLEncodedDict,
    text,
)

metadata = MetaData()


def _utcnow():
    """Naive UTC now, as oslo.utils' timeutils.utcnow() gave Solum."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


# Column factories, so each table lists its columns in database order.

def _id():
    return Column("id", Integer, primary_key=True)


def _uuid():
    return Column("uuid", String(36), nullable=False)


def _created_at(nullable=True):
    return Column("created_at", DateTime, nullable=nullable, default=_utcnow)


def _updated_at():
    return Column("updated_at", DateTime, onupdate=_utcnow)


def _string(name, length, nullable=True):
    return Column(name, String(length), nullable=nullable)


def _text(name):
    return Column(name, Text)


def _yaml(name, length):
    return Column(name, YAMLEncodedDict(length))


def _deleted():
    return Column("deleted", Boolean, nullable=False, default=False)


sensor = Table(
    "sensor", metadata,
    _id(),
    _uuid(),
    _created_at(),
    _updated_at(),
    _string("project_id", 36),
    _string("user_id", 36),
    _string("name", 255),
    _string("sensor_type", 255),
    _string("value", 255),
    Column("timestamp", DateTime),
    _string("description", 255),
    _string("documentation", 255),
    _string("target_resource", 255),
)

operation = Table(
    "operation", metadata,
    _id(),
    _uuid(),
    _created_at(),
    _updated_at(),
    _string("name", 100),
    _string("description", 255),
    _string("project_id", 36),
    _string("user_id", 36),
    _text("tags"),
    _text("documentation"),
    _text("target_resource"),
)

image = Table(
    "image", metadata,
    _id(),
    _uuid(),
    _created_at(),
    _updated_at(),
    _string("name", 100),
    _string("description", 255),
    _string("source_uri", 1024),
    _string("project_id", 36),
    _string("user_id", 36),
    _text("tags"),
    _string("status", 36),
    _string("base_image_id", 100),
    _string("created_image_id", 36),
    _string("image_format", 12),
    _string("source_format", 36),
    _string("artifact_type", 36),
    _string("external_ref", 1024),
    _string("docker_image_name", 512),
)

extension = Table(
    "extension", metadata,
    _id(),
    _uuid(),
    _created_at(),
    _updated_at(),
    _string("project_id", 36),
    _string("user_id", 36),
    _string("description", 255),
    _string("name", 100),
    _string("version", 16),
    _string("documentation", 255),
)

plan = Table(
    "plan", metadata,
    _id(),
    _uuid(),
    _created_at(),
    _updated_at(),
    _string("project_id", 36),
    _string("user_id", 36),
    _yaml("raw_content", 2048),
    _string("description", 255),
    _string("name", 255),
    _string("trigger_id", 36),
    _string("trust_id", 255),
    _string("username", 256),
)

assembly = Table(
    "assembly", metadata,
    _id(),
    _uuid(),
    _created_at(),
    _updated_at(),
    _string("name", 100),
    _string("description", 255),
    _string("project_id", 36),
    _string("user_id", 36),
    _text("tags"),
    Column("plan_id", Integer, ForeignKey("plan.id"), nullable=False),
    _string("status", 36),
    _string("application_uri", 1024),
    _string("username", 256),
    _yaml("workflow", 1024),
    Column("image_id", Integer),
)

pipeline = Table(
    "pipeline", metadata,
    _id(),
    _uuid(),
    _created_at(),
    _updated_at(),
    _string("name", 100),
    _string("description", 255),
    _string("project_id", 36),
    _string("user_id", 36),
    _text("tags"),
    Column("plan_id", Integer, ForeignKey("plan.id"), nullable=False),
    _string("workbook_name", 255),
    _string("trigger_id", 36),
    _string("trust_id", 255),
)

execution = Table(
    "execution", metadata,
    _id(),
    _uuid(),
    Column("pipeline_id", Integer, ForeignKey("pipeline.id")),
    _created_at(),
    _updated_at(),
)

infrastructure_stack = Table(
    "infrastructure_stack", metadata,
    _id(),
    _uuid(),
    _created_at(),
    _updated_at(),
    _string("name", 100),
    _string("description", 255),
    _string("project_id", 36),
    _string("user_id", 36),
    _text("tags"),
    _string("image_id", 36, nullable=False),
    _string("heat_stack_id", 36),
)

component = Table(
    "component", metadata,
    _id(),
    _uuid(),
    _created_at(),
    _updated_at(),
    _string("name", 100),
    _string("component_type", 100),
    _string("description", 255),
    _string("project_id", 36),
    _string("user_id", 36),
    _text("tags"),
    Column("assembly_id", Integer, ForeignKey("assembly.id")),
    Column("parent_component_id", Integer, ForeignKey("component.id")),
    _string("resource_uri", 1024),
    _string("heat_stack_id", 36),
)

service = Table(
    "service", metadata,
    _id(),
    _uuid(),
    _created_at(),
    _updated_at(),
    _string("name", 100),
    _string("description", 255),
    _string("project_id", 36),
    _string("user_id", 36),
    _string("service_type", 100),
    Column("read_only", Integer, default=0),
    _text("tags"),
)

userlogs = Table(
    "userlogs", metadata,
    _id(),
    # NOT NULL, and updated_at defaults (not only on update) to now.
    _created_at(nullable=False),
    Column("updated_at", DateTime, nullable=False, default=_utcnow,
           onupdate=_utcnow),
    _string("resource_uuid", 36, nullable=False),
    _string("location", 255, nullable=False),
    _string("strategy", 255, nullable=False),
    _string("strategy_info", 1024, nullable=False),
    _string("project_id", 36),
    _string("resource_type", 36),
)

parameter = Table(
    "parameter", metadata,
    _id(),
    Column("plan_id", Integer, ForeignKey("plan.id"), nullable=False),
    _yaml("user_defined_params", 65535),
    _yaml("sys_defined_params", 65535),
    _created_at(),
    _updated_at(),
)

app = Table(
    "app", metadata,
    Column("id", String(36), primary_key=True),
    _created_at(),
    _updated_at(),
    _deleted(),
    _string("project_id", 36),
    _string("user_id", 36),
    _string("languagepack", 100, nullable=False),
    _string("stack_id", 36),
    _string("name", 100, nullable=False),
    _string("description", 255, nullable=False),
    _yaml("ports", 1024),
    _yaml("source", 1024),
    _yaml("workflow_config", 1024),
    _string("trigger_uuid", 36),
    _yaml("trigger_actions", 1024),
    _string("trust_id", 255),
    _string("trust_user", 256),
    _string("app_url", 1024),
    _string("status", 36),
    _yaml("raw_content", 2048),
    Column("scale_config", JSONEncodedDict(1024)),
)

workflow = Table(
    "workflow", metadata,
    Column("id", String(36), primary_key=True),
    _created_at(),
    _updated_at(),
    Column("deleted_at", DateTime, onupdate=_utcnow),
    _deleted(),
    _string("project_id", 36),
    _string("user_id", 36),
    _string("app_id", 36, nullable=False),
    Column("wf_id", Integer, nullable=False),
    _yaml("source", 1024),
    _yaml("config", 1024),
    _yaml("actions", 1024),
    _string("status", 36),
    Column("assembly", Integer),
    _text("result"),
    UniqueConstraint("app_id", "wf_id", name="app_id_wf_id"),
)


# Columns the chain adds with MySQL's ``AFTER`` (and SQLite's rebuild in
# place) but PostgreSQL appends: there they come last, in this order.
# (Columns added and dropped again, like assembly.trust_id, leave no trace
# in the order.)
_LAST_ON_POSTGRESQL = {
    "component": ("component_type", "heat_stack_id"),
}


# The migration lock's table (lock.py): the tool's, not Solum's. Declared
# in the same metadata because it is in every database ``upgrade head``
# leaves: a model-sync test (oslo.db's ModelsMigrationsSync) compares the
# whole database with this metadata. No revision creates it and the fast
# path does not either (:func:`solum_tables`): the lock does, from this
# declaration, on first use. The tool's own comparisons leave it out
# (compare.include_object): the original Solum made databases without it.
lock_table = Table(
    "solum_db_manage_lock", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("token", String(36)),
    Column("host", String(255)),
    Column("pid", Integer),
    Column("command", String(255)),
    Column("node", String(255)),
    Column("acquired_at", BigInteger),
    Column("expires_at", BigInteger),
    Column("state", String(16)),
    Column("detail", String(1024)),
    # Added since the first release of the table: the lock adds them to
    # an older one (lock_lease._ADDED_COLUMNS).
    Column("connections", String(255)),
    Column("lease", Integer),
    Column("renewed_at", BigInteger),
)


def solum_tables():
    """Solum's tables (all but the lock's), in dependency order."""
    return [table for table in metadata.sorted_tables
            if table is not lock_table]


def column_order(table, dialect_name):
    """The names of a table's columns in the order the chain leaves them."""
    names = [column.name for column in table.columns]
    last = _LAST_ON_POSTGRESQL.get(table.name, ()) if (
        dialect_name == "postgresql") else ()
    return [name for name in names if name not in last] + list(last)


def _chain_column(column):
    """CREATE TABLE's part for a YAML/JSON column, with the chain's DDL
    type TEXT(n) (coltypes.text), which the models may name otherwise on
    MySQL (what the server makes of it: see coltypes.EncodedText)."""
    stand_in = Column(column.name, text(column.type.length),
                      nullable=column.nullable)
    Table(column.table.name, MetaData(), stand_in)   # to compile
    return CreateColumn(stand_in)


def create_statements(dialect_name):
    """CREATE TABLE of every Solum table, as the chain's DDL has them.

    In dependency order, unnamed foreign keys inline, each table's columns
    in the dialect's order (:func:`column_order`).
    """
    statements = []
    for table in solum_tables():
        create = CreateTable(table)
        by_name = {column.element.name: (
            _chain_column(column.element)
            if isinstance(column.element.type, EncodedText) else column)
            for column in create.columns}
        create.columns = [by_name[name]
                          for name in column_order(table, dialect_name)]
        statements.append(create)
    return statements
