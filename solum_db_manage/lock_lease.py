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

"""The lease row: the half of the migration lock that every client sees.

The one row of table ``solum_db_manage_lock`` names the holder (host, pid,
command, since when), the server connections it works on, and when its
lease expires on the database server's clock; a run claims it with a
committed conditional UPDATE (lock.py). Here: the table, what a row says
(:class:`Record`), when its holder is known to be gone, and what only
reads or clears the row: ``check``'s report (:func:`status`) and
``unlock``.

A free session lock alone proves nothing: the server also drops an idle
connection (``wait_timeout``, ``idle_session_timeout``, ``KILL``, a
proxy) while its holder goes on migrating on another one. A lease row is
taken over only on evidence that its holder is gone
(:func:`evidence_of_death`): none of the server connections it recorded
exists any more (seen on the same server or Galera node, with its session
lock free), or its lease expired on the server's clock.
"""

import datetime

import sqlalchemy as sa
from sqlalchemy import exc

from solum_db_manage import db, errors, lock_sessions, tables
from solum_db_manage.db import LOCK_TABLE
from solum_db_manage.output import PROG

DEFAULT_LEASE = 120     # seconds a lease lasts without renewal
LEASE_MARGIN = 60       # seconds a lease lasts beyond --ddl-lock-timeout
# How far a lease may lie beyond its term before it is known not to be a
# live holder's (clock differences between Galera nodes stay below it).
_SKEW = 60

# Declared with the schema, where a model-sync test finds it (tables.py).
TABLE = tables.lock_table
_ADDED_COLUMNS = ("connections", "lease", "renewed_at")
_UNLOCK = f"{PROG} unlock"


def lease_term(lease, ddl_lock_timeout):
    """The lease a run takes: ``--lock-lease``, but at least
    ``--ddl-lock-timeout`` plus LEASE_MARGIN.

    On Galera a schema change that waits for a table lock already holds
    total order isolation: every write through its node, the lease's
    renewals included, waits behind it, for up to --ddl-lock-timeout,
    then for the statement itself.
    """
    return max(float(lease), float(ddl_lock_timeout or 0) + LEASE_MARGIN)


# The states a lease row records.
RUNNING = "running"
DONE = "done"
FAILED = "failed"


