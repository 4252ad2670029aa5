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

"""Logging as OpenStack operators expect (issue 10, point 7).

oslo.log's format, one level word per line, a list one item per line
(refusals too); ``--debug`` says what the tool decides; ``--log-file``,
``log_config_append`` and ``use_syslog`` send the log where services send
theirs, while warnings and the final ``ERROR:`` line still reach stderr;
no "assuming SERIAL" noise on PostgreSQL. Against real SQLite, MariaDB and
PostgreSQL; syslog through a UNIX datagram socket the test binds, seen by
the tool as /dev/log in a private mount namespace.
"""

import os
import re
import socket
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests import dbutil
from tests.helpers import (
    HEAD,
    JUNO,
    KILO,
)

SCRIPT = str(Path(sys.executable).with_name("solum-db-manage"))
# oslo.log's default format: "DATE TIME PID LEVEL LOGGER [-] TEXT".
LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \d+ "
    r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL) (?P<logger>\S+) "
    r"\[[^\]]*\] (?P<text>.*)$")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
PASSWORD = "S3cret-l0g-pw"


def records(text):
    """(level, logger, text) of each log line; other lines are ignored."""
    found = []
    for line in text.splitlines():
        match = LOG_LINE.match(line)
        if match:
            found.append((match["level"], match["logger"], match["text"]))
    return found


def texts(text, level, logger="solum_db_manage"):
    return [t for lvl, name, t in records(text)
            if lvl == level and name == logger]


def assert_one_level_word(text):
    """No line repeats its level word in its message."""
    for level, _, message in records(text):
        assert not any(message.startswith(f"{word}:") for word in LEVELS), (
            level, message)


def assert_error_contract(err):
    """At most one ``ERROR:`` line, and it is the last."""
    lines = err.splitlines()
    errors = [line for line in lines if line.startswith("ERROR:")]
    assert len(errors) == 1, err
    assert lines[-1] == errors[0], err
    return errors[0]


