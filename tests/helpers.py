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

"""What the tests share: revision ids, servers, the tool's promises.

Every test module takes its helpers from here (and its fixtures from
conftest.py); no test module imports another. Sections:

- revisions: the ids the tests name, and the chain;
- servers: the backends' server URLs, reachability, throw-away databases,
  the Galera nodes;
- the tool's answers: ERROR lines, one-error failures, passwords;
- databases: statements, rows, state snapshots;
- processes: the tool run as a process, its stderr read live, signals;
- SQLite disks: a small tmpfs, a filled filesystem;
- the migration lock's lease: runs blocked mid-chain, cut connections.
"""

import contextlib
import dataclasses
import datetime
import io
import itertools
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy import event

from solum_db_manage import cli, db
from solum_db_manage.config import make_config
from tests import dbutil
from tests.dbutil import LOCK_TABLE, VERSION_TABLE

# --- revisions --------------------------------------------------------------

PROG = "solum-db-manage"
HEAD = "a271b35952be"
HEAD_NAMED = f"{HEAD} (mitaka ... 2023.2)"
# What ``version`` prints at head.
HEAD_LINE = f"Current DB revision is {HEAD_NAMED}\n"
LIBERTY = "e5f2e8af3b8"
KILO = "1393c21ea82c"
JUNO = "438cd6d1c655"
# The first revision of Icehouse's own chain (the squash of 2014's).
SQUASH = "498adc6185ae"
# The revision before the one that adds workflow's unique constraint.
BEFORE_UNIQUE = "112cfe038dd3"
# A revision id no chain holds.
UNKNOWN = "ffffffffffff"
# Two workflows the unique constraint of e5f2e8af3b8 refuses.
DUPLICATE_WORKFLOWS = (
    "INSERT INTO workflow (id, deleted, app_id, wf_id) "
    "VALUES ('wf-1', false, 'app-1', 1)",
    "INSERT INTO workflow (id, deleted, app_id, wf_id) "
    "VALUES ('wf-2', false, 'app-1', 1)",
)


def block_the_unique_step(engine):
    """Make e5f2e8af3b8's statement fail in a way no plan foresees: a
    name it needs is taken (SQLite: its batch rebuild's scratch table;
    MySQL and PostgreSQL: an index named app_id_wf_id, not unique)."""
    if engine.dialect.name == "sqlite":
        execute(engine, "CREATE TABLE _alembic_tmp_workflow (id INTEGER)")
    else:
        execute(engine, "CREATE INDEX app_id_wf_id ON workflow (app_id)")


def unblock_the_unique_step(engine):
    execute(engine, {
        "sqlite": "DROP TABLE _alembic_tmp_workflow",
        "mysql": "DROP INDEX app_id_wf_id ON workflow",
    }.get(engine.dialect.name, "DROP INDEX app_id_wf_id"))


def scripts():
    return ScriptDirectory.from_config(make_config(None))


def chain():
    """Every revision id, from the first to head."""
    return [script.revision
            for script in reversed(list(scripts().walk_revisions()))]


def new_scripts(copy):
    """The scripts in a copy of the migration scripts (``script_copy``)."""
    return sorted((copy / "versions").glob("*.py"))


def after(revision):
    """The revisions after ``revision`` up to head, in order."""
    revisions = chain()
    return revisions[revisions.index(revision) + 1:]


# --- servers ----------------------------------------------------------------

BACKENDS = ("sqlite", "mysql", "postgresql")
# The tiers, as markers (pyproject.toml registers them; conftest.py gives
# each test exactly one, tests/test_tiers.py checks it); ``slow`` besides.
TIERS = ("unit", "sqlite", "mysql", "postgresql", "galera")

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


def admin_engine(backend_or_url, **options):
    """An autocommit engine that keeps no connection, as the admin.

    Takes a backend name (its server URL) or a database URL.
    """
    url = SERVER_URLS.get(backend_or_url, backend_or_url)
    return sa.create_engine(
        db.parse_url(url), poolclass=sa.pool.NullPool,
        isolation_level="AUTOCOMMIT", **options)


