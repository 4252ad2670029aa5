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

"""Bad revisions and ranges: unknown, ambiguous, malformed, not UTF-8.

One family of the bad-input tests (issue 4, section 7; the others are
tests/test_bad_input_*.py). Each case gets what the README's "Bad input"
table promises (``helpers.assert_failed``), with nothing changed where a
database exists (``helpers.state`` before == after); an unclear answer is
an ``xfail(strict=True)`` whose reason says "BUG:".

Bad input that other files already try is not tried again here: an
unknown revision and the ambiguous "45" (test_commands).
"""

import subprocess
import sys

import pytest

from solum_db_manage import db
from tests import dbutil
from tests.helpers import (
    HEAD,
    KILO,
    LOCK_WAIT,
    SECRET_URL,
    assert_clear,
    assert_failed,
    assert_no_password,
    disposing,
    state,
)

LONG = "0123456789abcdef" * 300          # 4800 characters, hex-like


# What the tool says where Alembic's revision parser fails without saying
# why (an AssertionError, a KeyError...): the parser's own words follow.
UNREADABLE = "ERROR: invalid revision or range: Alembic cannot read it ("


# name: (revision, words the ERROR line must hold)
MALFORMED = {
    "unknown": ("deadbeef0000", ["'deadbeef0000'"]),
    "ambiguous": ("43", ["Multiple revisions start with '43'",
                         "438cd6d1c655", "43df309dbf3f"]),
    "colon": (":", ["':'"]),
    "range-online": ("head:base", ["'head:base'"]),
    "plus-word": ("+x", ["'+x'"]),
    "dashes": ("--", ["'--'"]),
    "very-long": (LONG, [LONG[:64]]),
    "accented": ("été", ["'été'"]),
    "cjk": ("头", ["'头'"]),
    "newline": ("a\nb", ["'a b'"]),      # folded: still one line
    "at-sign": ("@", [UNREADABLE]),
}


def test_malformed_revisions_change_nothing(backend, at_kilo, engine, solum):
    """upgrade, downgrade and stamp of a bad revision: exit 1, unchanged.

    The revision follows ``--``, so that "--" and "-x" are revisions. Each
    is resolved the same way on every backend (by Alembic, holding the
    lock): on a server, downgrade and stamp try two of them.
    """
    before = state(engine)
    for name, (revision, words) in MALFORMED.items():
        commands = ["upgrade"]
        if backend == "sqlite" or name in ("unknown", "ambiguous"):
            commands += ["downgrade", "stamp"]
        for command in commands:
            result = solum(command, *LOCK_WAIT, "--", revision, url=at_kilo)
            assert_clear(assert_failed(result), *words)
            assert "Running " not in result.err, (name, command)
            assert dbutil.version_rows(engine) == [KILO], (name, command)
        if backend == "sqlite":
            assert_clear(assert_failed(solum("show", "--", revision)),
                         *words)
    # Relative steps past either end.
    for revision in ("+100", "-100"):
        line = assert_failed(solum("upgrade", *LOCK_WAIT, "--", revision,
                                   url=at_kilo))
        assert_clear(line, f"Relative revision {revision} didn't produce "
                           f"100 migrations")
    # Alembic's parser fails on these without saying why. (An empty
    # revision: upgrade only; downgrade and stamp refuse it with exit 2,
    # test_empty_revision.)
    for argv in (["upgrade", "head-100"], ["upgrade", ""],
                 ["downgrade", "head@"]):
        assert_clear(assert_failed(solum(argv[0], *LOCK_WAIT, "--", argv[1],
                                         url=at_kilo)), UNREADABLE)
    assert state(engine) == before
    # No failed or interrupted run is left on record either.
    checked = solum("check", url=at_kilo)
    assert checked.code == 3, checked.out
    assert_no_password(checked.out, checked.err)


def test_double_dash_alone_is_the_end_of_the_options(solum, tmp_path):
    """``--`` alone is POSIX's end of options, not a revision.

    ``upgrade --`` is ``upgrade`` (head, the documented default);
    ``downgrade --`` and ``stamp --`` lack their required revision: exit 2,
    nothing changed (the database file is not even created).
    """
    path = tmp_path / "solum.sqlite"
    url = f"sqlite:///{path}"
    for command in ("downgrade", "stamp"):
        line = assert_failed(solum(command, "--", url=url), code=2)
        assert_clear(line, "needs")
        assert not path.exists()
    result = solum("upgrade", "--", url=url)
    assert result.code == 0, result.err
    assert solum("version", url=url).out.startswith(
        f"Current DB revision is {HEAD} ")


