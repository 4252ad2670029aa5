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

"""Every database the original Solum's chain made converges to head.

Each case builds, with raw DDL (tests/original_forms.py), the schema the
original left at one revision on one backend with one SQLAlchemy era
(and, on MariaDB, one charset), with rows in every table. Then:

* ``check`` says what it is: exit 3, and where the original's form differs
  from ours, that ``upgrade head`` normalises it (at head too; a form
  equal to ours at head is exit 0);
* ``upgrade head`` leaves exactly a fresh head of that backend (the
  fast path's, built beside it): schema, CHECK constraints, version row
  (``a271b35952be``: no revision added); on MariaDB ``SHOW CREATE TABLE``
  byte for byte; on PostgreSQL column order is exempt; every row kept;
* ``check`` then exits 0, and a downgrade and upgrade round trip works.

CI runs the representative cases below (each backend, both eras, a few
revisions, every charset, a version table without primary key). The whole
matrix -- every revision each backend reached x both eras x (MariaDB)
latin1, utf8, utf8mb4 -- runs with ``SOLUM_TEST_ALL_FORMS=1`` (``tox -e
forms``), marked ``slow``.
"""

import os

import pytest
import sqlalchemy as sa

from solum_db_manage import db
from tests import dbutil, original_forms, schema_spec
from tests.helpers import (
    HEAD,
    provision,
    run_ok,
)

CHARSETS = ("latin1", "utf8", "utf8mb4")


def _case(backend, revision, era, charset=None, version_key=True,
          marks=()):
    label = "-".join(str(part) for part in (
        backend, revision, era, charset or "", "" if version_key
        else "nokey") if part)
    return pytest.param(backend, revision, era, charset, version_key,
                        id=label, marks=marks)


REPRESENTATIVE = (
    _case("sqlite", "498adc6185ae", "1.4", version_key=False),
    _case("sqlite", "1f57763d7871", "1.4"),
    _case("sqlite", "40df542e345", "1.3"),
    _case("mysql", "1393c21ea82c", "1.4", "latin1", version_key=False),
    _case("mysql", "390c6c4aa97b", "1.3", "utf8"),
    _case("mysql", HEAD, "1.3", "utf8mb4"),
    _case("mysql", HEAD, "1.4", "latin1"),
    _case("postgresql", "1f57763d7871", "1.4"),
    _case("postgresql", HEAD, "1.3", version_key=False),
)


def _matrix():
    slow = (pytest.mark.slow,)
    cases = []
    for backend, revisions in original_forms.REACHED.items():
        for revision in revisions:
            for era in original_forms.ERAS:
                for charset in (CHARSETS if backend == "mysql"
                                else (None,)):
                    cases.append(_case(backend, revision, era, charset,
                                       marks=slow))
    return cases


CASES = _matrix() if os.environ.get("SOLUM_TEST_ALL_FORMS") else (
    REPRESENTATIVE)


@pytest.fixture
def databases(tmp_path):
    """``databases(backend, charset)``: a new empty database's URL."""
    import contextlib

    with contextlib.ExitStack() as stack:
        def make(backend, charset=None):
            return stack.enter_context(provision(
                backend, tmp_path, mysql_charset=charset or "utf8mb4"))
        yield make


def _engine_of(url):
    return db.create_engine(url)


def schema_of(url):
    """Everything compared with a fresh head: dbutil's snapshot (columns
    sorted by name on PostgreSQL, where order is exempt), every table's
    CHECK constraints, the version table's key and rows, and on MySQL
    SHOW CREATE TABLE."""
    engine = _engine_of(url)
    try:
        snapshot = dbutil.snapshot(engine, include_version_table=True)
        if engine.dialect.name == "postgresql":
            for table in snapshot.values():
                table["columns"].sort(key=lambda column: column["name"])
        inspector = sa.inspect(engine)
        checks = {table: inspector.get_check_constraints(table)
                  for table in snapshot}
        created = (dbutil.mysql_create_tables(engine)
                   if engine.dialect.name == "mysql" else None)
        return {"snapshot": snapshot, "checks": checks, "created": created,
                "versions": dbutil.version_rows(engine)}
    finally:
        engine.dispose()


def rows_of(url, tables):
    engine = _engine_of(url)
    try:
        return {table: dbutil.rows(engine, table) for table in tables}
    finally:
        engine.dispose()


