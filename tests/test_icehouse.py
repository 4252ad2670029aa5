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

"""Databases the original Solum built in 2014 reach head through icehouse.

Such a database records ``498adc6185ae`` but holds an older schema: one of
the pre-Juno forms of SOLUM_SCHEMA_FACTS.md section 6, built by
tests/legacy.py. The documented way on is ``stamp icehouse`` and then
``upgrade head``: 498adc6185ae then completes whatever its form lacks.
"""

import pytest
import sqlalchemy as sa
from alembic import command

from solum_db_manage import db
from solum_db_manage.config import make_config
from tests import dbutil, legacy
from tests.helpers import (
    HEAD,
    comparable,
    run_ok,
)

# Columns the chain renames after 498adc6185ae: {table: {old: new}}.
RENAMED = {"image": {"state": "status"}}
# Columns the chain drops after 498adc6185ae, with their data: the
# original's 5583c6e70156 "moves" them to plan without copying anything
# (section 5.4.8). What it adds to plan is therefore not checked either.
DROPPED = {"assembly": {"trigger_id", "trust_id"}}
NOT_CHECKED = {"plan": {"trigger_id", "trust_id", "username"}}

forms = pytest.mark.parametrize("form", legacy.FORMS)


@pytest.fixture
def open_engine():
    """``open_engine(url)``: an engine disposed of after the test."""
    engines = []

    def open_(url):
        engines.append(db.create_engine(url))
        return engines[-1]

    yield open_
    for engine in engines:
        engine.dispose()


def all_rows(engine):
    return {table: dbutil.rows(engine, table)
            for table in sorted(sa.inspect(engine).get_table_names())
            if table not in (dbutil.VERSION_TABLE, dbutil.LOCK_TABLE)}


def repair_commands(text):
    """The commands after "To repair, run:", without the program name."""
    listed = text.split("To repair, run: ", 1)[1].splitlines()[0]
    return [step.replace("solum-db-manage ", "", 1)
            for step in listed.split("; then ")]


def version_pk(engine):
    return sa.inspect(engine).get_pk_constraint(dbutil.VERSION_TABLE)


def assert_same_schema(engine, expected_engine, ordered):
    assert comparable(
        dbutil.snapshot(engine, include_version_table=True), ordered
    ) == comparable(
        dbutil.snapshot(expected_engine, include_version_table=True),
        ordered)
    if engine.dialect.name == "mysql":
        # Engine, charset, key and constraint names, column order.
        assert dbutil.mysql_create_tables(engine) == \
            dbutil.mysql_create_tables(expected_engine)


def assert_rows_kept(before, after, renamed=None, dropped=None,
                     not_checked=None):
    """Each old row is there with its values; the rest of it is NULL."""
    renamed, dropped = renamed or {}, dropped or {}
    not_checked = not_checked or {}
    for table, old_rows in before.items():
        new_rows = after[table]
        assert [row["id"] for row in new_rows] == \
            [row["id"] for row in old_rows], table
        names = renamed.get(table, {})
        for old, new in zip(old_rows, new_rows, strict=True):
            expected = {names.get(column, column): value
                        for column, value in old.items()
                        if column not in dropped.get(table, ())}
            for column in not_checked.get(table, ()):
                new.pop(column, None)
            assert {column: value for column, value in new.items()
                    if column in expected} == expected, table
            assert {column: value for column, value in new.items()
                    if column not in expected} == dict.fromkeys(
                set(new) - set(expected)), table


# ---------------------------------------------------------------------------
# The builders make what section 6 describes.


