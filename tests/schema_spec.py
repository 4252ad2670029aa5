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

"""The schema expected after every revision, as data.

Written from SOLUM_SCHEMA_FACTS.md (sections 1, 2 and 6) and the design
decisions of this rebuild, independently of the migrations it checks:
the root ``icehouse`` creates the 2014.1.0 schema; ``498adc6185ae``
completes it to the original's final form, in the original's column order;
every later revision is the original's, except that ``1f57763d7871``
makes image.status VARCHAR(36) on every backend (the original did so on
MySQL only) and every downgrade gives back the schema of the revision
below.

The spec speaks MariaDB 10.11 on a utf8mb4 database: column types are
information_schema COLUMN_TYPE strings and foreign keys carry the names
InnoDB gives unnamed inline foreign keys (``<table>_ibfk_<n>``, numbered
in the order of the CREATE TABLE). :func:`expected` projects it onto
SQLite and PostgreSQL, in the form ``dbutil.snapshot`` returns.
"""

import dataclasses

INT = "int(11)"
DATETIME = "datetime"
TEXT = "text"
BOOLEAN = "tinyint(1)"

# MySQL renders TEXT(n) as the smallest TEXT type holding n characters;
# with utf8mb4 (4 bytes a character) TEXT holds 65535 // 4 of them.
_TEXT_CHARACTERS = 65535 // 4


def varchar(length):
    return f"varchar({length})"


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True
    # The declared n of a YAML/JSON column (TEXT(n)); SQLite keeps it.
    text_length: int | None = None


def column(name, type_, nullable=True):
    return Column(name, type_, nullable)


def not_null(name, type_):
    return Column(name, type_, nullable=False)


def yaml_text(name, length, nullable=True):
    """A YAMLEncodedDict(n) or JSONEncodedDict(n) column: TEXT(n)."""
    mysql_type = "text" if length <= _TEXT_CHARACTERS else "mediumtext"
    return Column(name, mysql_type, nullable, length)


@dataclasses.dataclass(frozen=True)
class ForeignKey:
    name: str  # as MySQL names it; the other backends reflect no name
    column: str
    referred_table: str  # always to the referred table's id


@dataclasses.dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    unique: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # The primary key is "id" on every table.

    def names(self):
        return [c.name for c in self.columns]

    def index_of(self, name):
        return self.names().index(name)


# --- the operations a revision's delta is made of -------------------------


@dataclasses.dataclass(frozen=True)
class CreateTable:
    table: str
    columns: tuple[Column, ...]
    references: tuple[tuple[str, str], ...] = ()  # (column, table), in order

    def apply(self, schema):
        assert self.table not in schema, self.table
        fks = tuple(
            ForeignKey(f"{self.table}_ibfk_{n}", col, referred)
            for n, (col, referred) in enumerate(self.references, 1))
        schema[self.table] = Table(tuple(self.columns), fks)


@dataclasses.dataclass(frozen=True)
class AddColumn:
    table: str
    column: Column
    after: str | None = None  # None: at the end

    def apply(self, schema):
        table = schema[self.table]
        columns = list(table.columns)
        assert self.column.name not in table.names(), self.column
        position = (len(columns) if self.after is None
                    else table.index_of(self.after) + 1)
        columns.insert(position, self.column)
        schema[self.table] = dataclasses.replace(
            table, columns=tuple(columns))


@dataclasses.dataclass(frozen=True)
class DropColumn:
    table: str
    name: str

    def apply(self, schema):
        table = schema[self.table]
        schema[self.table] = dataclasses.replace(table, columns=tuple(
            c for c in table.columns if c.name != self.name))
        assert len(schema[self.table].columns) == len(table.columns) - 1


@dataclasses.dataclass(frozen=True)
class ChangeColumn:
    """Rename a column in place, or change its type, or both."""

    table: str
    name: str
    column: Column

    def apply(self, schema):
        table = schema[self.table]
        columns = list(table.columns)
        columns[table.index_of(self.name)] = self.column
        schema[self.table] = dataclasses.replace(
            table, columns=tuple(columns))


@dataclasses.dataclass(frozen=True)
class AddUnique:
    table: str
    name: str
    columns: tuple[str, ...]

    def apply(self, schema):
        table = schema[self.table]
        schema[self.table] = dataclasses.replace(
            table, unique=table.unique + ((self.name, self.columns),))


