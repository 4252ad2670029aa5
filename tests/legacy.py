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

"""Databases as the original Solum left them in 2014, built with raw DDL.

Until 2014-09-30 the revision ``498adc6185ae`` was edited in place, so a
database that records it may hold any of several schemas
(SOLUM_SCHEMA_FACTS.md, sections 1.2, 5.4.1 and 6). ``build(url, form)``
creates one of them, named after the Solum tag that shipped it:

* ``2014.1.0`` (also ``2014.1.1``): the Icehouse schema of section 6;
* ``2014.1.2``: plus ``assembly.trust_id``;
* ``2014.2.0`` ("juno-1"): plus table ``pipeline``;
* ``2014.2.1`` ("juno-2"): plus ``execution``, ``infrastructure_stack``,
  ``component.component_type`` and ``heat_stack_id``, and
  ``image.source_format`` widened from 12 to 36.

Every form has ``plan.raw_content`` VARCHAR(2048), no
``plan.deploy_keys_uri``, unnamed inline foreign keys (MySQL names them
``<table>_ibfk_<n>``), columns in the final order, and an
``alembic_version`` table without a primary key that records
``498adc6185ae``, as Alembic created it before 0.8.10. The original ran on
MySQL and SQLite only; the PostgreSQL rendering is what its DDL would have
been there, so that the ``icehouse`` path can be checked on every backend.
``fill(engine, form)`` then inserts rows such a deployment held.
"""

import datetime

import sqlalchemy as sa

from solum_db_manage import db

LEGACY_REVISION = "498adc6185ae"

FORMS = ("2014.1.0", "2014.1.2", "2014.2.0", "2014.2.1")
_SAME_FORM = {"2014.1.1": "2014.1.0"}

# Column types, rendered per dialect by _render_type().
ID = ("id",)
INT = ("int",)
TEXT = ("text",)
DATETIME = ("datetime",)


def VARCHAR(length):
    return ("varchar", length)


def _col(name, type_, nullable=True, references=None, since=None):
    return (name, type_, nullable, references, since)


# Tables in creation order, columns in the final order of section 2.1.
# ``since`` marks what a later in-place edit of 498adc6185ae added.
_TABLES = (
    ("sensor", None, (
        _col("project_id", VARCHAR(36)),
        _col("user_id", VARCHAR(36)),
        _col("name", VARCHAR(255)),
        _col("sensor_type", VARCHAR(255)),
        _col("value", VARCHAR(255)),
        _col("timestamp", DATETIME),
        _col("description", VARCHAR(255)),
        _col("documentation", VARCHAR(255)),
        _col("target_resource", VARCHAR(255)),
    )),
    ("operation", None, (
        _col("name", VARCHAR(100)),
        _col("description", VARCHAR(255)),
        _col("project_id", VARCHAR(36)),
        _col("user_id", VARCHAR(36)),
        _col("tags", TEXT),
        _col("documentation", TEXT),
        _col("target_resource", TEXT),
    )),
    ("image", None, (
        _col("name", VARCHAR(100)),
        _col("description", VARCHAR(255)),
        _col("source_uri", VARCHAR(1024)),
        _col("project_id", VARCHAR(36)),
        _col("user_id", VARCHAR(36)),
        _col("tags", TEXT),
        _col("state", VARCHAR(12)),
        _col("base_image_id", VARCHAR(36)),
        _col("created_image_id", VARCHAR(36)),
        _col("image_format", VARCHAR(12)),
        # Widened to 36 by ccfbcc6, first released in 2014.2.1.
        _col("source_format", "source_format"),
    )),
    ("extension", None, (
        _col("project_id", VARCHAR(36)),
        _col("user_id", VARCHAR(36)),
        _col("description", VARCHAR(255)),
        _col("name", VARCHAR(100)),
        _col("version", VARCHAR(16)),
        _col("documentation", VARCHAR(255)),
    )),
    ("plan", None, (
        _col("project_id", VARCHAR(36)),
        _col("user_id", VARCHAR(36)),
        # YAMLEncodedDict(2048) was built on VARCHAR until 2014-10-28.
        _col("raw_content", VARCHAR(2048)),
        _col("description", VARCHAR(255)),
        _col("name", VARCHAR(255)),
    )),
    ("assembly", None, (
        _col("name", VARCHAR(100)),
        _col("description", VARCHAR(255)),
        _col("project_id", VARCHAR(36)),
        _col("user_id", VARCHAR(36)),
        _col("tags", TEXT),
        _col("plan_id", INT, nullable=False, references="plan"),
        _col("status", VARCHAR(36)),
        _col("trigger_id", VARCHAR(36)),
        _col("trust_id", VARCHAR(255), since="2014.1.2"),
        _col("application_uri", VARCHAR(1024)),
    )),
    ("pipeline", "2014.2.0", (
        _col("name", VARCHAR(100)),
        _col("description", VARCHAR(255)),
        _col("project_id", VARCHAR(36)),
        _col("user_id", VARCHAR(36)),
        _col("tags", TEXT),
        _col("plan_id", INT, nullable=False, references="plan"),
        _col("workbook_name", VARCHAR(255)),
        _col("trigger_id", VARCHAR(36)),
        _col("trust_id", VARCHAR(255)),
    )),
    # execution is the one table whose timestamps come last.
    ("execution", "2014.2.1", "execution"),
    ("infrastructure_stack", "2014.2.1", (
        _col("name", VARCHAR(100)),
        _col("description", VARCHAR(255)),
        _col("project_id", VARCHAR(36)),
        _col("user_id", VARCHAR(36)),
        _col("tags", TEXT),
        _col("image_id", VARCHAR(36), nullable=False),
        _col("heat_stack_id", VARCHAR(36)),
    )),
    ("component", None, (
        _col("name", VARCHAR(100)),
        _col("component_type", VARCHAR(100), since="2014.2.1"),
        _col("description", VARCHAR(255)),
        _col("project_id", VARCHAR(36)),
        _col("user_id", VARCHAR(36)),
        _col("tags", TEXT),
        _col("assembly_id", INT, references="assembly"),
        _col("parent_component_id", INT, references="component"),
        _col("resource_uri", VARCHAR(1024)),
        _col("heat_stack_id", VARCHAR(36), since="2014.2.1"),
    )),
    ("service", None, (
        _col("name", VARCHAR(100)),
        _col("description", VARCHAR(255)),
        _col("project_id", VARCHAR(36)),
        _col("user_id", VARCHAR(36)),
        _col("service_type", VARCHAR(100)),
        _col("read_only", INT),
        _col("tags", TEXT),
    )),
)

