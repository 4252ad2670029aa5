"""The command line's shape: the commands, and a parser for help alone.

The commands and their options are defined once, here, and handed to
oslo.config (cli.build_conf) as its SubCommandOpt handler. oslo.config
and oslo.log then add the global options. Importing them costs ~90 ms,
more than ``-h`` may take in all, so :func:`answer_help` answers ``-h``,
``--help`` and ``--version`` from :func:`help_parser`: plain argparse
with the very options oslo.config's parser offers, in its order and with
its help texts. tests/test_startup.py builds both parsers and asserts
they print the same help, so the two cannot drift apart.
"""

import argparse

from solum_db_manage.output import PROG

# --- The commands (shared by both parsers) ---------------------------------

def _add_revision(parser, help, default=None):
    parser.add_argument("revision", nargs="?", default=default, help=help)


def _add_sql(parser):
    parser.add_argument(
        "--sql", action="store_true",
        help="Print the SQL instead of running it (offline mode). A range "
             "START:END is accepted as the revision.")


def _add_lock_options(parser):
    parser.add_argument(
        "--lock-timeout", type=seconds, default=300, metavar="SECONDS",
        help="How long to wait for the migration lock while another run "
             "holds it; then give up, changing nothing, with exit status "
             "7 (default: %(default)s).")
    parser.add_argument(
        "--lock-lease", type=seconds, default=120, metavar="SECONDS",
        help="How long the lock's lease lasts unless its holder renews "
             "it: on a Galera cluster, how long a lock taken through "
             "another node outlives its holder if that one dies; must "
             "exceed the longest single schema change (default: "
             "%(default)s; at least --ddl-lock-timeout plus 60). "
             "Elsewhere the lock is freed as soon as its holder's "
             "connections are gone.")
    parser.add_argument(
        "--ddl-lock-timeout", type=seconds, default=30, metavar="SECONDS",
        help="How long one migration statement may wait for a table lock "
             "held by another session (a long transaction) before the "
             "run stops, instead of freezing the table for the service "
             "(default: %(default)s).")


