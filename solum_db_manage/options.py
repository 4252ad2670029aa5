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

"""Every option and command of solum-db-manage, declared once, as data.

:data:`COMMANDS` (each command, its arguments, and what the command
function takes) and :data:`DATABASE` (the ``[database]`` options) serve
two parsers:

- oslo.config's, for a run (:func:`build_conf`): the commands through
  its SubCommandOpt handler (:func:`add_command_parsers`), the database
  options as ``cfg.Opt`` objects (:func:`database_opts`, which the sample
  generator lists through :func:`list_opts`), oslo.config's and oslo.log's
  own global options registered by them;
- a plain argparse parser answering ``-h``, ``--help`` and ``--version``
  (:func:`answer_help`): importing oslo.config and oslo.log costs ~90 ms,
  more than ``-h`` may take in all. It is built from the same tables,
  plus the global options as oslo.config's parser has them
  (:data:`_OSLO_GLOBAL_OPTIONS`, their help theirs, word for word).

tests/test_startup.py builds both parsers and asserts they print the same
help: the two views of the tables cannot drift apart.
"""

import argparse

from solum_db_manage.output import PROG


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


class Arg:
    """One argument of a command: argparse's add_argument(*names, **spec).

    Its value reaches the command as the keyword ``keyword`` (default:
    the argument's dest) of the command function, or, for a ``setting``,
    as a setting of the config the command runs with.
    """

    def __init__(self, names, spec, keyword=None, setting=False):
        self.names, self.spec = names, spec
        long = [name for name in names if name.startswith("--")]
        self.dest = (long or names)[0].lstrip("-").replace("-", "_")
        self.keyword = keyword or self.dest
        self.setting = setting


class Command:
    """One command: the function of the same name in the commands layer,
    called with the config and the keywords of its arguments.

    ``database``: whether it needs a database (a connection URL); the
    dest of a flag: only where that flag is given.
    """

    def __init__(self, name, summary, args=(), database=True):
        self.name, self.summary = name, summary
        self.args, self.database = args, database

    def __repr__(self):
        return f"<Command {self.name}>"

    def keywords(self, values):
        """The command function's keywords, from the parsed values."""
        return {arg.keyword: getattr(values, arg.dest)
                for arg in self.args if not arg.setting}

    def settings(self, values):
        """The config's settings, from the parsed values."""
        return {arg.dest: getattr(values, arg.dest)
                for arg in self.args if arg.setting}

    def needs_database(self, values):
        if isinstance(self.database, str):
            return bool(getattr(values, self.database))
        return self.database


def _revision(help, default=None):
    return Arg(("revision",), dict(nargs="?", default=default, help=help))


_SQL = Arg(("--sql",), dict(
    action="store_true",
    help="Print the SQL instead of running it (offline mode). A range "
         "START:END is accepted as the revision."))

def _seconds_setting(name, default, help):
    return Arg((name,), dict(type=seconds, default=default, metavar="SECONDS",
                             help=help), setting=True)


_LOCK = (
    _seconds_setting(
        "--lock-timeout", 300,
        "How long to wait for the migration lock while another run holds "
        "it; then give up, changing nothing, with exit status 7 (default: "
        "%(default)s)."),
    _seconds_setting(
        "--lock-lease", 120,
        "How long the lock's lease lasts unless its holder renews it: on a "
        "Galera cluster, how long a lock taken through another node "
        "outlives its holder if that one dies; must exceed the longest "
        "single schema change (default: %(default)s; at least "
        "--ddl-lock-timeout plus 60). Elsewhere the lock is freed as soon "
        "as its holder's connections are gone."),
    _seconds_setting(
        "--ddl-lock-timeout", 30,
        "How long one migration statement may wait for a table lock held "
        "by another session (a long transaction) before the run stops, "
        "instead of freezing the table for the service (default: "
        "%(default)s)."),
)

_PLAN = (
    Arg(("--plan",), dict(
        action="store_true",
        help="Change nothing: say what the run would do to this database, "
             "step by step (tables rewritten and their rows, how this "
             "server carries each change out and which writes wait, the "
             "values lost, the failures its data would cause); exit 8 "
             "where it predicts a failure, check's status where the run "
             "would be refused.")),
    Arg(("--json",), dict(
        action="store_true", help="With --plan: one JSON object."),
        keyword="as_json"),
)

_VERBOSE = Arg(("-v", "--verbose"), dict(
    action="store_true", help="Show more detail."))

_FORCE_DOWNGRADE = Arg(("--force",), dict(
    action="store_true",
    help="Downgrade even where data would be lost: dropped values go, and "
         "values too long for a narrowed column are cut."))