_EXECUTION = (
    _col("id", ID, nullable=False),
    _col("uuid", VARCHAR(36), nullable=False),
    _col("pipeline_id", INT, references="pipeline"),
    _col("created_at", DATETIME),
    _col("updated_at", DATETIME),
)

_COMMON = (
    _col("id", ID, nullable=False),
    _col("uuid", VARCHAR(36), nullable=False),
    _col("created_at", DATETIME),
    _col("updated_at", DATETIME),
)


def _canonical(form):
    form = _SAME_FORM.get(form, form)
    if form not in FORMS:
        raise ValueError(f"unknown pre-Juno form {form!r}")
    return form


def _has(form, since):
    return since is None or FORMS.index(form) >= FORMS.index(since)


def tables(form):
    """{table: [(name, type, nullable, referred table)]} of a form."""
    form = _canonical(form)
    result = {}
    for table, since, columns in _TABLES:
        if not _has(form, since):
            continue
        if columns == "execution":
            columns = _EXECUTION
        else:
            columns = _COMMON + columns
        result[table] = [
            (name, _form_type(form, type_), nullable, references)
            for name, type_, nullable, references, col_since in columns
            if _has(form, col_since)
        ]
    return result


def _form_type(form, type_):
    if type_ == "source_format":
        return VARCHAR(36 if _has(form, "2014.2.1") else 12)
    return type_


def _render_type(dialect, type_):
    kind = type_[0]
    if kind == "varchar":
        return f"VARCHAR({type_[1]})"
    if kind == "datetime":
        return ("TIMESTAMP WITHOUT TIME ZONE" if dialect == "postgresql"
                else "DATETIME")
    return {"int": "INTEGER", "text": "TEXT"}[kind]


def create_table_sql(dialect, table, columns):
    """The CREATE TABLE the original's SQLAlchemy emitted (or would have)."""
    lines = []
    for name, type_, nullable, _references in columns:
        if type_ == ID:
            rendered = {"mysql": "INTEGER NOT NULL AUTO_INCREMENT",
                        "postgresql": "SERIAL NOT NULL"}.get(
                dialect, "INTEGER NOT NULL")
        else:
            rendered = _render_type(dialect, type_)
            if not nullable:
                rendered += " NOT NULL"
        lines.append(f"\t{name} {rendered}")
    lines.append("\tPRIMARY KEY (id)")
    # Inline and unnamed: MySQL then names them <table>_ibfk_<n>, in
    # declaration order, with an index named after the column.
    lines.extend(
        f"\tFOREIGN KEY({name}) REFERENCES {references} (id)"
        for name, _type, _nullable, references in columns if references)
    return f"CREATE TABLE {table} (\n" + ",\n".join(lines) + "\n)"


