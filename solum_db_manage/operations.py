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

"""What each migration step does to the schema, declared by revision.

As dataloss.py declares what each step destroys, this module declares
the operations each step's upgrade and downgrade run, in order, with the
conditions the scripts test on the live schema ("only where missing"):
what ``upgrade --plan`` (forecast.py) reports, and what server_rules.py
decides each backend's way of carrying out. The declarations are data;
tests/test_forecast_rewrites.py checks them against what each step really
does on every backend.

Each operation works on a :class:`SimSchema`: the live schema read once,
then changed by every operation the plan has declared before it, so that
a step's conditions are asked of the schema the step will find.
"""

import dataclasses

UPGRADE = "upgrade"
DOWNGRADE = "downgrade"


# --- the schema a step will find ------------------------------------------

@dataclasses.dataclass
class Column:
    name: str
    kind: str               # "varchar", "text" or "other"
    length: int | None = None
    nullable: bool = True


@dataclasses.dataclass
class Table:
    name: str
    columns: list = dataclasses.field(default_factory=list)   # of Column
    uniques: set = dataclasses.field(default_factory=set)     # names
    rows: int = 0
    rows_exact: bool = True
    created: bool = False   # by an earlier step of the plan: empty

    def column(self, name):
        for column in self.columns:
            if column.name == name:
                return column
        return None

    def position(self, name):
        names = [column.name for column in self.columns]
        return names.index(name) if name in names else None


class SimSchema:
    """Tables by name; what the plan's earlier operations left."""

    def __init__(self, tables=()):
        self.tables = {table.name: table for table in tables}

    def table(self, name):
        return self.tables.get(name)

    def has_column(self, table, column):
        found = self.table(table)
        return found is not None and found.column(column) is not None


# --- the operations -------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Type:
    """A declared column type: VARCHAR(n), TEXT(n) or another kind."""

    kind: str
    length: int | None = None

    def __str__(self):
        name = {"varchar": "VARCHAR", "text": "TEXT"}.get(self.kind,
                                                          self.kind.upper())
        return f"{name}({self.length})" if self.length else name


def varchar(length):
    return Type("varchar", length)


def text(length=None):
    return Type("text", length)


OTHER = Type("other")
INTEGER = Type("integer")


@dataclasses.dataclass(frozen=True)
class Op:
    """One operation on one table; subclasses say which."""

    table: str

    kind = ""

    def applies(self, schema):
        """True where the step runs it on this schema (its condition)."""
        return True

    def apply(self, schema):
        """Change ``schema`` as the operation changes the database."""

    def words(self):
        return ""


@dataclasses.dataclass(frozen=True)
class CreateTable(Op):
    columns: tuple = ()     # (name, Type, nullable)
    foreign_keys: tuple = ()    # (column, "table.column")
    kind = "create_table"

    def applies(self, schema):
        return schema.table(self.table) is None

    def apply(self, schema):
        schema.tables[self.table] = Table(
            self.table, [Column(name, type_.kind, type_.length, nullable)
                         for name, type_, nullable in self.columns],
            created=True)

    def words(self):
        return f"create table {self.table}"


@dataclasses.dataclass(frozen=True)
class DropTable(Op):
    kind = "drop_table"

    def applies(self, schema):
        return schema.table(self.table) is not None

    def apply(self, schema):
        schema.tables.pop(self.table, None)

    def words(self):
        return f"drop table {self.table}"


@dataclasses.dataclass(frozen=True)
class AddColumns(Op):
    """Columns added (nullable, no default), each after a named column
    (None: at the end). Only the missing ones are added."""

    columns: tuple = ()     # (name, Type, after)
    kind = "add_column"

    def missing(self, schema):
        return [(name, type_, after) for name, type_, after in self.columns
                if not schema.has_column(self.table, name)]

    def applies(self, schema):
        return schema.table(self.table) is not None and bool(
            self.missing(schema))

    def positioned(self, schema):
        return any(after for _, _, after in self.missing(schema))

    def apply(self, schema):
        table = schema.table(self.table)
        for name, type_, after in self.missing(schema):
            column = Column(name, type_.kind, type_.length)
            at = table.position(after) if after else None
            if at is None:
                table.columns.append(column)
            else:
                table.columns.insert(at + 1, column)

    def words(self):
        return f"add to {self.table}: " + ", ".join(
            f"{name} {type_}" + (f" after {after}" if after else "")
            for name, type_, after in self.columns)