# --- the chain --------------------------------------------------------------

ID = not_null("id", INT)
UUID = not_null("uuid", varchar(36))
CREATED_AT = column("created_at", DATETIME)
UPDATED_AT = column("updated_at", DATETIME)
COMMON = (ID, UUID, CREATED_AT, UPDATED_AT)
PROJECT_USER = (column("project_id", varchar(36)),
                column("user_id", varchar(36)))

# Section 6: the Icehouse (2014.1.0) form of 498adc6185ae, 8 tables in
# creation order.
ICEHOUSE = (
    CreateTable("sensor", COMMON + PROJECT_USER + (
        column("name", varchar(255)),
        column("sensor_type", varchar(255)),
        column("value", varchar(255)),
        column("timestamp", DATETIME),
        column("description", varchar(255)),
        column("documentation", varchar(255)),
        column("target_resource", varchar(255)),
    )),
    CreateTable("operation", COMMON + (
        column("name", varchar(100)),
        column("description", varchar(255)),
    ) + PROJECT_USER + (
        column("tags", TEXT),
        column("documentation", TEXT),
        column("target_resource", TEXT),
    )),
    CreateTable("image", COMMON + (
        column("name", varchar(100)),
        column("description", varchar(255)),
        column("source_uri", varchar(1024)),
    ) + PROJECT_USER + (
        column("tags", TEXT),
        column("state", varchar(12)),
        column("base_image_id", varchar(36)),
        column("created_image_id", varchar(36)),
        column("image_format", varchar(12)),
        column("source_format", varchar(12)),
    )),
    CreateTable("extension", COMMON + PROJECT_USER + (
        column("description", varchar(255)),
        column("name", varchar(100)),
        column("version", varchar(16)),
        column("documentation", varchar(255)),
    )),
    # raw_content was VARCHAR-based until 2014-10-28 (section 6).
    CreateTable("plan", COMMON + PROJECT_USER + (
        column("raw_content", varchar(2048)),
        column("description", varchar(255)),
        column("name", varchar(255)),
    )),
    CreateTable("assembly", COMMON + (
        column("name", varchar(100)),
        column("description", varchar(255)),
    ) + PROJECT_USER + (
        column("tags", TEXT),
        not_null("plan_id", INT),
        column("status", varchar(36)),
        column("trigger_id", varchar(36)),
        column("application_uri", varchar(1024)),
    ), references=(("plan_id", "plan"),)),
    CreateTable("component", COMMON + (
        column("name", varchar(100)),
        column("description", varchar(255)),
    ) + PROJECT_USER + (
        column("tags", TEXT),
        column("assembly_id", INT),
        column("parent_component_id", INT),
        column("resource_uri", varchar(1024)),
    ), references=(("assembly_id", "assembly"),
                   ("parent_component_id", "component"))),
    CreateTable("service", COMMON + (
        column("name", varchar(100)),
        column("description", varchar(255)),
    ) + PROJECT_USER + (
        column("service_type", varchar(100)),
        column("read_only", INT),
        column("tags", TEXT),
    )),
)

# Section 2.1 versus section 6: what 498adc6185ae's final form has more.
COMPLETE_ICEHOUSE = (
    ChangeColumn("image", "source_format",
                 column("source_format", varchar(36))),
    ChangeColumn("plan", "raw_content", yaml_text("raw_content", 2048)),
    AddColumn("plan", column("deploy_keys_uri", varchar(1024))),
    AddColumn("assembly", column("trust_id", varchar(255)),
              after="trigger_id"),
    AddColumn("component", column("component_type", varchar(100)),
              after="name"),
    AddColumn("component", column("heat_stack_id", varchar(36))),
    CreateTable("pipeline", COMMON + (
        column("name", varchar(100)),
        column("description", varchar(255)),
    ) + PROJECT_USER + (
        column("tags", TEXT),
        not_null("plan_id", INT),
        column("workbook_name", varchar(255)),
        column("trigger_id", varchar(36)),
        column("trust_id", varchar(255)),
    ), references=(("plan_id", "plan"),)),
    CreateTable("execution", (
        ID, UUID, column("pipeline_id", INT), CREATED_AT, UPDATED_AT,
    ), references=(("pipeline_id", "pipeline"),)),
    CreateTable("infrastructure_stack", COMMON + (
        column("name", varchar(100)),
        column("description", varchar(255)),
    ) + PROJECT_USER + (
        column("tags", TEXT),
        not_null("image_id", varchar(36)),
        column("heat_stack_id", varchar(36)),
    )),
)

