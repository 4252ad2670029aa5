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

"""The models are the migrated head schema; the column types round-trip.

After ``upgrade head`` Alembic's comparison (types and server defaults
included) must find nothing between the models and the database, on every
backend, so that ``revision --autogenerate`` writes a migration only for a
real model change. The YAML/JSON types must give back every value they
were given, on a real database. The ORM classes map the Core tables of
tables.py (what the fast path builds from): the schema is defined once.
"""

import contextlib
import datetime
import math
import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import Session

from solum_db_manage import coltypes, commands, compare, db, models, tables
from solum_db_manage.config import make_config
from tests.helpers import (
    provision,
)


def upgrade_head(db_url):
    """Walk the chain to head: to kilo first, since an empty database
    upgraded straight to head is built from these very tables (fresh.py;
    test_fast_path.py proves that schema the chain's)."""
    commands.upgrade(make_config(db_url), "kilo")
    commands.upgrade(make_config(db_url), "head")


def differences(engine, metadata):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            # The tool's comparison: YAML/JSON TEXT(n) sized by charset.
            "compare_type": compare.compare_type,
            "compare_server_default": True,
            # The migration lock's table is the tool's, not Solum's.
            "include_name": compare.include_name,
            "include_object": compare.include_object})
        return compare_metadata(context, metadata)


def copy_of_models():
    metadata = sa.MetaData()
    for table in models.Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    return metadata


# --- the models are the Core tables, mapped ---------------------------------


def test_the_models_map_the_core_tables_and_define_nothing_more():
    assert models.Base.metadata is tables.metadata
    mapped = {mapper.class_: mapper.local_table
              for mapper in models.Base.registry.mappers}
    # All but the lock's table, declared beside them (see tables.py).
    assert len(mapped) == len(tables.solum_tables()) == 15
    assert set(tables.metadata.tables) - {
        table.name for table in mapped.values()} == {"solum_db_manage_lock"}
    for cls, table in mapped.items():
        assert cls.__table__ is table
        assert tables.metadata.tables[table.name] is table
        assert getattr(tables, table.name) is table
        # Every column is an attribute of the class under its own name.
        assert [attribute.key for attribute in
                sa.inspect(cls).column_attrs] == table.columns.keys()
    assert {table.name for table in mapped.values()} == {
        table.name for table in tables.solum_tables()}


def test_models_re_export_the_schema_helpers():
    assert models.create_statements is tables.create_statements
    assert models.column_order is tables.column_order


# --- models versus migrations ------------------------------------------------


def test_models_match_the_migrated_head(db_url, engine):
    upgrade_head(db_url)
    assert differences(engine, models.Base.metadata) == []


def test_models_match_the_migrated_head_of_a_utf8_mysql_database(tmp_path):
    """utf8 (3-byte) as well as utf8mb4: TEXT(65535) is MEDIUMTEXT in both."""
    with provision("mysql", tmp_path, mysql_charset="utf8") as url:
        upgrade_head(url)
        engine = db.create_engine(url)
        try:
            assert differences(engine, models.Base.metadata) == []
        finally:
            engine.dispose()


def test_models_name_every_table_of_the_head(db_url, engine):
    upgrade_head(db_url)
    tables = set(sa.inspect(engine).get_table_names()) - {
        "alembic_version"}
    assert set(models.Base.metadata.tables) == tables
    assert len(tables) == 16   # Solum's 15 and the lock's


def test_comparison_sees_a_wrong_model_type(db_url, engine):
    """The clean comparison above is not clean for want of looking."""
    upgrade_head(db_url)
    metadata = copy_of_models()
    metadata.tables["image"].c.base_image_id.type = sa.String(36)
    found = differences(engine, metadata)
    assert [(d[0][0], d[0][2], d[0][3]) for d in found] == [
        ("modify_type", "image", "base_image_id")]


@contextlib.contextmanager
def versions_unchanged():
    """Fail, and clean up, if anything writes into the package's versions/."""
    config = make_config(None)
    versions = os.path.join(ScriptDirectory.from_config(config).dir,
                            "versions")

    def listing():
        return {name for name in os.listdir(versions)
                if name != "__pycache__"}

    before = listing()
    try:
        yield
    finally:
        stray = listing() - before
        for name in stray:
            os.remove(os.path.join(versions, name))
        assert not stray, f"written into the package: {sorted(stray)}"


def test_autogenerate_at_head_writes_nothing(solum, db_url):
    upgrade_head(db_url)
    with versions_unchanged():
        result = solum("revision", "-m", "x", "--autogenerate", url=db_url)
    assert result.code == 0, result.err
    assert "No changes in schema detected." in result.out


# --- the column types, compiled ---------------------------------------------

DIALECTS = {
    "mysql": mysql.dialect(),
    "postgresql": postgresql.psycopg.dialect(),
    "sqlite": sqlite.dialect(),
}


def compiled(type_, dialect):
    return type_.compile(dialect=DIALECTS[dialect])


@pytest.mark.parametrize("type_class", [coltypes.YAMLEncodedDict,
                                        coltypes.JSONEncodedDict])