def test_history_range_malformed(solum):
    for rev_range, words in (
            ("43:", ["Multiple revisions start with '43'"]),
            ("head:base", ["Requested range head:base does not refer to "
                           "ancestor/descendant revisions"]),
            ("+x:", ["'+x'"]),
            ("é", ["History range requires [start]:[end]"])):
        assert_clear(assert_failed(solum("history", "-r", rev_range)),
                     *words)


# argv after the URL: revisions and ranges Alembic's parser fails on
# without saying why (AssertionError, KeyError, AttributeError,
# ValueError); the tool's line says so, the parser's words in brackets.
UNREADABLE_ARGVS = [
    pytest.param(["upgrade", "@"], id="upgrade-at-sign"),
    pytest.param(["stamp", "@"], id="stamp-at-sign"),
    pytest.param(["show", "@"], id="show-at-sign"),
    pytest.param(["upgrade", ""], id="upgrade-empty"),
    pytest.param(["upgrade", "head-100"], id="upgrade-head-minus-100"),
    pytest.param(["downgrade", "head@"], id="downgrade-branch-at"),
    # Alembic resolves "current" through a database connection, which show
    # (an offline command) never opens.
    pytest.param(["show", "current"], id="show-current"),
    pytest.param(["show", "-100"], id="show-minus-100"),
    pytest.param(["history", "-r", "a:b:c"], id="history-three-parts"),
    pytest.param(["history", "-r", "::"], id="history-colons"),
]


@pytest.mark.parametrize("argv", UNREADABLE_ARGVS)
def test_error_lines_are_clear(solum, tmp_path, argv):
    """Exit 1, ``ERROR: invalid revision or range: Alembic cannot read it
    (...)``; a database at kilo is unchanged."""
    url = f"sqlite:///{tmp_path}/solum.sqlite"
    if argv[0] not in ("upgrade", "downgrade", "stamp"):
        line = assert_failed(solum(*argv))
    else:
        assert solum("upgrade", "kilo", url=url).code == 0
        with disposing(url) as engine:
            before = state(engine)
            line = assert_failed(solum(argv[0], *LOCK_WAIT, "--", *argv[1:],
                                       url=url))
            assert state(engine) == before
    assert_clear(line, UNREADABLE)
    assert line.endswith(")"), line


def test_empty_revision(solum, tmp_path):
    """An empty revision (an unset shell variable): ``upgrade ''`` is one
    Alembic cannot read (exit 1); ``downgrade ''`` and ``stamp ''`` lack
    their required revision (exit 2). Nothing is created either way."""
    path = tmp_path / "solum.sqlite"
    url = f"sqlite:///{path}"
    for command, code, words in (
            ("downgrade", 2, "ERROR: downgrade needs a target revision"),
            ("stamp", 2, "ERROR: stamp needs a revision"),
            ("upgrade", 1, UNREADABLE)):
        line = assert_failed(solum(command, *LOCK_WAIT, "--", "", url=url),
                             code=code)
        assert_clear(line, words)
        assert command == "upgrade" or not path.exists()
    with disposing(url) as engine:
        assert dbutil.snapshot(engine, include_version_table=True) == {}


NOT_TEXT = "ERROR: the revision is not valid text (UTF-8)"


def test_non_utf8_revision_changes_nothing(tmp_path, solum):
    """A byte that is not UTF-8 (argv decodes it to a lone surrogate): a
    usage error, exit 2, before any connection."""
    config = tmp_path / "empty.conf"
    config.write_text("")
    url = f"sqlite:///{tmp_path}/solum.sqlite"
    assert solum("upgrade", "kilo", url=url).code == 0
    engine = db.create_engine(url)
    try:
        before = state(engine)
        process = subprocess.run(
            [sys.executable, "-m", "solum_db_manage", "--config-file",
             str(config), "--database-connection", url, "upgrade", b"\xff"],
            capture_output=True, timeout=300)
        assert process.returncode == 2, process.stderr
        assert process.stdout == b""
        assert process.stderr == NOT_TEXT.encode() + b"\n"
        assert state(engine) == before
    finally:
        engine.dispose()
    assert solum("check", url=url).code == 3


@pytest.mark.parametrize("argv", [
    ["upgrade", "--", "\udcff"], ["upgrade", "--sql", "\udcff"],
    ["downgrade", "--", "x\udcff"], ["stamp", "--", "\udcff"],
    ["show", "\udcff"], ["history", "-r", "\udcff:"]])
def test_non_utf8_revision_is_named(solum, argv):
    """The same line for every command that takes a revision or a range;
    the URL names a server nobody listens on: it is never tried."""
    line = assert_failed(solum(*argv, url=SECRET_URL), code=2)
    assert line == NOT_TEXT
