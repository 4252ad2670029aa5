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

"""Start-up (issue 5, target 1): what each command line imports.

``-h``, ``--help`` and ``--version`` are answered by a plain argparse
parser (options.help_parser) without oslo.config, oslo.log, SQLAlchemy or
Alembic. Both it and oslo.config's parser are built from options.py's one
table; the tests here build both and assert they offer the same options
and commands and print the same text, so the two views (and the copy of
oslo's own global options the help parser holds) cannot drift apart.
``version``, ``check`` below head and ``upgrade head`` of an empty
database run without Alembic (the last also without SQLAlchemy's ORM);
each is run in a fresh interpreter that reports what it imported.
"""

import argparse
import contextlib
import io
import json
import subprocess
import sys

import pytest

from solum_db_manage import __version__, cli, options
from tests.helpers import HEAD_LINE

# What no help or version request may import.
HEAVY = ("oslo_config", "oslo_log", "sqlalchemy", "alembic", "mako", "yaml",
         "pymysql", "psycopg", "sqlite3")


def oslo_parser():
    """oslo.config's parser for the tool, with every option added."""
    conf = cli.build_conf()
    conf(args=["version"], project="solum", prog=cli.PROG,
         version=__version__, default_config_files=[],
         default_config_dirs=[])
    # oslo.config keeps the argparse parser it built there.
    return conf._oparser


def shape(parser):
    """Every option and command of an argparse parser, recursively."""
    options, commands = [], {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            commands = {name: shape(sub)
                        for name, sub in action.choices.items()}
            options.append(("COMMAND", action.dest, action.required,
                            action.help, tuple(action.choices)))
            continue
        options.append((tuple(action.option_strings), action.dest,
                        action.nargs, action.metavar, action.default,
                        action.required, action.choices, action.help))
    # The order shown is the groups': parsers may add actions otherwise.
    groups = [(group.title, [tuple(a.option_strings) or a.dest
                             for a in group._group_actions])
              for group in parser._action_groups]
    return {"options": sorted(options, key=repr), "groups": groups,
            "commands": commands, "prog": parser.prog,
            "description": parser.description}


def printed(parse, argv):
    """(exit status, stdout) of a parser reading argv."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit:
        parse(argv)
    return exit.value.code, out.getvalue()


def oslo_prints(argv):
    conf = cli.build_conf()
    return printed(lambda args: conf(
        args=args, project="solum", prog=cli.PROG, version=__version__,
        default_config_files=[], default_config_dirs=[]), argv)


def plain_prints(argv):
    return printed(options.help_parser(__version__).parse_args, argv)


COMMANDS = list(shape(options.help_parser(__version__))["commands"])


# --- the help parser is oslo.config's parser, without oslo.config --------

def test_the_help_parser_offers_oslo_configs_options_and_commands():
    plain = shape(options.help_parser(__version__))
    oslo = shape(oslo_parser())
    assert plain["commands"].keys() == oslo["commands"].keys()
    assert [o[0] for o in plain["options"]] == [o[0] for o in
                                                oslo["options"]]
    assert plain["groups"] == oslo["groups"]
    assert plain == oslo


def test_the_commands_are_the_documented_ones():
    assert COMMANDS == ["version", "check", "upgrade", "downgrade", "stamp",
                        "unlock", "revision", "current", "history", "heads",
                        "branches", "show"]


@pytest.mark.parametrize("argv", [
    ["-h"], ["--help"], ["--version"], ["--he"], ["-dh"],
    ["--config-file", "any.conf", "--debug", "-h"],
    *([command, "-h"] for command in COMMANDS),
    ["upgrade", "--sql", "kilo", "--help"]])
def test_the_help_parser_prints_what_oslo_config_prints(argv):
    code, out = plain_prints(argv)
    assert (code, out) == oslo_prints(argv)
    assert code == 0
    assert out.startswith("usage: solum-db-manage") or out == (
        __version__ + "\n")


@pytest.mark.parametrize("argv", [
    ["version"], ["upgrade", "head"], ["upgrade", "--", "-h"],
    ["--shell_completion", "bash", "-h"], ["frobnicate", "-h"],
    ["upgrade", "--lock-timeout", "x", "-h"]])
def test_help_parser_leaves_everything_else_to_oslo_config(argv):
    # Returns: no help asked for, or a usage error oslo.config reports.
    assert options.answer_help(argv, __version__) is None


@pytest.mark.parametrize("argv, complaint", [
    (["frobnicate", "-h"], "invalid choice: 'frobnicate'"),
    (["upgrade", "--lock-timeout", "x", "-h"], "expected a number of "
                                               "seconds"),
])
def test_usage_errors_before_a_help_option_stay_usage_errors(
        solum, argv, complaint):
    result = solum(*argv)
    assert result.code == 2
    assert complaint in result.err
    assert result.out == ""


def test_help_through_main_is_the_oslo_help(solum):
    result = solum("upgrade", "-h")
    assert (result.code, result.err) == (0, "")
    assert result.out == oslo_prints(["upgrade", "-h"])[1]


# --- what each command line imports -----------------------------------------

PROBE = """
import json, sys
from solum_db_manage.cli import main
code = main(json.loads(sys.argv[1]))
sys.stdout.flush()
heavy = sorted(name for name in sys.argv[2:] if name in sys.modules)
sys.stderr.write("\\nPROBE " + json.dumps([code, heavy]) + "\\n")
"""


def probe(argv, modules=HEAVY):
    """Run main(argv) in a fresh interpreter: (status, stdout, stderr,
    which of ``modules`` (dotted names allowed) it imported)."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv), *modules],
        capture_output=True, text=True, timeout=120)
    err, _, report = result.stderr.rpartition("\nPROBE ")
    assert report, result.stderr
    code, imported = json.loads(report)
    return code, result.stdout, err, imported


