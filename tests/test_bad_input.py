"""Bad input, tried (issue 4, section 7), on real databases.

Every test here gives the tool something a user can get wrong and asserts
what the README's "Bad input" table says the user gets: one ``ERROR:``
line on stderr, last, without traceback or Python repr noise; the
documented exit status; no password in any output; and, where a database
exists, nothing lost or half-changed (schema, version rows and data rows
before == after).

Bad input that other files already try is not tried again here; the
README table names those tests: an unknown revision and the ambiguous
"45" (test_commands), a missing configuration file, an unparsable INI and
an invalid ``--database-connection`` (test_cli_args), a wrong password on
MySQL for ``version``, an unreachable server for ``version`` (and for
``check``: test_check), a missing database (test_commands),
``alembic_version`` with two rows or an unknown revision (test_check:
``check`` and ``upgrade head`` refuse, 6 and 4), SIGINT while connecting
(test_console).

Where the tool's answer is not clear (an "unexpected ..." line, or no
``ERROR:`` line) the test is an ``xfail(strict=True)`` whose reason says
"BUG:": the product is not fixed here.
"""

import contextlib
import os
import queue
import re
import resource
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

from solum_db_manage import migration, releases
from tests import dbutil
from tests.conftest import SERVER_URLS, provision, require_backend
from tests.test_commands import (
    ENCODED,
    JUNO,
    KILO,
    PASSWORD,
    assert_no_password,
    error_lines,
    execute,
    mysql_user,
    user_url,
)
from tests.test_dataloss import insert

HEAD = releases.HEAD
# Each run that could take the migration lock waits at most this long, so
# that a lock leaked by an earlier in-process run fails fast, not in 300 s.
LOCK_WAIT = ("--lock-timeout", "10")
# What no line the user reads may hold.
NOISE = re.compile(r"Traceback|object at 0x|File \"|\b\w+(Error|Exception)\(")
LONG = "0123456789abcdef" * 300          # 4800 characters, hex-like
SECRET_URL = f"mysql+pymysql://solum:{ENCODED}@127.0.0.1:1/solum"
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


def assert_failed(result, code=1):
    """The failure users are promised; return the ERROR line."""
    lines = error_lines(result.err)
    assert result.code == code, result.err
    assert len(lines) == 1, result.err
    assert result.err.endswith("\n")
    assert result.err.splitlines()[-1] == lines[0], result.err
    assert not NOISE.search(result.err), result.err
    assert result.out == ""
    assert_no_password(result.out, result.err)
    return lines[0]


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
    url = migration.parse_url(db_url)
    if backend == "postgresql":
        # A server that checks passwords keeps the one it was given.
        yield db_url if url.password else user_url(db_url, url.username,
                                                   ENCODED)
        return
    with mysql_user(url.database, PASSWORD) as user:
        yield user_url(db_url, user, ENCODED)


@pytest.fixture
def secret_url(backend, db_url):
    with secret_url_of(backend, db_url) as url:
        yield url


@pytest.fixture
def at_kilo(secret_url, engine, solum):
    """The database at kilo with two plans; its URL (with a password)."""
    assert solum("upgrade", "kilo", url=secret_url).code == 0
    with_rows(engine)
    return secret_url


# --- revisions -------------------------------------------------------------

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
        with _disposing(url) as engine:
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
    with _disposing(url) as engine:
        assert dbutil.snapshot(engine, include_version_table=True) == {}


@pytest.mark.parametrize("url", BAD_PARAMETERS)
def test_unclear_answers_are_still_one_error_line(solum, url):
    """The inputs of the bug tests below: exit 1, one ERROR line, no
    traceback, no password, whatever the line says."""
    for argv in (["version"], ["upgrade"], ["downgrade", "-1"]):
        assert_failed(solum(*argv, url=url))


def _run_tool(args, as_nobody=False, **options):
    """``python -m solum_db_manage ARGS``, without the OS_* environment.

    ``as_nobody`` runs it as user nobody, through setpriv (util-linux).
    """
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("OS_")}
    command = [sys.executable, "-m", "solum_db_manage", *args]
    if as_nobody:
        if not shutil.which("setpriv"):
            pytest.skip("running the tool as nobody needs setpriv "
                        "(util-linux)")
        command = ["setpriv", "--reuid=65534", "--regid=65534",
                   "--clear-groups", *command]
    return subprocess.run(command, capture_output=True, text=True, env=env,
                          timeout=300, **options)


NOT_TEXT = "ERROR: the revision is not valid text (UTF-8)"


def test_non_utf8_revision_changes_nothing(tmp_path, solum):
    """A byte that is not UTF-8 (argv decodes it to a lone surrogate): a
    usage error, exit 2, before any connection."""
    config = tmp_path / "empty.conf"
    config.write_text("")
    url = f"sqlite:///{tmp_path}/solum.sqlite"
    assert solum("upgrade", "kilo", url=url).code == 0
    engine = migration.create_engine(url)
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


