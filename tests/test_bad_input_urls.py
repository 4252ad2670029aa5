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

"""Bad connection URLs and servers: numbers, parameters, bytes, SQLite
paths, unreachable servers, missing databases, wrong passwords.

One family of the bad-input tests (issue 4, section 7; the others are
tests/test_bad_input_*.py). Each case gets what the README's "Bad input"
table promises (``helpers.assert_failed``), with nothing changed where a
database exists (``helpers.state`` before == after); an unclear answer is
an ``xfail(strict=True)`` whose reason says "BUG:".

An invalid ``--database-connection`` (test_cli_args), a wrong password on
MySQL and an unreachable server for ``version`` (test_commands; for
``check``: test_check) and a missing database (test_commands) are tried
there.
"""

import contextlib
import uuid

import pytest
import sqlalchemy as sa

from solum_db_manage import db
from tests.helpers import (
    ENCODED,
    HEAD,
    PASSWORD,
    SERVER_URLS,
    assert_clear,
    assert_failed,
    execute,
    mysql_user,
    require_backend,
    state,
    user_url,
    with_rows,
)

# URLs with a port that is not a number, or an unclosed IPv6 host.
BAD_NUMBERS = [
    f"mysql+pymysql://solum:{ENCODED}@127.0.0.1:abc/solum",
    f"mysql+pymysql://solum:{ENCODED}@[::1/solum",
]


# MySQL URL parameters that are not numbers where SQLAlchemy's dialect
# wants them (see test_url_with_a_bad_parameter_is_clear).
BAD_PARAMETERS = [
    pytest.param(f"mysql+pymysql://solum:{ENCODED}@127.0.0.1:1/solum"
                 f"?{query}", id=query)
    for query in ("connect_timeout=x", "read_timeout=x")]


@pytest.mark.parametrize("url", BAD_PARAMETERS)
def test_unclear_answers_are_still_one_error_line(solum, url):
    """The inputs of the bug tests below: exit 1, one ERROR line, no
    traceback, no password, whatever the line says."""
    for argv in (["version"], ["upgrade"], ["downgrade", "-1"]):
        assert_failed(solum(*argv, url=url))


@pytest.mark.parametrize("url", BAD_NUMBERS, ids=["port", "ipv6-host"])
def test_url_with_a_bad_number_is_clear(solum, url):
    for argv in (["version"], ["upgrade"]):
        line = assert_failed(solum(*argv, url=url))
        assert line == ("ERROR: the database connection URL is not valid; "
                        "expected dialect+driver://user:***@host/database")


def test_url_with_a_bad_driver_parameter_is_clear(solum):
    """PyMySQL refuses ``?port=x`` when it connects."""
    url = f"mysql+pymysql://solum:{ENCODED}@127.0.0.1:1/solum?port=x"
    line = assert_failed(solum("upgrade", url=url))
    assert_clear(line, "ERROR: cannot connect to the database "
                       "mysql+pymysql://solum:***@127.0.0.1:1/solum?port=x: "
                       "a parameter of the connection URL is not valid: ")


@pytest.mark.parametrize("url", BAD_PARAMETERS)
def test_url_with_a_bad_parameter_is_clear(solum, url):
    """The MySQL dialect converts these before connecting."""
    line = assert_failed(solum("upgrade", url=url))
    assert_clear(line, "ERROR: a parameter of the connection URL is not "
                       "valid: ")


# A byte that is not UTF-8 in a URL given on the command line (Python
# decodes it to a lone surrogate, as for a revision).
@pytest.mark.parametrize("url", [
    pytest.param(
        f"mysql+pymysql://solum:{ENCODED}\udcff@127.0.0.1:1/solum",
        id="password"),
    pytest.param(
        f"mysql+pymysql://solum:{ENCODED}@127.0.0.1:1/solum\udcff",
        id="database"),
])
def test_non_utf8_byte_in_a_server_url_is_clear(solum, url):
    result = solum("version", url=url)
    assert result.code in (1, 2), result.err
    assert_clear(assert_failed(result, code=result.code), "URL")


def test_sqlite_path_with_a_non_utf8_byte(solum, tmp_path):
    url = f"sqlite:///{tmp_path}/\udcff.sqlite"
    result = solum("upgrade", url=url)
    assert result.code == 0, result.err
    assert solum("check", url=url).code == 0


