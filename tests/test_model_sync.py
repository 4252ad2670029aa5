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

"""A Solum service developer's model-sync test, written the usual way on
oslo.db's ``ModelsMigrationsSync``: this package's metadata, a ``db_sync``
that runs ``upgrade head`` through the tool's in-process commands, and
nothing filtered.

The engines are ours (helpers.provision: a SQLite file, a database of its
own on the MariaDB and PostgreSQL servers), not oslo.db's opportunistic
fixtures: those want the ``openstack_citest`` account and give SQLite as
an in-memory database, which the tool (connecting by URL) cannot share.
oslo.db is a test dependency only: no module of the package imports it.
"""

import subprocess
import sys
import unittest

import pytest
import sqlalchemy as sa
from oslo_db.sqlalchemy import test_migrations
from sqlalchemy.dialects import mysql

from solum_db_manage import commands, db, lock_lease, models, tables
from solum_db_manage.config import make_config
from tests import helpers


class ModelsMigrationsSync(test_migrations.ModelsMigrationsSync):
    """What a Solum developer writes, on the URL ``self.url``."""

    url = None

    def setUp(self):
        super().setUp()
        self.engine = sa.create_engine(self.url)
        self.addCleanup(self.engine.dispose)

    def get_engine(self):
        return self.engine

    def get_metadata(self):
        return models.Base.metadata

    def db_sync(self, engine):
        url = engine.url.render_as_string(hide_password=False)
        commands.upgrade(make_config(url), "head")


class _OwnDatabase:
    """A database of the test's own on ``backend`` (helpers.provision)."""

    backend = None

    @pytest.fixture(autouse=True)
    def _database(self, tmp_path):
        with helpers.provision(self.backend, tmp_path) as url:
            self.url = url
            yield


@pytest.mark.sqlite
class TestModelsMigrationsSyncSQLite(_OwnDatabase, ModelsMigrationsSync,
                                     unittest.TestCase):
    backend = "sqlite"


@pytest.mark.mysql
class TestModelsMigrationsSyncMySQL(_OwnDatabase, ModelsMigrationsSync,
                                    unittest.TestCase):
    backend = "mysql"


@pytest.mark.postgresql
class TestModelsMigrationsSyncPostgreSQL(_OwnDatabase, ModelsMigrationsSync,
                                         unittest.TestCase):
    backend = "postgresql"


def run_sync_test(url):
    """Run the developer's test on ``url``; return its unittest result."""
    case = type("Sync", (ModelsMigrationsSync, unittest.TestCase),
                {"url": url, "__test__": False})
    result = unittest.TestResult()
    case("test_models_sync").run(result)
    assert result.testsRun == 1
    return result


def problems(result):
    return [text for _, text in result.errors + result.failures]


def test_the_model_sync_test_passes_after_the_chain(db_url):
    # Walked revision by revision from kilo: a schema the chain built,
    # not the fast path (an empty database upgraded to head).
    commands.upgrade(make_config(db_url), "kilo")
    assert problems(run_sync_test(db_url)) == []


def test_the_model_sync_test_finds_real_drift(db_url):
    """The same test fails on a model the migrations do not make."""
    commands.upgrade(make_config(db_url), "head")
    with helpers.disposing(db_url) as engine:
        helpers.execute(engine, "ALTER TABLE app ADD COLUMN drifted INTEGER")

    result = run_sync_test(db_url)
    assert len(result.failures) == 1
    assert "remove_column" in result.failures[0][1]
    assert "drifted" in result.failures[0][1]
    assert "solum_db_manage_lock" not in result.failures[0][1]


def test_the_lock_table_is_declared_once_in_the_metadata():
    assert db.LOCK_TABLE == tables.lock_table.name
    assert models.Base.metadata.tables[db.LOCK_TABLE] is tables.lock_table
    # The lock's columns added since its first release are declared too.
    assert set(lock_lease._ADDED_COLUMNS) <= set(tables.lock_table.c.keys())


def test_a_database_without_the_lock_table_is_current(db_url, solum):
    """The original Solum never made the lock's table: check and the
    diagnosis still find such a database at head, matching the models."""
    assert solum("upgrade", "head", url=db_url).code == 0
    with helpers.disposing(db_url) as engine:
        helpers.execute(engine, f"DROP TABLE {db.LOCK_TABLE}")
    result = solum("check", url=db_url)
    assert result.code == 0, result.out + result.err
    assert "its schema matches the models" in result.out


def test_a_lock_table_of_the_first_release_gets_its_added_columns(
        db_url, solum):
    assert solum("upgrade", "head", url=db_url).code == 0
    engine = db.create_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP TABLE {db.LOCK_TABLE}")
            first = sa.Table(
                db.LOCK_TABLE, sa.MetaData(),
                *[sa.Column(column.name, column.type,
                            primary_key=column.primary_key,
                            autoincrement=False)
                  for column in tables.lock_table.columns
                  if column.name not in lock_lease._ADDED_COLUMNS])
            first.create(connection)
            connection.execute(
                first.insert().values(id=1, state=lock_lease.DONE))
        result = solum("upgrade", "head", url=db_url)
        assert result.code == 0, result.out + result.err
        columns = {column["name"] for column in
                   sa.inspect(engine).get_columns(db.LOCK_TABLE)}
        assert columns == set(tables.lock_table.c.keys())
    finally:
        engine.dispose()
    assert problems(run_sync_test(db_url)) == []


def test_oslo_db_stays_out_of_the_tools_runtime(tmp_path):
    """oslo.db is for tests: running a command imports none of it."""
    url = f"sqlite:///{tmp_path}/db.sqlite"
    code = (
        "import sys\n"
        "from solum_db_manage import cli\n"
        f"cli.main(['--config-file', '/dev/null', '--database-connection', "
        f"{url!r}, 'upgrade', 'head'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('oslo_db')))\n")
    result = subprocess.run([sys.executable, "-c", code],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"



@pytest.mark.unit   # names MySQL, needs no server
def test_the_fast_path_keeps_the_chains_ddl_where_the_models_differ():
    """On MySQL the models name what utf8/utf8mb4 make of TEXT(65535);
    the fresh-install DDL stays the chain's TEXT(65535), which latin1
    makes TEXT."""
    dialect = mysql.dialect()
    column = tables.parameter.c.user_defined_params
    assert column.type.compile(dialect=dialect) == "MEDIUMTEXT"
    [create] = [statement for statement in tables.create_statements("mysql")
                if statement.element is tables.parameter]
    assert "user_defined_params TEXT(65535)" in str(
        create.compile(dialect=dialect))