@forms
def test_legacy_database_is_the_2014_schema(backend, db_url, open_engine,
                                            form):
    legacy.build(db_url, form)
    engine = open_engine(db_url)
    expected = legacy.tables(form)
    schema = dbutil.snapshot(engine, include_version_table=True)
    assert list(schema) == sorted([*expected, "alembic_version"])
    for table, columns in expected.items():
        assert [c["name"] for c in schema[table]["columns"]] == \
            [name for name, *_ in columns]
    assert "deploy_keys_uri" not in {
        c["name"] for c in schema["plan"]["columns"]}
    assert schema["alembic_version"]["primary_key"] == []
    assert dbutil.version_rows(engine) == [legacy.LEGACY_REVISION]
    data = all_rows(engine)
    assert list(data) == sorted(expected)
    for table, sample in legacy.sample_rows(form).items():
        assert [(r["id"], r["uuid"]) for r in data[table]] == \
            [(r["id"], r["uuid"]) for r in sample], table
    assert [r["raw_content"] for r in data["plan"]] == \
        [r["raw_content"] for r in legacy.sample_rows(form)["plan"]]
    if backend == "mysql":
        created = dbutil.mysql_create_tables(engine)
        assert "`raw_content` varchar(2048)" in created["plan"]
        assert "CONSTRAINT `component_ibfk_2` FOREIGN KEY " \
               "(`parent_component_id`) REFERENCES `component` (`id`)" \
               in created["component"]


# ---------------------------------------------------------------------------
# stamp icehouse, then upgrade head.


@forms
def test_version_before_and_after_stamp_icehouse(db_url, solum, form):
    legacy.build(db_url, form)
    result = run_ok(solum, "version", url=db_url)
    assert result.out == "Current DB revision is 498adc6185ae\n"
    run_ok(solum, "stamp", "icehouse", url=db_url)
    result = run_ok(solum, "version", url=db_url)
    assert result.out == "Current DB revision is icehouse (icehouse)\n"


@forms
def test_stamp_icehouse_then_upgrade_head_gives_the_head_schema(
        backend, db_url, new_db_url, open_engine, solum, form):
    legacy.build(db_url, form)
    run_ok(solum, "stamp", "icehouse", url=db_url)
    run_ok(solum, "upgrade", "head", url=db_url)
    fresh_url = new_db_url()
    run_ok(solum, "upgrade", "head", url=fresh_url)

    engine, fresh = open_engine(db_url), open_engine(fresh_url)
    assert dbutil.version_rows(engine) == [HEAD]
    # PostgreSQL cannot put an added column anywhere but last, so there
    # only the Icehouse form (to which nothing was added) keeps the order.
    ordered = backend != "postgresql" or form == "2014.1.0"
    assert_same_schema(engine, fresh, ordered)
    # The 2014 version table got the primary key a new one has.
    assert version_pk(engine)["constrained_columns"] == ["version_num"]
    assert version_pk(engine) == version_pk(fresh)


@forms
def test_stamp_icehouse_then_upgrade_keeps_every_row(
        db_url, open_engine, solum, form):
    legacy.build(db_url, form)
    engine = open_engine(db_url)
    before = all_rows(engine)
    run_ok(solum, "stamp", "icehouse", url=db_url)
    assert all_rows(engine) == before

    # Completed to the final 498adc6185ae: same rows, new columns NULL.
    run_ok(solum, "upgrade", "498adc6185ae", url=db_url)
    assert dbutil.version_rows(engine) == ["498adc6185ae"]
    completed = all_rows(engine)
    assert_rows_kept(before, completed)
    for table in set(completed) - set(before):
        assert completed[table] == [], table
    assert max(len(row["raw_content"] or "")
               for row in completed["plan"]) == len(legacy.LONG_PLAN)

    run_ok(solum, "upgrade", "head", url=db_url)
    assert dbutil.version_rows(engine) == [HEAD]
    at_head = all_rows(engine)
    assert_rows_kept(before, at_head, renamed=RENAMED, dropped=DROPPED,
                     not_checked=NOT_CHECKED)
    for table in set(at_head) - set(before):
        assert at_head[table] == [], table


@forms
def test_upgrade_head_again_changes_nothing(db_url, open_engine, solum,
                                            form):
    legacy.build(db_url, form)
    run_ok(solum, "stamp", "icehouse", url=db_url)
    run_ok(solum, "upgrade", "head", url=db_url)
    engine = open_engine(db_url)
    schema = dbutil.snapshot(engine, include_version_table=True)
    data = all_rows(engine)

    result = run_ok(solum, "upgrade", "head", url=db_url)
    assert "Running upgrade" not in result.err
    assert dbutil.snapshot(engine, include_version_table=True) == schema
    assert all_rows(engine) == data
    assert dbutil.version_rows(engine) == [HEAD]


# ---------------------------------------------------------------------------
# Back down to icehouse, and what the original could not do.