def ddl(dialect, form):
    """Every statement that builds the form, version table included."""
    statements = [create_table_sql(dialect, table, columns)
                  for table, columns in tables(form).items()]
    # Alembic before 0.8.10 created the version table without a key.
    statements.append(
        "CREATE TABLE alembic_version (\n"
        "\tversion_num VARCHAR(32) NOT NULL\n)")
    statements.append(
        f"INSERT INTO alembic_version (version_num) "
        f"VALUES ('{LEGACY_REVISION}')")
    return statements


def build(url, form, rows=True):
    """Make the empty database at ``url`` a 2014 Solum database."""
    engine = db.create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in ddl(engine.dialect.name, form):
                connection.exec_driver_sql(statement)
        if rows:
            fill(engine, form)
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------
# Rows such a deployment held.

PROJECT = "d1e5c3a4b7f04a1e9e3b3c1f2a6d8e90"
USER = "5f1c3f9a2b8d4e07a1c6b2d3e4f50617"


def _when(day, hour=12, minute=0, second=0):
    return datetime.datetime(2014, 5, day, hour, minute, second)


def _uuid(n):
    return f"{n:08x}-7c1e-4f0a-9b2d-3e4f5a6b7c8d"


def _plan_yaml(name, repeat):
    """A Camp-style plan file, as Solum stored it (YAML text)."""
    artifacts = "".join(
        f"- artifact_type: heroku\n"
        f"  content:\n"
        f"    href: https://github.com/example/{name}-{i}.git\n"
        f"  language_pack: auto\n"
        f"  name: {name}-{i}\n"
        for i in range(repeat))
    return (
        f"artifacts:\n{artifacts}"
        f"description: {name} plan, deployed from git\n"
        f"name: {name}\n"
        f"version: 1\n")


# A plan file close to the 2048-character limit of VARCHAR(2048).
LONG_PLAN = _plan_yaml("ex-long-app", 14)
assert 1900 < len(LONG_PLAN) <= 2048, len(LONG_PLAN)


