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

"""Bad configuration files: garbage, binary, unreadable, bad values, '$'.

One family of the bad-input tests (issue 4, section 7; the others are
tests/test_bad_input_*.py). Each case gets what the README's "Bad input"
table promises (``helpers.assert_failed``), with nothing changed where a
database exists (``helpers.state`` before == after); an unclear answer is
an ``xfail(strict=True)`` whose reason says "BUG:".

A missing configuration file and an unparsable INI are tried in
test_cli_args.
"""

import os
import shutil

import pytest

from tests.helpers import (
    ENCODED,
    SECRET_URL,
    assert_clear,
    assert_failed,
    assert_no_password,
    run_tool,
    world_readable_dir,
)


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


def test_config_file_without_read_permission(solum):
    """chmod 000: root reads it anyway, so the tool runs as nobody."""
    directory = world_readable_dir()
    try:
        path = directory / "solum.conf"
        path.write_text(f"[database]\nconnection = {SECRET_URL}\n")
        path.chmod(0)
        if os.geteuid() != 0:
            line = assert_failed(solum("upgrade", config_file=str(path)))
        else:
            process = run_tool(["--config-file", str(path), "upgrade"],
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
