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

"""Tier 1: the command line maps to the right values; no database at all.

Where ``main()`` runs here, it stops before opening any connection (a
usage or configuration error), which the tests also check.
"""

import inspect
import subprocess
import sys
from importlib import metadata

import pytest

from solum_db_manage import cli, commands, db_options, errors, options
from tests.helpers import (
    error_lines,
)

COMMANDS = {
    "version": "Print the current database revision.",
    "upgrade": "Upgrade the database to a later revision.",
    "downgrade": "Revert the database to an earlier revision.",
    "stamp": "Record a revision without running any migration",
    "revision": "Create a new migration script",
    "current": "Show the revision(s) the database records.",
    "history": "List the migration scripts in order.",
    "heads": "Show the head revision(s) of the scripts.",
    "branches": "Show the branch points of the scripts.",
    "show": "Show one revision.",
}


def parse(*argv):
    """Parse argv as main() does, reading no configuration file."""
    conf = cli.build_conf()
    conf(args=list(argv), project="solum", prog=cli.PROG,
         default_config_files=[], default_config_dirs=[])
    return conf


# --- argument mapping -----------------------------------------------------

def test_upgrade_defaults_to_head():
    command = parse("upgrade").command
    assert (command.name, command.revision, command.sql) == (
        "upgrade", "head", False)


@pytest.mark.parametrize("revision", [
    "head", "heads", "+1", "+3", "498a+2", "a271b35952be", "40df542e345",
    "kilo", "icehouse"])
def test_upgrade_passes_revision_through(revision):
    assert parse("upgrade", revision).command.revision == revision


def test_upgrade_sql_with_range():
    command = parse("upgrade", "--sql", "icehouse:head").command
    assert (command.revision, command.sql) == ("icehouse:head", True)


def test_downgrade_has_no_default_revision():
    command = parse("downgrade").command
    assert (command.name, command.revision) == ("downgrade", None)


@pytest.mark.parametrize("revision", ["-1", "-3", "base", "498adc6185ae",
                                      "kilo-1"])
def test_downgrade_takes_relative_and_named_revisions(revision):
    assert parse("downgrade", revision).command.revision == revision


def test_downgrade_sql_with_range():
    command = parse("downgrade", "--sql", "head:base").command
    assert (command.revision, command.sql) == ("head:base", True)


def test_stamp_has_no_default_revision_and_no_purge():
    command = parse("stamp").command
    assert (command.revision, command.purge, command.sql) == (
        None, False, False)


def test_stamp_purge_and_sql():
    command = parse("stamp", "--purge", "--sql", "icehouse").command
    assert (command.revision, command.purge, command.sql) == (
        "icehouse", True, True)


def test_revision_message_and_autogenerate():
    command = parse("revision", "-m", "add foo", "--autogenerate").command
    assert (command.message, command.autogenerate) == ("add foo", True)
    command = parse("revision", "--message", "bar").command
    assert (command.message, command.autogenerate) == ("bar", False)


def test_history_range_and_verbose():
    command = parse("history", "-r", "juno:kilo", "--verbose").command
    assert (command.rev_range, command.verbose) == ("juno:kilo", True)
    command = parse("history").command
    assert (command.rev_range, command.verbose) == (None, False)


@pytest.mark.parametrize("name", ["current", "heads", "branches"])
def test_verbose_flag(name):
    assert parse(name).command.verbose is False
    assert parse(name, "-v").command.verbose is True
    assert parse(name, "--verbose").command.verbose is True


def test_show_takes_a_revision():
    assert parse("show", "kilo").command.revision == "kilo"


def test_database_connection_option_sets_the_database_group():
    conf = parse("--database-connection", "sqlite:////x.db", "version")
    assert conf.database.connection == "sqlite:////x.db"


def test_connection_from_the_environment(monkeypatch):
    monkeypatch.setenv("OS_DATABASE__CONNECTION", "sqlite:////env.db")
    assert parse("version").database.connection == "sqlite:////env.db"


def test_command_line_overrides_the_environment(monkeypatch):
    monkeypatch.setenv("OS_DATABASE__CONNECTION", "sqlite:////env.db")
    conf = parse("--database-connection", "sqlite:////cli.db", "version")
    assert conf.database.connection == "sqlite:////cli.db"


def test_logs_go_to_stderr_by_default():
    assert parse("version").use_stderr is True


def test_debug_flag_is_oslo_logs():
    assert parse("--debug", "version").debug is True
    assert parse("version").debug is False


def test_connection_option_is_secret_and_listed():
    [(group, opts)] = options.list_opts()
    assert group == "database"
    assert (opts[0].name, opts[0].secret) == ("connection", True)
    # Then oslo.db's other [database] options (db_options).
    assert [opt.name for opt in opts[1:]] == [
        opt.name for opt in db_options.database_opts()]


@pytest.mark.parametrize("argv, needs_url", [
    (["version"], True),
    (["upgrade"], True),
    (["downgrade", "-1"], True),
    (["stamp", "head"], True),
    (["current"], True),
    (["revision", "-m", "x", "--autogenerate"], True),
    (["revision", "-m", "x"], False),
    (["history"], False),
    (["heads"], False),
    (["branches"], False),
    (["show", "head"], False),
])
def test_which_commands_need_a_database(argv, needs_url):
    command = parse(*argv).command
    assert command.run.needs_database(command) is needs_url


@pytest.mark.parametrize("command", options.COMMANDS,
                         ids=lambda command: command.name)
def test_each_command_runs_a_function_taking_its_arguments(command):
    """options.py's table and the commands agree: the parsed command
    holds its Command, whose function takes the config and the keywords
    the Command passes; settings are the lock options alone."""
    values = parse(command.name, *(["head"] * (command.name == "show")))
    assert values.command.run is command
    function = getattr(commands, command.name)
    inspect.signature(function).bind(
        object(), **command.keywords(values.command))
    assert set(command.settings(values.command)) <= {
        "lock_timeout", "lock_lease", "ddl_lock_timeout"}