def sample_rows(form):
    """{table: [row]} for the tables of a form; ids are explicit."""
    form = _canonical(form)
    owner = {"project_id": PROJECT, "user_id": USER}
    data = {
        "sensor": [
            dict(id=1, uuid=_uuid(101), created_at=_when(2),
                 updated_at=_when(3), name="hello-world-cpu",
                 sensor_type="cpu", value="73",
                 timestamp=_when(3, 9, 41, 7),
                 description="CPU of the web tier",
                 documentation="http://docs.example.com/sensors/cpu",
                 target_resource="http://solum.example.com/v1/assemblies/"
                                 + _uuid(301), **owner),
        ],
        "operation": [
            dict(id=1, uuid=_uuid(111), created_at=_when(2),
                 updated_at=None, name="scale", description="Scale out",
                 tags='["web", "scaling"]',
                 documentation="Adds one instance per call.",
                 target_resource="http://solum.example.com/v1/assemblies/"
                                 + _uuid(301), **owner),
        ],
        "image": [
            dict(id=1, uuid=_uuid(201), created_at=_when(4),
                 updated_at=_when(4, 12, 30), name="nodeus",
                 description="Node.js language pack",
                 source_uri="git://github.com/paulczar/"
                            "solum-nodejs-lp.git",
                 tags='["nodejs"]', state="READY",
                 base_image_id="6b3f5e1c-0d2a-4c8e-9f71-2a3b4c5d6e7f",
                 created_image_id="0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
                 image_format="qcow2", source_format="heroku", **owner),
            dict(id=2, uuid=_uuid(202), created_at=_when(5), updated_at=None,
                 name="é-python", description="Sprache: Python 2.7 ünd 3",
                 source_uri="https://github.com/example/python-lp.git",
                 tags=None, state="BUILDING", base_image_id=None,
                 created_image_id=None, image_format="docker",
                 source_format="dib", **owner),
        ],
        "extension": [
            dict(id=1, uuid=_uuid(211), created_at=_when(2),
                 updated_at=None, description="Mistral workflows",
                 name="mistral", version="0.1",
                 documentation="https://wiki.openstack.org/wiki/Mistral",
                 **owner),
        ],
        "plan": [
            dict(id=1, uuid=_uuid(221), created_at=_when(6),
                 updated_at=_when(6, 13), raw_content=_plan_yaml("ex1", 1),
                 description="ex1 plan, deployed from git", name="ex1",
                 **owner),
            dict(id=2, uuid=_uuid(222), created_at=_when(7),
                 updated_at=None, raw_content=LONG_PLAN,
                 description=None, name="ex-long-app", **owner),
            dict(id=3, uuid=_uuid(223), created_at=_when(8),
                 updated_at=None, raw_content=None, description=None,
                 name=None, **owner),
        ],
        "assembly": [
            dict(id=1, uuid=_uuid(301), created_at=_when(6, 14),
                 updated_at=_when(6, 15), name="ex1-prod",
                 description="production", tags='["prod"]', plan_id=1,
                 status="READY",
                 trigger_id="3f1c2b4a-5d6e-4f70-8192-a3b4c5d6e7f8",
                 trust_id="9a8b7c6d5e4f40312a1b2c3d4e5f6071",
                 application_uri="http://203.0.113.10:5000", **owner),
            dict(id=2, uuid=_uuid(302), created_at=_when(7, 8),
                 updated_at=None, name="ex-long-staging", description=None,
                 tags=None, plan_id=2, status="BUILDING", trigger_id=None,
                 trust_id=None, application_uri=None, **owner),
        ],
        "pipeline": [
            dict(id=1, uuid=_uuid(401), created_at=_when(20),
                 updated_at=_when(21), name="ex1-build-deploy",
                 description="build, test, deploy", tags=None, plan_id=1,
                 workbook_name="build_deploy",
                 trigger_id="7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928",
                 trust_id="0f1e2d3c4b5a49687f6e5d4c3b2a1908", **owner),
        ],
        "execution": [
            dict(id=1, uuid=_uuid(411), pipeline_id=1,
                 created_at=_when(22, 10), updated_at=_when(22, 11)),
            dict(id=2, uuid=_uuid(412), pipeline_id=None,
                 created_at=_when(23), updated_at=None),
        ],
        "infrastructure_stack": [
            dict(id=1, uuid=_uuid(421), created_at=_when(24),
                 updated_at=None, name="build-farm",
                 description="Solum build farm", tags=None,
                 image_id="4d5e6f70-8192-4a3b-8c4d-5e6f708192a3",
                 heat_stack_id="b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e",
                 **owner),
        ],
        "component": [
            dict(id=1, uuid=_uuid(501), created_at=_when(6, 14),
                 updated_at=None, name="web",
                 component_type="heat_stack",
                 description="load-balanced web tier", tags=None,
                 assembly_id=1, parent_component_id=None,
                 resource_uri="http://203.0.113.10/v1/stacks/web",
                 heat_stack_id="c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f",
                 **owner),
            dict(id=2, uuid=_uuid(502), created_at=_when(6, 14, 1),
                 updated_at=None, name="web-1", component_type="server",
                 description=None, tags='["web"]', assembly_id=1,
                 parent_component_id=1, resource_uri=None,
                 heat_stack_id=None, **owner),
            dict(id=3, uuid=_uuid(503), created_at=_when(6, 14, 2),
                 updated_at=None, name="web-2", component_type="server",
                 description=None, tags='["web"]', assembly_id=1,
                 parent_component_id=1, resource_uri=None,
                 heat_stack_id=None, **owner),
            dict(id=4, uuid=_uuid(504), created_at=_when(7, 8),
                 updated_at=None, name="db", component_type=None,
                 description="database", tags=None, assembly_id=2,
                 parent_component_id=None, resource_uri=None,
                 heat_stack_id=None, **owner),
        ],
        "service": [
            dict(id=1, uuid=_uuid(601), created_at=_when(1),
                 updated_at=None, name="mysql", description="MySQL 5.5",
                 service_type="database", read_only=0, tags=None,
                 **owner),
            dict(id=2, uuid=_uuid(602), created_at=_when(1),
                 updated_at=None, name="swift", description="Object store",
                 service_type="object-store", read_only=1,
                 tags='["storage"]', **owner),
        ],
    }
    if _has(form, "2014.2.1"):
        # From juno-2 on, source_format holds up to 36 characters.
        data["image"][0]["source_format"] = "heroku-buildpack-nodejs"
    present = tables(form)
    return {
        table: [{k: v for k, v in row.items()
                 if k in {c[0] for c in present[table]}}
                for row in table_rows]
        for table, table_rows in data.items() if table in present
    }


def fill(engine, form):
    """Insert sample_rows(form); on PostgreSQL, advance the sequences."""
    data = sample_rows(form)
    metadata = sa.MetaData()
    with engine.begin() as connection:
        for table, table_rows in data.items():
            reflected = sa.Table(table, metadata, autoload_with=connection)
            connection.execute(reflected.insert(), table_rows)
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', "
                    f"'id'), (SELECT max(id) FROM {table}))")
