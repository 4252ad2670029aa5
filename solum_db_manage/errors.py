"""The errors solum-db-manage reports; main() turns them into exit codes."""

# Exit statuses, documented in README.rst and the man page. ``check``
# uses 0 and 3-7 for what it finds; every command uses 1, 2, 130 and 143.
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_BEHIND = 3      # upgrade needed: behind, or an empty database
EXIT_NEWER = 4       # the database records a revision unknown here
EXIT_UNTRACKED = 5   # Solum tables without version tracking
EXIT_MISMATCH = 6    # the schema is not the one the revision records
EXIT_LOCKED = 7      # a migration is running, or was interrupted
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143   # SIGTERM (128 + 15), see signals.py

# oslo.upgradecheck's codes (``<project>-status upgrade check``), for what
# ``check``'s exit status means before an upgrade: a database behind is
# what the upgrade is for, one a migration holds or left interrupted is
# for the upgrade to wait for or complete, and one ``upgrade`` refuses
# (newer, untracked, not its revision's schema) or that could not be read
# stops it.
UPGRADE_CHECK_SUCCESS = 0
UPGRADE_CHECK_WARNING = 1
UPGRADE_CHECK_FAILURE = 2
_UPGRADE_CHECK_CODES = {
    EXIT_OK: UPGRADE_CHECK_SUCCESS,
    EXIT_BEHIND: UPGRADE_CHECK_SUCCESS,
    EXIT_LOCKED: UPGRADE_CHECK_WARNING,
}


def upgrade_check_code(status):
    """oslo.upgradecheck's code (0, 1, 2) for an exit status of check."""
    return _UPGRADE_CHECK_CODES.get(status, UPGRADE_CHECK_FAILURE)


class SolumDBManageError(Exception):
    """An expected failure: reported as one ``ERROR:`` line, no traceback.

    ``details``, where given, are the lines of a list the message folds
    into one line (differences, losses): main() logs them one per line
    before the ``ERROR:`` line.
    """

    exit_code = EXIT_ERROR

    def __init__(self, message, exit_code=None, details=()):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
        self.details = list(details)


class UsageError(SolumDBManageError):
    """The command line asks for something the tool refuses to guess."""

    exit_code = EXIT_USAGE


class ConfigError(SolumDBManageError):
    """The configuration is missing or unusable."""


class LockTimeout(SolumDBManageError):
    """Another run held the migration lock for longer than we waited."""

    exit_code = EXIT_LOCKED


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (signals.py): stop where Ctrl-C would."""