def _utc(epoch):
    return datetime.datetime.fromtimestamp(
        epoch, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class Record:
    """What the lease row says."""

    def __init__(self, row):
        values = row._mapping
        self.token = values["token"]
        self.host = values["host"]
        self.pid = values["pid"]
        self.command = values["command"]
        self.node = values["node"] or ""
        self.acquired_at = values["acquired_at"]
        self.expires_at = values["expires_at"]
        self.state = values["state"]
        self.detail = values["detail"]
        self.connections = _ids(values.get("connections"))
        self.lease = values.get("lease")
        self.renewed_at = values.get("renewed_at")

    def holder(self):
        since = f" since {_utc(self.acquired_at)}" if self.acquired_at else ""
        return (f"'{self.command}' on host {self.host} (pid {self.pid})"
                f"{since}")

    def expired(self, now):
        return (self.expires_at or 0) < now

    def overdue(self, now):
        """Unrenewed for a whole term past its expiry: no live holder's."""
        return (self.expires_at or 0) + (self.lease or DEFAULT_LEASE) < now

    def stuck(self, now):
        """True where the lease cannot be a live holder's: it will not
        expire by itself within its term (clock skew, a restore)."""
        if self.token is None or self.expires_at is None:
            return False
        term = self.lease or DEFAULT_LEASE
        return (self.expires_at > now + term + _SKEW
                or (self.renewed_at or 0) > now + _SKEW)

    def stuck_hint(self, now):
        return (f"its lease expires at {_utc(self.expires_at)}, "
                f"{self.expires_at - now} s ahead of the database server's "
                f"clock and beyond its term: it will not expire by itself "
                f"(clock skew, or a restored database?). If that run is "
                f"gone, clear the lock with '{_UNLOCK}'")


def _ids(text):
    return [int(part) for part in (text or "").split(",")
            if part.strip().isdigit()]


class Status:
    """What ``check`` reports: a run going on now, or one that stopped."""

    def __init__(self, kind, record, hint=None):
        self.kind = kind            # "running", "interrupted" or "failed"
        self.record = record
        self.hint = hint

    def describe(self):
        holder = self.record.holder()
        if self.kind == "running":
            hint = f"; {self.hint}" if self.hint else ""
            return f"a migration is running: {holder}{hint}"
        if self.kind == "interrupted":
            return (f"a migration was interrupted: {holder} did not "
                    f"finish (the process died or lost its connection)")
        return (f"the last migration failed: {holder}: "
                f"{self.record.detail}")

    def as_dict(self):
        record = self.record
        shown = {
            "state": self.kind, "command": record.command,
            "host": record.host, "pid": record.pid,
            "since": _utc(record.acquired_at) if record.acquired_at else None,
            "detail": record.detail,
        }
        if self.hint:
            shown["hint"] = self.hint
        return shown


def columns(connection):
    """The lock table's columns, or None where it does not exist.

    Raises where columns it was created with are missing: no run can
    hold the lock through such a table.
    """
    inspector = sa.inspect(connection)
    if not inspector.has_table(LOCK_TABLE):
        return None
    present = {column["name"].lower()
               for column in inspector.get_columns(LOCK_TABLE)}
    missing = [column.name for column in TABLE.columns
               if column.name not in present
               and column.name not in _ADDED_COLUMNS]
    if missing:
        raise errors.SolumDBManageError(
            f"the migration lock table {LOCK_TABLE} lacks the column(s) "
            f"{', '.join(missing)}: it was not created by this tool, or "
            f"was altered since. Repair: drop it (DROP TABLE {LOCK_TABLE}; "
            f"it holds only the lock's record, no Solum data) and run the "
            f"command again, which recreates it; nothing was changed")
    return present


def read(connection):
    """The lease row (a Record), or None where there is none yet."""
    present = columns(connection)
    if present is None:
        return None
    row = connection.execute(
        sa.select(*[column for column in TABLE.columns
                    if column.name in present])
        .where(TABLE.c.id == 1)).first()
    return Record(row) if row is not None else None


def evidence_of_death(session, record, node, session_free, now):
    """True where the holder of ``record`` is known to be gone.

    Seen from the holder's own server (or Galera node): none of its
    recorded connections exists any more, or the session lock is free and
    the lease went unrenewed for a whole further term (connection ids are
    reused: PostgreSQL's pids, MariaDB's ids after a restart; a live holder
    renews every lease / 4). From another node that cannot be seen: only
    the lease's expiry tells (see the callers).
    """
    if record.node != node:
        return False
    if record.connections:
        if not session.alive(record.connections):
            return True
        return session_free and record.overdue(now)
    # A row of an older release, without connections: the session lock.
    return session_free


def failure_detail(error):
    """What the row records of the error a changing run failed with."""
    if isinstance(error, errors.Terminated):
        return "terminated (SIGTERM)"
    if isinstance(error, KeyboardInterrupt):
        return "interrupted by the user (SIGINT)"
    text = " ".join(str(getattr(error, "orig", None) or error).split())
    return f"{type(error).__name__}: {text}"[:1024]


def ensure_row(connection):
    """Create the table and its one row where they are missing, and add
    the columns a table of an earlier release lacks."""
    try:
        # A table missing columns raises its own error, not this one.
        present = columns(connection)
        if present is None:
            try:
                TABLE.create(connection)
            except exc.DBAPIError:
                # Created meanwhile by another node.
                if columns(connection) is None:
                    raise
        else:
            _add_columns(connection, present)
        if read(connection) is None:
            try:
                connection.execute(TABLE.insert().values(id=1, state=DONE))
            except exc.DBAPIError:
                if read(connection) is None:
                    raise
    except exc.DBAPIError as error:
        if db.sqlite_busy(error):
            raise   # another writer: the caller names it
        raise errors.SolumDBManageError(
            f"cannot set up the migration lock table {LOCK_TABLE}: "
            f"{error.orig} (where this is a permission error: the "
            f"database user needs CREATE, INSERT and UPDATE on the "
            f"database)") from error


def _add_columns(connection, present):
    """Complete a lock table made by an earlier release of the tool."""
    dialect = connection.dialect
    for name in _ADDED_COLUMNS:
        if name in present:
            continue
        kind = TABLE.c[name].type.compile(dialect=dialect)
        try:
            connection.exec_driver_sql(
                f"ALTER TABLE {LOCK_TABLE} ADD COLUMN {name} {kind}")
        except exc.DBAPIError:
            # Added meanwhile through another Galera node.
            if name not in (columns(connection) or ()):
                raise


def status(connection, ignore=None):
    """The lock's state for ``check``, or None; reads, takes nothing.

    ``ignore`` is the token of a lock held by the caller.
    """
    session = lock_sessions.session_for(connection)
    if session is None:
        return None
    record = read(connection)
    if record is None or (ignore and record.token == ignore):
        return None
    if record.token is None:
        return Status("failed", record) if record.state == FAILED else None
    now = session.now()
    node = session.node()
    if record.node == node:
        gone = evidence_of_death(session, record, node,
                                  session_free=not session.taken(),
                                 now=now)
    else:
        gone = record.expired(now)
    if gone:
        return Status("interrupted", record)
    return Status("running", record,
                  record.stuck_hint(now) if record.stuck(now) else None)


def unlock(url, database=None):
    """Clear a lease row whose holder is gone; return what was done.

    Refuses (exit 7) while the holder may be alive: any of its
    connections still exists, or, held through another Galera node, its
    lease has not expired and lies within its term.
    """
    engine = db.create_engine(url, database=database)
    try:
        with db.open_connection(
                engine, isolation_level="AUTOCOMMIT") as connection:
            session = lock_sessions.session_for(connection)
            record = read(connection) if session is not None else None
            if record is None or record.token is None:
                return "The migration lock is free: nothing to unlock."
            now = session.now()
            node = session.node()
            if record.node == node:
                alive = session.alive(record.connections)
                taken = session.taken()
                if ((alive and (taken or not record.overdue(now)))
                        or (not record.connections and taken)):
                    shown = ", ".join(str(i) for i in alive) or "its lock's"
                    raise errors.SolumDBManageError(
                        f"unlock refused: the lock's holder {record.holder()}"
                        f" still has connection(s) {shown} to the database "
                        f"server; it is running, not gone. Stop it first, "
                        f"or let it finish", exit_code=errors.EXIT_LOCKED)
            elif not record.expired(now) and not record.stuck(now):
                raise errors.SolumDBManageError(
                    f"unlock refused: the lock's holder {record.holder()} "
                    f"took it through another Galera node ({record.node}), "
                    f"whose connections cannot be seen from here, and its "
                    f"lease runs until {_utc(record.expires_at)}: run unlock "
                    f"through that node, or wait for the lease to expire",
                    exit_code=errors.EXIT_LOCKED)
            table = TABLE
            cleared = connection.execute(
                table.update().where(
                    table.c.id == 1, table.c.token == record.token
                ).values(token=None, expires_at=None, state=FAILED,
                         detail=f"did not finish; its lock was cleared by "
                                f"'{_UNLOCK}' at {_utc(now)}")).rowcount
            if cleared != 1:
                raise errors.SolumDBManageError(
                    "unlock: the lock changed hands meanwhile; nothing was "
                    "cleared. Run 'solum-db-manage check'",
                    exit_code=errors.EXIT_LOCKED)
            return (f"Cleared the migration lock of {record.holder()}. The "
                    f"next upgrade, downgrade or stamp completes its work.")
    finally:
        engine.dispose()