# In the order -h lists them.
COMMANDS = (
    Command("version", "Print the current database revision."),
    Command(
        "check", "Say what state the database is in (read-only); the exit "
                 "status tells: 0 at head, 3 upgrade needed, 4 newer than "
                 "this code, 5 not version-tracked, 6 schema mismatch, 7 a "
                 "migration running or interrupted, 1 error.",
        (Arg(("--json",), dict(
            action="store_true",
            help="Print the findings as one JSON object."),
            keyword="as_json"),)),
    Command(
        "upgrade", "Upgrade the database to a later revision.",
        (_revision("Target revision or release name (default: head); +N "
                   "for N revisions up.", default="head"), _SQL, *_PLAN,
         *_LOCK)),
    Command(
        "downgrade", "Revert the database to an earlier revision.",
        (_revision("Target revision or release name (required); -N for N "
                   "revisions down; base drops every table."),
         _SQL, *_PLAN, *_LOCK, _FORCE_DOWNGRADE)),
    Command(
        "stamp", "Record a revision without running any migration (e.g. "
                 "stamp icehouse).",
        (_revision("Revision or release name to record (required)."), _SQL,
         Arg(("--purge",), dict(
             action="store_true",
             help="Empty the version table before stamping.")),
         Arg(("--force",), dict(
             action="store_true",
             help="Stamp even where the schema lacks tables or columns of "
                  "the revision's (refused otherwise, changing nothing).")),
         *_LOCK)),
    Command("unlock", "Clear the migration lock of a run that is gone "
                      "(refused, exit 7, while any of its connections "
                      "exists)."),
    Command(
        "revision", "Create a new migration script (developers only).",
        (Arg(("-m", "--message"), dict(help="Title of the revision.")),
         Arg(("--autogenerate",), dict(
             action="store_true",
             help="Fill the script with the differences between the models "
                  "and the database."))),
        database="autogenerate"),
    Command("current", "Show the revision(s) the database records.",
            (_VERBOSE,)),
    Command("history", "List the migration scripts in order.",
            (Arg(("-r", "--rev-range"), dict(help="Range START:END to list.")),
             _VERBOSE), database=False),
    Command("heads", "Show the head revision(s) of the scripts.",
            (_VERBOSE,), database=False),
    Command("branches", "Show the branch points of the scripts.",
            (_VERBOSE,), database=False),
    Command("show", "Show one revision.",
            (Arg(("revision",), dict(help="Revision or release name.")),),
            database=False),
)

COMMANDS_HELP = "Run '%(prog)s COMMAND -h' for the options of a command."


def add_command_parsers(subparsers):
    """Add every command's parser (oslo.config's SubCommandOpt handler).

    Each parser's ``run`` default is its :class:`Command`: what
    ``conf.command.run`` then holds.
    """
    for command in COMMANDS:
        parser = subparsers.add_parser(
            command.name, help=command.summary, description=command.summary)
        for arg in command.args:
            parser.add_argument(*arg.names, **arg.spec)
        parser.set_defaults(run=command)


# The options of the [database] section, also on the command line as
# --database-NAME: (name, help, secret).
DATABASE_GROUP = "database"
DATABASE = (
    ("connection", "The SQLAlchemy URL of the Solum database, for example "
                   "mysql+pymysql://solum:PASSWORD@controller/solum.", True),
)

# The cfg.Opt objects, made on first use (database_opts()): oslo.config
# is imported only once a command needs it, not for -h or --version.
_DATABASE_OPTS = []


def database_opts():
    """The options of the [database] group (options.DATABASE_OPTS)."""
    if not _DATABASE_OPTS:
        from oslo_config import cfg

        _DATABASE_OPTS.extend(
            cfg.StrOpt(name, secret=secret, help=help)
            for name, help, secret in DATABASE)
    return _DATABASE_OPTS


def __getattr__(name):
    if name == "DATABASE_OPTS":
        return database_opts()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def list_opts():
    """The options of solum-db-manage, for oslo-config-generator."""
    from solum_db_manage import db_options

    return [(DATABASE_GROUP, [*database_opts(), *db_options.database_opts()])]


def build_conf():
    """A fresh ConfigOpts with every option of the tool registered."""
    from oslo_config import cfg
    from oslo_log import log

    conf = cfg.ConfigOpts()
    from solum_db_manage import db_options

    conf.register_cli_opts(database_opts(), group=DATABASE_GROUP)
    conf.register_opts(db_options.database_opts(), group=DATABASE_GROUP)
    conf.register_cli_opt(cfg.SubCommandOpt(
        "command", title="Commands", handler=add_command_parsers,
        help=COMMANDS_HELP))
    log.register_options(conf)
    # Logs go to stderr so that scripts can parse stdout.
    conf.set_default("use_stderr", True)
    conf.set_default("default_log_levels", log.get_default_log_levels() + [
        "alembic.runtime.plugins=WARN",
        # Autogenerate's "Detected sequence named ... assuming SERIAL" on
        # every PostgreSQL id column: noise for check and revision.
        "alembic.ddl.postgresql=WARN"])
    return conf


# --- The parser for help alone ---------------------------------------------

_IGNORED = ("This option is ignored if log_config_append is set.")

# The global options oslo.config (the first three) and oslo.log give the
# tool, as oslo.config's parser has them: sorted by their names, in
# (option strings, keyword arguments) form. Their help is theirs, word
# for word.
_OSLO_GLOBAL_OPTIONS = (
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
    for names, spec in _OSLO_GLOBAL_OPTIONS:
        parser.add_argument(*names, **spec)
    parser.add_argument("--version", action="version", version=version)
    subparsers = parser.add_subparsers(
        dest="command", title="Commands", help=COMMANDS_HELP)
    subparsers.required = True
    add_command_parsers(subparsers)
    group = parser.add_argument_group(f"{DATABASE_GROUP} options")
    for name, help, _secret in DATABASE:
        group.add_argument(f"--{DATABASE_GROUP}-{name}", help=help)
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