def require_backend(backend):
    """Skip (or fail, where required) unless the backend's server answers."""
    if backend == "sqlite":
        return
    if backend not in _unreachable:
        try:
            engine = admin_engine(backend,
                                  connect_args={"connect_timeout": 5})
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
    engine = admin_engine(backend, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            if backend == "mysql":
                connection.exec_driver_sql(
                    f"CREATE DATABASE {name} CHARACTER SET {mysql_charset}")
            else:
                connection.exec_driver_sql(f"CREATE DATABASE {name}")
        url = db.parse_url(SERVER_URLS[backend]).set(database=name)
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


GALERA_NODES = 3


def galera_urls():
    """The Galera nodes' server URLs, from SOLUM_TEST_GALERA_URLS."""
    urls = os.environ.get("SOLUM_TEST_GALERA_URLS", "")
    return [url.strip() for url in urls.split(",") if url.strip()]


def galera_engine(url):
    """An autocommit engine on one node that keeps no connection."""
    return admin_engine(url, connect_args={"connect_timeout": 5})


# --- the tool's answers -----------------------------------------------------

# What no line the user reads may hold.
NOISE = re.compile(r"Traceback|object at 0x|File \"|\b\w+(Error|Exception)\(")

# "%", "@" and ":" are what break naive URL handling.
PASSWORD = "p%w@d:S3cret"
ENCODED = "p%25w%40d%3AS3cret"
# A server nobody listens on, in a URL with the password.
SECRET_URL = f"mysql+pymysql://solum:{ENCODED}@127.0.0.1:1/solum"


def error_lines(err):
    return [line for line in err.splitlines() if line.startswith("ERROR:")]


def warning_lines(err):
    """Lines that warn, by their text (the message holds no "WARNING:")."""
    return [line for line in err.splitlines() if "WARNING" in line]


def run_ok(solum, *args, url=None):
    """``solum(*args, url=url)``, which must exit 0; its result."""
    result = solum(*args, url=url)
    assert result.code == 0, (args, result.out, result.err)
    return result


def follow(solum, repair, url):
    """Run the commands the tool printed, as printed."""
    assert repair
    for command_line in repair:
        program, *args = command_line.split()
        assert program == PROG
        run_ok(solum, *args, url=url)


def assert_one_error(result, code=1):
    """The tool failed the way users are promised: one line, no traceback."""
    assert result.code == code, result.err
    assert len(error_lines(result.err)) == 1, result.err
    assert result.err.rstrip().splitlines()[-1].startswith("ERROR: ")
    assert "Traceback" not in result.err
    assert result.out == ""
    return error_lines(result.err)[0]


def assert_no_password(*texts):
    for text in texts:
        assert PASSWORD not in text
        assert ENCODED not in text
        assert "S3cret" not in text


def assert_one_error_stream(err):
    """stderr of a failed run: one ERROR line, the last, without noise;
    no password. Returns the line."""
    lines = error_lines(err)
    assert len(lines) == 1, err
    assert err.splitlines()[-1] == lines[0], err
    assert not NOISE.search(err), err
    assert_no_password(err)
    return lines[0]


def assert_failed(result, code=1):
    """The failure users are promised; return the ERROR line."""
    assert result.code == code, result.err
    line = assert_one_error_stream(result.err)
    assert result.err.endswith("\n")
    assert result.out == ""
    assert_no_password(result.out)
    return line


def assert_clear(line, *words):
    """The line says what went wrong, in the tool's words.

    A word that starts with "ERROR: " is the line's beginning; the others
    are anywhere in it.
    """
    assert not line.startswith("ERROR: unexpected "), line
    for word in words:
        if word.startswith("ERROR: "):
            assert line.startswith(word), (word, line)
        else:
            assert word in line, (word, line)


# --- databases --------------------------------------------------------------

def execute(engine, *statements):
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


@contextlib.contextmanager
def disposing(url):
    """The tool's own engine on ``url``, disposed afterwards."""
    engine = db.create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def comparable(snapshot, ordered):
    """The snapshot, with column order dropped unless ``ordered``."""
    if ordered:
        return snapshot
    return {
        table: dict(schema, columns=sorted(
            schema["columns"], key=lambda column: column["name"]))
        for table, schema in snapshot.items()
    }


WHEN = datetime.datetime(2015, 6, 1, 12, 0)
_numbers = itertools.count(1000)


def filler(column, n):
    """A value for a NOT NULL column the test does not care about."""
    if isinstance(column.type, sa.Boolean):
        return False
    if isinstance(column.type, sa.Integer):
        return 0  # also MySQL's tinyint(1) for a Boolean
    if isinstance(column.type, sa.DateTime):
        return WHEN
    return f"{column.name}-{n}"[:column.type.length or 36]


def insert(engine, table, **values):
    """Insert one row, filling the NOT NULL columns not given; its key."""
    reflected = sa.Table(table, sa.MetaData(), autoload_with=engine)
    n = next(_numbers)
    row = {}
    for column in reflected.columns:
        integer_key = (column.primary_key
                       and isinstance(column.type, sa.Integer))
        if column.nullable or integer_key or column.name in values:
            continue
        row[column.name] = filler(column, n)
    row.update(values)
    with engine.begin() as connection:
        result = connection.execute(reflected.insert().values(row))
        return result.inserted_primary_key[0]


def state(engine):
    """Schema, version rows and data rows: what must not change."""
    tables = sa.inspect(engine).get_table_names()
    return (dbutil.snapshot(engine, include_version_table=True),
            dbutil.version_rows(engine),
            dbutil.rows(engine, "plan") if "plan" in tables else None)


def with_rows(engine):
    """Two plans, as a deployment has: the data that must survive."""
    for name in ("plan-a", "plan-b"):
        insert(engine, "plan", name=name)


def assert_exactly_at_recorded(engine, solum, reference_url):
    """The schema is exactly that of the revision the version table
    records (built at ``reference_url`` to compare); that revision."""
    recorded = dbutil.version_rows(engine)
    assert len(recorded) == 1, recorded
    assert solum("upgrade", recorded[0], url=reference_url).code == 0
    with disposing(reference_url) as expected:
        assert dbutil.snapshot(engine, include_version_table=True) == \
            dbutil.snapshot(expected, include_version_table=True)
    return recorded[0]


@contextlib.contextmanager
def mysql_user(database, password):
    """A MariaDB user with a password and rights on one database."""
    require_backend("mysql")
    admin = sa.create_engine(db.parse_url(SERVER_URLS["mysql"]),
                             poolclass=sa.pool.NullPool)
    name = f"solum_{uuid.uuid4().hex[:10]}"
    quoted = password.replace("'", "''")

    def run(*statements):
        # PyMySQL formats every statement with "%": literal ones double.
        execute(admin, *(text.replace("%", "%%") for text in statements))

    run(f"CREATE USER '{name}'@'%' IDENTIFIED BY '{quoted}'",
        f"GRANT ALL ON `{database}`.* TO '{name}'@'%'")
    try:
        yield name
    finally:
        run(f"DROP USER '{name}'@'%'")
        admin.dispose()


def user_url(db_url, user, encoded_password):
    url = db.parse_url(db_url)
    return (f"{url.drivername}://{user}:{encoded_password}@{url.host}:"
            f"{url.port}/{url.database}")


@contextlib.contextmanager
def secret_url_of(backend, db_url):
    """``db_url`` with PASSWORD in it, where the backend takes one.

    PostgreSQL trusts 127.0.0.1 here, so any password connects: the URL
    still carries one, which must not be shown. MySQL gets a user of its
    own with that password.
    """
    if backend == "sqlite":
        yield db_url
        return
    url = db.parse_url(db_url)
    if backend == "postgresql":
        # A server that checks passwords keeps the one it was given.
        yield db_url if url.password else user_url(db_url, url.username,
                                                   ENCODED)
        return
    with mysql_user(url.database, PASSWORD) as user:
        yield user_url(db_url, user, ENCODED)


# --- processes --------------------------------------------------------------

# Each run that could take the migration lock waits at most this long, so
# that a lock leaked by an earlier in-process run fails fast, not in 300 s.
LOCK_WAIT = ("--lock-timeout", "10")
# A run from here needs, a few revisions in, a lock on plan (586c15b92842's
# foreign key on PostgreSQL, 27dff58cbc65's DROP COLUMN on MariaDB), which
# another session can hold: the run waits there.
SIGINT_FROM = SQUASH
RUNNING = re.compile(r"Running upgrade (\w+) -> (\w+),")


def environment():
    """The environment without OS_* (oslo.config reads those)."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith("OS_")}


def tool(tmp_path, *args):
    """The command line of the tool as a process, with an empty config."""
    config = tmp_path / "empty.conf"
    config.write_text("")
    return [sys.executable, "-m", "solum_db_manage", "--config-file",
            str(config), *args]


def nobody_prefix(env=None):
    """The command prefix that runs this interpreter as user nobody.

    Skips where nobody cannot: no setpriv (util-linux), or an interpreter
    under a home only root may enter (pyenv's in /root), a fact of the
    machine, not of the tool. Where the kernel falls back on the system's
    python3.11 (a venv on pyenv's 3.11), nobody runs the tool if that
    interpreter finds the venv's packages; tox's virtualenvs it does not.
    """
    if not shutil.which("setpriv"):
        pytest.skip("running the tool as nobody needs setpriv (util-linux)")
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
              sys.executable]
    probe = subprocess.run([*prefix, "-c", "import solum_db_manage"],
                           capture_output=True, text=True, env=env,
                           cwd="/")
    if probe.returncode != 0:
        pytest.skip(f"user nobody cannot run {sys.executable}: "
                    f"{probe.stderr.strip()}")
    return prefix


def run_tool(args, as_nobody=False, **options):
    """``python -m solum_db_manage ARGS``, without the OS_* environment.

    ``as_nobody`` runs it as user nobody, through setpriv (util-linux).
    """
    env = environment()
    command = [sys.executable, "-m", "solum_db_manage", *args]
    if as_nobody:
        command = [*nobody_prefix(env), *command[1:]]
    return subprocess.run(command, capture_output=True, text=True,
                          env=env, timeout=300, **options)


def world_readable_dir():
    """A directory user nobody may enter (pytest's tmp_path is 0700)."""
    directory = tempfile.mkdtemp(prefix="solum-bad-input-")
    os.chmod(directory, 0o755)
    return Path(directory)


def lines_of(stream):
    """A queue of the stream's lines, read by a thread; None at its end."""
    lines = queue.Queue()

    def read():
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def until_blocked(process, lines, timeout=60):
    """Read stderr until a revision has started and nothing follows."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1.5)
        except queue.Empty:
            if seen and RUNNING.search(seen[-1]):
                return seen
            continue
        if line is None:
            pytest.fail("the upgrade ended before the signal:\n"
                        + "".join(seen))
        seen.append(line)
    pytest.fail("the upgrade never waited:\n" + "".join(seen))


def until_running(lines):
    """Read stderr until a revision has started; the lines read."""
    seen = []
    while not RUNNING.search("".join(seen)):
        line = lines.get(timeout=60)
        assert line is not None, "".join(seen)
        seen.append(line)
    return seen


def drain(lines, seen):
    """The rest of the lines after ``seen``: the whole stderr."""
    while (line := lines.get(timeout=30)) is not None:
        seen.append(line)
    return "".join(seen)


def ended(process):
    """Kill the process where it still runs (a test failed)."""
    if process.poll() is None:
        process.kill()
        process.wait()


@contextlib.contextmanager
def plan_locked(engine):
    """Another session holds a lock on plan, until the block ends."""
    blocker = engine.connect()
    try:
        if engine.dialect.name == "postgresql":
            blocker.exec_driver_sql("LOCK TABLE plan IN SHARE MODE")
        else:   # a metadata lock, held until the transaction ends
            blocker.exec_driver_sql("SELECT * FROM plan").all()
        yield
    finally:
        blocker.rollback()
        blocker.close()


# A process that holds the migration lock until it is killed.
_HOLD_AND_SLEEP = """
import sys, time
from solum_db_manage.lock import MigrationLock
with MigrationLock(sys.argv[1], sys.argv[2], timeout=5).hold():
    print("held", flush=True)
    time.sleep(120)
"""


@contextlib.contextmanager
def lock_holder(url, command="upgrade head"):
    """Another process holds the migration lock on ``url`` (as a run of
    ``command``) until the block ends, when it is killed (SIGKILL): the
    lock it leaves is an interrupted run's. Yields the process."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLD_AND_SLEEP, url, command], cwd=root,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "held\n", \
            process.stderr.read()
        yield process
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()
        process.stderr.close()


# --- SQLite disks ------------------------------------------------------------

@contextlib.contextmanager
def small_disk(directory):
    """A 4 MiB tmpfs at ``directory``; skips where mounting is refused."""
    directory.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755",
         "solum-test-disk", str(directory)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root and mount "
                    f"rights): {mounted.stderr.strip()}")
    try:
        yield directory
    finally:
        if subprocess.run(["umount", str(directory)]).returncode != 0:
            subprocess.run(["umount", "-l", str(directory)])


def fill(directory, leave):
    """Fill the filesystem of ``directory`` but ``leave`` bytes."""
    stat = os.statvfs(directory)
    filler_path = directory / "filler"
    with open(filler_path, "wb") as out:
        remaining = stat.f_bavail * stat.f_frsize - leave
        while remaining > 0:
            remaining -= out.write(b"\0" * min(remaining, 1 << 20))
    return filler_path


# --- the migration lock's lease ---------------------------------------------

# The second revision after kilo alters table image: a run from kilo
# applies one revision (40df542e345), then waits for the lock on image.
BLOCKED_AT = "43df309dbf3f"
BLOCKED_TABLE = "image"


class Run:
    """A real solum-db-manage process; stderr goes to a file read live.

    conftest's ``no_run_left`` kills what a failed test left running.
    """

    started = []

    def __init__(self, tmp_path, url, config_file, *args):
        self.err_path = tmp_path / f"err-{uuid.uuid4().hex[:8]}"
        self.err_file = open(self.err_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "solum_db_manage", "--config-file",
             config_file, "--database-connection", url, *args],
            stdout=subprocess.PIPE, stderr=self.err_file, text=True)
        Run.started.append(self.process)

    def err_so_far(self):
        return self.err_path.read_text()

    def wait_for_err(self, text, timeout=60):
        deadline = time.monotonic() + timeout
        while text not in self.err_so_far():
            assert self.process.poll() is None, self.err_so_far()
            assert time.monotonic() < deadline, self.err_so_far()
            time.sleep(0.1)

    def finish(self, timeout=300):
        out, _ = self.process.communicate(timeout=timeout)
        self.err_file.close()
        return self.process.returncode, out, self.err_path.read_text()


def applied(*errs):
    """The revisions the runs' stderr say they applied, in order."""
    return [target for err in errs
            for target in re.findall(r"Running upgrade \w* -> (\w+)", err)]


class Blocker:
    """Another session holding a lock on a table: its ALTER must wait."""

    def __init__(self, url, table=BLOCKED_TABLE):
        self.engine = sa.create_engine(db.parse_url(url),
                                       poolclass=sa.pool.NullPool)
        self.connection = self.engine.connect()
        if self.connection.dialect.name == "mysql":
            # A read lock: reads go on, a schema change waits (on a Galera
            # node too, where an open transaction would be aborted).
            self.connection.exec_driver_sql(f"LOCK TABLES {table} READ")
        else:
            self.connection.begin()
            self.connection.exec_driver_sql(
                f"SELECT * FROM {table}").fetchall()

    def release(self):
        if self.connection is None:
            return
        if self.connection.dialect.name == "mysql":
            self.connection.exec_driver_sql("UNLOCK TABLES")
        else:
            self.connection.rollback()
        self.connection.close()
        self.connection = None
        self.engine.dispose()


def wait_until_blocked(engine, run, timeout=120):
    """Until a statement of the database waits for a table lock."""
    if engine.dialect.name == "mysql":
        query = ("SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                 "WHERE DB = DATABASE() AND STATE LIKE 'Waiting for table%'")
    else:
        query = ("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = "
                 "current_database() AND wait_event_type = 'Lock'")
    deadline = time.monotonic() + timeout
    with engine.connect() as connection:
        while not connection.execute(sa.text(query)).scalar():
            assert run.process.poll() is None, run.err_so_far()
            assert time.monotonic() < deadline, run.err_so_far()
            time.sleep(0.2)


def session_lock_connection(engine):
    """The server connection that holds the session lock (GET_LOCK,
    pg_advisory_lock): the lock's own, idle while the migration runs."""
    with engine.connect() as connection:
        if engine.dialect.name == "mysql":
            return connection.exec_driver_sql(
                "SELECT IS_USED_LOCK(CONCAT('solum_db_manage.', DATABASE()))"
            ).scalar()
        return connection.exec_driver_sql(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND "
            "classid = 20509 AND objid = 3507 AND granted AND database = "
            "(SELECT oid FROM pg_database WHERE datname = "
            "current_database())").scalar()


def cut(engine, connection_id):
    """End one server connection, as an idle cut or an admin would."""
    with engine.connect() as connection:
        if engine.dialect.name == "mysql":
            connection.exec_driver_sql(f"KILL {int(connection_id)}")
        else:
            assert connection.execute(
                sa.text("SELECT pg_terminate_backend(:pid)"),
                {"pid": connection_id}).scalar()


def forge_lease(engine, expires_in, node="gone-node:3306"):
    """A lease row of a run on a node that no longer exists."""
    with engine.begin() as connection:
        now = int(time.time())
        connection.execute(sa.text(
            f"UPDATE {db.LOCK_TABLE} SET token = :token, host = 'ctl9', "
            f"pid = 4242, command = 'upgrade head', node = :node, "
            f"acquired_at = :now, expires_at = :expires, lease = 120, "
            f"renewed_at = :now, connections = NULL, state = 'running' "
            f"WHERE id = 1"),
            {"token": str(uuid.uuid4()), "node": node, "now": now,
             "expires": now + expires_in})


@contextlib.contextmanager
def blocked_upgrade(tmp_path, url, config_file, server, blocked_url=None):
    """``upgrade head`` through ``url`` as a process (a Run), waiting for
    table image, which another session locks (a Blocker on
    ``blocked_url``, by default ``url``) until the block ends."""
    blocker = Blocker(blocked_url or url)
    try:
        first = Run(tmp_path, url, config_file, "upgrade", "head",
                    "--ddl-lock-timeout", "120")
        wait_until_blocked(server, first)
        yield first
    finally:
        blocker.release()


# --- killed runs (SIGKILL after a statement) ---------------------------------

# What a kill counts: statements that change something, once the server
# has answered them (SELECT, SHOW and SET change nothing).
CHANGING = re.compile(
    r"\s*(CREATE|ALTER|DROP|RENAME|TRUNCATE|INSERT|UPDATE|DELETE|REPLACE)\b",
    re.IGNORECASE)


# Alembic writes the revision into the statement; the fast path binds
# it, and the report then names it after " -- " (see _killed_child).
VERSION_WRITE = re.compile(
    r"(?:UPDATE alembic_version SET version_num='(\w+)'"
    r"|INSERT INTO alembic_version \(version_num\) VALUES \('(\w+)'\)"
    r"|INSERT INTO alembic_version \(version_num\) VALUES .* -- (\w+)$)")


@dataclasses.dataclass
class Killed:
    status: int  # as os.waitpid gives it
    statements: list  # the changing statements it ran, in order
    output: str  # its stdout and stderr

    @property
    def by_sigkill(self):
        return (os.WIFSIGNALED(self.status)
                and os.WTERMSIG(self.status) == signal.SIGKILL)

    @property
    def exit_code(self):
        if os.WIFEXITED(self.status):
            return os.WEXITSTATUS(self.status)
        return None


def run_killed(argv, kill_after, output_path):
    """Run ``cli.main(argv)`` in a child process that SIGKILLs itself.

    The child is a fork of this process (no interpreter start-up per kill
    point). It registers an ``after_cursor_execute`` listener on every
    Engine that reports each changing statement run on the database of
    argv's URL (not, e.g., on an in-memory SQLite database of the tool's
    own) and, right after the ``kill_after``-th one (never, for 0), sends
    the process SIGKILL: no rollback, no cleanup, as ``kill -9`` leaves
    it.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            os.close(read_end)
            code = _killed_child(argv, kill_after, write_end, output_path)
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        statements = [json.loads(line) for line in pipe]
    _, status = os.waitpid(pid, 0)
    with open(output_path) as output:
        return Killed(status, statements, output.read())


def _killed_child(argv, kill_after, write_end, output_path):
    report = os.fdopen(write_end, "w", buffering=1)
    output = open(output_path, "w", buffering=1)  # noqa: SIM115
    os.dup2(output.fileno(), 1)
    os.dup2(output.fileno(), 2)
    sys.stdout = sys.stderr = output
    database = sa.engine.make_url(
        argv[argv.index("--database-connection") + 1]).database
    seen = 0

    def after_cursor_execute(connection, cursor, statement, parameters,
                             context, executemany):
        nonlocal seen
        if (connection.engine.url.database != database
                or not CHANGING.match(statement)):
            return
        seen += 1
        text = " ".join(statement.split())
        if VERSION_TABLE in statement and parameters:
            values = (parameters.values() if isinstance(parameters, dict)
                      else parameters)
            text += " -- " + ",".join(str(value) for value in values)
        report.write(json.dumps(text) + "\n")
        if seen == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    event.listen(sa.engine.Engine, "after_cursor_execute",
                 after_cursor_execute)
    return cli.main(argv)


def run_cli(argv):
    """``cli.main(argv)`` in this process: (exit status, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, err.getvalue()


def revisions_of(statements):
    """The revision each statement belongs to; None for the lock's.

    A revision's statements end with the write of its id to
    alembic_version.
    """
    owners, pending = [], []
    for index, statement in enumerate(statements):
        owners.append(None)
        if LOCK_TABLE in statement:
            continue
        pending.append(index)
        written = VERSION_WRITE.search(statement)
        if written:
            for owned in pending:
                owners[owned] = next(group for group in written.groups()
                                     if group)
            pending = []
    return owners


# --- signals during an upgrade ----------------------------------------------

def signal_a_waiting_upgrade(engine, url, tmp_path, signum):
    """``upgrade head`` from SIGINT_FROM as a process, which waits a few
    revisions in for a lock on plan another session holds (plan_locked),
    gets ``signum`` there: (exit status, stdout, stderr, seconds from the
    signal to its end)."""
    with plan_locked(engine):
        process = subprocess.Popen(
            tool(tmp_path, "--database-connection", url, "upgrade", "head",
                 "--ddl-lock-timeout", "120"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=environment())
        try:
            lines = lines_of(process.stderr)
            seen = until_blocked(process, lines)
            assert process.poll() is None
            started = time.monotonic()
            process.send_signal(signum)
            process.wait(timeout=60)
            took = time.monotonic() - started
            stdout = process.stdout.read()
        finally:
            ended(process)
        stderr = drain(lines, seen)
    return process.returncode, stdout, stderr, took


def assert_resumes(solum, url, cause):
    """After an interrupted run: ``check`` exits 7 naming the cause;
    ``upgrade head`` completes the work; ``check`` then exits 0."""
    checked = solum("check", url=url)
    assert checked.code == 7, checked.out
    assert cause in checked.out
    result = solum("upgrade", "head", url=url)
    assert result.code == 0, result.err
    assert solum("check", url=url).code == 0


def assert_stopped_a_few_revisions_in(backend, engine, stderr, solum,
                                      new_db_url):
    """The interrupted run had started a few revisions; the revision
    before the one it was in stays recorded (on PostgreSQL, whose DDL is
    transactional, with exactly its schema)."""
    started = RUNNING.findall(stderr)
    assert len(started) >= 2, stderr      # a few revisions in
    interrupted_from = started[-1][0]
    assert dbutil.version_rows(engine) == [interrupted_from]
    if backend == "postgresql":
        assert assert_exactly_at_recorded(
            engine, solum, new_db_url()) == interrupted_from


@contextlib.contextmanager
def read_only_user(backend, urls):
    """A user (with PASSWORD) that may connect to the databases at
    ``urls`` and read, nothing else: its URL for each; dropped after."""
    name = f"solum_ro_{uuid.uuid4().hex[:8]}"
    admin = admin_engine(backend)
    each = [admin_engine(url) for url in urls]
    # Both drivers read "%" in a statement as a placeholder's start.
    quoted = PASSWORD.replace("%", "%%")
    try:
        if backend == "mysql":
            execute(admin, f"CREATE USER '{name}'@'%%' IDENTIFIED BY "
                           f"'{quoted}'")
        else:
            execute(admin, f"CREATE ROLE {name} LOGIN PASSWORD '{quoted}'")
        for url, engine in zip(urls, each, strict=True):
            database = db.parse_url(url).database
            if backend == "mysql":
                execute(admin, f"GRANT SELECT ON `{database}`.* TO "
                               f"'{name}'@'%%'")
            else:
                execute(engine, "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
                        f"GRANT CONNECT ON DATABASE {database} TO {name}",
                        f"GRANT USAGE ON SCHEMA public TO {name}",
                        f"GRANT SELECT ON ALL TABLES IN SCHEMA public "
                        f"TO {name}")
        yield [user_url(url, name, ENCODED) for url in urls]
    finally:
        if backend == "mysql":
            execute(admin, f"DROP USER IF EXISTS '{name}'@'%%'")
        else:
            for engine in each:
                execute(engine, f"DROP OWNED BY {name}")
            execute(admin, f"DROP ROLE IF EXISTS {name}")
        for engine in (admin, *each):
            engine.dispose()
