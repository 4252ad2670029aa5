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

"""An upgrade interrupted: SIGINT while it waits, a full disk on SQLite.

One family of the bad-input tests (issue 4, section 7; the others are
tests/test_bad_input_*.py). Each case gets what the README's "Bad input"
table promises (``helpers.assert_failed``), with nothing changed where a
database exists (``helpers.state`` before == after); an unclear answer is
an ``xfail(strict=True)`` whose reason says "BUG:".

SIGINT while connecting is tried in test_console; SIGTERM in
test_hostile_input.
"""

import contextlib
import resource
import signal

import pytest

from tests import dbutil
from tests.helpers import (
    HEAD,
    RUNNING,
    SIGINT_FROM,
    assert_exactly_at_recorded,
    assert_no_password,
    assert_one_error_stream,
    assert_stopped_a_few_revisions_in,
    disposing,
    fill,
    run_tool,
    signal_a_waiting_upgrade,
    small_disk,
)


@pytest.mark.parametrize("backend", ["mysql", "postgresql"])
def test_sigint_during_upgrade(backend, secret_url, db_url, engine,
                               new_db_url, solum, tmp_path):
    """The run waits a few revisions in for a lock another session holds;
    SIGINT stops it there: exit 130, one ERROR line; the revision before
    stays recorded (on PostgreSQL with exactly its schema); ``check``
    names the SIGINT; ``upgrade head`` completes."""
    assert solum("upgrade", SIGINT_FROM, url=secret_url).code == 0
    code, stdout, stderr, _ = signal_a_waiting_upgrade(
        engine, secret_url, tmp_path, signal.SIGINT)
    assert code == 130, stderr
    assert stdout == ""
    assert assert_one_error_stream(stderr) == "ERROR: interrupted"
    assert_stopped_a_few_revisions_in(backend, engine, stderr, solum,
                                      new_db_url)

    checked = solum("check", url=secret_url)
    assert checked.code == 7, checked.out
    assert "SIGINT" in checked.out
    result = solum("upgrade", "head", url=secret_url)
    assert result.code == 0, result.err
    checked = solum("check", url=secret_url)
    assert checked.code == 0, checked.out
    assert_no_password(result.err, checked.out, checked.err)


def _head_size(solum, directory):
    path = directory / "reference-head.sqlite"
    assert solum("upgrade", "head", url=f"sqlite:///{path}").code == 0
    size = path.stat().st_size
    path.unlink()
    return size


@pytest.mark.parametrize("target", ["head", "+23"])
@pytest.mark.parametrize("how", ["tmpfs", "rlimit"])
def test_full_disk_sqlite(how, target, solum, tmp_path):
    """The disk fills during ``upgrade head`` (the fast path: the head
    schema built in one transaction) or ``upgrade +23`` (the same, walking
    the chain): a real full tmpfs (ENOSPC, SQLite's "database or disk is
    full"), or RLIMIT_FSIZE (EFBIG, "disk I/O error": Python ignores
    SIGXFSZ). Either way the run stops at a revision boundary (the fast
    path leaves nothing), and completes once there is room.
    """
    head_size = _head_size(solum, tmp_path)
    config = tmp_path / "empty.conf"
    config.write_text("")
    with contextlib.ExitStack() as stack:
        if how == "tmpfs":
            directory = stack.enter_context(small_disk(tmp_path / "disk"))
            # Room for the head schema, not for it and its journal.
            filler = fill(directory, leave=head_size)
            limit = None
            message = "database error: database or disk is full"
        else:
            directory = tmp_path
            filler = None
            limit = head_size * 15 // 16
            message = "database error: disk I/O error"
        url = f"sqlite:///{directory}/solum.sqlite"

        def limited():
            if limit:
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        process = run_tool(["--config-file", str(config),
                             "--database-connection", url, "upgrade",
                             target], preexec_fn=limited)
        assert process.returncode == 1, process.stderr
        assert process.stdout == ""
        line = assert_one_error_stream(process.stderr)
        assert line.startswith(f"ERROR: {message}"), line
        walked = RUNNING.search(process.stderr)
        assert bool(walked) is (target != "head")

        if filler is not None:
            filler.unlink()             # the space is back
        with disposing(url) as engine:
            recorded = dbutil.version_rows(engine)
            assert recorded != [HEAD]
            if not walked:
                assert recorded == []
            if not recorded:
                assert dbutil.snapshot(engine) == {}
            else:
                # Each revision is one transaction on SQLite: the schema is
                # exactly the recorded revision's.
                assert_exactly_at_recorded(
                    engine, solum, f"sqlite:///{tmp_path}/reference.sqlite")
        checked = solum("check", url=url)
        assert checked.code == 7, checked.out
        result = solum("upgrade", "head", url=url)
        assert result.code == 0, result.err
        assert solum("check", url=url).code == 0
