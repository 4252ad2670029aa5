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

"""Every failure class the plan knows, seeded on the backends where it
can occur: ``upgrade --plan`` predicts it with its first keys and count
(exit 8), ``upgrade`` refuses with nothing changed, and after the data is
fixed the same upgrade succeeds. Where a class cannot occur (the
comments in forecast.py say why), the same data upgrades on that backend
and the plan predicts nothing.
"""

import contextlib
import json

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations

from solum_db_manage import errors
from tests import dbutil
from tests.helpers import error_lines, execute, insert, run_ok, state

HEAD = "a271b35952be"


def _relax(engine, table, column, length, nullable):
    """Make ``table.column`` VARCHAR(length), nullable or not, as an
    operator might have: check does not compare types below head."""
    null = "NULL" if nullable else "NOT NULL"
    if engine.dialect.name == "mysql":
        execute(engine, f"ALTER TABLE {table} MODIFY {column} "
                        f"VARCHAR({length}) {null}")
    elif engine.dialect.name == "postgresql":
        execute(engine, f"ALTER TABLE {table} ALTER {column} TYPE "
                        f"VARCHAR({length})",
                f"ALTER TABLE {table} ALTER {column} "
                f"{'DROP' if nullable else 'SET'} NOT NULL")
    else:
        with engine.begin() as connection:
            operations = Operations(MigrationContext.configure(connection))
            with operations.batch_alter_table(table) as batch:
                batch.alter_column(column, type_=sa.String(length),
                                   nullable=nullable)


def _identities(engine):
    """Each table's physical identity (as benchmarks/ observes it):
    InnoDB's table id, PostgreSQL's relfilenode, SQLite's root page."""
    queries = {
        "mysql": "SELECT SUBSTRING_INDEX(NAME, '/', -1), TABLE_ID FROM "
                 "information_schema.INNODB_SYS_TABLES WHERE NAME LIKE "
                 "CONCAT(DATABASE(), '/%%')",
        "postgresql": "SELECT relname, relfilenode FROM pg_class WHERE "
                      "relkind = 'r' AND relnamespace = "
                      "current_schema()::regnamespace",
        "sqlite": "SELECT name, rootpage FROM sqlite_master WHERE "
                  "type = 'table'",
    }
    with engine.connect() as connection:
        return dict(connection.exec_driver_sql(
            queries[engine.dialect.name]).all())


def _everything(engine):
    """What a refused run must leave as it was: schema, version rows,
    every row of every table, and each table's identity."""
    tables = sorted(set(sa.inspect(engine).get_table_names()))
    rows = {table: dbutil.rows(engine, table) for table in tables
            if table not in ("alembic_version", "solum_db_manage_lock")}
    return state(engine), rows, _identities(engine)


@contextlib.contextmanager
def _statements(engine_url):
    """The statements any engine on the test database runs meanwhile."""
    seen = []

    def record(connection, cursor, statement, parameters, context,
               executemany):
        if connection.engine.url.database == engine_url.database:
            seen.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)


_CHANGES = ("ALTER ", "CREATE ", "DROP ", "UPDATE ", "INSERT ", "DELETE ",
            "RENAME ")


def _changed_solum_tables(statements):
    """Statements that change a Solum table (the lock's table aside)."""
    return [statement for statement in statements
            if statement.lstrip().upper().startswith(_CHANGES)
            and "solum_db_manage_lock" not in statement
            and "alembic_version" not in statement]


def _keys_text(keys):
    return "; ".join(", ".join(f"{k}={v!r}" for k, v in key.items())
                     for key in keys)


def _assert_refused(solum, url, engine, args, kind, table, count, keys):
    """``args --plan`` predicts the failure; ``args`` refuses with exit 8,
    one ERROR line naming the keys, and changes nothing."""
    plan = solum(*args, "--plan", url=url)
    assert plan.code == errors.EXIT_PLAN_FAILS, plan.out + plan.err
    assert "will fail" in plan.out and _keys_text(keys) in plan.out, plan.out
    found = solum(*args, "--plan", "--json", url=url)
    assert found.code == errors.EXIT_PLAN_FAILS, found.err
    failures = [failure for step in json.loads(found.out)["steps"]
                for failure in step["failures"]]
    assert [(f["kind"], f["table"], f["count"], f["keys"])
            for f in failures] == [(kind, table, count, keys)], failures

    before = _everything(engine)
    with _statements(engine.url) as statements:
        refused = solum(*args, url=url)
    assert refused.code == errors.EXIT_PLAN_FAILS, refused.err
    lines = error_lines(refused.err)
    assert len(lines) == 1, refused.err
    assert _keys_text(keys) in lines[0] and "nothing was changed" in lines[0]
    assert "Traceback" not in refused.err
    assert _everything(engine) == before
    assert not _changed_solum_tables(statements), statements