def test_downgrade_head_to_icehouse_gives_the_icehouse_schema(
        backend, db_url, new_db_url, open_engine, solum):
    run_ok(solum, "upgrade", "head", url=db_url)
    run_ok(solum, "downgrade", "icehouse", url=db_url)
    legacy_url = new_db_url()
    legacy.build(legacy_url, "2014.1.0", rows=False)

    engine, built = open_engine(db_url), open_engine(legacy_url)
    assert dbutil.version_rows(engine) == ["icehouse"]
    result = run_ok(solum, "version", url=db_url)
    assert result.out == "Current DB revision is icehouse (icehouse)\n"
    # The version table keeps the key the tool gave it; 2014's had none.
    # Column order is part of the contract on MySQL and SQLite only:
    # PostgreSQL can add a column only at the end.
    ordered = backend != "postgresql"
    assert comparable(dbutil.snapshot(engine), ordered) == comparable(
        dbutil.snapshot(built), ordered)
    if backend == "mysql":
        assert dbutil.mysql_create_tables(engine) == \
            dbutil.mysql_create_tables(built)


def test_upgrade_without_stamp_fails_with_an_error_line(db_url, solum):
    """The original's own dead end (section 5.1), reported, not hidden.

    An Icehouse database that still records 498adc6185ae is taken through
    the revisions after it, which assume the final form; the run ends
    with an ERROR line and a non-zero status.
    """
    legacy.build(db_url, "2014.1.0")
    result = solum("upgrade", "head", url=db_url)
    assert result.code != 0
    assert result.err.splitlines()[-1].startswith("ERROR: ")


def test_upgrade_without_stamp_refuses_and_changes_nothing(
        db_url, open_engine, solum):
    legacy.build(db_url, "2014.1.0")
    engine = open_engine(db_url)
    schema = dbutil.snapshot(engine, include_version_table=True)
    result = solum("upgrade", "head", url=db_url)
    assert result.code == 6
    assert repair_commands(result.err.splitlines()[-1]) == [
        "stamp icehouse", "upgrade head"]
    assert dbutil.snapshot(engine, include_version_table=True) == schema
    assert dbutil.version_rows(engine) == [legacy.LEGACY_REVISION]


@forms
def test_database_left_at_juno_by_a_failed_upgrade_recovers(
        backend, db_url, new_db_url, open_engine, solum, form):
    """A 2014 database that went through ``upgrade head`` unstamped.

    Both the original's final chain and this one stop at 27dff58cbc65 and
    leave 438cd6d1c655 recorded (section 6, last paragraph); then ``stamp
    icehouse`` + ``upgrade head`` completes it, since every step is safe
    to re-run: exactly what ``upgrade`` (refusing) and ``check`` print.
    """
    legacy.build(db_url, form)
    engine = open_engine(db_url)
    before = all_rows(engine)
    # What the original's upgrade head did before failing at 27dff58cbc65
    # (plain Alembic: this tool refuses it).
    config = make_config(db_url)
    with db.connect(config):
        command.upgrade(config, "438cd6d1c655")
    assert dbutil.version_rows(engine) == ["438cd6d1c655"]
    schema = dbutil.snapshot(engine, include_version_table=True)

    refused = solum("upgrade", "head", url=db_url)
    assert refused.code == 6    # the schema is not the recorded revision's
    last = refused.err.splitlines()[-1]
    assert last.startswith("ERROR: upgrade refused, nothing was changed: "
                           "The database records revision 438cd6d1c655"), last
    assert "column plan.deploy_keys_uri is missing" in last
    assert dbutil.snapshot(engine, include_version_table=True) == schema
    checked = solum("check", url=db_url)
    assert checked.code == 6
    repair = repair_commands(last)
    assert repair == ["stamp icehouse", "upgrade head"]
    assert repair == repair_commands(checked.out)
    for command_line in repair:
        run_ok(solum, *command_line.split(), url=db_url)

    fresh_url = new_db_url()
    run_ok(solum, "upgrade", "head", url=fresh_url)
    assert dbutil.version_rows(engine) == [HEAD]
    assert_same_schema(engine, open_engine(fresh_url),
                       ordered=backend != "postgresql")
    assert_rows_kept(before, all_rows(engine), renamed=RENAMED,
                     dropped=DROPPED, not_checked=NOT_CHECKED)
