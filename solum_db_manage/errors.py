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

"""The errors solum-db-manage reports, their exit statuses, and what the
user reads of any error (describe): main() turns them into both."""

import re
import sys

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
# upgrade/downgrade (--plan or not): the data would make a step fail.
EXIT_PLAN_FAILS = 8
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


# --- what the user reads of an error: describe() ----------------------------

def describe(error):
    """One line that tells the user what went wrong.

    Foreign errors (oslo.config's, SQLAlchemy's) are recognised without
    importing their libraries here: an error of a library can only have
    been raised where that library was imported. Alembic's never reach
    here: scripts.alembic_errors(), around every call into Alembic, turns
    them (and a migration script that does not load) into ours.
    """
    if isinstance(error, SolumDBManageError):
        return str(error)
    cfg = sys.modules.get("oslo_config.cfg")
    if cfg is not None and isinstance(error, (cfg.TemplateSubstitutionError,
                                              cfg.NoSuchOptError)):
        # Not echoed: what follows the "$" may be part of a password.
        return ("configuration: a value holds '$' followed by a name that "
                "is no option (oslo.config substitutes $NAME); write '$$' "
                "for a literal '$', for example in a password")
    if cfg is not None and isinstance(error, cfg.Error):
        return f"configuration: {error}"
    if isinstance(error, UnicodeError):
        return ("the command line or configuration holds bytes that are "
                f"not UTF-8 text ({type(error).__name__})")
    module = type(error).__module__
    if module.startswith("sqlalchemy"):
        from sqlalchemy import exc

        if isinstance(error, exc.DBAPIError):
            # The final line is folded; the statement is cut once folded.
            statement = " ".join((error.statement or "").split())[:200]
            if is_lock_wait_timeout(error):
                return lock_wait_message(statement)
            return f"database error: {error.orig} [SQL: {statement}]"
        return f"database error: {error}"
    return (f"unexpected {type(error).__name__}: {error} (run with --debug "
            f"for the traceback)")


def is_lock_wait_timeout(error):
    """MySQL's 1205 (lock_wait_timeout), PostgreSQL's 55P03, of a
    SQLAlchemy DBAPIError."""
    orig = error.orig
    if getattr(orig, "sqlstate", None) == "55P03":
        return True
    args = getattr(orig, "args", None) or (None,)
    return args[0] == 1205


# The statement's table: what a lock wait names.
_TABLE_OF_STATEMENT = re.compile(
    r"^(?:ALTER TABLE|UPDATE|INSERT INTO|DELETE FROM|DROP TABLE"
    r"(?: IF EXISTS)?|CREATE (?:UNIQUE )?INDEX \S+ ON|CREATE TABLE"
    r"(?: IF NOT EXISTS)?|RENAME TABLE)\s+[`\"]?(\w+)", re.IGNORECASE)


def lock_wait_message(statement):
    """What a statement that waited past --ddl-lock-timeout means."""
    match = _TABLE_OF_STATEMENT.match(statement)
    table = f"table {match[1]}" if match else "a table"
    return (f"a migration statement waited longer than --ddl-lock-timeout "
            f"for a lock on {table}, held by another session (a long "
            f"transaction?); that statement did not run and nothing of it "
            f"was applied (on PostgreSQL its whole revision was rolled "
            f"back). Revisions finished before it stay applied: "
            f"'solum-db-manage check' tells where the database is. Run the "
            f"command again once the table is free. [SQL: {statement}]")
