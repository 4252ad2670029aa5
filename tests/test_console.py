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

"""The installed ``solum-db-manage`` and ``python -m solum_db_manage``, run
as a user runs them: exit status, stdout and stderr exactly."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest

from tests.helpers import (
    HEAD,
    HEAD_LINE,
)

SCRIPT = str(Path(sys.executable).with_name("solum-db-manage"))
# What oslo.log writes: "2024-01-01 12:00:00.000 1234 INFO name [-] text".
LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \d+ "
    r"(DEBUG|INFO|WARNING) \S+ \[[^\]]*\] ")
PASSWORD_URL = "mysql+pymysql://solum:p%25w%40d%3As3cret@127.0.0.1:1/solum"


@pytest.fixture
def run(tmp_path):
    """Run the console script (or ``python -m``) in a clean environment."""
    config = tmp_path / "solum.conf"
    config.write_text("")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("OS_")}
    # No ~/solum.conf or ~/.solum/solum.conf of the machine's user.
    home = tmp_path / "home"
    home.mkdir()
    env["HOME"] = str(home)

    def run(*args, url=None, module=False):
        command = ([sys.executable, "-m", "solum_db_manage"] if module
                   else [SCRIPT])
        command += ["--config-file", str(config)]
        if url is not None:
            command += ["--database-connection", url]
        return subprocess.run(command + list(args), capture_output=True,
                              text=True, env=env, cwd=tmp_path, timeout=300)

    run.config = config
    run.env = env
    return run


def assert_only_log_lines(stderr):
    for line in stderr.splitlines():
        assert LOG_LINE.match(line), line


@pytest.mark.parametrize("module", [False, True])
def test_version_option(run, module):
    process = run("--version", module=module)
    assert process.returncode == 0
    assert process.stdout == metadata.version("solum-db-manage") + "\n"
    assert process.stderr == ""


def test_help_lists_the_commands(run):
    process = run("-h")
    assert process.returncode == 0
    assert process.stderr == ""
    for name in ("version", "upgrade", "downgrade", "stamp", "unlock",
                 "revision", "current", "history", "heads", "branches",
                 "show"):
        assert re.search(rf"^    {name} +\S", process.stdout, re.M), name


def test_usage_error_exits_2(run):
    process = run("upgrade", "head", "tail")
    assert process.returncode == 2
    assert process.stdout == ""
    assert process.stderr.startswith("usage: solum-db-manage")
    assert process.stderr.endswith(
        "solum-db-manage: error: unrecognized arguments: tail\n")


def test_downgrade_without_revision_exits_2(run, tmp_path):
    path = tmp_path / "solum.sqlite"
    process = run("downgrade", url=f"sqlite:///{path}")
    assert process.returncode == 2
    assert process.stdout == ""
    assert process.stderr.startswith(
        "ERROR: downgrade needs a target revision")
    assert process.stderr.count("\n") == 1
    assert not path.exists()


def test_no_connection_is_one_line(run):
    process = run("version")
    assert process.returncode == 1
    assert process.stdout == ""
    assert process.stderr == (
        f"ERROR: no database connection is configured (configuration "
        f"files read: {run.config}); set 'connection' in the [database] "
        f"section of solum.conf, or pass --database-connection URL\n")


def test_no_config_found_anywhere(run, tmp_path):
    process = subprocess.run([SCRIPT, "version"], capture_output=True,
                             text=True, env=run.env, cwd=tmp_path)
    if "configuration files read" in process.stderr:
        pytest.skip("this machine has a solum.conf of its own")
    assert process.returncode == 1
    assert process.stderr.startswith(
        "ERROR: no database connection is configured (no configuration "
        "file was found)")


def test_upgrade_then_version(run, db_url):
    # A target below head walks the chain from the start.
    process = run("upgrade", "kilo", url=db_url)
    assert process.returncode == 0, process.stderr
    assert process.stdout == ""
    assert_only_log_lines(process.stderr)
    assert re.search(r" INFO alembic\.runtime\.migration \[-\] Running "
                     r"upgrade  -> \w+, ", process.stderr)
    process = run("upgrade", "head", url=db_url)
    assert process.returncode == 0, process.stderr
    assert process.stdout == ""
    assert_only_log_lines(process.stderr)
    assert f"-> {HEAD}, " in process.stderr

    for module in (False, True):
        process = run("version", url=db_url, module=module)
        assert process.returncode == 0, process.stderr
        assert process.stdout == HEAD_LINE
        assert_only_log_lines(process.stderr)


def test_version_of_an_empty_database(run, tmp_path):
    process = run("version", url=f"sqlite:///{tmp_path}/new.sqlite")
    assert process.returncode == 0, process.stderr
    assert process.stdout == "Current DB revision is None\n"


def test_unknown_revision_is_one_line_without_traceback(run, tmp_path):
    url = f"sqlite:///{tmp_path}/solum.sqlite"
    process = run("upgrade", "deadbeef", url=url)
    assert process.returncode == 1
    assert process.stdout == ""
    lines = process.stderr.splitlines()
    assert_only_log_lines("\n".join(lines[:-1]))
    assert lines[-1].startswith("ERROR: ")
    assert "deadbeef" in lines[-1]
    assert "Traceback" not in process.stderr

    process = run("--debug", "upgrade", "deadbeef", url=url)
    assert process.returncode == 1
    assert "Traceback (most recent call last)" in process.stderr
    assert process.stderr.splitlines()[-1] == lines[-1]


def test_password_is_never_shown(run):
    for args in (["version"], ["--debug", "version"],
                 ["--debug", "upgrade", "--sql"]):
        process = run(*args, url=PASSWORD_URL)
        output = process.stdout + process.stderr
        for secret in ("s3cret", "p%25w%40d", "p%w@d"):
            assert secret not in output, args
    assert process.returncode == 0
    assert "CREATE TABLE" in process.stdout


def test_offline_sql_on_stdout_logs_on_stderr(run):
    process = run("upgrade", "--sql", url=PASSWORD_URL)
    assert process.returncode == 0, process.stderr
    assert process.stdout.startswith("CREATE TABLE alembic_version")
    assert "INFO" not in process.stdout
    assert_only_log_lines(process.stderr)


def test_interrupt_exits_130(run, tmp_path):
    # A server that accepts connections and never greets: the tool waits.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        command = [SCRIPT, "--config-file", str(run.config),
                   "--database-connection",
                   f"mysql+pymysql://solum@127.0.0.1:{port}/solum",
                   "version"]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=run.env, cwd=tmp_path)
        try:
            deadline = time.monotonic() + 60
            server.settimeout(60)
            connection, _ = server.accept()  # the tool is now waiting
            with connection:
                time.sleep(0.5)
                assert process.poll() is None
                assert time.monotonic() < deadline
                process.send_signal(signal.SIGINT)
                stdout, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == 130
    assert stdout == ""
    assert stderr.splitlines()[-1] == "ERROR: interrupted"
    assert "Traceback" not in stderr


@pytest.mark.parametrize("module", [False, True])
def test_fresh_install_then_check_exit_statuses(run, tmp_path, module):
    """Through the entry points that end with the garbage collector
    frozen: statuses and every line of output as ever."""
    url = f"sqlite:///{tmp_path}/solum.sqlite"
    process = run("check", url=url, module=module)
    assert process.returncode == 3, process.stderr
    assert process.stdout.startswith(
        "The database holds no Solum table and no version")
    assert process.stdout.endswith(
        "To repair, run: solum-db-manage upgrade head\n")

    process = run("upgrade", url=url, module=module)
    assert process.returncode == 0, process.stderr
    assert process.stdout == ""
    [line] = process.stderr.splitlines()
    assert LOG_LINE.match(line)
    assert line.endswith(f"Created the head schema {HEAD} "
                         f"directly: the database was empty, so no "
                         f"revision was walked.")

    process = run("version", url=url, module=module)
    assert (process.returncode, process.stdout, process.stderr) == (
        0, HEAD_LINE, "")
