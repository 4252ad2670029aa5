"""solum-db-manage: parse the command line, run one command, report.

``main()`` is the one error boundary: every expected failure becomes one
``ERROR: ...`` line on stderr and an exit status (see errors.py).
"""

import glob
import logging
import os
import re
import sys
import traceback

from solum_db_manage import db_options, errors, output, usage
from solum_db_manage.output import PROG, RedactingStream, Redactor

# The [database] options, made on first use (database_opts()): oslo.config
# is imported only once a command needs it, not for -h or --version.
_DATABASE_OPTS = []


def database_opts():
    """The options of the [database] group (cli.DATABASE_OPTS)."""
    if not _DATABASE_OPTS:
        from oslo_config import cfg

        _DATABASE_OPTS.append(cfg.StrOpt(
            "connection", secret=True, help=usage.CONNECTION_HELP))
    return _DATABASE_OPTS


def __getattr__(name):
    if name == "DATABASE_OPTS":
        return database_opts()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def list_opts():
    """The options of solum-db-manage, for oslo-config-generator."""
    return [("database", [*database_opts(), *db_options.database_opts()])]


def _run_command(name, args, config):
    """Run one command; return its exit status."""
    from solum_db_manage import commands

    if hasattr(args, "lock_timeout"):
        config.attributes.update(
            lock_timeout=args.lock_timeout, lock_lease=args.lock_lease,
            ddl_lock_timeout=args.ddl_lock_timeout)
    if name == "version":
        commands.version(config)
    elif name == "check":
        return commands.check(config, as_json=args.json)
    elif name == "upgrade":
        commands.upgrade(config, args.revision, sql=args.sql)
    elif name == "downgrade":
        commands.downgrade(config, args.revision, sql=args.sql,
                            force=args.force)
    elif name == "stamp":
        commands.stamp(config, args.revision, sql=args.sql,
                        purge=args.purge, force=args.force)
    elif name == "unlock":
        commands.unlock(config)
    elif name == "revision":
        commands.revision(config, message=args.message,
                           autogenerate=args.autogenerate)
    elif name == "current":
        commands.current(config, verbose=args.verbose)
    elif name == "history":
        commands.history(config, rev_range=args.rev_range,
                          verbose=args.verbose)
    elif name == "heads":
        commands.heads(config, verbose=args.verbose)
    elif name == "branches":
        commands.branches(config, verbose=args.verbose)
    elif name == "show":
        commands.show(config, args.revision)
    return errors.EXIT_OK


# Commands that work from the scripts alone, without a database.
_OFFLINE_COMMANDS = {"history", "heads", "branches", "show"}


def _needs_url(name, args):
    if name in _OFFLINE_COMMANDS:
        return False
    return not (name == "revision" and not args.autogenerate)


def _package_version():
    from solum_db_manage import __version__

    return __version__


def build_conf():
    """A fresh ConfigOpts with every option of the tool registered."""
    from oslo_config import cfg
    from oslo_log import log

    conf = cfg.ConfigOpts()
    conf.register_cli_opts(database_opts(), group="database")
    conf.register_opts(db_options.database_opts(), group="database")
    conf.register_cli_opt(cfg.SubCommandOpt(
        "command", title="Commands", handler=usage.add_command_parsers,
        help=usage.COMMANDS_HELP))
    log.register_options(conf)
    # Logs go to stderr so that scripts can parse stdout.
    conf.set_default("use_stderr", True)
    conf.set_default("default_log_levels", log.get_default_log_levels() + [
        "alembic.runtime.plugins=WARN",
        # Autogenerate's "Detected sequence named ... assuming SERIAL" on
        # every PostgreSQL id column: noise for check and revision.
        "alembic.ddl.postgresql=WARN"])
    return conf


def _files_read(conf):
    files = list(conf.config_file or [])
    for directory in conf.config_dir or []:
        files.extend(sorted(glob.glob(os.path.join(directory, "*.conf"))))
    return files


