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

"""``revision`` cannot break or hijack an installation (issue 10, point 3).

* It refuses, writing nothing, where the scripts belong to an installed
  package (a real non-editable install, made once per session with pip
  into a temporary directory) or cannot be written by the user.
* Whatever the message -- quotes, triple quotes, backslashes, newlines,
  NUL, unicode, lone surrogates, 10,000 characters -- the script written
  parses, its docstring holds the message exactly, and nothing of the
  message runs (hypothesis, and a payload that would create a file).
* A script it wrote that does not load is removed and named; a broken
  script it did not write is named in one ERROR line by every command,
  and left alone.

Scripts are written into a throw-away copy of the scripts directory
(test_commands' ``script_copy``), never into the package's versions/.
"""

import ast
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from solum_db_manage import scripts
from tests import dbutil
from tests.helpers import (
    HEAD,
    error_lines,
    new_scripts,
    nobody_prefix,
)

REPO = Path(__file__).resolve().parent.parent
# A server nobody listens on: the refusal comes before any connection.
UNREACHABLE = "mysql+pymysql://solum:s3cret-pass@127.0.0.1:1/solum"


def last_error(code, err, expected_code=1):
    """The one ERROR line, last on stderr, without traceback."""
    assert code == expected_code, err
    assert len(error_lines(err)) == 1, err
    line = err.rstrip("\n").splitlines()[-1]
    assert line.startswith("ERROR: "), err
    assert "Traceback" not in err
    return line


def tree(directory):
    """Every file and directory under ``directory``, with size and mtime."""
    found = {}
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            path = os.path.join(root, name)
            info = os.lstat(path)
            found[os.path.relpath(path, directory)] = (
                info.st_size, info.st_mtime_ns)
    return found


# --- the refusal: an installed package ---------------------------------------

@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    """A real non-editable install of this tree (pip install --target).

    Built from a copy of the sources, so that the build leaves nothing in
    the worktree; pip's build isolation takes setuptools and wheel from
    the package index.
    """
    base = tmp_path_factory.mktemp("installed")
    source = base / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.cfg", "README.rst"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "solum_db_manage", source / "solum_db_manage",
                    ignore=shutil.ignore_patterns("__pycache__"))
    target = base / "site-packages"
    process = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=600)
    assert process.returncode == 0, process.stdout + process.stderr
    return target


def _layout(installed, base, kind):
    """The install as found at one kind of place; returns its sys.path
    entry."""
    if kind == "site-packages":
        return installed
    root = base / kind
    shutil.copytree(installed, root, symlinks=True)
    if kind == "dist-packages":
        # A distribution's package: no dist-info RECORD to tell.
        for info in root.glob("*.dist-info"):
            shutil.rmtree(info)
    return root


