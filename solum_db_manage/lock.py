"""The migration lock: one upgrade, downgrade or stamp at a time.

Two locks are held together:

- a **lease row**, the one row of table ``solum_db_manage_lock``, claimed
  by a committed conditional UPDATE. It names the holder (host, pid,
  command, since when), the server connections it works on, and when its
  lease expires on the database server's clock. Once committed it
  excludes every other client, on every node of a Galera cluster too
  (where GET_LOCK and SELECT ... FOR UPDATE do not reach across nodes).
- a **session lock** that the server drops the moment the holder's
  lock connection goes: ``GET_LOCK`` on MySQL/MariaDB (one server, or one
  Galera node), ``pg_advisory_lock`` on PostgreSQL (the whole database),
  ``flock`` on the database file with SQLite.

A free session lock alone proves nothing: the server also drops an idle
connection (``wait_timeout``, ``idle_session_timeout``, ``KILL``, a
proxy) while its holder goes on migrating on another one. A lease row is
taken over only on evidence that its holder is gone: none of the server
connections it recorded exists any more (seen on the same server or
Galera node, with its session lock free), or its lease expired on the
server's clock. The holder keeps its lock connection from going idle,
renews its lease on it (reconnecting where it was cut, for as long as its
token is still the recorded one), and checks before every revision that
the lease is still its own.
"""

import contextlib
import datetime
import logging
import os
import random
import socket
import threading
import time
import uuid

import sqlalchemy as sa
from sqlalchemy import exc

from solum_db_manage import errors
from solum_db_manage.db import LOCK_TABLE

LOG = logging.getLogger("solum_db_manage")

DEFAULT_TIMEOUT = 300   # seconds a run waits for the lock
DEFAULT_LEASE = 120     # seconds a lease lasts without renewal
_POLL = 0.5             # seconds between two tries
LEASE_MARGIN = 60       # seconds a lease lasts beyond --ddl-lock-timeout
_KEEP_BUSY = 10.0       # seconds the lock connection may sit idle at most
# How far a lease may lie beyond its term before it is known not to be a
# live holder's (clock differences between Galera nodes stay below it).
_SKEW = 60

_metadata = sa.MetaData()
_lock_table = sa.Table(
    LOCK_TABLE, _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("token", sa.String(36)),
    sa.Column("host", sa.String(255)),
    sa.Column("pid", sa.Integer),
    sa.Column("command", sa.String(255)),
    sa.Column("node", sa.String(255)),
    sa.Column("acquired_at", sa.BigInteger),
    sa.Column("expires_at", sa.BigInteger),
    sa.Column("state", sa.String(16)),
    sa.Column("detail", sa.String(1024)),
    # Added since the first release of the table: added to an older one.
    sa.Column("connections", sa.String(255)),
    sa.Column("lease", sa.Integer),
    sa.Column("renewed_at", sa.BigInteger),
)
_ADDED_COLUMNS = ("connections", "lease", "renewed_at")
_UNLOCK = "solum-db-manage unlock"

# The states a lease row records.
RUNNING = "running"
DONE = "done"
FAILED = "failed"

# Errors a claim may lose a race with: a Galera certification failure
# (1213) or a lock wait on the row (1205).
_RACE_ERRORS = {1205, 1213}


def lease_term(lease, ddl_lock_timeout):
    """The lease a run takes: ``--lock-lease``, but at least
    ``--ddl-lock-timeout`` plus LEASE_MARGIN.

    On Galera a schema change that waits for a table lock already holds
    total order isolation: every write through its node, the lease's
    renewals included, waits behind it, for up to --ddl-lock-timeout,
    then for the statement itself.
    """
    return max(float(lease), float(ddl_lock_timeout or 0) + LEASE_MARGIN)


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
        found = {
            "state": self.kind, "command": record.command,
            "host": record.host, "pid": record.pid,
            "since": _utc(record.acquired_at) if record.acquired_at else None,
            "detail": record.detail,
        }
        if self.hint:
            found["hint"] = self.hint
        return found


# --- Session locks, one kind per database --------------------------------