def config(tmp_path, text, name="solum.conf"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def insert(engine, table, **values):
    """Insert one row, filling the NOT NULL columns not given."""
    reflected = sa.Table(table, sa.MetaData(), autoload_with=engine)
    row = {}
    for column in reflected.columns:
        if (column.nullable or column.name in values
                or (column.primary_key
                    and isinstance(column.type, sa.Integer))):
            continue
        if isinstance(column.type, (sa.Boolean, sa.Integer)):
            row[column.name] = 0
        elif isinstance(column.type, sa.DateTime):
            row[column.name] = sa.func.now()
        else:
            row[column.name] = os.urandom(4).hex()
    row.update(values)
    with engine.begin() as connection:
        connection.execute(reflected.insert().values(row))


def insert_plan(engine, deploy_keys_uri):
    insert(engine, "plan", deploy_keys_uri=deploy_keys_uri)


# --- --debug and [DEFAULT] debug --------------------------------------------

def test_debug_logs_the_tools_decisions(backend, db_url, solum, tmp_path):
    debug_conf = config(tmp_path, "[DEFAULT]\ndebug = True\n", "debug.conf")
    quiet = solum("upgrade", "+1", url=db_url)
    assert quiet.code == 0, quiet.err
    assert not texts(quiet.err, "DEBUG")

    # [DEFAULT] debug = True in solum.conf, as in services.
    result = solum("upgrade", "+2", url=db_url, config_file=debug_conf)
    assert result.code == 0, result.err
    debug = texts(result.err, "DEBUG")
    joined = "\n".join(debug)
    assert "Connecting to " in joined
    assert "Diagnosis: the database records icehouse" in joined
    assert "Diagnosis: behind (exit 3)" in joined
    assert "Lock: held by this run (upgrade +2 on " in joined
    assert "Fresh-install fast path: not taken" in joined
    assert ("Plan: upgrade +2 walks 2 revisions: 498adc6185ae, "
            "450600086a09") in joined
    assert "Data-loss review: 2 steps to +2, 0 would lose data" in joined
    assert len([t for t in debug if t.startswith("Step done: ")]) == 2
    assert "Lock: releasing, recording the run as done" in joined
    assert_one_level_word(result.err)

    # --debug on the command line: check says its diagnosis, and takes
    # no lock.
    checked = solum("--debug", "check", url=db_url)
    assert checked.code == 3, checked.err
    assert any(t.startswith("Diagnosis: behind (exit 3)")
               for t in texts(checked.err, "DEBUG"))
    assert not any(t.startswith("Lock: ") for t in texts(checked.err,
                                                         "DEBUG"))


def test_debug_on_the_fresh_install_fast_path(backend, db_url, solum):
    result = solum("--debug", "upgrade", "head", url=db_url)
    assert result.code == 0, result.err
    debug = "\n".join(texts(result.err, "DEBUG"))
    assert "Diagnosis: empty (exit 3)" in debug
    assert "Fresh-install fast path: tried" in debug
    assert "Fresh install: 0 of the head tables exist" in debug
    assert "Plan:" not in debug
    assert texts(result.err, "INFO")[-1].startswith(
        f"Created the head schema {HEAD} directly")


# --- one level word, lists one item per line ---------------------------------

def test_version_warning_is_one_item_per_line(backend, db_url, engine,
                                              solum):
    assert solum("upgrade", "+1", url=db_url).code == 0
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM alembic_version")
    result = solum("version", url=db_url)
    assert result.code == 0, result.err
    assert result.out == "Current DB revision is None\n"
    warned = texts(result.err, "WARNING")
    # The state, then what to run: each its own line, no "WARNING:".
    assert len(warned) >= 2, result.err
    assert "no version" in warned[0]
    # version names the stamp that repairs it (point 5 of issue 10).
    assert any("solum-db-manage stamp icehouse" in line
               for line in warned[1:]), warned
    assert_one_level_word(result.err)
    for line in result.err.splitlines():
        assert LOG_LINE.match(line), line


def test_refusal_lists_each_difference_on_its_own_line(backend, db_url,
                                                       engine, solum):
    # At head, upgrade does not compare with the models: one before.
    assert solum("upgrade", JUNO, url=db_url).code == 0
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE userlogs")
        connection.exec_driver_sql(
            "CREATE TABLE surplus (id INTEGER PRIMARY KEY)")
    before = dbutil.snapshot(engine, include_version_table=True)

    result = solum("upgrade", "head", "--lock-timeout", "10", url=db_url)

    assert result.code == 6, result.err
    final = assert_error_contract(result.err)
    # The final line is the whole message folded, as ever.
    assert final.startswith("ERROR: upgrade refused, nothing was changed: ")
    assert "table userlogs is missing" in final
    listed = texts(result.err, "ERROR")
    assert listed[0] == "upgrade refused, nothing was changed:"
    assert "  table userlogs is missing" in listed
    assert "  table surplus is not expected" in listed
    assert listed[1].startswith(f"The database records revision {JUNO}")
    assert_one_level_word(result.err)
    assert dbutil.snapshot(engine, include_version_table=True) == before


def test_data_loss_warnings_go_through_the_logger(backend, db_url, engine,
                                                   new_db_url, solum):
    assert solum("upgrade", JUNO, url=db_url).code == 0
    insert_plan(engine, "swift://keys/a")
    result = solum("upgrade", "+1", url=db_url)
    assert result.code == 0, result.err
    assert texts(result.err, "WARNING") == [
        "upgrade 27dff58cbc65 drops plan.deploy_keys_uri: 1 row holds a "
        "value that will be lost"]
    assert_one_level_word(result.err)
    for line in result.err.splitlines():
        assert LOG_LINE.match(line), line

    # A refused downgrade lists each loss on its own line, then ERROR.
    at_head = new_db_url()
    assert solum("upgrade", "head", url=at_head).code == 0
    engine = sa.create_engine(at_head, poolclass=sa.pool.NullPool)
    insert(engine, "image", base_image_id="x" * 80)
    insert(engine, "app", scale_config='{"target": 2}')
    refused = solum("downgrade", KILO, "--lock-timeout", "10", url=at_head)
    assert refused.code == 1, refused.err
    assert_error_contract(refused.err)
    listed = texts(refused.err, "ERROR")
    assert listed[0] == (f"downgrade to {KILO} would lose data, so "
                         f"nothing was changed:")
    assert ("downgrade a271b35952be drops app.scale_config: 1 row holds a "
            "value that will be lost") in listed
    assert ("downgrade 43df309dbf3f narrows image.base_image_id to 36 "
            "characters: 1 row holds a longer value that will be cut"
            ) in listed
    assert dbutil.version_rows(engine) == [HEAD]


# --- where the log goes ------------------------------------------------------

def test_log_file_takes_the_log_and_stderr_keeps_warnings_and_errors(
        backend, db_url, engine, solum, tmp_path):
    log_file = tmp_path / "solum-db-manage.log"
    assert solum("upgrade", JUNO, url=db_url).code == 0
    insert_plan(engine, "swift://keys/a")

    result = solum("--log-file", str(log_file), "upgrade", "+1",
                   url=db_url)

    assert result.code == 0, result.err
    # stderr: the warning alone; the file: everything, as in services.
    assert [level for level, _, _ in records(result.err)] == ["WARNING"]
    assert result.err.count("\n") == 1, result.err
    logged = log_file.read_text()
    assert "drops plan.deploy_keys_uri" in texts(logged, "WARNING")[0]
    assert any(t.startswith(f"Running upgrade {JUNO} -> 27dff58cbc65")
               for t in texts(logged, "INFO", "alembic.runtime.migration"))

    # A failure: the ERROR line is stderr's last (and only) line, and the
    # log file has it too.
    failed = solum("--log-file", str(log_file), "upgrade", "deadbeef",
                   url=db_url)
    assert failed.code == 1
    assert failed.err == "ERROR: No such revision or branch 'deadbeef'\n"
    assert texts(log_file.read_text(), "ERROR")[-1] == (
        "No such revision or branch 'deadbeef'")

    # use_stderr = True in solum.conf adds stderr back, as in services.
    both = config(tmp_path, "[DEFAULT]\nuse_stderr = True\n", "both.conf")
    result = solum("--debug", "--log-file", str(log_file), "check",
                   url=db_url, config_file=both)
    assert result.code == 3, result.err
    debug = texts(result.err, "DEBUG")
    assert debug and debug == texts(log_file.read_text(), "DEBUG")[
        -len(debug):]


def test_log_dir_alone_takes_the_log(solum, tmp_path):
    url = f"sqlite:///{tmp_path}/solum.sqlite"
    logs = tmp_path / "logs"
    logs.mkdir()
    result = solum("--log-dir", str(logs), "upgrade", KILO, url=url)
    assert result.code == 0, result.err
    assert result.err == ""
    # oslo.log names the file after the program running (here pytest's).
    (path,) = logs.glob("*.log")
    logged = path.read_text()
    assert f"Running upgrade 452f34e8ea3 -> {KILO}" in logged


def _secret_url(backend, db_url):
    """The database's URL for a user whose password is PASSWORD, who
    cannot log in (wrong password): the tool fails to connect."""
    url = sa.engine.make_url(db_url)
    return url.set(username="solum_nobody",
                   password=PASSWORD).render_as_string(hide_password=False)


@pytest.mark.parametrize("backend", ["mysql", "postgresql"])
def test_log_config_append_writes_where_the_ini_says(backend, db_url,
                                                      solum, tmp_path):
    log_file = tmp_path / "from-ini.log"
    ini = tmp_path / "logging.ini"
    ini.write_text(f"""\
[loggers]
keys = root

[handlers]
keys = file

[formatters]
keys = plain

[logger_root]
level = DEBUG
handlers = file

[handler_file]
class = FileHandler
args = ({str(log_file)!r},)
formatter = plain

[formatter_plain]
format = %(levelname)s %(name)s %(message)s
""")
    conf = config(tmp_path, f"[DEFAULT]\nlog_config_append = {ini}\n",
                  "append.conf")

    result = solum("upgrade", KILO, url=db_url, config_file=conf)
    assert result.code == 0, result.err
    assert result.err == ""
    logged = log_file.read_text().splitlines()
    assert (f"INFO alembic.runtime.migration Running upgrade 452f34e8ea3 "
            f"-> {KILO}, Add image id to assembly table") in logged
    # The ini's level (DEBUG) rules, not --debug.
    assert any(line.startswith("DEBUG solum_db_manage Diagnosis: ")
               for line in logged)

    # A failure reaches stderr as ever, and the ini's file, masked.
    failed = solum("version", url=_secret_url(backend, db_url),
                   config_file=conf)
    assert failed.code == 1
    assert_error_contract(failed.err)
    assert failed.err.startswith("ERROR: cannot connect to the database")
    text = log_file.read_text()
    assert "ERROR solum_db_manage cannot connect to the database" in text
    quoted = urllib.parse.quote(PASSWORD)
    for output in (text, failed.err, failed.out):
        assert PASSWORD not in output and quoted not in output


def test_log_file_masks_passwords(solum, tmp_path):
    log_file = tmp_path / "masked.log"
    url = f"mysql+pymysql://solum:{PASSWORD}@127.0.0.1:1/solum"
    result = solum("--debug", "--log-file", str(log_file), "version",
                   url=url)
    assert result.code == 1
    assert_error_contract(result.err)
    text = log_file.read_text()
    assert "cannot connect to the database" in text
    assert "Traceback" in text   # --debug: the traceback, masked
    assert PASSWORD not in text + result.err


@pytest.mark.parametrize("setting, words", [
    ("log_config_append = {tmp}/missing.ini",
     "ERROR: logging: Error loading logging config {tmp}/missing.ini"),
    ("log_file = {tmp}/no/such/dir/x.log",
     "ERROR: logging: cannot open the log file {tmp}/no/such/dir/x.log: "
     "No such file or directory"),
    ("use_journal = True", "ERROR: logging: "),
])
def test_unusable_log_destination_is_one_error_line(solum, tmp_path,
                                                    setting, words):
    conf = config(tmp_path, "[DEFAULT]\n" + setting.format(tmp=tmp_path)
                  + "\n", "bad-log.conf")
    url = f"sqlite:///{tmp_path}/solum.sqlite"
    result = solum("upgrade", "head", url=url, config_file=conf)
    assert result.code == 1, result.err
    line = assert_error_contract(result.err)
    assert line.startswith(words.format(tmp=tmp_path)), line
    assert "Traceback" not in result.err
    assert not (tmp_path / "solum.sqlite").exists()


def _namespace_supported():
    try:
        probe = subprocess.run(["unshare", "-m", "true"],
                               capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    return None if probe.returncode == 0 else probe.stderr.decode()


# Run in a private mount namespace: /dev is a fresh tmpfs holding the
# usual devices and, as /dev/log, the socket the test bound. Nothing of
# it is seen outside (unshare makes the mounts private).
IN_NAMESPACE = r"""
set -e
T=$1; shift
mkdir -p "$T/dev"
mount --rbind /dev "$T/dev"
mount -t tmpfs -o size=1m tmpfs /dev
for n in null zero random urandom; do
    touch /dev/$n; mount --bind "$T/dev/$n" /dev/$n
done
ln -s /proc/self/fd /dev/fd
touch /dev/log
mount --bind "$T/log.sock" /dev/log
exec "$@"
"""


@pytest.mark.parametrize("backend", ["sqlite"])
def test_use_syslog_sends_the_log_to_dev_log(backend, db_url, engine,
                                             tmp_path):
    reason = _namespace_supported()
    if reason is not None:
        pytest.skip(f"no private mount namespace (unshare -m, needs root) "
                    f"to stand in for /dev/log: {reason}")
    assert subprocess.run(
        [SCRIPT, "--config-file", config(tmp_path, ""),
         "--database-connection", db_url, "upgrade", JUNO],
        capture_output=True, timeout=300).returncode == 0
    insert_plan(engine, "swift://keys/a")
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(tmp_path / "log.sock"))
    receiver.settimeout(0.5)
    conf = config(tmp_path, "[DEFAULT]\nuse_syslog = True\n"
                  "syslog_log_facility = LOG_LOCAL3\n", "syslog.conf")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("OS_")}
    datagrams = []

    def receive():
        # Read as they come: a UNIX datagram socket queues only a few,
        # then syslog(3) blocks the sender, as a stalled syslogd would.
        while True:
            try:
                datagrams.append(receiver.recv(65536).decode())
            except TimeoutError:
                if not tool.is_alive():
                    return

    tool = threading.Thread(target=lambda: done.append(subprocess.run(
        ["unshare", "-m", "sh", "-c", IN_NAMESPACE, "sh", str(tmp_path),
         SCRIPT, "--config-file", conf, "--database-connection", db_url,
         "upgrade", "+1"],
        capture_output=True, text=True, timeout=300, env=env)))
    done = []
    try:
        tool.start()
        receive()
        tool.join()
    finally:
        receiver.close()
    (done,) = done
    assert done.returncode == 0, done.stderr
    # LOG_LOCAL3 (19): <19*8+6> for INFO, <19*8+4> for WARNING.
    assert any(d.startswith("<158>") and "Running upgrade "
               f"{JUNO} -> 27dff58cbc65" in d for d in datagrams), datagrams
    assert any(d.startswith("<156>") and "drops plan.deploy_keys_uri" in d
               for d in datagrams), datagrams
    # stderr has the log too (use_syslog adds to it, as in services).
    assert "drops plan.deploy_keys_uri" in done.stderr
    assert dbutil.version_rows(engine) == ["27dff58cbc65"]


