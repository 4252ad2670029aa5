"""The one fixture module: backends, throw-away databases, the CLI.

MySQL/MariaDB and PostgreSQL are opportunistic: the server URLs come from
SOLUM_TEST_MYSQL_URL and SOLUM_TEST_POSTGRESQL_URL (defaults: root on
127.0.0.1:3306, postgres on 127.0.0.1:5432). A server that is not reachable
skips its tests, unless SOLUM_TEST_REQUIRE_BACKENDS names it: then they
fail. Every test gets a database of its own, dropped afterwards.

A MariaDB Galera cluster is opportunistic too, but no part of BACKENDS:
its nodes' server URLs come from SOLUM_TEST_GALERA_URLS (comma-separated,
one per node, as ``tools/galera-cluster start`` prints them); the
``galera`` and ``galera_db`` fixtures skip without it, or fail where
SOLUM_TEST_REQUIRE_BACKENDS names galera.
"""

import contextlib
import dataclasses
import os
import time
import uuid

import pytest
import sqlalchemy as sa

from solum_db_manage import cli, migration

BACKENDS = ("sqlite", "mysql", "postgresql")

SERVER_URLS = {
    "mysql": os.environ.get(
        "SOLUM_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/"),
    "postgresql": os.environ.get(
        "SOLUM_TEST_POSTGRESQL_URL",
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
}

_unreachable = {}


def required_backends():
    names = os.environ.get("SOLUM_TEST_REQUIRE_BACKENDS", "")
    return {name.strip() for name in names.split(",") if name.strip()}


def _admin_engine(backend):
    return sa.create_engine(
        migration.parse_url(SERVER_URLS[backend]),
        poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5})


def require_backend(backend):
    """Skip (or fail, where required) unless the backend's server answers."""
    if backend == "sqlite":
        return
    if backend not in _unreachable:
        try:
            engine = _admin_engine(backend)
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            engine.dispose()
            _unreachable[backend] = None
        except Exception as error:  # any failure means: not reachable
            _unreachable[backend] = " ".join(str(error).split())[:300]
    reason = _unreachable[backend]
    if reason is None:
        return
    message = f"{backend} server not reachable: {reason}"
    if backend in required_backends():
        pytest.fail(f"{message} (required by SOLUM_TEST_REQUIRE_BACKENDS)")
    pytest.skip(message)


@contextlib.contextmanager
def provision(backend, directory, mysql_charset="utf8mb4"):
    """Create an empty database of its own; yield its URL; drop it.

    MySQL databases are created in utf8mb4 unless told otherwise, as
    Solum's deployments were (utf8 or utf8mb4).
    """
    require_backend(backend)
    name = f"solum_test_{uuid.uuid4().hex[:12]}"
    if backend == "sqlite":
        yield f"sqlite:///{directory}/{name}.sqlite"
        return
    engine = _admin_engine(backend)
    try:
        with engine.connect() as connection:
            if backend == "mysql":
                connection.exec_driver_sql(
                    f"CREATE DATABASE {name} CHARACTER SET {mysql_charset}")
            else:
                connection.exec_driver_sql(f"CREATE DATABASE {name}")
        url = migration.parse_url(SERVER_URLS[backend]).set(database=name)
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            with engine.connect() as connection:
                if backend == "mysql":
                    connection.exec_driver_sql(f"DROP DATABASE {name}")
                else:
                    connection.exec_driver_sql(
                        f"DROP DATABASE {name} WITH (FORCE)")
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Each test that uses it runs once per backend."""
    return request.param


@pytest.fixture
def db_url(backend, tmp_path):
    """The URL of a new, empty database on the backend."""
    with provision(backend, tmp_path) as url:
        yield url


@pytest.fixture
def new_db_url(backend, tmp_path):
    """A factory of further empty databases on the same backend."""
    with contextlib.ExitStack() as stack:
        yield lambda: stack.enter_context(provision(backend, tmp_path))


@pytest.fixture
def engine(db_url):
    """An engine on the test database, strict on MySQL like the tool's.

    Unlike the tool's, it keeps its connections: schema reflection opens
    one per call, and a new MariaDB connection costs tens of milliseconds.
    """
    url = migration.parse_url(db_url)
    connect_args = {}
    if url.get_backend_name() == "mysql":
        connect_args["init_command"] = "SET SESSION sql_mode = 'TRADITIONAL'"
    engine = sa.create_engine(url, connect_args=connect_args)
    yield engine
    engine.dispose()


GALERA_NODES = 3


def galera_urls():
    """The Galera nodes' server URLs, from SOLUM_TEST_GALERA_URLS."""
    urls = os.environ.get("SOLUM_TEST_GALERA_URLS", "")
    return [url.strip() for url in urls.split(",") if url.strip()]


