"""The head schema as SQLAlchemy models: what ``upgrade head`` creates.

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
from the models (the fresh-install fast path) is the chain's, column order
included.
"""

import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, mapped_column
from sqlalchemy.schema import CreateTable

from solum_db_manage.types import JSONEncodedDict, YAMLEncodedDict


def _utcnow():
    """Naive UTC now, as oslo.utils' timeutils.utcnow() gave Solum."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


# Column factories, so each table lists its columns in database order.

def _id():
    return mapped_column(Integer, primary_key=True)


def _uuid():
    return mapped_column(String(36), nullable=False)


def _created_at(nullable=True):
    return mapped_column(DateTime, nullable=nullable, default=_utcnow)


def _updated_at():
    return mapped_column(DateTime, onupdate=_utcnow)


def _string(length, nullable=True):
    return mapped_column(String(length), nullable=nullable)


def _yaml(length):
    return mapped_column(YAMLEncodedDict(length))


def _deleted():
    return mapped_column(Boolean, nullable=False, default=False)


class Sensor(Base):
    __tablename__ = "sensor"

    id = _id()
    uuid = _uuid()
    created_at = _created_at()
    updated_at = _updated_at()
    project_id = _string(36)
    user_id = _string(36)
    name = _string(255)
    sensor_type = _string(255)
    value = _string(255)
    timestamp = mapped_column(DateTime)
    description = _string(255)
    documentation = _string(255)
    target_resource = _string(255)


class Operation(Base):
    __tablename__ = "operation"

    id = _id()
    uuid = _uuid()
    created_at = _created_at()
    updated_at = _updated_at()
    name = _string(100)
    description = _string(255)
    project_id = _string(36)
    user_id = _string(36)
    tags = mapped_column(Text)
    documentation = mapped_column(Text)
    target_resource = mapped_column(Text)


class Image(Base):
    __tablename__ = "image"

    id = _id()
    uuid = _uuid()
    created_at = _created_at()
    updated_at = _updated_at()
    name = _string(100)
    description = _string(255)
    source_uri = _string(1024)
    project_id = _string(36)
    user_id = _string(36)
    tags = mapped_column(Text)
    status = _string(36)
    base_image_id = _string(100)
    created_image_id = _string(36)
    image_format = _string(12)
    source_format = _string(36)
    artifact_type = _string(36)
    external_ref = _string(1024)
    docker_image_name = _string(512)


class Extension(Base):
    __tablename__ = "extension"

    id = _id()
    uuid = _uuid()
    created_at = _created_at()
    updated_at = _updated_at()
    project_id = _string(36)
    user_id = _string(36)
    description = _string(255)
    name = _string(100)
    version = _string(16)
    documentation = _string(255)


class Plan(Base):
    __tablename__ = "plan"

    id = _id()
    uuid = _uuid()
    created_at = _created_at()
    updated_at = _updated_at()
    project_id = _string(36)
    user_id = _string(36)
    raw_content = _yaml(2048)
    description = _string(255)
    name = _string(255)
    trigger_id = _string(36)
    trust_id = _string(255)
    username = _string(256)


class Assembly(Base):
    __tablename__ = "assembly"

    id = _id()
    uuid = _uuid()
    created_at = _created_at()
    updated_at = _updated_at()
    name = _string(100)
    description = _string(255)
    project_id = _string(36)
    user_id = _string(36)
    tags = mapped_column(Text)
    plan_id = mapped_column(Integer, ForeignKey("plan.id"), nullable=False)
    status = _string(36)
    application_uri = _string(1024)
    username = _string(256)
    workflow = _yaml(1024)
    image_id = mapped_column(Integer)


class Pipeline(Base):
    __tablename__ = "pipeline"

    id = _id()
    uuid = _uuid()
    created_at = _created_at()
    updated_at = _updated_at()
    name = _string(100)
    description = _string(255)
    project_id = _string(36)
    user_id = _string(36)
    tags = mapped_column(Text)
    plan_id = mapped_column(Integer, ForeignKey("plan.id"), nullable=False)
    workbook_name = _string(255)
    trigger_id = _string(36)
    trust_id = _string(255)


class Execution(Base):
    __tablename__ = "execution"

    id = _id()
    uuid = _uuid()
    pipeline_id = mapped_column(Integer, ForeignKey("pipeline.id"))
    created_at = _created_at()
    updated_at = _updated_at()


class InfrastructureStack(Base):
    __tablename__ = "infrastructure_stack"

    id = _id()
    uuid = _uuid()
    created_at = _created_at()
    updated_at = _updated_at()
    name = _string(100)
    description = _string(255)
    project_id = _string(36)
    user_id = _string(36)
    tags = mapped_column(Text)
    image_id = _string(36, nullable=False)
    heat_stack_id = _string(36)


class Component(Base):
    __tablename__ = "component"

    id = _id()
    uuid = _uuid()
    created_at = _created_at()
    updated_at = _updated_at()
    name = _string(100)
    component_type = _string(100)
    description = _string(255)
    project_id = _string(36)
    user_id = _string(36)
    tags = mapped_column(Text)
    assembly_id = mapped_column(Integer, ForeignKey("assembly.id"))
    parent_component_id = mapped_column(Integer, ForeignKey("component.id"))
    resource_uri = _string(1024)
    heat_stack_id = _string(36)


class Service(Base):
    __tablename__ = "service"

    id = _id()
    uuid = _uuid()
    created_at = _created_at()
    updated_at = _updated_at()
    name = _string(100)
    description = _string(255)
    project_id = _string(36)
    user_id = _string(36)
    service_type = _string(100)
    read_only = mapped_column(Integer, default=0)
    tags = mapped_column(Text)


class UserLog(Base):
    __tablename__ = "userlogs"

    id = _id()
    # NOT NULL, and updated_at defaults (not only on update) to now.
    created_at = _created_at(nullable=False)
    updated_at = mapped_column(
        DateTime, nullable=False, default=_utcnow, onupdate=_utcnow)
    resource_uuid = _string(36, nullable=False)
    location = _string(255, nullable=False)
    strategy = _string(255, nullable=False)
    strategy_info = _string(1024, nullable=False)
    project_id = _string(36)
    resource_type = _string(36)


class Parameter(Base):
    __tablename__ = "parameter"

    id = _id()
    plan_id = mapped_column(Integer, ForeignKey("plan.id"), nullable=False)
    user_defined_params = _yaml(65535)
    sys_defined_params = _yaml(65535)
    created_at = _created_at()
    updated_at = _updated_at()


class App(Base):
    __tablename__ = "app"

    id = mapped_column(String(36), primary_key=True)
    created_at = _created_at()
    updated_at = _updated_at()
    deleted = _deleted()
    project_id = _string(36)
    user_id = _string(36)
    languagepack = _string(100, nullable=False)
    stack_id = _string(36)
    name = _string(100, nullable=False)
    description = _string(255, nullable=False)
    ports = _yaml(1024)
    source = _yaml(1024)
    workflow_config = _yaml(1024)
    trigger_uuid = _string(36)
    trigger_actions = _yaml(1024)
    trust_id = _string(255)
    trust_user = _string(256)
    app_url = _string(1024)
    status = _string(36)
    raw_content = _yaml(2048)
    scale_config = mapped_column(JSONEncodedDict(1024))


class Workflow(Base):
    __tablename__ = "workflow"
    __table_args__ = (
        UniqueConstraint("app_id", "wf_id", name="app_id_wf_id"),
    )

    id = mapped_column(String(36), primary_key=True)
    created_at = _created_at()
    updated_at = _updated_at()
    deleted_at = mapped_column(DateTime, onupdate=_utcnow)
    deleted = _deleted()
    project_id = _string(36)
    user_id = _string(36)
    app_id = _string(36, nullable=False)
    wf_id = mapped_column(Integer, nullable=False)
    source = _yaml(1024)
    config = _yaml(1024)
    actions = _yaml(1024)
    status = _string(36)
    assembly = mapped_column(Integer)
    result = mapped_column(Text)


# Columns the chain adds with MySQL's ``AFTER`` (and SQLite's rebuild in
# place) but PostgreSQL appends: there they come last, in this order.
# (Columns added and dropped again, like assembly.trust_id, leave no trace
# in the order.)
_LAST_ON_POSTGRESQL = {
    "component": ("component_type", "heat_stack_id"),
}


def column_order(table, dialect_name):
    """The names of a table's columns in the order the chain leaves them."""
    names = [column.name for column in table.columns]
    last = _LAST_ON_POSTGRESQL.get(table.name, ()) if (
        dialect_name == "postgresql") else ()
    return [name for name in names if name not in last] + list(last)


def create_statements(dialect_name):
    """CREATE TABLE of every table, as ``create_all`` issues them.

    In dependency order, unnamed foreign keys inline, each table's columns
    in the dialect's order (:func:`column_order`).
    """
    statements = []
    for table in Base.metadata.sorted_tables:
        create = CreateTable(table)
        by_name = {column.element.name: column for column in create.columns}
        create.columns = [by_name[name]
                          for name in column_order(table, dialect_name)]
        statements.append(create)
    return statements
