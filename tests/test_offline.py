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

"""``--sql`` (offline mode): SQL for the URL's dialect, without connecting.

The SQL printed is also fed to real MariaDB and PostgreSQL servers, the
way an operator would pipe it into ``mysql`` or ``psql``, and must give
the schema an online upgrade gives.
"""

import subprocess
import sys

import pytest
from sqlalchemy.engine import make_url

from solum_db_manage import db
from tests import dbutil
from tests.helpers import (
    HEAD,
    JUNO,
    KILO,
    assert_one_error,
)

# Nothing listens on port 1: a connection attempt would fail loudly.
UNREACHABLE = {
    "mysql": "mysql+pymysql://solum:secret@127.0.0.1:1/solum",
    "postgresql": "postgresql+psycopg://solum:secret@127.0.0.1:1/solum",
}


def apply_script(url, sql):
    """Run a whole SQL script on the database, as mysql or psql would."""
    parts = make_url(url)
    if parts.get_backend_name() == "mysql":
        import pymysql
        from pymysql.constants import CLIENT

        connection = pymysql.connect(
            host=parts.host, port=parts.port or 3306, user=parts.username,
            password=parts.password or "", database=parts.database,
            client_flag=CLIENT.MULTI_STATEMENTS, autocommit=True)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                # Each statement's result (or error) arrives in turn.
                while cursor.nextset():
                    pass
        finally:
            connection.close()
    else:
        import psycopg

        with psycopg.connect(
                host=parts.host, port=parts.port or 5432,
                user=parts.username, password=parts.password,
                dbname=parts.database, autocommit=True) as connection:
            connection.execute(sql)


def schema_of(url):
    engine = db.create_engine(url)
    try:
        return (dbutil.snapshot(engine), dbutil.version_rows(engine),
                dbutil.mysql_create_tables(engine)
                if engine.dialect.name == "mysql" else None)
    finally:
        engine.dispose()


# --- SQL without a server ------------------------------------------------

@pytest.mark.parametrize("url", [
    UNREACHABLE["mysql"],
    UNREACHABLE["postgresql"],
    "mysql://solum:secret@127.0.0.1:1/solum",
    "postgresql://solum:secret@127.0.0.1:1/solum",
])
def test_upgrade_sql_prints_sql_without_connecting(solum, url):
    result = solum("upgrade", "--sql", url=url)
    assert result.code == 0, result.err
    assert "CREATE TABLE alembic_version" in result.out
    assert "CREATE TABLE plan" in result.out
    assert f"UPDATE alembic_version SET version_num='{HEAD}'" in result.out
    assert "Running upgrade" in result.err
    assert "INFO" not in result.out
    assert "ERROR" not in result.err


@pytest.mark.parametrize("dialect", ["mysql", "postgresql"])
def test_upgrade_sql_defaults_to_the_whole_chain(solum, dialect):
    url = UNREACHABLE[dialect]
    default = solum("upgrade", "--sql", url=url)
    head = solum("upgrade", "--sql", "head", url=url)
    whole = solum("upgrade", "--sql", "base:head", url=url)
    assert default.code == head.code == whole.code == 0
    assert default.out == head.out == whole.out


def test_offline_needs_no_database_driver(tmp_path):
    """Only SQLAlchemy's dialects: neither PyMySQL nor psycopg loads."""
    config = tmp_path / "solum.conf"
    config.write_text("")
    code = (
        "import sys\n"
        "for name in ('pymysql', 'psycopg', 'psycopg2', 'MySQLdb'):\n"
        "    sys.modules[name] = None  # any import of it fails\n"
        "from solum_db_manage.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n")
    for url in UNREACHABLE.values():
        process = subprocess.run(
            [sys.executable, "-c", code, "--config-file", str(config),
             "--database-connection", url, "upgrade", "--sql"],
            capture_output=True, text=True, cwd=tmp_path, timeout=120)
        assert process.returncode == 0, process.stderr
        assert "CREATE TABLE plan" in process.stdout


@pytest.mark.parametrize("dialect", ["mysql", "postgresql"])
def test_upgrade_sql_of_a_range(solum, dialect):
    result = solum("upgrade", "--sql", f"{KILO}:head",
                   url=UNREACHABLE[dialect])
    assert result.code == 0, result.err
    assert "CREATE TABLE alembic_version" not in result.out
    assert f"-- Running upgrade {KILO} -> 40df542e345" in result.out
    assert f"-> {KILO}," not in result.out
    assert (f"UPDATE alembic_version SET version_num='{HEAD}' WHERE "
            f"alembic_version.version_num = '272e7cd352f9'") in result.out