@dataclasses.dataclass(frozen=True)
class DropColumns(Op):
    columns: tuple = ()
    kind = "drop_column"

    def present(self, schema):
        return [name for name in self.columns
                if schema.has_column(self.table, name)]

    def applies(self, schema):
        return bool(self.present(schema))

    def apply(self, schema):
        table = schema.table(self.table)
        table.columns = [column for column in table.columns
                         if column.name not in self.columns]

    def words(self):
        return f"drop from {self.table}: " + ", ".join(self.columns)


@dataclasses.dataclass(frozen=True)
class RenameColumn(Op):
    """A rename, with the type the step restates (MySQL's CHANGE), or
    that it gives the column at the same time (``to_type``)."""

    column: str = ""
    new_name: str = ""
    to_type: Type | None = None
    nullable: bool = True
    # The type MySQL's CHANGE restates where ``to_type`` is None (the
    # script's existing_type): what the column becomes there.
    restates: Type | None = None
    kind = "rename_column"

    def applies(self, schema):
        return schema.has_column(self.table, self.column)

    def apply(self, schema):
        column = schema.table(self.table).column(self.column)
        column.name = self.new_name
        if self.to_type is not None:
            column.kind, column.length = self.to_type.kind, self.to_type.length
        column.nullable = self.nullable

    def words(self):
        retyped = f" as {self.to_type}" if self.to_type else ""
        return (f"rename {self.table}.{self.column} to "
                f"{self.new_name}{retyped}")


@dataclasses.dataclass(frozen=True)
class ChangeType(Op):
    """A column's type changed; values a narrower VARCHAR cannot hold are
    cut first where the command accepted that (dataloss.Narrow). ``when``
    is the step's condition on the live column's type: "shorter" (only
    where it holds fewer than the new length), "longer", "not_text" or
    "text"; None: always."""

    column: str = ""
    to_type: Type = OTHER
    when: str | None = None
    kind = "change_type"

    def applies(self, schema):
        table = schema.table(self.table)
        column = table and table.column(self.column)
        if column is None:
            return False
        length = column.length or 0
        return {
            None: True,
            "shorter": column.kind != "text"
            and length < (self.to_type.length or 0),
            "longer": column.kind == "text"
            or length > (self.to_type.length or 0),
            "not_text": column.kind != "text",
            "text": column.kind == "text",
        }[self.when]

    def apply(self, schema):
        column = schema.table(self.table).column(self.column)
        column.kind, column.length = self.to_type.kind, self.to_type.length

    def words(self):
        return f"change {self.table}.{self.column} to {self.to_type}"


@dataclasses.dataclass(frozen=True)
class AddUnique(Op):
    name: str = ""
    columns: tuple = ()
    kind = "add_unique"

    def applies(self, schema):
        table = schema.table(self.table)
        return table is not None and self.name not in table.uniques

    def apply(self, schema):
        schema.table(self.table).uniques.add(self.name)

    def words(self):
        return (f"add unique constraint {self.name} on {self.table} "
                f"({', '.join(self.columns)})")


@dataclasses.dataclass(frozen=True)
class DropUnique(Op):
    name: str = ""
    kind = "drop_unique"

    def applies(self, schema):
        table = schema.table(self.table)
        return table is not None and self.name in table.uniques

    def apply(self, schema):
        schema.table(self.table).uniques.discard(self.name)

    def words(self):
        return f"drop unique constraint {self.name} on {self.table}"


@dataclasses.dataclass(frozen=True)
class DropCheck(Op):
    """forms.py: the unnamed CHECK SQLAlchemy 1.3 gave a Boolean."""

    name: str = ""
    kind = "drop_check"

    def words(self):
        return f"drop the CHECK (deleted IN (0, 1)) of {self.table}"