class _MySQLSession:
    """GET_LOCK: one server, or one node of a Galera cluster."""

    renews = True

    def __init__(self, connection):
        self.adopt(connection)
        database = connection.exec_driver_sql("SELECT DATABASE()").scalar()
        self.name = f"solum_db_manage.{database}"[:64]

    def adopt(self, connection):
        """Use ``connection``: without Galera's causal reads.

        A schema change waiting on one node (for a table lock) holds that
        node's replication in total order isolation: causal reads there
        then time out (1205), and a run waiting for the lock would fail
        instead of waiting. The lease needs none: a claim or renewal is a
        conditional UPDATE, and certification refuses one made on a stale
        row (1213, a race lost).
        """
        self.connection = connection
        try:
            connection.exec_driver_sql("SET SESSION wsrep_sync_wait = 0")
        except exc.DBAPIError as error:
            if _code(error) != 1193:    # unknown variable: no Galera here
                raise

    def node(self):
        return self.connection.exec_driver_sql(
            "SELECT CONCAT(@@hostname, ':', @@port)").scalar()

    def now(self):
        return int(self.connection.exec_driver_sql(
            "SELECT UNIX_TIMESTAMP()").scalar())

    def try_acquire(self):
        return self.connection.execute(
            sa.text("SELECT GET_LOCK(:name, 0)"),
            {"name": self.name}).scalar() == 1

    def release(self):
        self.connection.execute(
            sa.text("SELECT RELEASE_LOCK(:name)"), {"name": self.name})

    def held(self):
        return self.connection.execute(
            sa.text("SELECT IS_USED_LOCK(:name)"),
            {"name": self.name}).scalar() is not None

    @staticmethod
    def connection_id(connection):
        return int(connection.exec_driver_sql(
            "SELECT CONNECTION_ID()").scalar())

    def alive(self, ids):
        """Those of the connections ``ids`` this server still has."""
        if not ids:
            return []
        return sorted(self.connection.execute(sa.text(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE ID IN "
            ":ids").bindparams(sa.bindparam("ids", expanding=True)),
            {"ids": ids}).scalars())

    def idle_timeout(self):
        """Seconds after which the server drops an idle connection."""
        return float(self.connection.exec_driver_sql(
            "SELECT @@session.wait_timeout").scalar() or 0) or None


class _PostgreSQLSession:
    """pg_advisory_lock: advisory locks are per database on the server."""

    renews = True
    _KEY = (0x501D, 0x0DB3)     # "solum db", in two int4 halves

    def __init__(self, connection):
        self.adopt(connection)

    def adopt(self, connection):
        self.connection = connection

    def _key(self):
        return {"a": self._KEY[0], "b": self._KEY[1]}

    def node(self):
        return ""

    def now(self):
        return int(self.connection.exec_driver_sql(
            "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS BIGINT)"
        ).scalar())

    def try_acquire(self):
        return bool(self.connection.execute(
            sa.text("SELECT pg_try_advisory_lock(:a, :b)"),
            self._key()).scalar())

    def release(self):
        self.connection.execute(
            sa.text("SELECT pg_advisory_unlock(:a, :b)"),
            self._key())

    def held(self):
        return bool(self.connection.execute(sa.text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
            "AND database = (SELECT oid FROM pg_database "
            "WHERE datname = current_database()) "
            "AND classid = :a AND objid = :b AND objsubid = 2 AND granted"),
            self._key()).scalar())

    @staticmethod
    def connection_id(connection):
        return int(connection.exec_driver_sql(
            "SELECT pg_backend_pid()").scalar())

    def alive(self, ids):
        if not ids:
            return []
        return sorted(self.connection.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE pid IN :ids "
            "AND datname = current_database()").bindparams(
                sa.bindparam("ids", expanding=True)),
            {"ids": ids}).scalars())

    def idle_timeout(self):
        # In milliseconds; 0 is off. The lock's connection is never in a
        # transaction, so idle_in_transaction_session_timeout cannot cut it.
        value = self.connection.exec_driver_sql(
            "SELECT setting FROM pg_settings "
            "WHERE name = 'idle_session_timeout'").scalar()
        return (int(value) / 1000.0) if value and int(value) else None


