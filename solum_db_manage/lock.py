"""The migration lock: one upgrade, downgrade or stamp at a time.

Two locks are held together, on a connection of their own:

- a **lease row**, the one row of table ``solum_db_manage_lock``, claimed
  by a committed conditional UPDATE. It names the holder (host, pid,
  command, since when) and, once committed, excludes every other client,
  on every node of a Galera cluster too (where GET_LOCK and SELECT ... FOR
  UPDATE do not reach across nodes).
- a **session lock** that the server drops the moment the holder's
  connection goes (kill -9, lost network): ``GET_LOCK`` on MySQL/MariaDB
  (one server, or one Galera node), ``pg_advisory_lock`` on PostgreSQL
  (the whole database), ``flock`` on the database file with SQLite.

Whoever gets the session lock and finds a lease row claimed on its own
server (or node) knows that row's holder is dead, and takes over at once.
A row claimed on another Galera node is taken over only once its lease
expired; its holder renews it every ``lease / 4`` seconds.
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

LOG = logging.getLogger("solum_db_manage")

LOCK_TABLE = "solum_db_manage_lock"
DEFAULT_TIMEOUT = 300   # seconds a run waits for the lock
DEFAULT_LEASE = 120     # seconds a lease lasts without renewal (Galera)
_POLL = 0.5             # seconds between two tries

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
)

# The states a lease row records.
RUNNING = "running"
DONE = "done"
FAILED = "failed"

# Errors a claim may lose a race with: a Galera certification failure
# (1213) or a lock wait on the row (1205).
_RACE_ERRORS = {1205, 1213}


def _utc(epoch):
    return datetime.datetime.fromtimestamp(
        epoch, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class Record:
    """What the lease row says."""

    def __init__(self, row):
        self.token = row.token
        self.host = row.host
        self.pid = row.pid
        self.command = row.command
        self.node = row.node or ""
        self.acquired_at = row.acquired_at
        self.expires_at = row.expires_at
        self.state = row.state
        self.detail = row.detail

    def holder(self):
        since = f" since {_utc(self.acquired_at)}" if self.acquired_at else ""
        return (f"'{self.command}' on host {self.host} (pid {self.pid})"
                f"{since}")


class Status:
    """What ``check`` reports: a run going on now, or one that stopped."""

    def __init__(self, kind, record):
        self.kind = kind            # "running", "interrupted" or "failed"
        self.record = record

    def describe(self):
        holder = self.record.holder()
        if self.kind == "running":
            return f"a migration is running: {holder}"
        if self.kind == "interrupted":
            return (f"a migration was interrupted: {holder} did not "
                    f"finish (the process died or lost its connection)")
        return (f"the last migration failed: {holder}: "
                f"{self.record.detail}")

    def as_dict(self):
        record = self.record
        return {
            "state": self.kind, "command": record.command,
            "host": record.host, "pid": record.pid,
            "since": _utc(record.acquired_at) if record.acquired_at else None,
            "detail": record.detail,
        }


# --- Session locks, one kind per database --------------------------------

class _MySQLSession:
    """GET_LOCK: one server, or one node of a Galera cluster."""

    renews = True   # a lease is what excludes other Galera nodes

    def __init__(self, connection):
        self.connection = connection
        database = connection.exec_driver_sql("SELECT DATABASE()").scalar()
        self.name = f"solum_db_manage.{database}"[:64]

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


class _PostgreSQLSession:
    """pg_advisory_lock: advisory locks are per database on the server."""

    renews = False
    _KEY = (0x501D, 0x0DB3)     # "solum db", in two int4 halves

    def __init__(self, connection):
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


class _SQLiteSession:
    """flock on the database file, which SQLite's own locks ignore."""

    renews = False

    def __init__(self, connection):
        self.path = _sqlite_path(connection.engine.url.database)
        self.fd = None

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


def _read(connection):
    if not sa.inspect(connection).has_table(LOCK_TABLE):
        return None
    row = connection.execute(
        sa.select(_lock_table).where(_lock_table.c.id == 1)).first()
    return Record(row) if row is not None else None


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
    if record.node == session.node():
        alive = session.held()
    else:
        alive = (record.expires_at or 0) >= session.now()
    return Status("running" if alive else "interrupted", record)


