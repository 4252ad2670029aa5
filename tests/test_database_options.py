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

"""oslo.db's [database] options in solum.conf reach the real session.

Each honoured option is read back where it lands: the session's
``@@sql_mode`` and ``@@wsrep_sync_wait`` (a plain MariaDB and the Galera
cluster), the DBAPI's own parameters (``connection_parameters``), the SQL
echo on stderr with its passwords masked (``connection_debug``), the pool's
``recycle``, and the connection attempts (``max_retries``,
``retry_interval``) against a private listener on a free loopback port
that accepts connections only after a delay, forwarding them to the real
server. The other oslo.db options are accepted; the names, types and
defaults are oslo.db's own (read from oslo.db itself, a test dependency).
"""

import contextlib
import logging
import re
import socket
import threading
import time
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from solum_db_manage import db, db_options
from tests.helpers import (
    SERVER_URLS,
    admin_engine,
    assert_one_error,
    error_lines,
    mysql_user,
    provision,
    require_backend,
    user_url,
    warning_lines,
)

oslo_db_options = pytest.importorskip("oslo_db.options")

# This tool's defaults where oslo.db's would weaken a guarantee (README).
OWN_DEFAULTS = {"max_retries": 0}


def write_conf(tmp_path, **options):
    path = tmp_path / f"solum-{uuid.uuid4().hex[:8]}.conf"
    lines = ["[database]"] + [f"{name} = {value}"
                              for name, value in options.items()]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@contextlib.contextmanager
def sessions_seen(read):
    """What ``read(dbapi_connection, pool)`` returns for each connection
    the tool takes from a pool, right after the tool prepared it."""
    seen = []

    def checkout(dbapi_connection, record, proxy):
        seen.append(read(dbapi_connection, proxy._pool))

    event.listen(sa.pool.Pool, "checkout", checkout)
    try:
        yield seen
    finally:
        event.remove(sa.pool.Pool, "checkout", checkout)


def query(sql):
    def read(dbapi_connection, pool):
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(sql)
            return cursor.fetchone()
        finally:
            cursor.close()
    return read


@pytest.fixture
def mysql_url(tmp_path):
    with provision("mysql", tmp_path) as url:
        yield url


@pytest.fixture(autouse=True)
def engine_log_level():
    """connection_debug sets a process-wide logger's level: restore it."""
    logger = logging.getLogger("sqlalchemy.engine")
    level = logger.level
    yield
    logger.setLevel(level)


# --- the declaration ---------------------------------------------------------

def test_every_oslo_db_option_is_declared_with_its_type_and_default():
    ours = {opt.name: opt for opt in db_options.database_opts()}
    theirs = {opt.name: opt for opt in oslo_db_options.database_opts}
    # connection is the command line's (--database-connection).
    assert set(ours) | {"connection"} == set(theirs)
    for name, opt in ours.items():
        their = theirs[name]
        assert type(opt.type) is type(their.type), name
        assert opt.default == OWN_DEFAULTS.get(name, their.default), name
        assert opt.secret == their.secret, name
        old = {(o.name, o.group) for o in their.deprecated_opts}
        assert {(o.name, o.group) for o in opt.deprecated_opts} == old, name
    assert theirs["max_retries"].default == 10   # what OWN_DEFAULTS keeps


def test_the_sample_lists_every_option():
    from tests.test_config_sample import SAMPLE

    sample = SAMPLE.read_text()
    for opt in db_options.database_opts():
        assert re.search(rf"^#{opt.name} =", sample, re.M), opt.name


def test_every_oslo_db_option_is_accepted(solum, tmp_path):
    """A solum.conf written for Solum's services, every oslo.db option
    set to a value of its own, works; only the weakening ones warn."""
    values = {
        "sqlite_synchronous": "false", "backend": "sqlalchemy",
        "slave_connection": "mysql+pymysql://ro:secretpw@replica/solum",
        "mysql_sql_mode": "TRADITIONAL", "mysql_wsrep_sync_wait": "1",
        "asyncio_connection": "mysql+aiomysql://rw:secretpw@db/solum",
        "asyncio_slave_connection": "mysql+aiomysql://ro:secretpw@r/solum",
        "synchronous_reader": "false", "connection_recycle_time": "600",
        "max_pool_size": "20", "max_retries": "2", "retry_interval": "1",
        "max_overflow": "100", "connection_debug": "0",
        "connection_trace": "true", "pool_timeout": "30",
        "use_db_reconnect": "true", "db_retry_interval": "2",
        "db_inc_retry_interval": "false", "db_max_retry_interval": "5",
        "db_max_retries": "7", "connection_parameters": "",
    }
    assert set(values) | {"connection"} == {
        opt.name for opt in oslo_db_options.database_opts}
    # Options that older oslo.db releases had are accepted too.
    values["mysql_enable_ndb"] = "false"
    url = f"sqlite:///{tmp_path}/accepted.sqlite"
    conf = write_conf(tmp_path, **values)
    with open(conf, "a") as f:
        f.write("[DEFAULT]\nsql_max_retries = 3\n")
    result = solum("version", url=url, config_file=conf)
    assert (result.code, result.out) == (0, "Current DB revision is None\n")
    assert result.err == ""