def _connection_url(conf):
    url = conf.database.connection
    if url:
        return url
    files = _files_read(conf)
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
        _error("interrupted", state)
        return errors.EXIT_INTERRUPTED
    if isinstance(error, errors.Terminated):
        _error(str(error), state)
        return errors.EXIT_TERMINATED
    if state["logging"]:
        for line in getattr(error, "details", ()):
            logging.getLogger(output.LOGGER).error("%s", line)
    _error(_describe(error), state,
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
    usage.answer_help(argv, _package_version())

    from solum_db_manage import config_files

    config_files.check(argv, project="solum", prog=PROG)
    conf = build_conf()
    try:
        conf(args=argv, project="solum", prog=PROG,
             version=_package_version())
    except (UnicodeDecodeError, OSError) as error:
        # oslo.config reads the files itself and lets these through.
        named = getattr(error, "filename", None) or ", ".join(
            _config_files_in(argv)) or "a configuration file"
        reason = ("it is not UTF-8 text" if isinstance(
            error, UnicodeDecodeError) else error.strerror or str(error))
        raise errors.ConfigError(
            f"configuration: cannot read {named}: {reason}") from error
    state["debug"] = conf.debug
    output.setup_logging(conf, redact, PROG, _package_version())
    state["logging"] = True
    name = conf.command.name
    args = conf.command

    from solum_db_manage import commands
    from solum_db_manage.config import make_config

    # Before the connection: a usage error is reported as one.
    commands.require_revision(name, getattr(args, "revision", None))
    for value in (getattr(args, "revision", None),
                  getattr(args, "rev_range", None)):
        _require_text(value)
    url = database = None
    if _needs_url(name, args):
        url = _connection_url(conf)
        redact.add_url(url)
        database = db_options.from_conf(conf)
    return _run_command(name, args, make_config(
        url, stdout=sys.stdout, database=database))


def _config_files_in(argv):
    files = []
    for at, arg in enumerate(argv):
        if arg == "--config-file" and at + 1 < len(argv):
            files.append(argv[at + 1])
        elif arg.startswith("--config-file="):
            files.append(arg.split("=", 1)[1])
    return files


def _require_text(value):
    """A revision from a shell can hold bytes that are not text."""
    if value is None:
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise errors.UsageError(
            "the revision is not valid text (UTF-8)") from None


def _error(message, state, exc_info=None):
    """The final ``ERROR: ...`` line on stderr; logged too once logging is
    set up, where the log goes elsewhere (a file, syslog)."""
    line = " ".join(str(message).split())
    if state["logging"]:
        output.log_final(line, exc_info=exc_info)
    sys.stderr.write(f"ERROR: {line}\n")


def _describe(error):
    """One line that tells the user what went wrong."""
    if isinstance(error, errors.SolumDBManageError):
        return str(error)
    # Only where oslo.config was imported can its errors have been raised.
    cfg = sys.modules.get("oslo_config.cfg")
    if cfg is not None and isinstance(error, (cfg.TemplateSubstitutionError,
                                              cfg.NoSuchOptError)):
        # Not echoed: what follows the "$" may be part of a password.
        return ("configuration: a value holds '$' followed by a name that "
                "is no option (oslo.config substitutes $NAME); write '$$' "
                "for a literal '$', for example in a password")
    if cfg is not None and isinstance(error, cfg.Error):
        return f"configuration: {error}"
    broken = _broken_script(error)
    if broken:
        return broken
    if isinstance(error, UnicodeError):
        return ("the command line or configuration holds bytes that are "
                f"not UTF-8 text ({type(error).__name__})")
    if _raised_in_alembic_script(error):
        # Alembic's revision parser asserts instead of explaining.
        text = " ".join(str(error).split())
        return ("invalid revision or range: Alembic cannot read it ("
                + (f"{type(error).__name__}: {text}" if text
                   else type(error).__name__) + ")")
    module = type(error).__module__
    if module.startswith("alembic"):
        from alembic.script.revision import ResolutionError

        # Alembic words every failed lookup "Can't locate revision",
        # even an ambiguous partial id; the cause says which it was.
        if isinstance(error.__cause__, ResolutionError):
            return str(error.__cause__)
        return str(error)
    if module.startswith("sqlalchemy"):
        from sqlalchemy import exc

        if isinstance(error, exc.DBAPIError):
            # _error() folds the lines; the statement is cut once folded.
            statement = " ".join((error.statement or "").split())[:200]
            if _is_lock_wait_timeout(error):
                return _lock_wait_message(statement)
            return f"database error: {error.orig} [SQL: {statement}]"
        return f"database error: {error}"
    return (f"unexpected {type(error).__name__}: {error} (run with --debug "
            f"for the traceback)")


def _broken_script(error):
    """A migration script that does not load, named; None for others."""
    if "solum_db_manage.commands" not in sys.modules:
        return None
    from solum_db_manage import scripts

    return scripts.broken_script(error, scripts.scripts_path())


def _raised_in_alembic_script(error):
    """True for an unexpected error from Alembic's revision handling."""
    if not isinstance(error, (AssertionError, ValueError, KeyError,
                              AttributeError, TypeError)):
        return False
    frame = error.__traceback__
    while frame is not None:
        filename = frame.tb_frame.f_code.co_filename
        if os.sep.join(("alembic", "script")) in filename or filename.endswith(
                os.sep.join(("alembic", "command.py"))):
            return True
        frame = frame.tb_next
    return False


# The statement's table: what a lock wait names.
_TABLE_OF_STATEMENT = re.compile(
    r"^(?:ALTER TABLE|UPDATE|INSERT INTO|DELETE FROM|DROP TABLE"
    r"(?: IF EXISTS)?|CREATE (?:UNIQUE )?INDEX \S+ ON|CREATE TABLE"
    r"(?: IF NOT EXISTS)?|RENAME TABLE)\s+[`\"]?(\w+)", re.IGNORECASE)


def _is_lock_wait_timeout(error):
    """MySQL's 1205 (lock_wait_timeout), PostgreSQL's 55P03."""
    orig = error.orig
    if getattr(orig, "sqlstate", None) == "55P03":
        return True
    args = getattr(orig, "args", None) or (None,)
    return args[0] == 1205


def _lock_wait_message(statement):
    match = _TABLE_OF_STATEMENT.match(statement)
    table = f"table {match[1]}" if match else "a table"
    return (f"a migration statement waited longer than --ddl-lock-timeout "
            f"for a lock on {table}, held by another session (a long "
            f"transaction?); that statement did not run and nothing of it "
            f"was applied (on PostgreSQL its whole revision was rolled "
            f"back). Revisions finished before it stay applied: "
            f"'solum-db-manage check' tells where the database is. Run the "
            f"command again once the table is free. [SQL: {statement}]")