def _assert_predicts_nothing(solum, url, args):
    found = solum(*args, "--plan", "--json", url=url)
    assert found.code == 0, found.out + found.err
    assert not [failure for step in json.loads(found.out)["steps"]
                for failure in step["failures"]]


def _at(solum, url, revision):
    run_ok(solum, "upgrade", revision, url=url)


def _version(engine):
    return dbutil.version_rows(engine)


# --- duplicate: e5f2e8af3b8's app_id_wf_id, every backend -------------------

def test_duplicate_workflows(backend, db_url, engine, solum):
    _at(solum, db_url, "112cfe038dd3")
    for n, (app_id, wf_id) in enumerate(
            [("a2", 5), ("a1", 1), ("a1", 1), ("a2", 5), ("a1", 1),
             ("a3", 1), ("a1", 2)], start=1):
        insert(engine, "workflow", id=n, app_id=app_id, wf_id=wf_id)
    _assert_refused(solum, db_url, engine, ("upgrade",), "duplicate",
                    "workflow", 5, [{"app_id": "a1", "wf_id": 1},
                                    {"app_id": "a2", "wf_id": 5}])
    execute(engine, "DELETE FROM workflow WHERE id IN ('3', '4', '5')")
    _assert_predicts_nothing(solum, db_url, ("upgrade",))
    with _statements(engine.url) as statements:
        run_ok(solum, "upgrade", url=db_url)
    # The watch sees the run's statements (so it would see a refused one's).
    assert any("app_id_wf_id" in statement
               for statement in _changed_solum_tables(statements))
    assert _version(engine) == [HEAD]
    assert len(dbutil.rows(engine, "workflow")) == 4


# --- null: MySQL's CHANGE in 176c26131889 restates NOT NULL ------------------

def _null_userlogs(engine, column):
    _relax(engine, "userlogs", column, 36, nullable=True)
    for n in (7, 3):
        insert(engine, "userlogs", id=n, **{column: None})
    insert(engine, "userlogs", id=5, **{column: "kept"})


@pytest.mark.parametrize("backend", ["mysql"])
def test_null_under_not_null_up_and_down(backend, db_url, engine, solum):
    _at(solum, db_url, "2c058b5051e4")
    _null_userlogs(engine, "assembly_uuid")
    _assert_refused(solum, db_url, engine, ("upgrade",), "null", "userlogs",
                    2, [{"id": 3}, {"id": 7}])
    execute(engine, "UPDATE userlogs SET assembly_uuid = 'fixed' "
                    "WHERE assembly_uuid IS NULL")
    run_ok(solum, "upgrade", "2f15f41cd87f", url=db_url)
    # Down: resource_uuid, made nullable at a revision check passes.
    execute(engine, "DELETE FROM userlogs")
    _null_userlogs(engine, "resource_uuid")
    _assert_refused(solum, db_url, engine, ("downgrade", "2c058b5051e4"),
                    "null", "userlogs", 2, [{"id": 3}, {"id": 7}])
    execute(engine, "DELETE FROM userlogs WHERE resource_uuid IS NULL")
    run_ok(solum, "downgrade", "2c058b5051e4", url=db_url)
    assert _version(engine) == ["2c058b5051e4"]
    run_ok(solum, "upgrade", url=db_url)
    assert _version(engine) == [HEAD]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_null_cannot_fail_without_a_restating_change(backend, db_url, engine,
                                                     solum):
    _at(solum, db_url, "2c058b5051e4")
    _null_userlogs(engine, "assembly_uuid")
    assert solum("check", url=db_url).code == errors.EXIT_BEHIND
    _assert_predicts_nothing(solum, db_url, ("upgrade",))
    run_ok(solum, "upgrade", url=db_url)
    assert sorted(row["id"] for row in dbutil.rows(engine, "userlogs")
                  if row["resource_uuid"] is None) == [3, 7]


# --- too_long: a rename to a shorter VARCHAR that cuts nothing --------------