def test_an_invalid_value_is_one_error_line(solum, tmp_path):
    result = solum("version", url=f"sqlite:///{tmp_path}/x.sqlite",
                   config_file=write_conf(tmp_path, connection_debug=101))
    assert "connection_debug" in assert_one_error(result)


def test_an_empty_section_gives_the_defaults(tmp_path):
    from oslo_config import cfg

    conf = cfg.ConfigOpts()
    conf.register_opts(db_options.database_opts(), group="database")
    conf(args=["--config-file", write_conf(tmp_path)])
    assert db_options.from_conf(conf) == db_options.DEFAULTS
    conf = cfg.ConfigOpts()
    conf.register_opts(db_options.database_opts(), group="database")
    conf(args=["--config-file", write_conf(
        tmp_path, mysql_sql_mode="", connection_debug=100, max_retries=4,
        mysql_wsrep_sync_wait=3, connection_parameters="a=1&b=2")])
    settings = db_options.from_conf(conf)
    assert (settings.mysql_sql_mode, settings.engine_log_level(),
            settings.attempts(), settings.sets_sync_wait(wsrep_on=False),
            settings.connection_parameters) == (
        "", logging.DEBUG, 4, 3, "a=1&b=2")


def test_defaults_are_the_tools():
    settings = db_options.DEFAULTS
    assert settings.mysql_sql_mode == "TRADITIONAL"
    assert settings.attempts() == 1
    assert settings.sets_sync_wait(wsrep_on=True) == 1
    assert settings.sets_sync_wait(wsrep_on=False) is None
    assert db_options.weakened(settings) == []


# --- the WARNING where a value weakens a guarantee ---------------------------

@pytest.mark.parametrize("name, value, says", [
    ("mysql_sql_mode", "ANSI", "data can be lost beyond what the data-loss "
                               "review reports"),
    ("mysql_sql_mode", "", "keep the server's sql_mode"),
    ("mysql_wsrep_sync_wait", "0", "Galera cluster"),
    ("mysql_wsrep_sync_wait", "6", "leaves out 1 (reads)"),
    ("max_retries", "-1", "waits for ever"),
])
def test_a_weakening_value_warns_and_says_which_guarantee(
        solum, tmp_path, name, value, says):
    result = solum("version", url=f"sqlite:///{tmp_path}/w.sqlite",
                   config_file=write_conf(tmp_path, **{name: value}))
    assert result.code == 0
    [warning] = warning_lines(result.err)
    assert name in warning and says in warning


@pytest.mark.parametrize("name, value", [
    ("mysql_sql_mode", "STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION"),
    ("mysql_sql_mode", "strict_trans_tables"),
    ("mysql_wsrep_sync_wait", "3"),
    ("max_retries", "5"),
])
def test_a_value_that_keeps_the_guarantees_does_not_warn(
        solum, tmp_path, name, value):
    result = solum("version", url=f"sqlite:///{tmp_path}/k.sqlite",
                   config_file=write_conf(tmp_path, **{name: value}))
    assert (result.code, result.err) == (0, "")


def test_offline_commands_do_not_warn(solum, tmp_path):
    result = solum("heads", config_file=write_conf(
        tmp_path, mysql_sql_mode="ANSI"))
    assert result.code == 0 and warning_lines(result.err) == []


# --- mysql_sql_mode, mysql_wsrep_sync_wait -----------------------------------

SESSION = query("SELECT @@session.sql_mode, @@session.wsrep_sync_wait")


def run_seeing(solum, tmp_path, url, read=SESSION, **options):
    with sessions_seen(read) as seen:
        result = solum("version", url=url,
                       config_file=write_conf(tmp_path, **options))
    assert result.code == 0, result.err
    assert seen
    return result, seen