def test_importing_the_cli_loads_neither_alembic_nor_sqlalchemy():
    code = ("import sys, solum_db_manage.cli; "
            "print(sorted(m for m in ('alembic', 'sqlalchemy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True,
                         capture_output=True, text=True).stdout
    assert out.strip() == "[]"


# --- help, version and usage errors through main() ------------------------

def test_help_lists_every_command_with_its_summary(solum):
    result = solum("-h")
    assert result.code == 0
    assert result.out.startswith("usage: solum-db-manage")
    text = " ".join(result.out.split())
    for name, summary in COMMANDS.items():
        assert f"{name} {summary}" in text


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(solum, name):
    result = solum(name, "-h")
    assert result.code == 0
    assert result.out.startswith(f"usage: solum-db-manage {name} ")
    assert COMMANDS[name] in " ".join(result.out.split())
    assert result.err == ""


def test_version_option_prints_the_package_version(solum):
    result = solum("--version")
    assert result.code == 0
    assert result.out.strip() == metadata.version("solum-db-manage")


@pytest.mark.parametrize("argv, complaint", [
    ([], "the following arguments are required: command"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["--frobnicate", "version"], "unrecognized arguments: --frobnicate"),
    (["show"], "the following arguments are required: revision"),
    (["upgrade", "head", "extra"], "unrecognized arguments: extra"),
    (["revision", "--bogus"], "unrecognized arguments: --bogus"),
    (["stamp", "--sql", "--purge", "--x", "head"], "unrecognized arguments"),
])
def test_usage_errors_exit_2(solum, argv, complaint):
    result = solum(*argv)
    assert result.code == errors.EXIT_USAGE == 2
    assert "usage: solum-db-manage" in result.err
    assert complaint in result.err
    assert result.out == ""


@pytest.mark.parametrize("command, words", [
    ("downgrade", "downgrade needs a target revision"),
    ("stamp", "stamp needs a revision"),
])
def test_missing_revision_exits_2_without_touching_the_database(
        solum, tmp_path, command, words):
    path = tmp_path / "solum.sqlite"
    result = solum(command, url=f"sqlite:///{path}")
    assert result.code == 2
    assert error_lines(result.err) == [result.err.strip()]
    assert words in result.err
    assert result.out == ""
    assert not path.exists()


# --- configuration errors: no connection is ever opened --------------------

def test_no_connection_configured_names_the_files_read(solum, empty_config):
    result = solum("version")
    assert result.code == 1
    assert result.err.count("\n") == 1
    [line] = error_lines(result.err)
    assert "no database connection is configured" in line
    assert f"configuration files read: {empty_config}" in line
    assert "[database]" in line and "--database-connection" in line
    assert "/etc/solum/solum.conf" not in line
    assert "Traceback" not in result.err
    assert result.out == ""


def test_no_connection_names_the_files_of_a_config_dir(
        solum, tmp_path, empty_config):
    directory = tmp_path / "solum.conf.d"
    directory.mkdir()
    (directory / "10-logging.conf").write_text("[DEFAULT]\ndebug = false\n")
    result = solum("--config-dir", str(directory), "version")
    assert result.code == 1
    [line] = error_lines(result.err)
    assert empty_config in line
    assert str(directory / "10-logging.conf") in line


def test_empty_environment_connection_counts_as_unset(solum, monkeypatch):
    monkeypatch.setenv("OS_DATABASE__CONNECTION", "")
    result = solum("version")
    assert result.code == 1
    [line] = error_lines(result.err)
    assert "no database connection is configured" in line


def test_empty_connection_in_a_config_file_counts_as_unset(solum, tmp_path):
    path = tmp_path / "blank.conf"
    path.write_text("[database]\nconnection =\n")
    result = solum("version", config_file=str(path))
    assert result.code == 1
    assert "no database connection is configured" in result.err


def test_missing_config_file_is_one_error_line(solum, tmp_path):
    missing = tmp_path / "nowhere" / "solum.conf"
    result = solum("version", config_file=str(missing))
    assert result.code == 1
    assert error_lines(result.err) == [result.err.strip()]
    assert str(missing) in result.err
    assert "Traceback" not in result.err


def test_missing_config_dir_is_one_error_line(solum, tmp_path):
    missing = tmp_path / "nowhere.d"
    result = solum("--config-dir", str(missing), "version")
    assert result.code == 1
    assert error_lines(result.err) == [result.err.strip()]
    assert str(missing) in result.err


def test_malformed_config_file_is_one_error_line(solum, tmp_path):
    path = tmp_path / "broken.conf"
    path.write_text("[database\nconnection = sqlite://\n")
    result = solum("version", config_file=str(path))
    assert result.code == 1
    assert error_lines(result.err) == [result.err.strip()]
    assert str(path) in result.err
    assert "Traceback" not in result.err


def test_invalid_url_is_one_error_line(solum):
    result = solum("version", url="not a url")
    assert result.code == 1
    assert error_lines(result.err) == [result.err.strip()]
    assert "not valid" in result.err


def test_unknown_database_type_is_one_error_line(solum):
    result = solum("version", url="nosuchdb://user@host/solum")
    assert result.code == 1
    assert error_lines(result.err) == [result.err.strip()]
    assert "nosuchdb" in result.err


def test_debug_adds_the_traceback_to_a_config_error(solum):
    result = solum("--debug", "version", url="nosuchdb://user@host/solum")
    assert result.code == 1
    assert "Traceback (most recent call last)" in result.err
    assert result.err.rstrip().splitlines()[-1].startswith("ERROR: ")
