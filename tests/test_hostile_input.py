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

"""Hostile input (issue 10, point 6), on real SQLite, MariaDB, PostgreSQL.

Each case is a row of the README's "Bad input" table: one ``ERROR:`` line,
last, a documented exit status, bounded time and memory, and nothing
changed that the line does not say changed.

- odd ``alembic_version`` contents: NULL, an integer, ``''``, a known id
  padded with spaces, several rows of which one is NULL;
- ``--config-file`` naming ``/dev/zero``, a FIFO, a directory, a huge or a
  binary file (also through ``--config-dir``);
- SIGTERM during ``upgrade``, as deployment tools and systemd send it;
- SQLite held by another writer (the documented timeouts, the cause
  named), and a full disk or file-size limit (the real cause named).
"""

import contextlib
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests import dbutil
from tests.helpers import (
    HEAD,
    KILO,
    LOCK_WAIT,
    NOISE,
    RUNNING,
    SIGINT_FROM,
    assert_clear,
    assert_exactly_at_recorded,
    assert_failed,
    assert_one_error_stream,
    assert_resumes,
    assert_stopped_a_few_revisions_in,
    disposing,
    drain,
    ended,
    environment,
    error_lines,
    execute,
    fill,
    lines_of,
    signal_a_waiting_upgrade,
    small_disk,
    tool,
    until_running,
)

# --- SIGTERM during an upgrade ---------------------------------------------

TERMINATED = "ERROR: terminated (SIGTERM)"


def _assert_terminated(code, stderr, stdout):
    assert code == 143, stderr
    assert stdout == ""
    assert assert_one_error_stream(stderr) == TERMINATED


@pytest.mark.parametrize("backend", ["mysql", "postgresql"])
def test_sigterm_during_upgrade(backend, secret_url, db_url, engine,
                                new_db_url, solum, tmp_path):
    """As test_bad_input_interrupted.py::test_sigint_during_upgrade, with
    SIGTERM: the run waits a few revisions in for a lock another session
    holds; SIGTERM stops it there, exit 143 with one ERROR line; the
    revision before stays recorded (on PostgreSQL with exactly its schema);
    ``check`` names the SIGTERM; ``upgrade head`` completes."""
    assert solum("upgrade", SIGINT_FROM, url=secret_url).code == 0
    code, stdout, stderr, took = signal_a_waiting_upgrade(
        engine, secret_url, tmp_path, signal.SIGTERM)
    _assert_terminated(code, stderr, stdout)
    assert took < 10, took      # not the 120 s the statement could wait
    assert_stopped_a_few_revisions_in(backend, engine, stderr, solum,
                                      new_db_url)
    assert_resumes(solum, secret_url, "SIGTERM")


@pytest.fixture
def read_while_walking(solum, tmp_path):
    """A factory: ``read_while_walking(ddl_lock_timeout)`` is a context
    in which ``upgrade head`` runs as a process, from SIGINT_FROM, on a
    SQLite database whose 100,000 plans make each rebuild of plan take a
    while, and another process (``reader``) has just begun a read
    transaction once the walk has begun: the revision running commits only
    when the reader ends (the writer waits up to --ddl-lock-timeout).
    Yields (path, url, process, reader, lines, seen); the process is
    killed, the reader closed, when the context ends."""
    path = tmp_path / "solum.sqlite"
    url = f"sqlite:///{path}"

    @contextlib.contextmanager
    def walking(ddl_lock_timeout):
        assert solum("upgrade", SIGINT_FROM, url=url).code == 0
        with contextlib.closing(sqlite3.connect(path)) as filling, filling:
            filling.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
                "FROM n WHERE i < 100000) INSERT INTO plan (uuid, name, "
                "raw_content) SELECT printf('%036d', i), 'plan-' || i, 'x' "
                "FROM n")
        process = subprocess.Popen(
            tool(tmp_path, "--database-connection", url, "upgrade", "head",
                 "--ddl-lock-timeout", str(ddl_lock_timeout)),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=environment())
        reader = sqlite3.connect(path, isolation_level=None, timeout=60)
        try:
            lines = lines_of(process.stderr)
            seen = until_running(lines)
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM alembic_version").fetchall()
            yield path, url, process, reader, lines, seen
        finally:
            reader.close()
            ended(process)

    return walking