@pytest.mark.mysql
def test_sql_mode_default_is_traditional(solum, tmp_path, mysql_url):
    _, seen = run_seeing(solum, tmp_path, mysql_url)
    assert all("TRADITIONAL" in mode for mode, _ in seen)


@pytest.mark.mysql
def test_sql_mode_reaches_the_session(solum, tmp_path, mysql_url):
    mode = "STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION"
    _, seen = run_seeing(solum, tmp_path, mysql_url, mysql_sql_mode=mode)
    assert {row[0] for row in seen} == {mode}


@pytest.mark.mysql
def test_an_empty_sql_mode_keeps_the_servers(solum, tmp_path, mysql_url):
    result, seen = run_seeing(solum, tmp_path, mysql_url, mysql_sql_mode="")
    server = admin_engine("mysql")
    with server.connect() as connection:
        mode = connection.exec_driver_sql("SELECT @@global.sql_mode").scalar()
    server.dispose()
    assert {row[0] for row in seen} == {mode}
    assert len(warning_lines(result.err)) == 1


@pytest.mark.mysql
def test_sync_wait_is_set_on_a_plain_server_that_has_it(
        solum, tmp_path, mysql_url):
    _, default = run_seeing(solum, tmp_path, mysql_url)
    _, seen = run_seeing(solum, tmp_path, mysql_url, mysql_wsrep_sync_wait=3)
    # Unset, a server that is no Galera node keeps its own (0 here).
    assert {row[1] for row in default} == {0}
    assert {row[1] for row in seen} == {3}


def test_sync_wait_on_galera_defaults_to_reads_and_honours_a_value(
        solum, tmp_path, galera_db):
    url = galera_db[1]
    _, default = run_seeing(solum, tmp_path, url)
    assert {row[1] for row in default} == {1}
    result, seen = run_seeing(solum, tmp_path, url, mysql_wsrep_sync_wait=0)
    assert {row[1] for row in seen} == {0}
    [warning] = warning_lines(result.err)
    assert "mysql_wsrep_sync_wait = 0" in warning
    _, seen = run_seeing(solum, tmp_path, url, mysql_wsrep_sync_wait=7)
    assert {row[1] for row in seen} == {7}


# --- connection_parameters, connection_recycle_time --------------------------

@pytest.mark.mysql
def test_connection_parameters_reach_the_mysql_driver(
        solum, tmp_path, mysql_url):
    _, seen = run_seeing(
        solum, tmp_path, mysql_url, read=query("SELECT @solum_probe"),
        connection_parameters="init_command=SET @solum_probe = 42")
    assert {row[0] for row in seen} == {42}


def test_connection_parameters_reach_the_postgresql_driver(
        solum, tmp_path):
    with provision("postgresql", tmp_path) as url:
        _, seen = run_seeing(
            solum, tmp_path, url,
            read=query("SELECT current_setting('application_name')"),
            connection_parameters="application_name=solum-probe")
    assert {row[0] for row in seen} == {"solum-probe"}


@pytest.mark.mysql
def test_a_parameter_the_driver_refuses_is_one_error_line(
        solum, tmp_path, mysql_url):
    result = solum("version", url=mysql_url, config_file=write_conf(
        tmp_path, connection_parameters="no_such_parameter=1"))
    assert "connection_parameters" in assert_one_error(result)


@pytest.mark.parametrize("backend", ["sqlite", "mysql", "postgresql"])
def test_recycle_time_is_set_on_the_pool(solum, tmp_path, backend):
    with provision(backend, tmp_path) as url:
        _, seen = run_seeing(solum, tmp_path, url,
                             read=lambda dbapi, pool: pool._recycle,
                             connection_recycle_time=77)
        _, default = run_seeing(solum, tmp_path, url,
                                read=lambda dbapi, pool: pool._recycle)
    assert set(seen) == {77}
    assert set(default) == {3600}


# --- connection_debug --------------------------------------------------------

@pytest.fixture
def password_db():
    """A MySQL database whose user's password is the database's name, so
    that the echo of ``SELECT DATABASE()``'s row shows it unless masked."""
    require_backend("mysql")
    secret = f"pw_{uuid.uuid4().hex[:12]}"
    admin = admin_engine("mysql")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {secret}")
    url = db.parse_url(SERVER_URLS["mysql"]).set(database=secret)
    try:
        with mysql_user(secret, secret) as user:
            yield user_url(url.render_as_string(hide_password=False), user,
                           secret), secret
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE {secret}")
        admin.dispose()


@pytest.mark.mysql
@pytest.mark.parametrize("level, statements, rows", [
    (0, False, False), (49, False, False), (50, True, False),
    (100, True, True)])