def _run_installed(root, *args, cwd):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("OS_")}
    env["PYTHONPATH"] = str(root)
    return subprocess.run(
        [sys.executable, "-m", "solum_db_manage", "--config-file",
         os.devnull, *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


@pytest.mark.parametrize("kind", ["site-packages", "dist-info",
                                  "dist-packages"])
def test_revision_refuses_an_installed_package(installed, tmp_path, kind):
    """site-packages (pip's RECORD too), a directory of another name
    holding pip's RECORD, and dist-packages without a RECORD (a distro's
    package): exit 1, the way to a checkout named, nothing written, and
    the scripts' head unchanged for every user."""
    root = _layout(installed, tmp_path, kind)
    versions = root / "solum_db_manage" / "alembic_migrations" / "versions"
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    before = tree(root)
    attempts = [["revision", "-m", "add foo"]]
    if kind == "site-packages":
        attempts.append(["--database-connection", UNREACHABLE, "revision",
                         "-m", "add foo", "--autogenerate"])
    for args in attempts:
        process = _run_installed(root, *args, cwd=cwd)
        line = last_error(process.returncode, process.stderr)
        assert line.startswith(
            "ERROR: revision refused, nothing was written: the migration "
            f"scripts in {versions} are part of an installed package ("), line
        assert "pip install -e ." in line
        assert "cannot connect" not in line
        assert "s3cret-pass" not in process.stdout + process.stderr
        assert process.stdout == ""
        assert tree(root) == before
        assert list(cwd.iterdir()) == []
    if kind == "site-packages":
        heads = _run_installed(root, "heads", cwd=cwd)
        assert (heads.returncode, heads.stdout) == (
            0, f"{HEAD} (head)\n"), heads.stderr


def _world_enterable_dir():
    """A directory user nobody may enter (pytest's tmp_path is 0700)."""
    directory = Path(tempfile.mkdtemp(prefix="solum-revision-"))
    directory.chmod(0o755)
    return directory


def test_revision_refuses_a_directory_it_cannot_write(solum):
    """A checkout (no site-packages, no RECORD) whose versions/ the user
    may not write: exit 1, the directory named, nothing written. Root
    writes anywhere, so as root the tool runs as user nobody on a copy
    owned by root."""
    directory = _world_enterable_dir()
    try:
        shutil.copytree(REPO / "solum_db_manage",
                        directory / "solum_db_manage",
                        ignore=shutil.ignore_patterns("__pycache__"))
        versions = (directory / "solum_db_manage" / "alembic_migrations"
                    / "versions")
        before = tree(directory)
        if os.geteuid() == 0:
            process = subprocess.run(
                [*nobody_prefix(), "-B", "-m",
                 "solum_db_manage", "--config-file", os.devnull,
                 "revision", "-m", "add foo"],
                capture_output=True, text=True, cwd=directory, timeout=300,
                env={key: value for key, value in os.environ.items()
                     if not key.startswith("OS_")})
            code, out, err = (process.returncode, process.stdout,
                              process.stderr)
        else:
            versions.chmod(0o555)
            saved = scripts.SCRIPT_LOCATION
            scripts.SCRIPT_LOCATION = str(versions.parent)
            try:
                result = solum("revision", "-m", "add foo")
            finally:
                scripts.SCRIPT_LOCATION = saved
                versions.chmod(0o755)
            code, out, err = result.code, result.out, result.err
        line = last_error(code, err)
        assert line.startswith(
            f"ERROR: revision refused, nothing was written: {versions} is "
            f"not writable by this user"), line
        assert "pip install -e ." in line
        assert out == ""
        assert tree(directory) == before
    finally:
        shutil.rmtree(directory)


# --- the message ------------------------------------------------------------

def _written(copy, before):
    [path] = sorted(set(new_scripts(copy)) - set(before))
    return path


def _remove(path):
    path.unlink()
    for compiled in (path.parent / "__pycache__").glob(
            path.name[:-len(".py")] + ".*"):
        compiled.unlink()


def assert_safe_script(path, message):
    """The script parses, its docstring holds the message exactly, and it
    is the template's statements and nothing else."""
    source = path.read_text(encoding="utf-8")
    module = ast.parse(source, filename=str(path))
    docstring = ast.get_docstring(module, clean=False)
    assert docstring is not None
    assert docstring.startswith(message + "\n\nRevision ID: "), (
        docstring[:200])
    assert docstring.endswith(f"Revises: {HEAD}\n" + docstring.split(
        f"Revises: {HEAD}\n", 1)[1])
    kinds = [type(node).__name__ for node in module.body]
    assert kinds == ["Expr", "ImportFrom", "Import", "Assign", "Assign",
                     "Assign", "Assign", "FunctionDef", "FunctionDef"]
    assigned = [node.targets[0].id for node in module.body[3:7]]
    assert assigned == ["revision", "down_revision", "branch_labels",
                        "depends_on"]
    assert ast.literal_eval(module.body[4].value) == HEAD
    for function in module.body[7:]:
        assert [type(node).__name__ for node in function.body] == ["Pass"]
    # The first line after the license header is the docstring's opening.
    assert source.startswith("# Licensed under the Apache License")
    body = source.split("\n\n", 1)[1]
    assert body.startswith('"""')


# Any code point (lone surrogates and NUL included), and runs of the
# pieces that break a docstring.
MESSAGES = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=200),
    st.lists(st.sampled_from([
        '"', "'", "\\", "\n", "\r", "\x00", "\t", '"""', "'''", "\\n",
        "\u2028", "\x85", "é", "头", "\U0001f600", "\udcff", "{", "$",
        "%", "x", " ", "#", "\x0c", "\\N{", "${", "<%"]), max_size=60)
    .map("".join),
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(message=MESSAGES)
@example(message='say """hi"""')
@example(message='x"""\nraise SystemExit(99)\n"""')
@example(message="ends with a backslash \\")
@example(message='ends with a quote "')
@example(message="")
@example(message='"""\\' * 2500)          # 10,000 characters
@example(message="é头\U0001f600\x00\r\n\udcff" * 1430)
def test_any_message_gives_a_script_that_parses(solum, script_copy,
                                                message):
    _write_and_check(solum, script_copy, message)


def _write_and_check(solum, script_copy, message):
    before = new_scripts(script_copy)
    result = solum("revision", f"--message={message}")
    assert result.code == 0, result.err
    path = _written(script_copy, before)
    try:
        assert_safe_script(path, message)
    finally:
        _remove(path)


@pytest.mark.slow
@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow,
                                 HealthCheck.data_too_large,
                                 HealthCheck.large_base_example])
@given(message=st.one_of(MESSAGES, st.text(st.characters(
    exclude_categories=()), min_size=2000, max_size=10000)))
def test_many_messages_give_scripts_that_parse(solum, script_copy, message):
    """The longer run (slow marker): 300 more, 2,000-10,000 characters
    among them."""
    _write_and_check(solum, script_copy, message)