@pytest.mark.parametrize("backend", ["mysql", "postgresql"])
def test_state_too_long_for_status(backend, db_url, engine, solum):
    _at(solum, db_url, "2f15f41cd87f")
    _relax(engine, "image", "state", 50, nullable=True)
    for n in (9, 4):
        insert(engine, "image", id=n, state="s" * 37 + str(n))
    insert(engine, "image", id=6, state="s" * 36)
    assert solum("check", url=db_url).code == errors.EXIT_BEHIND
    _assert_refused(solum, db_url, engine, ("upgrade",), "too_long", "image",
                    2, [{"id": 4}, {"id": 9}])
    execute(engine, "UPDATE image SET state = SUBSTR(state, 1, 36)")
    run_ok(solum, "upgrade", url=db_url)
    assert _version(engine) == [HEAD]


@pytest.mark.parametrize("backend", ["mysql"])
def test_restated_varchar_too_long(backend, db_url, engine, solum):
    _at(solum, db_url, "2c058b5051e4")
    _relax(engine, "userlogs", "assembly_uuid", 64, nullable=False)
    insert(engine, "userlogs", id=2, assembly_uuid="u" * 40)
    _assert_refused(solum, db_url, engine, ("upgrade",), "too_long",
                    "userlogs", 1, [{"id": 2}])
    assert "1 row violates it" in solum("upgrade", "--plan", url=db_url).out
    execute(engine, "UPDATE userlogs SET assembly_uuid = 'short'")
    run_ok(solum, "upgrade", url=db_url)
    assert _version(engine) == [HEAD]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_wide_assembly_uuid_renames_elsewhere(backend, db_url, engine, solum):
    _at(solum, db_url, "2c058b5051e4")
    _relax(engine, "userlogs", "assembly_uuid", 64, nullable=False)
    insert(engine, "userlogs", id=2, assembly_uuid="u" * 40)
    _assert_predicts_nothing(solum, db_url, ("upgrade",))
    run_ok(solum, "upgrade", url=db_url)
    assert dbutil.rows(engine, "userlogs")[0]["resource_uuid"] == "u" * 40


@pytest.mark.parametrize("backend", ["sqlite"])
def test_long_state_on_sqlite_upgrades(backend, db_url, engine, solum):
    """SQLite keeps a VARCHAR's declared length without enforcing it."""
    _at(solum, db_url, "2f15f41cd87f")
    insert(engine, "image", id=4, state="s" * 40)
    _assert_predicts_nothing(solum, db_url, ("upgrade",))
    run_ok(solum, "upgrade", url=db_url)
    assert dbutil.rows(engine, "image")[0]["status"] == "s" * 40


# --- orphan: no step adds a foreign key to rows that exist -------------------

@pytest.mark.parametrize("start", ["icehouse", "498adc6185ae"])
def test_orphans_cannot_fail(backend, db_url, engine, solum, start):
    _at(solum, db_url, start)
    unchecked = {"mysql": ["SET FOREIGN_KEY_CHECKS = 0"],
                 "postgresql": ["SET session_replication_role = replica"],
                 "sqlite": []}[backend]
    execute(engine, *unchecked,
            "INSERT INTO assembly (id, uuid, plan_id, trigger_id) "
            "VALUES (5, 'a5', 99, 't5')",
            "INSERT INTO component (id, uuid, assembly_id) "
            "VALUES (4, 'c4', 77)")
    _assert_predicts_nothing(solum, db_url, ("upgrade",))
    run_ok(solum, "upgrade", url=db_url)
    assert [row["id"] for row in dbutil.rows(engine, "component")] == [4]
    run_ok(solum, "downgrade", "--force", start, url=db_url)
    assert [row["assembly_id"] for row in dbutil.rows(engine, "component")] \
        == [77]


# --- losses are not failures -------------------------------------------------

def test_downgrade_plan_with_losses_exits_0(backend, db_url, engine, solum):
    run_ok(solum, "upgrade", url=db_url)
    plan = insert(engine, "plan", name="p")
    insert(engine, "app", name="a", app_url="http://a")
    insert(engine, "assembly", plan_id=plan, username="u")
    found = solum("downgrade", "--plan", "498adc6185ae", "--json",
                  url=db_url)
    assert found.code == 0, found.err
    report = json.loads(found.out)
    assert report["losses_need"] == "--force"
    assert report["summary"]["failures"] == 0
    assert report["summary"]["values_lost"] >= 2
    assert solum("downgrade", "--plan", "498adc6185ae",
                 url=db_url).code == 0