def test_sigterm_during_upgrade_sqlite(read_while_walking, solum, tmp_path):
    """SQLite: once the walk has begun, another process opens a read
    transaction, so the revision running commits only when it ends (the
    writer waits for readers, up to --ddl-lock-timeout); SIGTERM comes
    while the run waits, then the reader lets go. The run stops at that
    revision boundary: the database is exactly at a revision the version
    table records, ``check`` names the SIGTERM, ``upgrade head`` completes.
    """
    with read_while_walking(120) as (_, url, process, reader, lines, seen):
        time.sleep(1.5)
        assert process.poll() is None, "".join(seen)
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        reader.execute("ROLLBACK")
        process.wait(timeout=60)
        stdout = process.stdout.read()
    stderr = drain(lines, seen)
    _assert_terminated(process.returncode, stderr, stdout)
    with disposing(url) as engine:
        recorded = dbutil.version_rows(engine)
        assert recorded and recorded != [HEAD], stderr
        assert_exactly_at_recorded(
            engine, solum, f"sqlite:///{tmp_path}/reference.sqlite")
    assert_resumes(solum, url, "SIGTERM")


# --- odd alembic_version contents ------------------------------------------

# name: (the version table's column type, its rows, words of the line)
ODD_VERSIONS = {
    "null": ("VARCHAR(32)", ["NULL"], ["a row holds NULL"]),
    "integer": ("INTEGER", ["1"], ["a row holds 1 (of type int)",
                                   "not text"]),
    "empty": ("VARCHAR(32)", ["''"], ["a row holds '' (an empty string)"]),
    "padded": ("VARCHAR(32)", [f"'  {KILO} '"], [
        f"a row holds '{KILO}' padded with whitespace (2 characters "
        f"before it, 1 after)"]),
    "several-one-null": ("VARCHAR(32)", [f"'{KILO}'", "NULL"],
                         ["a row holds NULL"]),
}
ODD_COMMANDS = (["version"], ["current"], ["upgrade"], ["downgrade", "-1"],
                ["stamp", "kilo"])


def state(engine):
    """Schema, version rows (NULL and integers among them), plans."""
    with engine.connect() as connection:
        versions = sorted(connection.exec_driver_sql(
            "SELECT version_num FROM alembic_version").scalars(), key=repr)
    return (dbutil.snapshot(engine, include_version_table=True), versions,
            dbutil.rows(engine, "plan"))


def _odd_version_table(engine, column, rows):
    execute(engine, "DROP TABLE alembic_version",
            f"CREATE TABLE alembic_version (version_num {column})",
            *(f"INSERT INTO alembic_version VALUES ({row})" for row in rows))


def test_odd_version_table_contents(backend, at_kilo, engine, solum):
    """Each odd content is a corrupt version table, not a revision (known
    or newer): every command exits 6 with one line naming what the table
    holds and the repair, having changed nothing: ``stamp --purge`` of
    the revision the schema is at (DROP TABLE first where the column is
    not text); ``check`` says the same on stdout. The repair works."""
    for name, (column, rows, words) in ODD_VERSIONS.items():
        _odd_version_table(engine, column, rows)
        before = state(engine)
        purge = "stamp" if column == "INTEGER" else "stamp --purge"
        repair = "To repair, run: "
        for argv in ODD_COMMANDS:
            line = assert_failed(solum(*argv, *(
                LOCK_WAIT if argv[0] in ("upgrade", "downgrade", "stamp")
                else ()), url=at_kilo), code=6)
            assert_clear(line, "The version table alembic_version is "
                               "corrupt: ", *words, repair,
                         f"solum-db-manage {purge} {KILO}")
            if argv[0] in ("upgrade", "downgrade", "stamp"):
                assert line.startswith(
                    f"ERROR: {argv[0]} refused, nothing was changed: "), line
        assert state(engine) == before, name
        checked = solum("check", url=at_kilo)
        assert checked.code == 6, (name, checked.out)
        assert checked.out.startswith(
            "The version table alembic_version is corrupt: "), checked.out
        assert f"{purge} {KILO}" in checked.out
        # The repair the line gives.
        if column == "INTEGER":
            execute(engine, "DROP TABLE alembic_version")
            result = solum("stamp", KILO, url=at_kilo)
        else:
            result = solum("stamp", "--purge", KILO, url=at_kilo)
        assert result.code == 0, (name, result.err)
        assert dbutil.version_rows(engine) == [KILO]
        assert solum("check", url=at_kilo).code == 3


# --- configuration files that are no files ---------------------------------

# Address space the tool may use: enough for its imports, far less than
# what reading /dev/zero or a huge file whole would take.
MEMORY_LIMIT = 1 << 30
CONFIG_TIME = 20      # seconds; the answer takes about one start-up


