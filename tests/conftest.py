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
import inspect
import os
import shutil
import time
import uuid

import pytest
import sqlalchemy as sa

from solum_db_manage import cli, db
from solum_db_manage import scripts as solum_scripts
from tests.helpers import (
    BACKENDS,
    GALERA_NODES,
    TIERS,
    Run,
    galera_engine,
    galera_urls,
    provision,
    required_backends,
    scripts,
    secret_url_of,
    with_rows,
)

GALERA_FIXTURES = {"galera", "galera_db"}


def _source(function):
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return ""


def tier_of(item):
    """The one tier of a test, from what it uses.

    A tier marked on the test (or its module) wins; else the backend it
    is parametrized with (``backend``, or a fixture's backend parameter);
    else ``galera`` for a test using the cluster; else the one server
    backend the test names ("mysql" or "postgresql", as in
    ``provision("mysql", ...)``); else ``sqlite`` where the test, or a
    fixture of this suite it uses, names SQLite; else ``unit`` (no
    database).
    """
    marked = [mark.name for mark in item.iter_markers() if mark.name in TIERS]
    if marked:
        return None
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        # ``backend``, or a fixture of its own parametrized by backend.
        for name, value in callspec.params.items():
            if (name == "backend" or name in item.fixturenames) and \
                    value in BACKENDS:
                return value
    if GALERA_FIXTURES & set(item.fixturenames):
        return "galera"
    function = getattr(item, "function", None)
    servers = [name for name in ("mysql", "postgresql")
               if f'"{name}"' in _source(function)]
    if len(servers) == 1:       # provision("mysql", ...) and the like
        return servers[0]
    functions = [function]
    for definitions in item._fixtureinfo.name2fixturedefs.values():
        functions += [definition.func for definition in definitions
                      if definition.func.__module__.startswith("tests")]
    if any("sqlite" in _source(function).lower() for function in functions
           if function is not None):
        return "sqlite"
    return "unit"


def pytest_collection_modifyitems(config, items):
    for item in items:
        tier = tier_of(item)
        if tier is not None:
            item.add_marker(getattr(pytest.mark, tier))


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
    url = db.parse_url(db_url)
    connect_args = {}
    if url.get_backend_name() == "mysql":
        connect_args["init_command"] = "SET SESSION sql_mode = 'TRADITIONAL'"
    engine = sa.create_engine(url, connect_args=connect_args)
    yield engine
    engine.dispose()


def _galera_problem(urls):
    """Why the cluster cannot be used, or None."""
    if not urls:
        return ("SOLUM_TEST_GALERA_URLS is not set (tools/galera-cluster "
                "start starts a cluster and prints it)")
    if len(urls) != GALERA_NODES:
        return (f"SOLUM_TEST_GALERA_URLS names {len(urls)} servers; the "
                f"Galera tests need {GALERA_NODES}")
    for number, url in enumerate(urls, 1):
        shown = db.parse_url(url).render_as_string()
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
            yield [db.parse_url(url).set(database=name)
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
def secret_url(backend, db_url):
    """The test database's URL with a password, where the backend takes
    one (helpers.secret_url_of)."""
    with secret_url_of(backend, db_url) as url:
        yield url


@pytest.fixture
def at_kilo(secret_url, engine, solum):
    """The database at kilo with two plans; its URL (with a password)."""
    assert solum("upgrade", "kilo", url=secret_url).code == 0
    with_rows(engine)
    return secret_url


@pytest.fixture
def script_copy(tmp_path, monkeypatch):
    """A throw-away copy of the migration scripts, for ``revision``.

    The package's own versions/ must never keep a file a test wrote: the
    commands are pointed at the copy, and the real directory is checked
    (and cleaned) afterwards.
    """
    real = scripts().dir
    real_versions = os.path.join(real, "versions")

    def listing():
        return {name for name in os.listdir(real_versions)
                if name.endswith(".py")}

    before = listing()
    copy = tmp_path / "alembic_migrations"
    shutil.copytree(real, copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(solum_scripts, "SCRIPT_LOCATION", str(copy))
    try:
        yield copy
    finally:
        stray = listing() - before
        for name in stray:
            os.remove(os.path.join(real_versions, name))
        assert not stray, f"a test wrote into the package: {stray}"


@pytest.fixture(autouse=True)
def no_run_left():
    """A failed test leaves no process of its own behind (helpers.Run)."""
    yield
    while Run.started:
        process = Run.started.pop()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


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