class MigrationLock:
    """Hold with ``with MigrationLock(url, ...).held() as lock:``."""

    def __init__(self, url, command, timeout=DEFAULT_TIMEOUT,
                 lease=DEFAULT_LEASE, report=None):
        self.url = url
        self.command = command
        self.timeout = timeout
        self.lease = lease
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
        self._renewer = None
        self._stop = threading.Event()

    @contextlib.contextmanager
    def held(self):
        from solum_db_manage import migration

        self._engine = migration.create_engine(self.url)
        try:
            self._connection = migration.open_connection(
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
            if self._connection is not None:
                self._connection.close()
            self._engine.dispose()

    def verify(self):
        """Raise if the lease was lost (taken over after it expired)."""
        if self.lost:
            raise errors.SolumDBManageError(
                f"lost the migration lock ({self.lost}); stopped after the "
                f"revision in progress. Run the command again.",
                exit_code=errors.EXIT_LOCKED)

    # --- acquiring -------------------------------------------------------

    def _acquire(self):
        deadline = time.monotonic() + self.timeout
        announced = None
        while True:
            if self._try_in_time(deadline):
                self._node_renewal()
                LOG.debug("Lock: held by this run (%s on %s, lease %g s)",
                          self.command, self._connection.dialect.name,
                          self.lease)
                return
            record = self._read_quietly()
            if time.monotonic() >= deadline:
                holder = record.holder() if record and record.token else (
                    "another run")
                raise errors.LockTimeout(
                    f"the migration lock is still held by {holder} after "
                    f"waiting {self.timeout:g} s (--lock-timeout); nothing "
                    f"was changed")
            key = record.token if record else None
            if key != announced:
                announced = key
                holder = record.holder() if record and record.token else (
                    "another run")
                left = max(0, deadline - time.monotonic())
                self.report(
                    f"Waiting for the migration lock, held by {holder}; "
                    f"waiting up to {left:.0f} s more (--lock-timeout).")
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
            from solum_db_manage import migration

            if not migration.sqlite_busy(error):
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
        if record.token is not None:
            condition = table.c.token == record.token
            if record.node != self._node():
                if (record.expires_at or 0) >= self._session.now():
                    return False
                condition &= table.c.expires_at < self._session.now()
            note = (f"the previous {record.holder()} did not finish (the "
                    f"process died or lost its connection); taking over "
                    f"its lock")
        now = self._session.now()
        try:
            claimed = self._connection.execute(
                table.update().where(table.c.id == 1, condition).values(
                    token=self.token, host=socket.gethostname(),
                    pid=os.getpid(), command=self.command[:255],
                    node=self._node(), acquired_at=now,
                    expires_at=now + int(self.lease), state=RUNNING,
                    detail=None)).rowcount
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

    def _ensure_row(self):
        try:
            if not sa.inspect(self._connection).has_table(LOCK_TABLE):
                try:
                    _lock_table.create(self._connection)
                except exc.DBAPIError:
                    # Created meanwhile by another node.
                    if not sa.inspect(self._connection).has_table(
                            LOCK_TABLE):
                        raise
            if _read(self._connection) is None:
                try:
                    self._connection.execute(
                        _lock_table.insert().values(id=1, state=DONE))
                except exc.DBAPIError:
                    if _read(self._connection) is None:
                        raise
        except exc.DBAPIError as error:
            from solum_db_manage import migration

            if migration.sqlite_busy(error):
                raise   # another writer: _try_in_time names it
            raise errors.SolumDBManageError(
                f"cannot set up the migration lock table {LOCK_TABLE}: "
                f"{error.orig} (where this is a permission error: the "
                f"database user needs CREATE, INSERT and UPDATE on the "
                f"database)") from error

    def _read_quietly(self):
        try:
            return _read(self._connection)
        except exc.DBAPIError:
            return None

    # --- holding and releasing -------------------------------------------

    def _node_renewal(self):
        if not self._session.renews:
            return
        self._renewer = threading.Thread(
            target=self._renew, name="solum-db-manage-lease", daemon=True)
        self._renewer.start()

    def _renew(self):
        table = _lock_table
        interval = max(1.0, self.lease / 4)
        while not self._stop.wait(interval):
            try:
                now = self._session.now()
                renewed = self._connection.execute(
                    table.update().where(
                        table.c.id == 1, table.c.token == self.token
                    ).values(expires_at=now + int(self.lease))).rowcount
            except exc.DBAPIError as error:
                self.lost = f"renewing the lease failed: {error.orig}"
                return
            if renewed != 1:
                self.lost = "another run took it over after the lease expired"
                return

    def _release(self, state, detail):
        LOG.debug("Lock: releasing, recording the run as %s", state)
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        table = _lock_table
        try:
            if isinstance(self._session, _SQLiteSession):
                # Another process's transaction delays the release at
                # most this long; past it, the next run takes over (the
                # flock goes with the connection).
                wait = int(min(self.timeout, 10) * 1000)
                self._connection.exec_driver_sql(
                    f"PRAGMA busy_timeout = {wait}")
            self._connection.execute(
                table.update().where(
                    table.c.id == 1, table.c.token == self.token
                ).values(token=None, expires_at=None, state=state,
                         detail=detail))
            if self._session_held:
                self._session.release()
        except exc.DBAPIError:
            # The connection is gone: the server dropped the session lock
            # with it, and the row says what the next run must know.
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