def seconds(text):
    """A number of seconds from 0 to a week (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 86400 * 7:
        raise argparse.ArgumentTypeError(
            f"expected a number of seconds (0 to 604800), got {text!r}")
    return value


def _add_verbose(parser):
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="Show more detail.")


def add_command_parsers(subparsers):
    """Add every command's parser (oslo.config's SubCommandOpt handler)."""
    def command(name, summary):
        return subparsers.add_parser(name, help=summary, description=summary)

    command("version", "Print the current database revision.")

    parser = command(
        "check", "Say what state the database is in (read-only); the exit "
                 "status tells: 0 at head, 3 upgrade needed, 4 newer than "
                 "this code, 5 not version-tracked, 6 schema mismatch, 7 "
                 "a migration running or interrupted, 1 error.")
    parser.add_argument(
        "--json", action="store_true",
        help="Print the findings as one JSON object.")

    parser = command("upgrade", "Upgrade the database to a later revision.")
    _add_revision(parser, "Target revision or release name (default: "
                          "head); +N for N revisions up.", default="head")
    _add_sql(parser)
    _add_lock_options(parser)

    parser = command("downgrade",
                     "Revert the database to an earlier revision.")
    _add_revision(parser, "Target revision or release name (required); -N "
                          "for N revisions down; base drops every table.")
    _add_sql(parser)
    _add_lock_options(parser)
    parser.add_argument(
        "--force", action="store_true",
        help="Downgrade even where data would be lost: dropped values "
             "go, and values too long for a narrowed column are cut.")

    parser = command("stamp", "Record a revision without running any "
                              "migration (e.g. stamp icehouse).")
    _add_revision(parser, "Revision or release name to record (required).")
    _add_sql(parser)
    parser.add_argument(
        "--purge", action="store_true",
        help="Empty the version table before stamping.")
    parser.add_argument(
        "--force", action="store_true",
        help="Stamp even where the schema lacks tables or columns of the "
             "revision's (refused otherwise, changing nothing).")
    _add_lock_options(parser)

    command("unlock", "Clear the migration lock of a run that is gone "
                      "(refused, exit 7, while any of its connections "
                      "exists).")

    parser = command("revision", "Create a new migration script "
                                 "(developers only).")
    parser.add_argument("-m", "--message", help="Title of the revision.")
    parser.add_argument(
        "--autogenerate", action="store_true",
        help="Fill the script with the differences between the models "
             "and the database.")

    parser = command("current",
                     "Show the revision(s) the database records.")
    _add_verbose(parser)

    parser = command("history", "List the migration scripts in order.")
    parser.add_argument(
        "-r", "--rev-range", help="Range START:END to list.")
    _add_verbose(parser)

    _add_verbose(command("heads", "Show the head revision(s) of the "
                                  "scripts."))
    _add_verbose(command("branches", "Show the branch points of the "
                                     "scripts."))

    parser = command("show", "Show one revision.")
    parser.add_argument("revision", help="Revision or release name.")


COMMANDS_HELP = "Run '%(prog)s COMMAND -h' for the options of a command."
CONNECTION_HELP = ("The SQLAlchemy URL of the Solum database, for example "
                   "mysql+pymysql://solum:PASSWORD@controller/solum.")


# --- The parser for help alone ---------------------------------------------

_IGNORED = ("This option is ignored if log_config_append is set.")

# The global options oslo.config (the first three) and oslo.log give the
# tool, as oslo.config's parser has them: sorted by their names, in
# (option strings, keyword arguments) form. Their help is theirs, word
# for word.
_GLOBAL_OPTIONS = (
    (("--config-dir",), dict(
        metavar="DIR",
        help="Path to a config directory to pull `*.conf` files from. This "
             "file set is sorted, so as to provide a predictable parse "
             "order if individual options are over-ridden. The set is "
             "parsed after the file(s) specified via previous "
             "--config-file, arguments hence over-ridden options in the "
             "directory take precedence. This option must be set from the "
             "command-line.")),
    (("--config-file",), dict(
        metavar="PATH",
        help="Path to a config file to use. Multiple config files can be "
             "specified, with values in later files taking precedence. "
             "Defaults to %(default)s. This option must be set from the "
             "command-line.")),
    (("--debug", "-d"), dict(
        action="store_true", default=None,
        help="If set to true, the logging level will be set to DEBUG "
             "instead of the default INFO level.")),
    (("--log-config-append", "--log-config", "--log_config"), dict(
        metavar="PATH",
        help="The name of a logging configuration file. This file is "
             "appended to any existing logging configuration files. For "
             "details about logging configuration files, see the Python "
             "logging module documentation. Note that when logging "
             "configuration files are used then all logging configuration "
             "is set in the configuration file and other logging "
             "configuration options are ignored (for example, "
             "log-date-format).")),
    (("--log-date-format",), dict(
        metavar="DATE_FORMAT",
        help="Defines the format string for %%(asctime)s in log records. "
             "Default: %(default)s . " + _IGNORED)),
    (("--log-dir", "--logdir"), dict(
        help="(Optional) The base directory used for relative log_file  "
             "paths. " + _IGNORED)),
    (("--log-file", "--logfile"), dict(
        metavar="PATH",
        help="(Optional) Name of log file to send logging output to. If no "
             "default is set, logging will go to stderr as defined by "
             "use_stderr. " + _IGNORED)),
    (("--nodebug",), dict(
        action="store_false", dest="debug", default=None,
        help="The inverse of --debug")),
    (("--nouse-journal",), dict(
        action="store_false", dest="use_journal", default=None,
        help="The inverse of --use-journal")),
    (("--nouse-json",), dict(
        action="store_false", dest="use_json", default=None,
        help="The inverse of --use-json")),
    (("--nouse-syslog",), dict(
        action="store_false", dest="use_syslog", default=None,
        help="The inverse of --use-syslog")),
    (("--shell_completion",), dict(
        help="Display a shell completion script\n Allowed values: bash, "
             "zsh\n")),
    (("--syslog-log-facility",), dict(
        help="Syslog facility to receive log lines. " + _IGNORED)),
    (("--use-journal",), dict(
        action="store_true", default=None,
        help="Enable journald for logging. If running in a systemd "
             "environment you may wish to enable journal support. Doing "
             "so will use the journal native protocol which includes "
             "structured metadata in addition to log messages." + _IGNORED)),
    (("--use-json",), dict(
        action="store_true", default=None,
        help="Use JSON formatting for logging. " + _IGNORED)),
    (("--use-syslog",), dict(
        action="store_true", default=None,
        help="Use syslog for logging. Existing syslog format is DEPRECATED "
             "and will be changed later to honor RFC5424. " + _IGNORED)),
)


class _NoUsageError(Exception):
    """The help parser met a usage error: oslo.config reports it."""


class _HelpParser(argparse.ArgumentParser):
    def error(self, message):
        raise _NoUsageError(message)


def help_parser(version):
    """A plain argparse parser printing the help oslo.config's would."""
    parser = _HelpParser(prog=PROG)
    for names, options in _GLOBAL_OPTIONS:
        parser.add_argument(*names, **options)
    parser.add_argument("--version", action="version", version=version)
    subparsers = parser.add_subparsers(
        dest="command", title="Commands", help=COMMANDS_HELP)
    subparsers.required = True
    add_command_parsers(subparsers)
    group = parser.add_argument_group("database options")
    group.add_argument("--database-connection", help=CONNECTION_HELP)
    return parser


def _may_ask_for_help(argv):
    """Whether argparse could read a help or version option in argv.

    A cheap filter (abbreviations such as --he and clusters such as -dh
    included); the parser decides.
    """
    if argv[:1] == ["--shell_completion"]:
        return False    # oslo.config answers that before parsing
    for arg in argv:
        if arg == "--":
            return False
        if arg.startswith("-") and ("h" in arg or arg.startswith("--v")):
            return True
    return False


def answer_help(argv, version):
    """Print the help or version argv asks for, and exit (SystemExit 0).

    Returns where argv asks for neither, or holds a usage error: the
    oslo.config parser then runs, and reports errors as it always has.
    """
    if not _may_ask_for_help(argv):
        return
    try:
        help_parser(version).parse_args(argv)
    except _NoUsageError:
        return