@dataclasses.dataclass(frozen=True)
class MoveData(Op):
    """An UPDATE of ``table`` from ``source`` (rows written, not a
    rebuild), while ``needs`` (a column of ``source``) is there."""

    source: str = ""
    needs: str = ""
    description: str = ""
    kind = "update"

    def applies(self, schema):
        return schema.has_column(self.source, self.needs)

    def words(self):
        return self.description


@dataclasses.dataclass(frozen=True)
class VersionKey(Op):
    """498adc6185ae gives a 2014 alembic_version its primary key."""

    kind = "version_key"

    def applies(self, schema):
        table = schema.table(self.table)
        return table is not None and "primary key" not in table.uniques

    def apply(self, schema):
        schema.table(self.table).uniques.add("primary key")

    def words(self):
        return f"add the primary key of {self.table}"


# --- the declarations, revision by revision, base to head -----------------

def _column(table, column, type_):
    """A revision that adds one column at the end, and drops it again."""
    return {UPGRADE: (AddColumns(table, ((column, type_, None),)),),
            DOWNGRADE: (DropColumns(table, (column,)),)}


_S36, _S255 = varchar(36), varchar(255)


def _common():
    return (("id", OTHER, False), ("uuid", _S36, False),
            ("created_at", OTHER, True), ("updated_at", OTHER, True))


def _table(name, *columns, foreign_keys=()):
    return CreateTable(name, _common() + tuple(
        (column, type_, True) for column, type_ in columns), foreign_keys)


# Created tables list the columns later declarations ask about.
_ICEHOUSE = (
    _table("sensor"), _table("operation"),
    _table("image", ("state", varchar(12)), ("base_image_id", _S36),
           ("source_format", varchar(12))),
    _table("extension"), _table("plan", ("raw_content", varchar(2048))),
    _table("assembly", ("plan_id", OTHER), ("status", _S36),
           ("trigger_id", _S36), foreign_keys=(("plan_id", "plan.id"),)),
    _table("component", ("name", varchar(100)),
           foreign_keys=(("assembly_id", "assembly.id"),
                                      ("parent_component_id",
                                       "component.id"))),
    _table("service"),
)

_TRIGGER_MOVE = ("copy each plan's newest triggered assembly's trigger_id, "
                 "trust_id and username to the plan (one UPDATE)")
_TRIGGER_BACK = ("give each plan's trigger_id and trust_id (and username, "
                 "where it has none) to its newest assembly (one UPDATE)")