def surviving(revision):
    """{table: {column at revision: its name at head}} for the columns
    that reach head holding the same values (renamed ones under their new
    name; dropped ones left out)."""
    renamed = {}
    index = schema_spec.REVISIONS.index(revision)
    for later in schema_spec.REVISIONS[index + 1:]:
        for table, names in schema_spec.renames(later).items():
            for old, new in names.items():
                renamed.setdefault(table, {})[old] = new
    head = schema_spec.SCHEMAS[HEAD]
    result = {}
    for table, spec in schema_spec.SCHEMAS[revision].items():
        names = {}
        for name in spec.names():
            new = renamed.get(table, {}).get(name, name)
            if new in head[table].names():
                names[name] = new
        result[table] = names
    return result


@pytest.mark.parametrize(
    ("backend", "revision", "era", "charset", "version_key"), CASES)
def test_the_original_form_converges_to_a_fresh_head(
        solum, databases, backend, revision, era, charset, version_key):
    url = databases(backend, charset)
    original_forms.build(url, revision, era, version_key=version_key)
    tables = list(schema_spec.SCHEMAS[revision])
    before = rows_of(url, tables)
    differs = original_forms.differs_from_ours(
        backend, revision, era, version_key)

    found = solum("check", url=url)
    if differs:
        assert found.code == 3, found.out
        assert "'upgrade head' normalises it" in found.out, found.out
    else:
        assert found.code == (0 if revision == HEAD else 3), found.out
        assert "not made by solum-db-manage" not in found.out
    assert found.out.splitlines()[-1] == (
        "To repair, run: solum-db-manage upgrade head") or found.code == 0

    upgraded = run_ok(solum, "upgrade", "head", url=url)
    if differs and revision == HEAD:
        # Recorded at head already: normalised, no revision run.
        assert "Normalised the schema" in upgraded.out, upgraded.out
        assert "Running upgrade" not in upgraded.err
    assert solum("check", url=url).code == 0

    fresh_url = databases(backend, charset)
    run_ok(solum, "upgrade", "head", url=fresh_url)
    assert schema_of(url) == schema_of(fresh_url)

    after = rows_of(url, tables)
    for table, names in surviving(revision).items():
        assert len(after[table]) == len(before[table]) == 2, table
        for old, new in zip(before[table], after[table], strict=True):
            assert {names[c]: v for c, v in old.items() if c in names} == {
                names[c]: new[names[c]] for c in old if c in names}, table

    # Round trip: one step down and back.
    run_ok(solum, "downgrade", "--force", "-1", url=url)
    run_ok(solum, "upgrade", "head", url=url)
    assert solum("check", url=url).code == 0
    assert schema_of(url) == schema_of(fresh_url)


@pytest.mark.parametrize("charset", CHARSETS)
def test_the_chain_and_the_fresh_path_agree_on_every_charset(
        solum, databases, charset):
    """TEXT(65535) is MEDIUMTEXT in utf8 and utf8mb4 but TEXT in latin1:
    both ways of reaching head leave what the server makes of TEXT(n)."""
    walked, fresh = databases("mysql", charset), databases("mysql", charset)
    for target in ("kilo", "head"):
        run_ok(solum, "upgrade", target, url=walked)
    assert "Created the head schema" in run_ok(
        solum, "upgrade", "head", url=fresh).err
    assert schema_of(walked) == schema_of(fresh)
    created = schema_of(fresh)["created"]["parameter"]
    assert ("`user_defined_params` text" if charset == "latin1"
            else "`user_defined_params` mediumtext") in created
    for url in (walked, fresh):
        assert solum("check", url=url).code == 0


def test_an_original_form_with_other_drift_is_still_a_mismatch(
        solum, databases):
    """Only what the original made is normalised: a change by hand beside
    it keeps check at exit 6, and upgrade changes nothing of it."""
    url = databases("postgresql")
    original_forms.build(url, HEAD, "1.4")
    engine = _engine_of(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "ALTER TABLE app ALTER COLUMN name DROP NOT NULL")
    finally:
        engine.dispose()
    found = solum("check", url=url)
    assert found.code == 6, found.out
    assert "column app.name is NULL; the models say NOT NULL" in found.out
    assert "column image.status is VARCHAR(12)" in found.out
    assert "normalises it once the changes above are undone" in found.out


def test_check_json_names_the_original_form_and_upgrade_runs_once(
        solum, databases):
    import json

    url = databases("sqlite")
    original_forms.build(url, "40df542e345", "1.3", version_key=False)
    found = json.loads(solum("check", "--json", url=url).out)
    assert (found["status"], found["state"]) == (3, "original")
    assert found["repair"] == ["solum-db-manage upgrade head"]
    assert len(found["differences"]) == 3, found["differences"]
    assert found["pending"][-1] == HEAD
    first = run_ok(solum, "upgrade", "head", url=url)
    assert first.err.count("Normalised the original Solum's form") == 3
    again = run_ok(solum, "upgrade", "head", url=url)
    assert "Nothing to do" in again.out
    assert "Normalised" not in again.err