def test_a_message_cannot_run_code(solum, script_copy, tmp_path):
    """A message closing the docstring on today's template ran its code on
    every later command (seen: a file created by ``heads``)."""
    canary = tmp_path / "ran"
    message = (f'x"""\nimport pathlib; pathlib.Path({str(canary)!r})'
               f'.write_text("ran")\n"""')
    before = new_scripts(script_copy)
    result = solum("revision", "-m", message)
    assert result.code == 0, result.err
    path = _written(script_copy, before)
    assert_safe_script(path, message)
    url = f"sqlite:///{tmp_path}/solum.sqlite"
    for args in (["heads"], ["history"], ["upgrade", "head"],
                 ["downgrade", "-1"]):
        run = solum(*args, url=url)
        assert run.code == 0, run.err
        assert not canary.exists(), args
    heads = solum("heads")
    assert heads.out == f"{path.name.split('_')[0]} (head)\n"


def test_autogenerate_renders_a_hostile_message_safely(
        solum, db_url, engine, script_copy):
    """On each backend: differences found in a live database, and the
    message in a docstring that holds it."""
    message = 'drop """stray"""\\\n\x00é'
    assert solum("upgrade", url=db_url).code == 0
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE stray_table (id INTEGER PRIMARY KEY)")
    before = new_scripts(script_copy)
    result = solum("revision", "-m", message, "--autogenerate", url=db_url)
    assert result.code == 0, result.err
    path = _written(script_copy, before)
    module = ast.parse(path.read_text(encoding="utf-8"))
    assert ast.get_docstring(module, clean=False).startswith(
        message + "\n\nRevision ID: ")
    assert "op.drop_table('stray_table')" in path.read_text()


# --- scripts that do not load ------------------------------------------------

# The template as it was: the message inserted as it is.
RAW_TEMPLATE = '''"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""

from alembic import op

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
'''


@pytest.mark.parametrize("message, slug, words", [
    ('say """hi"""', "say_hi", "does not compile (SyntaxError: "),
    ('x"""\nundefined_name_at_import\n"""', "x_undefined_name_at_import",
     "fails when loaded (NameError: name 'undefined_name_at_import' is "
     "not defined)"),
])
def test_a_new_script_that_does_not_load_is_removed(
        solum, script_copy, message, slug, words):
    """A template (or an autogenerate rendering) that gives a script that
    does not load: the script is removed, named, and every later command
    still works."""
    (script_copy / "script.py.mako").write_text(RAW_TEMPLATE)
    # The scripts, not versions/__pycache__: Python 3.12 and 3.13 leave
    # one there after the tool loaded the chain, 3.11 does not.
    before = new_scripts(script_copy)
    result = solum("revision", "-m", message)
    line = last_error(result.code, result.err)
    assert line.startswith(
        f"ERROR: the new migration script {script_copy}/versions/"), line
    assert f"_{slug}.py {words}" in line, line
    assert "so it was removed: nothing was written" in line
    assert new_scripts(script_copy) == before
    heads = solum("heads")
    assert (heads.code, heads.out) == (0, f"{HEAD} (head)\n"), heads.err


BROKEN = "deadbeef0001_hand_edited.py"


def write_broken_script(copy):
    """A script someone edited by hand into one that does not compile."""
    path = copy / "versions" / BROKEN
    path.write_text('"""Hand edited."""\nrevision = "deadbeef0001"\n'
                    f'down_revision = {HEAD!r}\ndef upgrade(:\n    pass\n')
    return path


def assert_named(result, path):
    line = last_error(result.code, result.err)
    assert line == (
        f"ERROR: the migration script {path} does not compile (SyntaxError:"
        f" invalid syntax, line 4); every command loads every script in "
        f"{path.parent}: fix that file or move it away (solum-db-manage did "
        f"not write it and leaves it alone)"), line


def test_a_broken_script_is_named_by_every_command_without_a_database(
        solum, script_copy):
    broken_script = write_broken_script(script_copy)
    source = broken_script.read_bytes()
    for args in (["heads"], ["history"], ["branches"], ["show", "head"],
                 ["revision", "-m", "next"]):
        assert_named(solum(*args), broken_script)
    assert broken_script.read_bytes() == source
    assert [p.name for p in new_scripts(broken_script.parent.parent)
            if p.name.endswith("_next.py")] == []


def test_a_broken_script_is_named_by_every_database_command(
        solum, db_url, engine, script_copy):
    """On each backend, with the database at kilo: one ERROR line naming
    the file, the file kept, the database unchanged."""
    assert solum("upgrade", "kilo", url=db_url).code == 0
    broken_script = write_broken_script(script_copy)
    before = dbutil.snapshot(engine, include_version_table=True)
    source = broken_script.read_bytes()
    for args in (["version"], ["check"], ["current"], ["upgrade", "head"],
                 ["upgrade", "+1"], ["downgrade", "-1"], ["stamp", "head"],
                 ["revision", "-m", "next", "--autogenerate"]):
        assert_named(solum(*args, url=db_url), broken_script)
        assert dbutil.version_rows(engine) == ["1393c21ea82c"]
    assert dbutil.snapshot(engine, include_version_table=True) == before
    assert broken_script.read_bytes() == source
    broken_script.unlink()
    assert solum("upgrade", url=db_url).code == 0
    assert dbutil.version_rows(engine) == [HEAD]