def galera_engine(url):
    """An autocommit engine on one node that keeps no connection."""
    return sa.create_engine(
        migration.parse_url(url), poolclass=sa.pool.NullPool,
        isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})


def _galera_problem(urls):
    """Why the cluster cannot be used, or None."""
    if not urls:
        return ("SOLUM_TEST_GALERA_URLS is not set (tools/galera-cluster "
                "start starts a cluster and prints it)")
    if len(urls) != GALERA_NODES:
        return (f"SOLUM_TEST_GALERA_URLS names {len(urls)} servers; the "
                f"Galera tests need {GALERA_NODES}")
    for number, url in enumerate(urls, 1):
        shown = migration.parse_url(url).render_as_string()
        try:
            engine = galera_engine(url)
            try:
                with engine.connect() as connection:
                    status = dict(connection.execute(sa.text(
                        "SHOW GLOBAL STATUS LIKE 'wsrep\\_%'")).all())
            finally:
                engine.dispose()
        except Exception as error:  # any failure means: not reachable
            reason = " ".join(str(error).split())[:300]
            return f"node {number} ({shown}) not reachable: {reason}"
        state = (status.get("wsrep_cluster_size"), status.get("wsrep_ready"),
                 status.get("wsrep_local_state_comment"))
        if state != (str(GALERA_NODES), "ON", "Synced"):
            return (f"node {number} ({shown}) not synced: "
                    f"wsrep_cluster_size={state[0]} wsrep_ready={state[1]} "
                    f"wsrep_local_state_comment={state[2]}")
    return None


@pytest.fixture
def galera():
    """The Galera nodes' server URLs, once all answer and are synced.

    Skips with the reason where the cluster is not configured, not
    reachable or not synced (wsrep_cluster_size=3); fails instead where
    SOLUM_TEST_REQUIRE_BACKENDS names galera.
    """
    urls = galera_urls()
    problem = _galera_problem(urls)
    if problem is not None:
        message = f"galera cluster not usable: {problem}"
        if "galera" in required_backends():
            pytest.fail(
                f"{message} (required by SOLUM_TEST_REQUIRE_BACKENDS)")
        pytest.skip(message)
    return urls


def _wait_for_database(url, name, timeout=30):
    """Until the node at url sees database name (read with sync wait)."""
    engine = galera_engine(url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SET SESSION wsrep_sync_wait = 1")
            deadline = time.monotonic() + timeout
            while not connection.execute(
                    sa.text("SELECT COUNT(*) FROM information_schema.schemata"
                            " WHERE schema_name = :name"),
                    {"name": name}).scalar():
                if time.monotonic() > deadline:
                    pytest.fail(f"database {name} created on node 1 not "
                                f"visible after {timeout}s on {url}")
                time.sleep(0.1)
    finally:
        engine.dispose()


@pytest.fixture
def galera_db(galera):
    """A new utf8mb4 database on the cluster: its URL on each node.

    Created through node 1, yielded once every other node sees it, dropped
    afterwards (through node 1). The database name is the same in every
    URL; only the server differs.
    """
    name = f"solum_test_{uuid.uuid4().hex[:12]}"
    first = galera_engine(galera[0])
    try:
        with first.connect() as connection:
            connection.exec_driver_sql(
                f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
        try:
            for url in galera[1:]:
                _wait_for_database(url, name)
            yield [migration.parse_url(url).set(database=name)
                   .render_as_string(hide_password=False) for url in galera]
        finally:
            with first.connect() as connection:
                connection.exec_driver_sql(f"DROP DATABASE {name}")
    finally:
        first.dispose()


@dataclasses.dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def empty_config(tmp_path):
    path = tmp_path / "solum.conf"
    path.write_text("")
    return str(path)


@pytest.fixture
def solum(capsys, monkeypatch, empty_config):
    """Run ``main()`` as the user would; return exit status and output.

    ``solum(*args, url=URL)`` passes --database-connection URL; an empty
    configuration file keeps the machine's own solum.conf out of tests.
    """
    monkeypatch.delenv("OS_DATABASE__CONNECTION", raising=False)

    def run(*args, url=None, config_file=empty_config):
        argv = ["--config-file", config_file]
        if url is not None:
            argv += ["--database-connection", url]
        capsys.readouterr()
        code = cli.main(argv + list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run