def test_range_takes_release_names_and_partial_ids(solum):
    by_name = solum("upgrade", "--sql", "juno:kilo",
                    url=UNREACHABLE["mysql"])
    by_id = solum("upgrade", "--sql", f"{JUNO[:6]}:{KILO[:6]}",
                  url=UNREACHABLE["mysql"])
    assert by_name.code == by_id.code == 0, by_name.err + by_id.err
    assert by_name.out == by_id.out
    assert f"-- Running upgrade {JUNO} -> 27dff58cbc65" in by_name.out
    assert f"version_num='{KILO}'" in by_name.out


@pytest.mark.parametrize("dialect", ["mysql", "postgresql"])
def test_downgrade_sql_of_a_range(solum, dialect):
    result = solum("downgrade", "--sql", "head:kilo",
                   url=UNREACHABLE[dialect])
    assert result.code == 0, result.err
    assert f"-- Running downgrade {HEAD} -> 272e7cd352f9" in result.out
    assert f"version_num='{KILO}'" in result.out


def test_downgrade_sql_needs_a_starting_revision(solum):
    line = assert_one_error(solum("downgrade", "--sql", "base",
                                  url=UNREACHABLE["mysql"]))
    assert "--sql" in line


@pytest.mark.parametrize("argv", [
    ["upgrade", "--sql"],
    ["upgrade", "--sql", "kilo:head"],
    ["downgrade", "--sql", "head:base"],
])
def test_sqlite_offline_migrations_are_refused(solum, tmp_path, argv):
    path = tmp_path / "solum.sqlite"
    line = assert_one_error(solum(*argv, url=f"sqlite:///{path}"))
    assert "SQLite" in line and "without --sql" in line
    assert not path.exists()


@pytest.mark.parametrize("url", [
    UNREACHABLE["mysql"], UNREACHABLE["postgresql"], "sqlite:///solum.db"])
def test_stamp_sql(solum, url):
    result = solum("stamp", "--sql", "kilo", url=url)
    assert result.code == 0, result.err
    assert "CREATE TABLE alembic_version" in result.out
    assert (f"INSERT INTO alembic_version (version_num) VALUES "
            f"('{KILO}')") in result.out


def test_stamp_sql_cannot_purge(solum):
    line = assert_one_error(solum("stamp", "--sql", "--purge", "head",
                                  url=UNREACHABLE["mysql"]))
    assert "--purge" in line


# --- the SQL applies on real servers -------------------------------------

@pytest.mark.parametrize("backend", ["mysql", "postgresql"])
def test_offline_sql_builds_the_online_schema_and_back(
        solum, backend, db_url, new_db_url):
    assert solum("upgrade", url=db_url).code == 0
    online = schema_of(db_url)

    offline_url = new_db_url()
    upgrade = solum("upgrade", "--sql", "base:head", url=offline_url)
    assert upgrade.code == 0, upgrade.err
    apply_script(offline_url, upgrade.out)
    assert schema_of(offline_url) == online
    assert online[1] == [HEAD]

    downgrade = solum("downgrade", "--sql", "head:base", url=offline_url)
    assert downgrade.code == 0, downgrade.err
    apply_script(offline_url, downgrade.out)
    snapshot, versions, _ = schema_of(offline_url)
    assert (snapshot, versions) == ({}, [])


@pytest.mark.parametrize("backend", ["mysql", "postgresql"])
def test_offline_ranges_match_online_steps(solum, backend, db_url,
                                           new_db_url):
    # Upgrade kilo -> head offline on a database that is at kilo.
    assert solum("upgrade", "head", url=db_url).code == 0
    at_head = schema_of(db_url)
    partial_url = new_db_url()
    assert solum("upgrade", "kilo", url=partial_url).code == 0
    at_kilo = schema_of(partial_url)
    upgrade = solum("upgrade", "--sql", "kilo:head", url=partial_url)
    apply_script(partial_url, upgrade.out)
    assert schema_of(partial_url) == at_head

    # And back down to kilo, offline, on the other one.
    downgrade = solum("downgrade", "--sql", "head:kilo", url=db_url)
    assert downgrade.code == 0, downgrade.err
    apply_script(db_url, downgrade.out)
    assert schema_of(db_url) == at_kilo