@pytest.mark.parametrize(("length", "dialect", "expected"), [
    # MySQL sizes the chain's TEXT(n) by the charset.
    (1024, "mysql", "TEXT(1024)"),
    (2048, "mysql", "TEXT(2048)"),
    # Where utf8 and utf8mb4 make it MEDIUMTEXT, the models say so: what
    # Alembic's own comparison (oslo.db's model-sync test) then finds.
    (65535, "mysql", "MEDIUMTEXT"),
    (1024, "sqlite", "TEXT(1024)"),
    (65535, "sqlite", "TEXT(65535)"),
    (1024, "postgresql", "TEXT"),
    (65535, "postgresql", "TEXT"),
])
def test_model_type_is_what_the_database_holds(type_class, length, dialect,
                                               expected):
    assert compiled(type_class(length), dialect) == expected


@pytest.mark.parametrize(("dialect", "expected"), [
    ("mysql", "TEXT(2048)"),
    ("sqlite", "TEXT(2048)"),
    ("postgresql", "TEXT"),
])
def test_migration_type_is_the_original_ddl(dialect, expected):
    assert compiled(coltypes.text(2048), dialect) == expected


# --- the column types, round trips on a real database ------------------------

SPECIAL = [None, {}, [], {"a": {}}, [[]], 0, 1.5, -7, True, False, "",
           "text", "null", "~", "yes", "1.0", "- x", "a: b", "{}", "é ☃ 𝄞",
           "line\nbreak", "\x00nul", {"name": "app", "ports": [80, 443],
                                      "env": {"DEBUG": None}}]

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
_scalars = (st.none() | st.booleans()
            | st.integers(min_value=-2**63, max_value=2**63)
            | st.floats(allow_nan=False) | _text)
VALUES = st.recursive(
    _scalars,
    lambda children: (st.lists(children, max_size=4)
                      | st.dictionaries(_text, children, max_size=4)),
    max_leaves=12)


@pytest.fixture
def values_table(engine):
    """A table with one YAML and one JSON column, as the models declare."""
    metadata = sa.MetaData()
    table = sa.Table(
        "encoded_values", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("as_yaml", coltypes.YAMLEncodedDict(65535)),
        sa.Column("as_json", coltypes.JSONEncodedDict(65535)),
    )
    metadata.create_all(engine)
    return table


def same(left, right):
    """Equal, with -0.0 and 0.0 apart and the types of numbers kept."""
    if isinstance(left, float) and isinstance(right, float):
        return left == right and math.copysign(1, left) == math.copysign(
            1, right)
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(
            same(left[key], right[key]) for key in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(
            same(a, b) for a, b in zip(left, right, strict=True))
    return left == right


def round_trip(engine, table, value):
    with engine.begin() as connection:
        connection.execute(table.delete())
        connection.execute(table.insert(), {
            "id": 1, "as_yaml": value, "as_json": value})
        stored = connection.execute(sa.select(
            table.c.as_yaml, table.c.as_json,
            table.c.as_yaml.is_(None))).one()
    return stored


@pytest.mark.parametrize("value", SPECIAL, ids=repr)
def test_special_values_round_trip(engine, values_table, value):
    as_yaml, as_json, is_null = round_trip(engine, values_table, value)
    assert same(as_yaml, value)
    assert same(as_json, value)
    assert bool(is_null) == (value is None)


def test_any_value_round_trips(engine, values_table):
    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(VALUES)
    def check(value):
        as_yaml, as_json, _ = round_trip(engine, values_table, value)
        assert same(as_yaml, value)
        assert same(as_json, value)

    check()


def test_yaml_is_stored_block_style_with_sorted_keys(engine, values_table):
    with engine.begin() as connection:
        connection.execute(values_table.insert(), {
            "id": 1, "as_yaml": {"b": [1, 2], "a": "x"},
            "as_json": {"b": 1, "a": 2}})
        raw = connection.execute(sa.select(
            sa.type_coerce(values_table.c.as_yaml, sa.Text),
            sa.type_coerce(values_table.c.as_json, sa.Text))).one()
    assert raw == ("a: x\nb:\n- 1\n- 2\n", '{"b": 1, "a": 2}')


def test_models_store_and_load_values_at_head(db_url, engine):
    upgrade_head(db_url)
    with Session(engine) as session:
        plan = models.Plan(uuid="p", raw_content={})
        session.add(plan)
        session.flush()
        session.add_all([
            models.Parameter(plan_id=plan.id, user_defined_params=[],
                             sys_defined_params={"image": "fedora"}),
            models.App(id="app-1", languagepack="python", name="app",
                       description="", scale_config={"target": 2},
                       raw_content="just a string", ports=[80]),
            models.Workflow(id="wf-1", app_id="app-1", wf_id=1,
                            actions=["build", "deploy"]),
        ])
        session.commit()
    with Session(engine) as session:
        plan = session.scalars(sa.select(models.Plan)).one()
        app = session.get(models.App, "app-1")
        parameter = session.scalars(sa.select(models.Parameter)).one()
        workflow = session.get(models.Workflow, "wf-1")
        assert plan.raw_content == {}
        assert isinstance(plan.created_at, datetime.datetime)
        assert (parameter.user_defined_params,
                parameter.sys_defined_params) == ([], {"image": "fedora"})
        assert (app.scale_config, app.raw_content, app.ports) == (
            {"target": 2}, "just a string", [80])
        assert app.deleted is False
        assert workflow.actions == ["build", "deploy"]
        assert workflow.config is None
