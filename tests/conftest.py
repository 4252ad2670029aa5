"""The one fixture module: backends, throw-away databases, the CLI.

MySQL/MariaDB and PostgreSQL are opportunistic: the server URLs come from
SOLUM_TEST_MYSQL_URL and SOLUM_TEST_POSTGRESQL_URL (defaults: root on
127.0.0.1:3306, postgres on 127.0.0.1:5432). A server that is not reachable
skips its tests, unless SOLUM_TEST_REQUIRE_BACKENDS names it: then they
fail. Every test gets a database of its own, dropped afterwards.
"""

import contextlib
import dataclasses
import os
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