def _hostile_config(tmp_path, how):
    """(command-line options, the path the ERROR line names, its reason)."""
    if how == "dev-zero":
        return ["--config-file", "/dev/zero"], "/dev/zero", (
            "it is a character device, not a regular file")
    if how == "fifo":
        path = tmp_path / "solum.conf"
        os.mkfifo(path)
        return ["--config-file", str(path)], str(path), (
            "it is a named pipe (FIFO), not a regular file")
    if how == "directory":
        path = tmp_path / "solum.conf.d"
        path.mkdir()
        return ["--config-file", str(path)], str(path), "Is a directory"
    if how == "huge-sparse":
        path = tmp_path / "solum.conf"
        with open(path, "wb") as out:
            out.truncate(100 << 20)
        return ["--config-file", str(path)], str(path), (
            f"it holds {100 << 20} bytes, more than the 4194304 (4 MiB) a "
            f"configuration file may hold")
    if how == "nul-bytes":
        path = tmp_path / "solum.conf"
        path.write_bytes(b"[database]\n" + b"\0" * 100000)
        return ["--config-file", str(path)], str(path), (
            "it is binary, not text (it holds NUL bytes)")
    if how == "fifo-in-config-dir":
        directory = tmp_path / "solum.conf.d"
        directory.mkdir()
        (directory / "a.conf").write_text("[database]\n")
        os.mkfifo(directory / "b.conf")
        return (["--config-file", str(tmp_path / "empty.conf"),
                 "--config-dir", str(directory)], str(directory / "b.conf"),
                "it is a named pipe (FIFO), not a regular file")
    if how == "abbreviated-option":
        return ["--config-f=/dev/zero"], "/dev/zero", (
            "it is a character device, not a regular file")
    if how == "default-location":
        # oslo.config's first default: ~/.solum/solum.conf.
        (tmp_path / ".solum").mkdir()
        os.mkfifo(tmp_path / ".solum" / "solum.conf")
        return [], str(tmp_path / ".solum" / "solum.conf"), (
            "it is a named pipe (FIFO), not a regular file")
    raise AssertionError(how)


@pytest.mark.parametrize("how", [
    "dev-zero", "fifo", "directory", "huge-sparse", "nul-bytes",
    "fifo-in-config-dir", "abbreviated-option", "default-location"])
def test_config_file_that_is_no_file(tmp_path, how):
    """oslo.config would read /dev/zero until memory runs out, block on a
    FIFO forever, and parse a huge file whole: each is one ERROR line
    naming the file, exit 1, within a few seconds, under a memory limit."""
    (tmp_path / "empty.conf").write_text("")
    options, path, reason = _hostile_config(tmp_path, how)
    env = environment()
    env["HOME"] = str(tmp_path)

    def limited():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    started = time.monotonic()
    try:
        process = subprocess.run(
            [sys.executable, "-m", "solum_db_manage", *options,
             "--database-connection", "sqlite://", "version"],
            capture_output=True, text=True, env=env, cwd=tmp_path,
            timeout=CONFIG_TIME, preexec_fn=limited)
    except subprocess.TimeoutExpired:
        pytest.fail(f"no answer within {CONFIG_TIME} s")
    took = time.monotonic() - started
    assert process.returncode == 1, process.stderr[-2000:]
    assert process.stdout == ""
    assert process.stderr == (f"ERROR: configuration: cannot read {path}: "
                              f"{reason}\n")
    assert took < CONFIG_TIME



def test_dev_null_as_the_config_file_reads_no_configuration(tmp_path):
    """``--config-file /dev/null`` (the usual way to read no file) is a
    character device too, but reads as empty: it is let through."""
    env = environment()
    env["HOME"] = str(tmp_path)
    process = subprocess.run(
        [sys.executable, "-m", "solum_db_manage", "--config-file",
         "/dev/null", "--database-connection", "sqlite://", "version"],
        capture_output=True, text=True, env=env, cwd=tmp_path,
        timeout=CONFIG_TIME)
    assert process.returncode == 0, process.stderr
    assert process.stdout == "Current DB revision is None\n"


# --- SQLite held by another process ----------------------------------------

def _sqlite_at(solum, tmp_path, revision="head"):
    path = tmp_path / "solum.sqlite"
    url = f"sqlite:///{path}"
    assert solum("upgrade", revision, url=url).code == 0
    return path, url


