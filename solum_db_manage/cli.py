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

"""solum-db-manage: parse the command line, run one command, report.

The options and commands are data (options.py): the parsed command holds
its :class:`options.Command` (``conf.command.run``), which names the
function of the commands layer to call and the keywords and settings it
takes. ``main()`` is the one error boundary: every expected failure
becomes one ``ERROR: ...`` line on stderr and an exit status (see
errors.py, which also words the line).
"""

import os
import sys
import traceback

from solum_db_manage import config_files, errors, options, output
from solum_db_manage.options import build_conf
from solum_db_manage.output import PROG, RedactingStream, Redactor


def _package_version():
    from solum_db_manage import __version__

    return __version__


def _connection_url(conf):
    url = conf.database.connection
    if url:
        return url
    files = config_files.files_read(conf)
    read = ("configuration files read: " + ", ".join(files) if files
            else "no configuration file was found")
    raise errors.ConfigError(
        f"no database connection is configured ({read}); set "
        f"'connection' in the [database] section of solum.conf, or pass "
        f"--database-connection URL")


def main(argv=None):
    """Run solum-db-manage; return the exit status.

    Without ``argv``, the process's own command line is run, by the
    console script or ``python -m solum_db_manage``, which exit with the
    status returned: what the run left is then frozen for the garbage
    collector (see _exiting).
    """
    exiting = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    redact = Redactor()
    for arg in [*argv, os.environ.get("OS_DATABASE__CONNECTION", "")]:
        redact.add_url(arg)
    saved = sys.stdout, sys.stderr
    sys.stdout = RedactingStream(sys.stdout, redact)
    sys.stderr = RedactingStream(sys.stderr, redact)
    # Until the configuration is parsed, only the command line tells.
    state = {"debug": "--debug" in argv or "-d" in argv, "logging": False}
    from solum_db_manage import signals

    restore_sigterm = signals.handle_sigterm()
    try:
        try:
            return _main(argv, redact, state)
        except SystemExit as exit:
            # argparse: -h and --version exit 0, usage errors exit 2.
            return (exit.code if isinstance(exit.code, int)
                    else errors.EXIT_USAGE)
        except errors.Terminated as terminated:
            failure = terminated
        except KeyboardInterrupt:
            failure = None
        except Exception as error:
            if state["debug"]:
                sys.stderr.write(traceback.format_exc())
            failure = error
        # Reported outside the except clauses: oslo.log's formatter adds
        # the exception being handled to any error logged in one.
        return _fail(failure, state)
    finally:
        restore_sigterm()
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = saved
        if exiting:
            _exiting()


def _fail(error, state):
    """Report a failure (None: Ctrl-C); return its exit status."""
    if error is None:
        output.error("interrupted", logged=state["logging"])
        return errors.EXIT_INTERRUPTED
    if isinstance(error, errors.Terminated):
        output.error(str(error), logged=state["logging"])
        return errors.EXIT_TERMINATED
    output.error(errors.describe(error),
                 getattr(error, "details", ()), logged=state["logging"],
                 exc_info=error if state["debug"] else None)
    return getattr(error, "exit_code", errors.EXIT_ERROR)


def _exiting():
    """Spare the exiting interpreter a last full garbage collection.

    At exit Python collects every object the run left (SQLAlchemy's and
    oslo's included): ~0.1 s of a 0.3 s ``version``. Frozen objects are
    left out of collections; the memory goes with the process anyway.
    Module teardown, atexit handlers and the flushing of the standard
    streams still happen as usual.
    """
    import gc

    gc.freeze()


def _main(argv, redact, state):
    options.answer_help(argv, _package_version())

    conf = build_conf()
    config_files.parse(conf, argv, project="solum", prog=PROG,
                       version=_package_version())
    state["debug"] = conf.debug
    output.setup_logging(conf, redact, PROG, _package_version())
    state["logging"] = True
    values = conf.command
    command = values.run

    from solum_db_manage import commands, config, db_options

    # Before the connection: a usage error is reported as one.
    commands.require_revision(command.name, getattr(values, "revision", None))
    for value in (getattr(values, "revision", None),
                  getattr(values, "rev_range", None)):
        _require_text(value)
    url = database = None
    if command.needs_database(values):
        url = _connection_url(conf)
        redact.add_url(url)
        database = db_options.from_conf(conf)
    status = getattr(commands, command.name)(
        config.make_config(url, stdout=sys.stdout, database=database,
                           **command.settings(values)),
        **command.keywords(values))
    return errors.EXIT_OK if status is None else status


def _require_text(value):
    """A revision from a shell can hold bytes that are not text."""
    if value is None:
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise errors.UsageError(
            "the revision is not valid text (UTF-8)") from None