# (revision, down_revision, delta), base to head.
CHAIN = (
    ("icehouse", None, ICEHOUSE),
    ("498adc6185ae", "icehouse", COMPLETE_ICEHOUSE),
    ("450600086a09", "498adc6185ae", (
        CreateTable("userlogs", (
            ID,
            not_null("created_at", DATETIME),
            not_null("updated_at", DATETIME),
            not_null("assembly_uuid", varchar(36)),
            not_null("location", varchar(255)),
            not_null("strategy", varchar(255)),
            not_null("strategy_info", varchar(1024)),
        )),
    )),
    ("3a615b3b2eae", "450600086a09", (
        AddColumn("image", column("artifact_type", varchar(36))),
    )),
    ("586c15b92842", "3a615b3b2eae", (
        CreateTable("parameter", (
            ID,
            not_null("plan_id", INT),
            yaml_text("user_defined_params", 65535),
            yaml_text("sys_defined_params", 65535),
            CREATED_AT,
            UPDATED_AT,
        ), references=(("plan_id", "plan"),)),
    )),
    ("269f9da4b38e", "586c15b92842", (
        AddColumn("assembly", column("username", varchar(256))),
    )),
    ("438cd6d1c655", "269f9da4b38e", (
        AddColumn("userlogs", column("project_id", varchar(36))),
    )),
    ("27dff58cbc65", "438cd6d1c655", (
        DropColumn("plan", "deploy_keys_uri"),
    )),
    ("2c058b5051e4", "27dff58cbc65", (
        AddColumn("image", column("external_ref", varchar(1024))),
    )),
    ("176c26131889", "2c058b5051e4", (
        ChangeColumn("userlogs", "assembly_uuid",
                     not_null("resource_uuid", varchar(36))),
        AddColumn("userlogs", column("resource_type", varchar(36))),
    )),
    ("2f15f41cd87f", "176c26131889", (
        AddColumn("assembly", yaml_text("workflow", 1024)),
    )),
    # Deliberate deviation: VARCHAR(36) on every backend, not MySQL only.
    ("1f57763d7871", "2f15f41cd87f", (
        ChangeColumn("image", "state", column("status", varchar(36))),
    )),
    ("5583c6e70156", "1f57763d7871", (
        AddColumn("plan", column("trigger_id", varchar(36))),
        AddColumn("plan", column("trust_id", varchar(255))),
        AddColumn("plan", column("username", varchar(256))),
        DropColumn("assembly", "trigger_id"),
        DropColumn("assembly", "trust_id"),
    )),
    ("452f34e8ea3", "5583c6e70156", (
        AddColumn("image", column("docker_image_name", varchar(512))),
    )),
    ("1393c21ea82c", "452f34e8ea3", (
        AddColumn("assembly", column("image_id", INT)),
    )),
    ("40df542e345", "1393c21ea82c", (
        CreateTable("app", (
            not_null("id", varchar(36)),
            CREATED_AT,
            UPDATED_AT,
            not_null("deleted", BOOLEAN),
        ) + PROJECT_USER + (
            not_null("languagepack", varchar(100)),
            column("stack_id", varchar(36)),
            not_null("name", varchar(100)),
            not_null("description", varchar(255)),
            yaml_text("ports", 1024),
            yaml_text("source", 1024),
            yaml_text("workflow_config", 1024),
            column("trigger_uuid", varchar(36)),
            yaml_text("trigger_actions", 1024),
            column("trust_id", varchar(255)),
            column("trust_user", varchar(256)),
        )),
    )),
    ("43df309dbf3f", "40df542e345", (
        ChangeColumn("image", "base_image_id",
                     column("base_image_id", varchar(100))),
    )),
    ("390c6c4aa97b", "43df309dbf3f", (
        CreateTable("workflow", (
            not_null("id", varchar(36)),
            CREATED_AT,
            UPDATED_AT,
            column("deleted_at", DATETIME),
            not_null("deleted", BOOLEAN),
        ) + PROJECT_USER + (
            not_null("app_id", varchar(36)),
            not_null("wf_id", INT),
            yaml_text("source", 1024),
            yaml_text("config", 1024),
            yaml_text("actions", 1024),
            column("status", varchar(36)),
            column("assembly", INT),
        )),
    )),
    ("112cfe038dd3", "390c6c4aa97b", (
        AddColumn("app", column("app_url", varchar(1024))),
        AddColumn("app", column("status", varchar(36))),
    )),
    ("e5f2e8af3b8", "112cfe038dd3", (
        AddUnique("workflow", "app_id_wf_id", ("app_id", "wf_id")),
    )),
    ("2e825c2c80c7", "e5f2e8af3b8", (
        AddColumn("app", yaml_text("raw_content", 2048)),
    )),
    ("272e7cd352f9", "2e825c2c80c7", (
        AddColumn("workflow", column("result", TEXT)),
    )),
    ("a271b35952be", "272e7cd352f9", (
        AddColumn("app", yaml_text("scale_config", 1024)),
    )),
)