@pytest.mark.parametrize("argv", [
    ["-h"], ["--help"], ["--version"], ["upgrade", "-h"], ["check", "-h"],
    ["--config-file", "/nonexistent/solum.conf", "version", "--help"]])
def test_help_and_version_import_nothing_heavy(argv):
    code, out, err, imported = probe(argv)
    assert (code, err) == (0, "")
    assert out
    assert imported == []


def test_importing_the_cli_imports_nothing_heavy():
    code = ("import sys\n"
            "import solum_db_manage.cli, solum_db_manage.commands\n"
            "import solum_db_manage.chain, solum_db_manage.releases\n"
            "print(sorted({m.split('.')[0] for m in sys.modules}"
            f" & set({HEAVY!r})))\n")
    result = subprocess.run([sys.executable, "-c", code], check=True,
                            capture_output=True, text=True)
    assert result.stdout == "[]\n"


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "solum.conf"
    path.write_text("")
    return str(path)


def run(config_file, url, *args):
    return ["--config-file", config_file, "--database-connection", url,
            *args]


NOT_NEEDED = ("alembic", "mako", "yaml")
# The fast path builds the schema from tables.py (Core), not models.py.
NOT_NEEDED_FRESH = (*NOT_NEEDED, "sqlalchemy.orm", "solum_db_manage.models")


def test_fresh_install_then_version_import_no_alembic_nor_the_orm(
        tmp_path, config_file):
    url = f"sqlite:///{tmp_path}/solum.sqlite"
    # solum_db_manage.tables shows the probe sees submodules at all.
    code, out, err, imported = probe(
        run(config_file, url, "upgrade"),
        (*NOT_NEEDED_FRESH, "solum_db_manage.tables"))
    assert code == 0, err
    assert "Created the head schema" in err
    assert imported == ["solum_db_manage.tables"]

    code, out, err, imported = probe(run(config_file, url, "version"),
                                     NOT_NEEDED_FRESH)
    assert (code, out, err, imported) == (0, HEAD_LINE, "", [])


def test_version_and_check_below_head_import_no_alembic(
        tmp_path, config_file):
    url = f"sqlite:///{tmp_path}/solum.sqlite"
    assert cli.main(run(config_file, url, "upgrade", "kilo")) == 0
    code, out, err, imported = probe(run(config_file, url, "version"),
                                     NOT_NEEDED)
    assert (code, out, imported) == (
        0, "Current DB revision is 1393c21ea82c (kilo)\n", [])
    code, out, err, imported = probe(run(config_file, url, "check"),
                                     NOT_NEEDED)
    assert code == 3, err
    assert out.startswith("The database is at revision 1393c21ea82c (kilo)")
    assert imported == []


def test_walking_the_chain_does_not_import_the_orm(tmp_path, config_file):
    """env.py's target metadata is tables.py's: Alembic's walk needs no
    ORM either (the models are for sessions and the drift check)."""
    url = f"sqlite:///{tmp_path}/solum.sqlite"
    assert cli.main(run(config_file, url, "upgrade", "kilo")) == 0
    code, out, err, imported = probe(
        run(config_file, url, "upgrade", "head"),
        ("alembic", "sqlalchemy.orm", "solum_db_manage.models"))
    assert code == 0, err
    assert imported == ["alembic"]


# --- the console entry: exit quickly, as exactly as ever ---------------------

# The count before main(), not 0: CPython 3.12 starts with objects in the
# permanent generation already (375 on 3.12.1; 0 on 3.11 and 3.13).
FREEZE_PROBE = """
import gc, sys
frozen_at_start = gc.get_freeze_count()
from solum_db_manage.cli import main
if sys.argv[1] == "own":
    del sys.argv[1]
    code = main()
else:
    code = main(sys.argv[2:])
sys.stderr.write(f"FROZEN {gc.get_freeze_count() > frozen_at_start}\\n")
sys.exit(code)
"""


@pytest.mark.parametrize("argv, code", [
    (["--version"], 0), (["upgrade", "head", "tail"], 2),
    (["--config-file", "/nonexistent/solum.conf", "version"], 1)])
def test_only_the_process_command_line_freezes_the_collector(argv, code):
    """main() of the process's own argv (the console script) freezes what
    the run left before the interpreter exits; main(argv) in a process
    that goes on (tests, benchmarks) does not."""
    results = {}
    for how in ("own", "given"):
        results[how] = subprocess.run(
            [sys.executable, "-c", FREEZE_PROBE, how, *argv],
            capture_output=True, text=True, timeout=60)
    own, given = results["own"], results["given"]
    assert own.returncode == given.returncode == code
    assert own.stdout == given.stdout
    assert own.stderr.endswith("FROZEN True\n")
    assert given.stderr.endswith("FROZEN False\n")
    assert own.stderr.removesuffix("FROZEN True\n") == \
        given.stderr.removesuffix("FROZEN False\n")