def test_sqlite_uri_filename(solum, tmp_path):
    """SQLAlchemy's documented form sqlite:///file:PATH?uri=true: the lock
    flock()s PATH."""
    path = tmp_path / "solum.sqlite"
    assert solum("upgrade", "kilo", url=f"sqlite:///{path}").code == 0
    result = solum("upgrade", url=f"sqlite:///file:{path}?uri=true")
    assert result.code == 0, result.err
    assert solum("version", url=f"sqlite:///{path}").out.startswith(
        f"Current DB revision is {HEAD} ")
    # A new database, created by SQLite itself (mode=rwc).
    other = tmp_path / "other.sqlite"
    result = solum("upgrade", url=f"sqlite:///file:{other}?mode=rwc&uri=true")
    assert result.code == 0, result.err
    assert solum("check", url=f"sqlite:///{other}").code == 0


def test_sqlite_file_that_is_not_a_database(solum, tmp_path):
    """The driver's words come first; the hint on rights is conditional."""
    path = tmp_path / "solum.conf"
    path.write_bytes(b"[database]\nconnection = sqlite://\n" * 200)
    before = path.read_bytes()
    line = assert_failed(solum("upgrade", url=f"sqlite:///{path}"))
    assert path.read_bytes() == before
    assert line == (
        "ERROR: cannot set up the migration lock table solum_db_manage_lock: "
        "file is not a database (where this is a permission error: the "
        "database user needs CREATE, INSERT and UPDATE on the database)")


@pytest.mark.parametrize("scheme", ["mysql+pymysql", "postgresql+psycopg"])
@pytest.mark.parametrize("argv", [["upgrade"], ["downgrade", "-1"],
                                  ["stamp", "head"]])
def test_unreachable_server_for_locking_commands(solum, scheme, argv):
    """The migration lock connects first: the same line as ``version``."""
    url = f"{scheme}://solum:{ENCODED}@127.0.0.1:1/solum"
    line = assert_failed(solum(*argv, url=url))
    assert_clear(line, "cannot connect to the database",
                 f"{scheme}://solum:***@127.0.0.1:1/solum")


@pytest.mark.parametrize("backend", ["mysql", "postgresql"])
def test_missing_database_line_names_the_user(backend, solum):
    require_backend(backend)
    url = db.parse_url(SERVER_URLS[backend]).set(
        database=f"solum_absent_{uuid.uuid4().hex[:8]}")
    if url.password is not None:
        pytest.skip("the server URL holds a password; this test is of a "
                    "URL without one")
    line = assert_failed(solum(
        "upgrade", url=url.render_as_string(hide_password=False)))
    # The user is shown: mysql+pymysql://root@127.0.0.1:3306/solum_absent_...
    assert_clear(line, f"ERROR: cannot connect to the database "
                       f"{url.render_as_string()}: ")


def _pg_role(name, password):
    admin = sa.create_engine(db.parse_url(SERVER_URLS["postgresql"]),
                             poolclass=sa.pool.NullPool,
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(
            f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
    return admin


@pytest.mark.parametrize("backend", ["mysql", "postgresql"])
def test_wrong_password_on_upgrade_changes_nothing(backend, db_url, engine,
                                                   solum):
    url = db.parse_url(db_url)
    assert solum("upgrade", "kilo", url=db_url).code == 0
    with_rows(engine)
    before = state(engine)
    wrong = "Zq7WrongPassword"
    with contextlib.ExitStack() as stack:
        if backend == "mysql":
            user = stack.enter_context(mysql_user(url.database, PASSWORD))
        else:
            user = f"solum_pw_{uuid.uuid4().hex[:8]}"
            admin = _pg_role(user, "Zq7RightPassword")
            stack.callback(admin.dispose)
            stack.callback(execute, admin, f"DROP ROLE {user}")
            probe = sa.create_engine(
                db.parse_url(user_url(db_url, user, wrong)),
                poolclass=sa.pool.NullPool)
            try:
                with probe.connect():
                    trusted = True
            except sa.exc.OperationalError:
                trusted = False
            finally:
                probe.dispose()
            if trusted:
                pytest.skip("not reproducible here (trust auth): this "
                            "PostgreSQL accepts any password from "
                            "127.0.0.1 (pg_hba.conf: trust)")
        result = solum("upgrade", url=user_url(db_url, user, wrong))
    line = assert_failed(result)
    assert_clear(line, "cannot connect to the database")
    assert wrong not in result.err
    if backend == "mysql":
        assert "Access denied" in line
    else:
        assert "password authentication failed" in line
    assert state(engine) == before