REVISIONS = tuple(revision for revision, _, _ in CHAIN)
HEAD = REVISIONS[-1]


def _build():
    schemas = {None: {}}
    previous = None
    for revision, down_revision, delta in CHAIN:
        assert down_revision == previous, (revision, down_revision)
        schema = dict(schemas[previous])
        for operation in delta:
            operation.apply(schema)
        schemas[revision] = schema
        previous = revision
    return schemas


SCHEMAS = _build()  # revision (None: base) -> {table: Table}


def below(revision):
    """The revision under ``revision``; None below the root."""
    index = REVISIONS.index(revision)
    return REVISIONS[index - 1] if index else None


def renames(revision):
    """{table: {old name: new name}} of the columns a revision renames."""
    found = {}
    for operation in CHAIN[REVISIONS.index(revision)][2]:
        if (isinstance(operation, ChangeColumn)
                and operation.name != operation.column.name):
            found.setdefault(operation.table, {})[
                operation.name] = operation.column.name
    return found


# --- projection onto each backend, in dbutil.snapshot's form ---------------


def _type(column, dialect):
    mysql_type = column.type
    if dialect == "mysql":
        return mysql_type
    if mysql_type == INT:
        return "integer"
    if mysql_type == BOOLEAN:
        return "boolean"
    if mysql_type == DATETIME:
        return ("timestamp without time zone" if dialect == "postgresql"
                else "datetime")
    if mysql_type in ("text", "mediumtext"):
        # PostgreSQL's TEXT takes no length; SQLite keeps the declared one.
        if dialect == "sqlite" and column.text_length is not None:
            return f"text({column.text_length})"
        return "text"
    assert mysql_type.startswith("varchar("), mysql_type
    return mysql_type


def _column(table_name, column, dialect):
    autoincrement = column.name == "id" and column.type == INT
    default = None
    if dialect == "mysql" and column.nullable:
        default = "NULL"  # MariaDB's way of saying "no default"
    if dialect == "postgresql" and autoincrement:
        default = f"nextval('{table_name}_id_seq'::regclass)"
    projected = {"name": column.name, "type": _type(column, dialect),
                 "nullable": column.nullable, "default": default}
    if dialect == "mysql":
        projected["extra"] = "auto_increment" if autoincrement else ""
    return projected


def _table(name, table, dialect):
    mysql = dialect == "mysql"
    indexes = [(name_, columns, True) for name_, columns in table.unique]
    if mysql:
        # InnoDB's implicit index for each FK, named after its column.
        indexes += [(fk.column, (fk.column,), False)
                    for fk in table.foreign_keys]
    elif dialect == "sqlite":
        indexes = []  # SQLite's automatic unique indexes are not reflected
    return {
        "columns": [_column(name, c, dialect) for c in table.columns],
        "primary_key": ["id"],
        "foreign_keys": sorted(
            (fk.name if mysql else None, (fk.column,), fk.referred_table,
             ("id",), ())
            for fk in table.foreign_keys),
        "unique": sorted(table.unique),
        "indexes": sorted(indexes),
    }


def expected(revision, dialect):
    """The snapshot the database should give at ``revision`` (None: base)."""
    return {name: _table(name, table, dialect)
            for name, table in sorted(SCHEMAS[revision].items())}
