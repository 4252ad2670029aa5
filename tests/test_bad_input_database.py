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

"""A database in a bad state, or a user without rights: a bad version
table, a file that is not a database, a read-only user.

One family of the bad-input tests (issue 4, section 7; the others are
tests/test_bad_input_*.py). Each case gets what the README's "Bad input"
table promises (``helpers.assert_failed``), with nothing changed where a
database exists (``helpers.state`` before == after); an unclear answer is
an ``xfail(strict=True)`` whose reason says "BUG:".

``alembic_version`` with two rows or an unknown revision is tried by
``check`` and ``upgrade head`` in test_check (6 and 4).
"""

import contextlib
import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import (
    JUNO,
    KILO,
    LOCK_WAIT,
    assert_clear,
    assert_failed,
    assert_no_password,
    assert_one_error_stream,
    disposing,
    execute,
    provision,
    read_only_user,
    run_tool,
    state,
    with_rows,
    world_readable_dir,
)


def test_a_failed_lock_claim_leaves_no_lock_in_process(tmp_path, solum):
    """On SQLite, an error after flock() (here: the file is not a database,
    so the lock table cannot be set up) releases the flock: a later run in
    the same process, once the file is a database, does not wait for a
    lock nobody holds (exit 7)."""
    good = tmp_path / "kilo.sqlite"
    assert solum("upgrade", "kilo", url=f"sqlite:///{good}").code == 0
    path = tmp_path / "solum.sqlite"
    path.write_bytes(b"not a database\n" * 512)
    url = f"sqlite:///{path}"
    line = assert_failed(solum("upgrade", *LOCK_WAIT, url=url))
    assert_clear(line, "ERROR: cannot set up the migration lock table "
                       "solum_db_manage_lock: file is not a database")
    # The same file (inode) that was flock()ed becomes a database.
    with open(path, "r+b") as out:
        out.write(good.read_bytes())
        out.truncate()
    result = solum("upgrade", "head", "--lock-timeout", "1", url=url)
    assert result.code == 0, result.err
    assert solum("check", url=url).code == 0


def test_bad_version_table_refuses_every_migrating_command(
        backend, at_kilo, engine, solum):
    """Two rows, or a revision unknown here: test_check has ``check`` and
    ``upgrade head`` (6 and 4); ``upgrade +1`` and ``downgrade -1`` refuse
    the same way, having changed nothing."""
    for setup, status, words in (
            ([f"INSERT INTO alembic_version VALUES ('{JUNO}')"], 6,
             ["several revisions", KILO, JUNO]),
            (["DELETE FROM alembic_version",
              "INSERT INTO alembic_version VALUES ('ffffffffffff')"], 4,
             ["ffffffffffff", "unknown to this solum-db-manage"])):
        execute(engine, *setup)
        before = state(engine)
        for argv in (["upgrade", "+1"], ["downgrade", "-1"]):
            line = assert_failed(solum(*argv, *LOCK_WAIT, url=at_kilo),
                                 code=status)
            assert_clear(line, f"ERROR: {argv[0]} refused, nothing was "
                               f"changed: ", *words)
            assert state(engine) == before, argv
        if status == 4:
            # Alembic cannot read the unknown id: current and stamp give
            # the diagnosis, not "No such revision".
            for argv in (["current"], ["stamp", "head", *LOCK_WAIT]):
                line = assert_failed(solum(*argv, url=at_kilo), code=4)
                assert_clear(line, "ERROR: ", *words)
                assert state(engine) == before, argv




# The lock table cannot be created: the driver's words between these.
CANNOT_SET_UP = ("ERROR: cannot set up the migration lock table "
                 "solum_db_manage_lock: ")


NEEDS_RIGHTS = (" (where this is a permission error: the database user "
                "needs CREATE, INSERT and UPDATE on the database)")


CANNOT_CREATE = {"mysql": "CREATE command denied",
                 "postgresql": "permission denied for schema public",
                 "sqlite": "attempt to write a readonly database"}


DENIED = {"mysql": "UPDATE command denied", "postgresql": "permission denied",
          "sqlite": "attempt to write a readonly database"}


def _upgrade_read_only(backend, url, solum, directory):
    """``upgrade head`` as the read-only user: (ERROR line, stderr)."""
    if backend != "sqlite":
        result = solum("upgrade", "head", url=url)
        return assert_failed(result), result.err
    if os.geteuid() != 0:
        pytest.skip("the SQLite case runs the tool as user nobody")
    config = directory / "empty.conf"
    config.write_text("")
    process = run_tool(["--config-file", str(config),
                         "--database-connection", url, "upgrade", "head"],
                        cwd=directory, as_nobody=True)
    assert process.returncode == 1, process.stderr
    assert process.stdout == ""
    return assert_one_error_stream(process.stderr), process.stderr


def test_read_only_user_upgrade_changes_nothing(backend, tmp_path, solum):
    """MySQL: GRANT SELECT only; PostgreSQL: CONNECT, USAGE and SELECT;
    SQLite: a database file (and directory) the user may only read.

    On an empty database and on one at kilo, the lock table missing (as
    the original tool left databases) or there (as this tool leaves them).
    """
    directory = world_readable_dir()
    stack = contextlib.ExitStack()
    try:
        urls = {}
        for name in ("empty", "kilo"):
            if backend == "sqlite":
                urls[name] = f"sqlite:///{directory}/{name}.sqlite"
            else:
                urls[name] = stack.enter_context(provision(backend,
                                                           tmp_path))
        assert solum("upgrade", "kilo", url=urls["kilo"]).code == 0
        engines = {name: stack.enter_context(disposing(url))
                   for name, url in urls.items()}
        with_rows(engines["kilo"])
        if backend == "sqlite":
            Path(urls["empty"].removeprefix("sqlite:///")).touch()
        for engine in engines.values():
            with engine.connect():      # let SQLite create the files now
                pass

        def as_reader(name):
            if backend == "sqlite":
                return urls[name]
            return stack.enter_context(
                read_only_user(backend, [urls[name]]))[0]

        readers = {name: as_reader(name) for name in urls}
        before = {name: state(engine) for name, engine in engines.items()}

        # Kilo with the lock table: the claim of the lock row is refused.
        line, err = _upgrade_read_only(backend, readers["kilo"], solum,
                                       directory)
        assert_clear(line, DENIED[backend], "solum_db_manage_lock")
        assert_no_password(err)
        # Without it (the original's databases) and on an empty database:
        # the table cannot be created, and the line says what is needed.
        execute(engines["kilo"], "DROP TABLE solum_db_manage_lock")
        for name in ("kilo", "empty"):
            line, err = _upgrade_read_only(backend, readers[name], solum,
                                           directory)
            assert_clear(line, CANNOT_SET_UP, CANNOT_CREATE[backend])
            assert line.endswith(NEEDS_RIGHTS), line
            assert "Running upgrade" not in err
            assert_no_password(err)
        for name, engine in engines.items():
            assert state(engine) == before[name], name
            assert "solum_db_manage_lock" not in sa.inspect(
                engine).get_table_names()
    finally:
        stack.close()
        shutil.rmtree(directory)