# --- PostgreSQL: no "assuming SERIAL" ----------------------------------------

@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgresql_check_and_autogenerate_print_no_serial_lines(
        backend, db_url, solum):
    assert solum("upgrade", "head", url=db_url).code == 0
    checked = solum("check", url=db_url)
    assert checked.code == 0, checked.out + checked.err
    assert "Detected sequence" not in checked.err
    assert "SERIAL" not in checked.err
    generated = solum("revision", "-m", "nothing", "--autogenerate",
                      url=db_url)
    assert generated.code == 0, generated.err
    assert generated.out == "No changes in schema detected.\n"
    assert "SERIAL" not in generated.err
    # Still on with --debug? The level set for Alembic's PostgreSQL
    # logger stands, as oslo.log's default_log_levels do.
    debugged = solum("--debug", "check", url=db_url)
    assert "assuming SERIAL" not in debugged.err


def test_debug_is_not_hidden_by_a_level_left_in_the_process(db_url, solum):
    """A level an earlier logging set-up in this process left on the
    tool's logger (an Alembic ini's fileConfig sets it to INFO) does not
    hide what --debug asks for: each run's set-up starts afresh."""
    import logging

    logger = logging.getLogger("solum_db_manage")
    saved = logger.level
    logger.setLevel(logging.INFO)
    try:
        checked = solum("--debug", "check", url=db_url)
    finally:
        logger.setLevel(saved)
    assert checked.code == 3, checked.err
    assert any(t.startswith("Diagnosis: empty (exit 3)")
               for t in texts(checked.err, "DEBUG")), checked.err