def test_sqlite_writer_holds_the_migration_lock(solum, tmp_path):
    """Another process holds a write transaction on the file before the
    run starts: the run waits --lock-timeout (not Python's fixed 5 s),
    then exits 7 naming the file and the option, nothing changed; given
    longer, it goes on once the other process commits."""
    path, url = _sqlite_at(solum, tmp_path, "kilo")
    other = sqlite3.connect(path, isolation_level=None, timeout=5)
    try:
        other.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        process = subprocess.run(
            tool(tmp_path, "--database-connection", url, "upgrade",
                  "--lock-timeout", "2"),
            capture_output=True, text=True, env=environment(), timeout=60)
        took = time.monotonic() - started
        assert process.returncode == 7, process.stderr
        lines = error_lines(process.stderr)
        assert lines == [process.stderr.splitlines()[-1]], process.stderr
        assert lines[0] == (
            f"ERROR: another process has a transaction open on the SQLite "
            f"database {path} (a writer, or a reader while the lock is "
            f"claimed); waited 2 s for it (--lock-timeout); nothing was "
            f"changed")
        assert 2 <= took < 12, took
        # Longer than SQLite's default 5 s: the run waits, then completes.
        process = subprocess.Popen(
            tool(tmp_path, "--database-connection", url, "upgrade",
                  "--lock-timeout", "60"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=environment())
        try:
            time.sleep(7)
            assert process.poll() is None
            other.execute("ROLLBACK")
            stdout, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    finally:
        other.close()
    assert process.returncode == 0, stderr
    assert solum("check", url=url).code == 0


def test_sqlite_reader_outlasts_ddl_lock_timeout(read_while_walking, solum,
                                                 tmp_path):
    """Another process reads (holds a read transaction) while a revision
    commits: the commit waits --ddl-lock-timeout, then the run stops, exit
    1, naming the file and the option; the revision was rolled back whole,
    the version table records exactly the schema there is.
    """
    with read_while_walking(2) as (path, url, process, reader, lines, seen):
        # Past --ddl-lock-timeout, before the run's last write: the
        # migration lock records the failure.
        time.sleep(4)
        reader.execute("ROLLBACK")
        process.wait(timeout=30)
        stdout = process.stdout.read()
    stderr = drain(lines, seen)
    assert process.returncode == 1, stderr
    assert stdout == ""
    errors = error_lines(stderr)
    assert errors == [stderr.splitlines()[-1]], stderr
    assert errors[0].startswith(
        f"ERROR: another process has a transaction open on the SQLite "
        f"database {path} "), errors[0]
    assert "waited 2 s for it (--ddl-lock-timeout)" in errors[0]
    with disposing(url) as engine:
        assert_exactly_at_recorded(
            engine, solum, f"sqlite:///{tmp_path}/reference.sqlite")
    assert_resumes(solum, url, "--ddl-lock-timeout")


# --- a full disk during a table rebuild, SQLite ----------------------------

REBUILD_FROM = "2f15f41cd87f"    # the next revision rebuilds image
REBUILDS = "1f57763d7871"


@pytest.mark.parametrize("how", ["rlimit", "tmpfs"])
def test_full_disk_during_a_table_rebuild(how, solum, tmp_path):
    """The disk fills while SQLite copies a table (Alembic's batch mode):
    its cleanup (DROP TABLE _alembic_tmp_image, already rolled back) used
    to replace the cause with "no such table". The line names the cause:
    the file-size limit (RLIMIT_FSIZE), or the full filesystem; the
    database stays exactly at the revision before, rows intact."""
    with contextlib.ExitStack() as stack:
        if how == "tmpfs":
            directory = stack.enter_context(
                small_disk(tmp_path / "disk"))
        else:
            directory = tmp_path
        path = directory / "solum.sqlite"
        url = f"sqlite:///{path}"
        assert solum("upgrade", REBUILD_FROM, url=url).code == 0
        # On the 4 MiB tmpfs: room for the database, its copy and journal.
        rows = 2000 if how == "tmpfs" else 5000
        with contextlib.closing(sqlite3.connect(path)) as filling, filling:
            filling.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
                f"FROM n WHERE i < {rows}) INSERT INTO image (uuid, name, "
                "description, state) SELECT printf('%036d', i), 'image-' "
                "|| i, printf('%0200d', i), 'READY' FROM n")
        size = path.stat().st_size
        limit = None
        filler = None
        if how == "tmpfs":
            filler = fill(directory, leave=size // 2)
            cause = (f"ERROR: database error: database or disk is full: the "
                     f"filesystem holding the SQLite database {path} is "
                     f"full")
        else:
            limit = size + size // 2
            cause = (f"ERROR: database error: disk I/O error: the file-size "
                     f"limit of this process (ulimit -f, RLIMIT_FSIZE) is "
                     f"{limit} bytes, too small for the SQLite database "
                     f"{path} or its journal")
        with disposing(url) as engine:
            before = state(engine)

        def limited():
            if limit:
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        process = subprocess.run(
            tool(tmp_path, "--database-connection", url, "upgrade", "head"),
            capture_output=True, text=True, env=environment(), timeout=120,
            preexec_fn=limited)
        assert process.returncode == 1, process.stderr
        lines = error_lines(process.stderr)
        assert lines == [process.stderr.splitlines()[-1]], process.stderr
        assert lines[0].startswith(cause), lines[0]
        assert "_alembic_tmp" not in lines[0].split("[SQL:")[0]
        assert not NOISE.search(process.stderr)
        assert RUNNING.findall(process.stderr)[-1] == (REBUILD_FROM,
                                                       REBUILDS)
        if filler is not None:
            filler.unlink()
        with disposing(url) as engine:
            assert state(engine) == before
        assert solum("check", url=url).code == 7
        assert solum("upgrade", "head", url=url).code == 0
        assert solum("check", url=url).code == 0