# --- the version table ------------------------------------------------------

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


# --- configuration files ---------------------------------------------------

def _config(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return str(path)




@pytest.mark.parametrize("content, words", [
    pytest.param(
        "connection = " + SECRET_URL + "\n",
        ["Failed to parse", "Section must be started before assignment"],
        id="ini-without-sections"),
    pytest.param(
        "[database]\nconnection = not-a-url\n",
        ["the database connection URL is not valid"], id="not-a-url"),
    pytest.param(
        f"[database]\nconnection = solum:{ENCODED}@not a url\n",
        ["the database connection URL is not valid"],
        id="not-a-url-with-password"),
    pytest.param(
        "\ufeff[database]\nconnection = sqlite://\n",
        ["Failed to parse", "No ':' or '=' found in assignment"],
        id="byte-order-mark"),
])
def test_garbage_config_file(solum, tmp_path, content, words):
    path = _config(tmp_path, "garbage.conf", content)
    for command in ("version", "upgrade"):
        line = assert_failed(solum(command, config_file=path))
        assert_clear(line, *words)
        if "Failed to parse" in words:
            assert path in line


@pytest.mark.parametrize("content", [
    pytest.param(bytes(range(256)), id="all-bytes"),
    pytest.param(bytes(range(256)) + SECRET_URL.encode(), id="with-a-url"),
])
def test_binary_config_file_is_named(solum, tmp_path, content):
    path = _config(tmp_path, "binary.conf", content)
    for command in ("version", "upgrade"):
        line = assert_failed(solum(command, config_file=path))
        assert line == (f"ERROR: configuration: cannot read {path}: it is "
                        f"not UTF-8 text")


def _not_a_file(tmp_path, how):
    if how == "directory":
        (tmp_path / "solum.conf.d").mkdir()
        return str(tmp_path / "solum.conf.d")
    (tmp_path / "plain").write_text("")
    return str(tmp_path / "plain" / "solum.conf")


@pytest.mark.parametrize("how, reason", [("directory", "Is a directory"),
                                         ("under-a-file", "Not a directory")])
def test_unreadable_config_path_is_clear(solum, tmp_path, how, reason):
    """A directory given as --config-file, or a path through a file."""
    path = _not_a_file(tmp_path, how)
    for command in ("version", "upgrade"):
        line = assert_failed(solum(command, config_file=path))
        assert line == f"ERROR: configuration: cannot read {path}: {reason}"


def _world_readable_dir():
    """A directory user nobody may enter (pytest's tmp_path is 0700)."""
    directory = tempfile.mkdtemp(prefix="solum-bad-input-")
    os.chmod(directory, 0o755)
    return Path(directory)


def test_config_file_without_read_permission(solum):
    """chmod 000: root reads it anyway, so the tool runs as nobody."""
    directory = _world_readable_dir()
    try:
        path = directory / "solum.conf"
        path.write_text(f"[database]\nconnection = {SECRET_URL}\n")
        path.chmod(0)
        if os.geteuid() != 0:
            line = assert_failed(solum("upgrade", config_file=str(path)))
        else:
            process = _run_tool(["--config-file", str(path), "upgrade"],
                                cwd=directory, as_nobody=True)
            assert process.returncode == 1, process.stderr
            assert process.stdout == ""
            assert len(process.stderr.splitlines()) == 1, process.stderr
            line = process.stderr.rstrip("\n")
            assert_no_password(process.stderr)
        assert_clear(line, "configuration: Failed to open some config "
                           f"files: {path}")
    finally:
        shutil.rmtree(directory)


def test_invalid_option_value_in_config_file_exits_1(solum, tmp_path):
    path = _config(tmp_path, "bad-value.conf",
                   "[DEFAULT]\ndebug = maybe\n[database]\n"
                   "connection = sqlite://\n")
    result = solum("upgrade", config_file=path)
    assert (result.code, result.out) == (1, "")
    assert result.err == "argument --debug: Invalid Boolean value: maybe\n"


@pytest.mark.xfail(strict=True, reason=(
    "BUG: an invalid value in a configuration file for an option that is "
    "also a command-line option ([DEFAULT] debug = maybe) prints "
    "'argument --debug: Invalid Boolean value: maybe' and exits 1 with no "
    "'ERROR:' line and no file named: oslo.config writes it and raises "
    "SystemExit(1), which main() passes through"))
def test_invalid_option_value_in_config_file(solum, tmp_path):
    path = _config(tmp_path, "bad-value.conf",
                   "[DEFAULT]\ndebug = maybe\n[database]\n"
                   "connection = sqlite://\n")
    assert_clear(assert_failed(solum("upgrade", config_file=path)),
                 "debug", path)


DOLLAR = ("ERROR: configuration: a value holds '$' followed by a name that "
          "is no option (oslo.config substitutes $NAME); write '$$' for a "
          "literal '$', for example in a password")


@pytest.mark.parametrize("password", ["Zq8$Secret9tail", "Zq8${Secret9tail}"])
def test_dollar_in_a_config_password_is_not_shown(solum, tmp_path,
                                                  password):
    """oslo.config reads "$NAME" as the option NAME: the line says so, and
    shows nothing of the value (the password's tail)."""
    path = _config(tmp_path, "dollar.conf",
                   f"[database]\nconnection = mysql+pymysql://solum:"
                   f"{password}@127.0.0.1:1/solum\n")
    for command in ("version", "upgrade"):
        result = solum(command, config_file=path)
        assert assert_failed(result) == DOLLAR
        assert "Secret9tail" not in result.err


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


# --- servers: password, reachability ---------------------------------------

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
    url = migration.parse_url(SERVER_URLS[backend]).set(
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
    admin = sa.create_engine(migration.parse_url(SERVER_URLS["postgresql"]),
                             poolclass=sa.pool.NullPool,
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(
            f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
    return admin


@pytest.mark.parametrize("backend", ["mysql", "postgresql"])
def test_wrong_password_on_upgrade_changes_nothing(backend, db_url, engine,
                                                   solum):
    url = migration.parse_url(db_url)
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
                migration.parse_url(user_url(db_url, user, wrong)),
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


# --- read-only database user ------------------------------------------------

@contextlib.contextmanager
def read_only_url(backend, db_url):
    """A user that may connect and read, nothing else; its URL."""
    url = migration.parse_url(db_url)
    name = f"solum_ro_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(migration.parse_url(SERVER_URLS[backend]),
                             poolclass=sa.pool.NullPool,
                             isolation_level="AUTOCOMMIT")
    here = sa.create_engine(url, poolclass=sa.pool.NullPool,
                            isolation_level="AUTOCOMMIT")
    # Both drivers read "%" in a statement as a placeholder's start.
    quoted = PASSWORD.replace("%", "%%")
    try:
        if backend == "mysql":
            execute(admin, f"CREATE USER '{name}'@'%%' IDENTIFIED BY "
                           f"'{quoted}'",
                    f"GRANT SELECT ON `{url.database}`.* TO '{name}'@'%%'")
        else:
            execute(admin, f"CREATE ROLE {name} LOGIN PASSWORD '{quoted}'")
            execute(here, "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
                    f"GRANT CONNECT ON DATABASE {url.database} TO {name}",
                    f"GRANT USAGE ON SCHEMA public TO {name}",
                    f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {name}")
        yield user_url(db_url, name, ENCODED)
    finally:
        if backend == "mysql":
            execute(admin, f"DROP USER IF EXISTS '{name}'@'%%'")
        else:
            execute(here, f"DROP OWNED BY {name}")
            execute(admin, f"DROP ROLE IF EXISTS {name}")
        here.dispose()
        admin.dispose()


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
    process = _run_tool(["--config-file", str(config),
                         "--database-connection", url, "upgrade", "head"],
                        cwd=directory, as_nobody=True)
    assert process.returncode == 1, process.stderr
    assert process.stdout == ""
    lines = error_lines(process.stderr)
    assert len(lines) == 1 and not NOISE.search(process.stderr)
    assert process.stderr.splitlines()[-1] == lines[0]
    return lines[0], process.stderr


def test_read_only_user_upgrade_changes_nothing(backend, tmp_path, solum):
    """MySQL: GRANT SELECT only; PostgreSQL: CONNECT, USAGE and SELECT;
    SQLite: a database file (and directory) the user may only read.

    On an empty database and on one at kilo, the lock table missing (as
    the original tool left databases) or there (as this tool leaves them).
    """
    directory = _world_readable_dir()
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
        engines = {name: stack.enter_context(_disposing(url))
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
            return stack.enter_context(read_only_url(backend, urls[name]))

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


@contextlib.contextmanager
def _disposing(url):
    engine = migration.create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


# --- SIGINT during an upgrade ----------------------------------------------

# The run starts here: plan exists, and a revision a few steps on needs
# a lock on it (586c15b92842's foreign key on PostgreSQL, 27dff58cbc65's
# DROP COLUMN on MariaDB), which another session holds: the run waits
# there, a few revisions in, when SIGINT comes.
SIGINT_FROM = "498adc6185ae"
RUNNING = re.compile(r"Running upgrade (\w+) -> (\w+),")


def _lines_of(stream):
    lines = queue.Queue()

    def read():
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _until_blocked(process, lines, timeout=60):
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
            pytest.fail("the upgrade ended before SIGINT:\n" + "".join(seen))
        seen.append(line)
    pytest.fail("the upgrade never waited:\n" + "".join(seen))


@pytest.mark.parametrize("backend", ["mysql", "postgresql"])
def test_sigint_during_upgrade(backend, secret_url, db_url, engine,
                               new_db_url, solum, tmp_path):
    assert solum("upgrade", SIGINT_FROM, url=secret_url).code == 0
    config = tmp_path / "empty.conf"
    config.write_text("")
    blocker = engine.connect()
    try:
        if backend == "postgresql":
            blocker.exec_driver_sql("LOCK TABLE plan IN SHARE MODE")
        else:   # a metadata lock, held until the transaction ends
            blocker.exec_driver_sql("SELECT * FROM plan").all()
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("OS_")}
        process = subprocess.Popen(
            [sys.executable, "-m", "solum_db_manage", "--config-file",
             str(config), "--database-connection", secret_url, "upgrade",
             "head", "--ddl-lock-timeout", "120"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env)
        try:
            lines = _lines_of(process.stderr)
            seen = _until_blocked(process, lines)
            assert process.poll() is None
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
            stdout = process.stdout.read()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        while (line := lines.get(timeout=10)) is not None:
            seen.append(line)
    finally:
        blocker.rollback()
        blocker.close()
    stderr = "".join(seen)
    assert process.returncode == 130, stderr
    assert stdout == ""
    assert error_lines(stderr) == ["ERROR: interrupted"]
    assert stderr.splitlines()[-1] == "ERROR: interrupted"
    assert not NOISE.search(stderr), stderr
    assert_no_password(stderr)
    started = RUNNING.findall(stderr)
    assert len(started) >= 2, stderr      # a few revisions in
    interrupted_from = started[-1][0]
    assert dbutil.version_rows(engine) == [interrupted_from]

    if backend == "postgresql":
        # The interrupted revision was rolled back whole: the schema is
        # exactly that of the recorded revision.
        reference = new_db_url()
        assert solum("upgrade", interrupted_from, url=reference).code == 0
        with _disposing(reference) as other:
            assert dbutil.snapshot(engine, include_version_table=True) == \
                dbutil.snapshot(other, include_version_table=True)

    checked = solum("check", url=secret_url)
    assert checked.code == 7, checked.out
    assert "SIGINT" in checked.out
    result = solum("upgrade", "head", url=secret_url)
    assert result.code == 0, result.err
    checked = solum("check", url=secret_url)
    assert checked.code == 0, checked.out
    assert_no_password(result.err, checked.out, checked.err)


# --- a full disk, SQLite ---------------------------------------------------

def _head_size(solum, directory):
    path = directory / "reference-head.sqlite"
    assert solum("upgrade", "head", url=f"sqlite:///{path}").code == 0
    size = path.stat().st_size
    path.unlink()
    return size


@contextlib.contextmanager
def _small_disk(directory):
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


def _fill(directory, leave):
    """Fill the filesystem of ``directory`` but ``leave`` bytes."""
    stat = os.statvfs(directory)
    filler = directory / "filler"
    with open(filler, "wb") as out:
        remaining = stat.f_bavail * stat.f_frsize - leave
        while remaining > 0:
            remaining -= out.write(b"\0" * min(remaining, 1 << 20))
    return filler


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
            directory = stack.enter_context(_small_disk(tmp_path / "disk"))
            # Room for the head schema, not for it and its journal.
            filler = _fill(directory, leave=head_size)
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

        process = _run_tool(["--config-file", str(config),
                             "--database-connection", url, "upgrade",
                             target], preexec_fn=limited)
        assert process.returncode == 1, process.stderr
        assert process.stdout == ""
        lines = error_lines(process.stderr)
        assert len(lines) == 1, process.stderr
        assert process.stderr.splitlines()[-1] == lines[0]
        assert lines[0].startswith(f"ERROR: {message}"), lines[0]
        assert not NOISE.search(process.stderr)
        walked = RUNNING.search(process.stderr)
        assert bool(walked) is (target != "head")

        if filler is not None:
            filler.unlink()             # the space is back
        with _disposing(url) as engine:
            recorded = dbutil.version_rows(engine)
            assert recorded != [HEAD]
            if not walked:
                assert recorded == []
            if not recorded:
                assert dbutil.snapshot(engine) == {}
            else:
                # Each revision is one transaction on SQLite: the schema is
                # exactly the recorded revision's.
                reference = f"sqlite:///{tmp_path}/reference.sqlite"
                assert solum("upgrade", recorded[0],
                             url=reference).code == 0
                with _disposing(reference) as other:
                    assert dbutil.snapshot(
                        engine, include_version_table=True) == \
                        dbutil.snapshot(other, include_version_table=True)
        checked = solum("check", url=url)
        assert checked.code == 7, checked.out
        result = solum("upgrade", "head", url=url)
        assert result.code == 0, result.err
        assert solum("check", url=url).code == 0