DECLARATIONS = {
    "icehouse": {
        UPGRADE: _ICEHOUSE,
        DOWNGRADE: tuple(DropTable(table) for table in (
            "service", "component", "assembly", "plan", "extension",
            "image", "operation", "sensor")),
    },
    "498adc6185ae": {
        UPGRADE: (
            VersionKey("alembic_version"),
            ChangeType("image", "source_format", varchar(36), "shorter"),
            ChangeType("plan", "raw_content", text(2048), "not_text"),
            AddColumns("assembly", (("trust_id", _S255, "trigger_id"),)),
            AddColumns("component", (
                ("component_type", varchar(100), "name"),
                ("heat_stack_id", _S36, None))),
            AddColumns("plan", (("deploy_keys_uri", varchar(1024), None),)),
            _table("pipeline", foreign_keys=(("plan_id", "plan.id"),)),
            _table("execution", foreign_keys=(("pipeline_id",
                                               "pipeline.id"),)),
            _table("infrastructure_stack"),
        ),
        DOWNGRADE: (
            DropTable("execution"), DropTable("pipeline"),
            DropTable("infrastructure_stack"),
            DropColumns("plan", ("deploy_keys_uri",)),
            DropColumns("component", ("component_type", "heat_stack_id")),
            DropColumns("assembly", ("trust_id",)),
            ChangeType("plan", "raw_content", varchar(2048), "text"),
            ChangeType("image", "source_format", varchar(12), "longer"),
        ),
    },
    "450600086a09": {UPGRADE: (CreateTable("userlogs", (
        ("assembly_uuid", _S36, False),)),),
                     DOWNGRADE: (DropTable("userlogs"),)},
    "3a615b3b2eae": _column("image", "artifact_type", _S36),
    "586c15b92842": {
        UPGRADE: (CreateTable("parameter",
                              foreign_keys=(("plan_id", "plan.id"),)),),
        DOWNGRADE: (DropTable("parameter"),)},
    "269f9da4b38e": _column("assembly", "username", varchar(256)),
    "438cd6d1c655": _column("userlogs", "project_id", _S36),
    "27dff58cbc65": {
        UPGRADE: (DropColumns("plan", ("deploy_keys_uri",)),),
        DOWNGRADE: (AddColumns("plan", (("deploy_keys_uri", varchar(1024),
                                         None),)),)},
    "2c058b5051e4": _column("image", "external_ref", varchar(1024)),
    "176c26131889": {
        UPGRADE: (RenameColumn("userlogs", "assembly_uuid", "resource_uuid",
                               nullable=False, restates=_S36),
                  AddColumns("userlogs", (("resource_type", _S36, None),))),
        DOWNGRADE: (RenameColumn("userlogs", "resource_uuid",
                                 "assembly_uuid", nullable=False,
                                 restates=_S36),
                    DropColumns("userlogs", ("resource_type",)))},
    "2f15f41cd87f": _column("assembly", "workflow", text(1024)),
    "1f57763d7871": {
        UPGRADE: (RenameColumn("image", "state", "status", _S36),
                  ChangeType("image", "status", _S36, "shorter")),
        DOWNGRADE: (RenameColumn("image", "status", "state", varchar(12)),
                    ChangeType("image", "state", varchar(12), "longer")),
    },
    "5583c6e70156": {
        UPGRADE: (
            AddColumns("plan", (("trigger_id", _S36, None),
                                ("trust_id", _S255, None),
                                ("username", varchar(256), None))),
            MoveData("plan", "assembly", "trigger_id", _TRIGGER_MOVE),
            DropColumns("assembly", ("trigger_id", "trust_id")),
        ),
        DOWNGRADE: (
            AddColumns("assembly", (("trigger_id", _S36, "status"),
                                    ("trust_id", _S255, "trigger_id"))),
            MoveData("assembly", "plan", "trigger_id", _TRIGGER_BACK),
            DropColumns("plan", ("trigger_id", "trust_id", "username")),
        ),
    },
    "452f34e8ea3": _column("image", "docker_image_name", varchar(512)),
    "1393c21ea82c": _column("assembly", "image_id", INTEGER),
    "40df542e345": {UPGRADE: (CreateTable("app"),),
                    DOWNGRADE: (DropTable("app"),)},
    "43df309dbf3f": {
        UPGRADE: (ChangeType("image", "base_image_id", varchar(100)),),
        DOWNGRADE: (ChangeType("image", "base_image_id", _S36),)},
    "390c6c4aa97b": {UPGRADE: (CreateTable("workflow", (
        ("app_id", _S36, False), ("wf_id", OTHER, False))),),
                     DOWNGRADE: (DropTable("workflow"),)},
    "112cfe038dd3": {
        UPGRADE: (AddColumns("app", (("app_url", varchar(1024), None),
                                     ("status", _S36, None))),),
        DOWNGRADE: (DropColumns("app", ("app_url", "status")),)},
    "e5f2e8af3b8": {
        UPGRADE: (AddUnique("workflow", "app_id_wf_id", ("app_id", "wf_id")),),
        DOWNGRADE: (DropUnique("workflow", "app_id_wf_id"),)},
    "2e825c2c80c7": _column("app", "raw_content", text(2048)),
    "272e7cd352f9": _column("workflow", "result", text()),
    "a271b35952be": _column("app", "scale_config", text(1024)),
}


def normalising(differences):
    """The operations forms.normalise runs for its Differences, before
    any revision of an upgrade."""
    ops = []
    for difference in differences:
        if difference.kind == "status":
            ops.append(ChangeType("image", "status", _S36, "shorter"))
        elif difference.kind == "check":
            ops.append(DropCheck(difference.table, difference.name))
        elif difference.kind == "version_key":
            ops.append(VersionKey(difference.table))
    return tuple(ops)


def declared(revision, direction):
    """The operations of a revision's upgrade or downgrade, in order."""
    return DECLARATIONS.get(revision, {}).get(direction, ())