class _SQLiteSession:
    """flock on the database file, which SQLite's own locks ignore.

    The lock is the process's own: it goes only with the process, so a
    free flock is evidence enough; there is no server connection to cut.
    """

    renews = False

    def __init__(self, connection):
        self.path = _sqlite_path(connection.engine.url.database)
        self.fd = None

    def adopt(self, connection):
        pass

    def node(self):
        return ""

    def now(self):
        return int(time.time())

    def _flock(self, mode):
        import fcntl

        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    def try_acquire(self):
        import fcntl

        self.fd = self._flock(fcntl.LOCK_EX)
        return self.fd is not None

    def release(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def held(self):
        import fcntl

        fd = self._flock(fcntl.LOCK_SH)
        if fd is None:
            return True
        os.close(fd)
        return False

    @staticmethod
    def connection_id(connection):
        return None

    def alive(self, ids):
        return []

    def idle_timeout(self):
        return None


def _sqlite_path(database):
    """The file of a SQLite database name, URI filenames included."""
    if database.startswith("file:"):
        from urllib.parse import unquote, urlsplit

        return unquote(urlsplit(database).path)
    return database


sqlite_path = _sqlite_path


def _session(connection):
    name = connection.dialect.name
    if name == "mysql":
        return _MySQLSession(connection)
    if name == "postgresql":
        return _PostgreSQLSession(connection)
    if name == "sqlite":
        database = connection.engine.url.database
        if database and database != ":memory:":
            return _SQLiteSession(connection)
    return None   # a private in-memory database: nobody to exclude


def _columns(connection):
    """The lock table's columns, or None where it does not exist.

    Raises where columns it was created with are missing: no run can
    hold the lock through such a table.
    """
    inspector = sa.inspect(connection)
    if not inspector.has_table(LOCK_TABLE):
        return None
    present = {column["name"].lower()
               for column in inspector.get_columns(LOCK_TABLE)}
    missing = [column.name for column in _lock_table.columns
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


def _read(connection):
    present = _columns(connection)
    if present is None:
        return None
    row = connection.execute(
        sa.select(*[column for column in _lock_table.columns
                    if column.name in present])
        .where(_lock_table.c.id == 1)).first()
    return Record(row) if row is not None else None


def _evidence_of_death(session, record, node, session_free, now):
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


def status(connection, ignore=None):
    """The lock's state for ``check``, or None; reads, takes nothing.

    ``ignore`` is the token of a lock held by the caller.
    """
    session = _session(connection)
    if session is None:
        return None
    record = _read(connection)
    if record is None or (ignore and record.token == ignore):
        return None
    if record.token is None:
        return Status("failed", record) if record.state == FAILED else None
    now = session.now()
    node = session.node()
    if record.node == node:
        gone = _evidence_of_death(session, record, node,
                                  session_free=not session.held(), now=now)
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
    from solum_db_manage import db

    engine = db.create_engine(url, database=database)
    try:
        with db.open_connection(
                engine, isolation_level="AUTOCOMMIT") as connection:
            session = _session(connection)
            record = _read(connection) if session is not None else None
            if record is None or record.token is None:
                return "The migration lock is free: nothing to unlock."
            now = session.now()
            node = session.node()
            if record.node == node:
                alive = session.alive(record.connections)
                held = session.held()
                if ((alive and (held or not record.overdue(now)))
                        or (not record.connections and held)):
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
            table = _lock_table
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


class MigrationLock:
    """Hold with ``with MigrationLock(url, ...).held() as lock:``."""

    def __init__(self, url, command, timeout=DEFAULT_TIMEOUT,
                 lease=DEFAULT_LEASE, report=None, database=None):
        self.url = url
        # The [database] settings its engine is made with (db_options).
        self.database = database
        self.command = command
        self.timeout = timeout
        self.lease = max(1, int(lease))
        # report(line, level=logging.INFO): where the tool says it.
        self.report = report or (lambda line, level=None: None)
        self.token = str(uuid.uuid4())
        self.lost = None
        self.changing = False
        # The run before ours, where it did not finish: a Status, or None.
        self.previous = None
        self._engine = None
        self._connection = None
        self._session = None
        self._session_held = False
        self._claimed = False
        self._work_ids = []
        self._renewed = None
        self._renewer = None
        self._stop = threading.Event()
        # The lock's connection serves the renewer thread and the run.
        self._mutex = threading.RLock()

    @contextlib.contextmanager
    def held(self):
        from solum_db_manage import db

        self._engine = db.create_engine(self.url, database=self.database)
        try:
            self._connection = db.open_connection(
                self._engine, isolation_level="AUTOCOMMIT")
            self._session = _session(self._connection)
            if self._session is None:
                LOG.debug("Lock: none for the %s dialect",
                          self._connection.dialect.name)
                yield self
                return
            try:
                self._acquire()
            except BaseException:
                if self._session_held:
                    self._session.release()
                raise
            try:
                yield self
            except BaseException as error:
                self._release(FAILED if self.changing else DONE,
                              _failure(error) if self.changing else None)
                raise
            self._release(DONE, None)
        finally:
            self._stop.set()
            if self._connection is not None:
                self._connection.close()
            self._engine.dispose()

    def register(self, connection):
        """Record ``connection`` (the migration's) as one of the holder's.

        A free session lock is then no evidence of death while that
        connection exists: the work goes on there.
        """
        if self._session is None:
            return
        number = self._session.connection_id(connection)
        if number is None:
            return
        # Alembic's work leaves it idle now and then (loading the
        # scripts): a short idle timeout must not cut it there. The lock's
        # own connection is kept busy instead (see _interval).
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(
                "SELECT set_config(name, '0', false) FROM pg_settings "
                "WHERE name = 'idle_session_timeout'").all()
        else:
            connection.exec_driver_sql(
                "SET SESSION wait_timeout = GREATEST(@@session.wait_timeout,"
                " 28800)")
        connection.commit()
        self._work_ids.append(number)
        self._renew()

    def verify(self, renew=True):
        """Renew the lease; raise if it was lost (taken by another run).

        ``renew=False`` only checks what the last renewal found: for the
        moment between a transaction's last statement and its commit.
        """
        if renew and self._session is not None and self._session.renews:
            self._renew()
        if self.lost:
            raise errors.SolumDBManageError(
                f"lost the migration lock: {self.lost}; stopped before "
                f"the next revision (revisions finished before it stay "
                f"applied, and the run that took the lock over completes "
                f"the work: 'solum-db-manage check' tells where the "
                f"database is)", exit_code=errors.EXIT_LOCKED)

    # --- acquiring -------------------------------------------------------

    def _acquire(self):
        deadline = time.monotonic() + self.timeout
        announced = None
        while True:
            try:
                if self._try_in_time(deadline):
                    self._claimed = True
                    self._renewed = time.monotonic()
                    self._start_renewer()
                    LOG.debug("Lock: held by this run (%s on %s, lease %g s)",
                              self.command, self._connection.dialect.name,
                              self.lease)
                    return
            except exc.DBAPIError as error:
                if not error.connection_invalidated:
                    raise
                # Our waiting connection was cut: wait on a new one.
                self._reconnect()
            record = self._read_quietly()
            now = self._now_quietly()
            stuck = bool(record and now and record.stuck(now))
            holder = record.holder() if record and record.token else (
                "another run")
            if time.monotonic() >= deadline:
                hint = f"; {record.stuck_hint(now)}" if stuck else ""
                raise errors.LockTimeout(
                    f"the migration lock is still held by {holder} after "
                    f"waiting {self.timeout:g} s (--lock-timeout); nothing "
                    f"was changed{hint}")
            key = (record.token if record else None, stuck)
            if key != announced:
                announced = key
                left = max(0, deadline - time.monotonic())
                hint = f" ({record.stuck_hint(now)})" if stuck else ""
                self.report(
                    f"Waiting for the migration lock, held by {holder}; "
                    f"waiting up to {left:.0f} s more (--lock-timeout)."
                    f"{hint}")
            time.sleep(_POLL * (0.5 + random.random()))

    def _try_in_time(self, deadline):
        """_try, where SQLite waits for another writer until ``deadline``
        at most (its busy timeout), then names it."""
        if not isinstance(self._session, _SQLiteSession):
            return self._try()
        left = max(0.0, deadline - time.monotonic())
        self._connection.exec_driver_sql(
            f"PRAGMA busy_timeout = {int(left * 1000)}")
        try:
            return self._try()
        except exc.DBAPIError as error:
            from solum_db_manage import db

            if not db.sqlite_busy(error):
                raise
            raise errors.LockTimeout(
                f"another process has a transaction open on the SQLite "
                f"database {self._session.path} (a writer, or a reader "
                f"while the lock is claimed); waited "
                f"{self.timeout:g} s for it (--lock-timeout); nothing was "
                f"changed") from error

    def _try(self):
        if not self._session_held:
            self._session_held = self._session.try_acquire()
            if not self._session_held:
                return False
            self._ensure_row()
        record = _read(self._connection)
        table = _lock_table
        condition = table.c.token.is_(None)
        note = None
        now = self._session.now()
        if record.token is not None:
            condition = table.c.token == record.token
            if record.node == self._node():
                # Seen from its own server: its connections tell, and a
                # lease unrenewed for a whole term past its expiry (ids
                # are reused; we hold the session lock: it is free).
                if not _evidence_of_death(self._session, record,
                                          self._node(), session_free=True,
                                          now=now):
                    return False
            elif record.expired(now):
                condition &= table.c.expires_at < now
            else:
                return False
            note = (f"the previous {record.holder()} did not finish (the "
                    f"process died or lost its connection); taking over "
                    f"its lock")
        try:
            claimed = self._connection.execute(
                table.update().where(table.c.id == 1, condition).values(
                    token=self.token, host=socket.gethostname(),
                    pid=os.getpid(), command=self.command[:255],
                    node=self._node(), acquired_at=now,
                    expires_at=now + self.lease, renewed_at=now,
                    lease=self.lease, connections=self._ids(),
                    state=RUNNING, detail=None)).rowcount
        except exc.DBAPIError as error:
            if _code(error) in _RACE_ERRORS:
                return False
            raise
        if claimed != 1:
            return False
        if note:
            self.report(f"{note}.", logging.WARNING)
            self.previous = Status("interrupted", record)
        elif record.state == FAILED:
            self.previous = Status("failed", record)
        return True

    def _node(self):
        if not hasattr(self, "_node_name"):
            self._node_name = self._session.node()
        return self._node_name

    def _ids(self):
        own = self._session.connection_id(self._connection)
        numbers = ([own] if own is not None else []) + self._work_ids
        return ",".join(str(number) for number in numbers) or None

    def _ensure_row(self):
        try:
            # A table missing columns raises its own error, not this one.
            present = _columns(self._connection)
            if present is None:
                try:
                    _lock_table.create(self._connection)
                except exc.DBAPIError:
                    # Created meanwhile by another node.
                    if _columns(self._connection) is None:
                        raise
            else:
                self._add_columns(present)
            if _read(self._connection) is None:
                try:
                    self._connection.execute(
                        _lock_table.insert().values(id=1, state=DONE))
                except exc.DBAPIError:
                    if _read(self._connection) is None:
                        raise
        except exc.DBAPIError as error:
            from solum_db_manage import db

            if db.sqlite_busy(error):
                raise   # another writer: _try_in_time names it
            raise errors.SolumDBManageError(
                f"cannot set up the migration lock table {LOCK_TABLE}: "
                f"{error.orig} (where this is a permission error: the "
                f"database user needs CREATE, INSERT and UPDATE on the "
                f"database)") from error

    def _add_columns(self, present):
        """Complete a lock table made by an earlier release of the tool."""
        dialect = self._connection.dialect
        for name in _ADDED_COLUMNS:
            if name in present:
                continue
            kind = _lock_table.c[name].type.compile(dialect=dialect)
            try:
                self._connection.exec_driver_sql(
                    f"ALTER TABLE {LOCK_TABLE} ADD COLUMN {name} {kind}")
            except exc.DBAPIError:
                # Added meanwhile through another Galera node.
                if name not in (_columns(self._connection) or ()):
                    raise

    def _read_quietly(self):
        try:
            return _read(self._connection)
        except (exc.DBAPIError, errors.SolumDBManageError):
            return None

    def _now_quietly(self):
        try:
            return self._session.now()
        except exc.DBAPIError:
            return None

    def _reconnect(self):
        """A new lock connection, where the server cut the last one.

        The session lock went with the old one; it is taken again where
        it is free (a waiting run may hold it now: the lease row is what
        keeps the lock ours).
        """
        from solum_db_manage import db

        old, self._connection = self._connection, None
        with contextlib.suppress(Exception):
            old.invalidate()
            old.close()
        self._connection = db.open_connection(
            self._engine, isolation_level="AUTOCOMMIT")
        self._session.adopt(self._connection)
        self._session_held = self._session.try_acquire()

    # --- holding and releasing -------------------------------------------

    def _interval(self):
        """Seconds between two renewals: often enough that neither the
        lease nor an idle timeout the server announces runs out."""
        interval = min(self.lease / 4, _KEEP_BUSY)
        idle = self._session.idle_timeout()
        if idle:
            interval = min(interval, idle / 3)
        return max(0.2, interval)

    def _start_renewer(self):
        if not self._session.renews:
            return
        interval = self._interval()
        self._renewer = threading.Thread(
            target=self._renew_until_stopped, args=(interval,),
            name="solum-db-manage-lease", daemon=True)
        self._renewer.start()

    def _renew_until_stopped(self, interval):
        """Keep the lock's connection busy; renew where no revision did.

        Between two renewals (each revision begins with one, see verify)
        a plain query keeps the connection from going idle: the lease's
        row is written no more than needed.
        """
        due = self.lease / 4
        while not self._stop.wait(interval):
            if time.monotonic() - self._renewed >= due:
                self._renew()
            else:
                self._ping()
            if self.lost:
                return

    def _ping(self):
        with self._mutex:
            if self._stop.is_set():
                return
            try:
                self._connection.exec_driver_sql("SELECT 1").all()
            except exc.SQLAlchemyError:
                self._renew()   # reconnects, and renews on the new one

    def _renew(self):
        """Push the lease's expiry on; note if it was lost."""
        with self._mutex:
            if self.lost or not self._claimed or self._stop.is_set():
                return
            try:
                renewed = self._renew_once()
            except exc.SQLAlchemyError:
                # A cut connection: a DBAPIError, or, once SQLAlchemy saw
                # it cut, a PendingRollbackError.
                try:
                    self._reconnect()
                    renewed = self._renew_once()
                except (exc.SQLAlchemyError,
                        errors.SolumDBManageError) as error:
                    cause = getattr(error, "orig", None) or error
                    late = time.monotonic() - self._renewed
                    if late >= self.lease:
                        self.lost = (f"could not renew its lease for "
                                     f"{late:.0f} s: {cause}")
                    return
            if renewed == 1:
                self._renewed = time.monotonic()
                return
            record = self._read_quietly()
            taker = (f"{record.holder()} took it over" if record and
                     record.token else "it was cleared ('unlock'?)")
            self.lost = f"{taker} after its lease expired"

    def _renew_once(self):
        table = _lock_table
        now = self._session.now()
        return self._connection.execute(
            table.update().where(
                table.c.id == 1, table.c.token == self.token
            ).values(expires_at=now + self.lease, renewed_at=now,
                     connections=self._ids())).rowcount

    def _release(self, state, detail):
        LOG.debug("Lock: releasing, recording the run as %s", state)
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        table = _lock_table
        release = table.update().where(
            table.c.id == 1, table.c.token == self.token
        ).values(token=None, expires_at=None, state=state, detail=detail)
        with self._mutex:
            try:
                if isinstance(self._session, _SQLiteSession):
                    # Another process's transaction delays the release at
                    # most this long; past it, the next run takes over (the
                    # flock goes with the connection).
                    wait = int(min(self.timeout, 10) * 1000)
                    self._connection.exec_driver_sql(
                        f"PRAGMA busy_timeout = {wait}")
                try:
                    self._connection.execute(release)
                except exc.SQLAlchemyError as error:
                    if (isinstance(error, exc.DBAPIError)
                            and not error.connection_invalidated):
                        raise
                    self._reconnect()
                    self._connection.execute(release)
                if self._session_held:
                    self._session.release()
            except (exc.SQLAlchemyError, errors.SolumDBManageError):
                # The server is gone: it dropped the session lock with the
                # connection, and the row says what the next run must know.
                pass


def _failure(error):
    if isinstance(error, errors.Terminated):
        return "terminated (SIGTERM)"
    if isinstance(error, KeyboardInterrupt):
        return "interrupted by the user (SIGINT)"
    text = " ".join(str(getattr(error, "orig", None) or error).split())
    return f"{type(error).__name__}: {text}"[:1024]


def _code(error):
    args = getattr(error.orig, "args", None) or (None,)
    return args[0]
