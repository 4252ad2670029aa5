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

"""The head schema as SQLAlchemy ORM models, mapped onto tables.py.

The schema itself (columns, types, defaults, constraints, column order,
and where it follows the migrations rather than Solum's own models) is
defined once, as Core tables in :mod:`solum_db_manage.tables`; each class
here maps one of those tables, and ``Base.metadata`` is
``tables.metadata``. The fresh-install fast path uses the tables alone:
importing the ORM costs more than building the schema. These classes
serve sessions (tests) and whoever wants objects rather than rows.
"""

from sqlalchemy.orm import DeclarativeBase

from solum_db_manage import tables
from solum_db_manage.tables import column_order, create_statements

__all__ = [
    "App", "Assembly", "Base", "Component", "Execution", "Extension",
    "Image", "InfrastructureStack", "Operation", "Parameter", "Pipeline",
    "Plan", "Sensor", "Service", "UserLog", "Workflow", "column_order",
    "create_statements",
]


class Base(DeclarativeBase):
    metadata = tables.metadata


class Sensor(Base):
    __table__ = tables.sensor


class Operation(Base):
    __table__ = tables.operation


class Image(Base):
    __table__ = tables.image


class Extension(Base):
    __table__ = tables.extension


class Plan(Base):
    __table__ = tables.plan


class Assembly(Base):
    __table__ = tables.assembly


class Pipeline(Base):
    __table__ = tables.pipeline


class Execution(Base):
    __table__ = tables.execution


class InfrastructureStack(Base):
    __table__ = tables.infrastructure_stack


class Component(Base):
    __table__ = tables.component


class Service(Base):
    __table__ = tables.service


class UserLog(Base):
    __table__ = tables.userlogs


class Parameter(Base):
    __table__ = tables.parameter


class App(Base):
    __table__ = tables.app


class Workflow(Base):
    __table__ = tables.workflow