def test_connection_debug_echoes_sql_with_passwords_masked(
        solum, tmp_path, password_db, level, statements, rows):
    url, secret = password_db
    result = solum("version", url=url, config_file=write_conf(
        tmp_path, connection_debug=level))
    assert result.code == 0, result.err
    echo = [line for line in result.err.splitlines()
            if " sqlalchemy.engine" in line]
    assert any("SELECT DATABASE()" in line
               for line in echo) == statements
    # At 100 (DEBUG) the rows too: DATABASE() is the secret, masked.
    assert any(" DEBUG " in line and "('***',)" in line
               for line in echo) == rows
    assert secret not in result.out + result.err
    # The next run without it echoes nothing: the level is set each run.
    if statements:
        quiet = solum("version", url=url)
        assert " sqlalchemy.engine" not in quiet.err


# --- max_retries, retry_interval ---------------------------------------------

class LateListener:
    """A TCP port on loopback that refuses connections (bound, not
    listening) until :meth:`listen`, then forwards each connection to
    ``target`` (host, port)."""

    def __init__(self, target):
        self.target = target
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self._threads = []
        self._closed = threading.Event()

    def listen(self, after=0.0):
        def run():
            if self._closed.wait(after):
                return
            self.socket.listen(8)
            self.socket.settimeout(0.2)
            while not self._closed.is_set():
                try:
                    client, _ = self.socket.accept()
                except (TimeoutError, OSError):
                    continue
                server = socket.create_connection(self.target)
                for pair in ((client, server), (server, client)):
                    self._start(self._pump, *pair)

        self._start(run)

    def _start(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    @staticmethod
    def _pump(source, sink):
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self):
        self._closed.set()
        self.socket.close()
        for thread in self._threads:
            thread.join(5)


@pytest.fixture
def late_listener():
    made = []

    def make(url):
        parsed = db.parse_url(url)
        listener = LateListener((parsed.host, parsed.port))
        made.append(listener)
        return listener, parsed.set(port=listener.port).render_as_string(
            hide_password=False)

    yield make
    for listener in made:
        listener.close()


SERVER_BACKENDS = ["mysql", "postgresql"]


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_a_server_that_starts_late_is_reached_within_the_retries(
        solum, tmp_path, late_listener, backend):
    with provision(backend, tmp_path) as url:
        listener, late_url = late_listener(url)
        listener.listen(after=2.5)
        started = time.monotonic()
        result = solum("version", url=late_url, config_file=write_conf(
            tmp_path, max_retries=10, retry_interval=1))
        took = time.monotonic() - started
    assert (result.code, result.out) == (0, "Current DB revision is None\n")
    assert 2.5 <= took < 10 * 1
    retries = warning_lines(result.err)
    assert 2 <= len(retries) <= 4
    assert all("trying again in 1 s" in line for line in retries)
    assert error_lines(result.err) == []


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_an_unreachable_server_fails_in_bounded_time(
        solum, tmp_path, late_listener, backend):
    require_backend(backend)
    listener, url = late_listener(SERVER_URLS[backend])   # never listens
    started = time.monotonic()
    result = solum("version", url=url, config_file=write_conf(
        tmp_path, max_retries=3, retry_interval=1))
    took = time.monotonic() - started
    assert "cannot connect to the database" in assert_one_error(result)
    retries = warning_lines(result.err)
    assert len(retries) == 2     # 3 attempts, 2 waits
    assert "2 attempts left" in retries[0] and "1 attempt left" in retries[1]
    # One line each: not followed by the driver's exception.
    assert "OperationalError" not in result.err
    assert 2 <= took < 2 + 5


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_by_default_an_unreachable_server_fails_at_once(
        solum, tmp_path, late_listener, backend):
    require_backend(backend)
    listener, url = late_listener(SERVER_URLS[backend])
    started = time.monotonic()
    result = solum("version", url=url)
    assert time.monotonic() - started < 5
    assert_one_error(result)
    assert warning_lines(result.err) == []


@pytest.mark.mysql
def test_a_wrong_password_is_not_retried(solum, tmp_path, password_db):
    url, secret = password_db
    wrong = url.replace(f":{secret}@", ":not-the-password@")
    started = time.monotonic()
    result = solum("version", url=wrong, config_file=write_conf(
        tmp_path, max_retries=5, retry_interval=5))
    assert time.monotonic() - started < 5
    assert_one_error(result)
    assert warning_lines(result.err) == []
