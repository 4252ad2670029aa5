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

"""The migration lock: one upgrade, downgrade or stamp at a time.

Two locks are held together:

- a **lease row** (lock_lease.py), the one row of table
  ``solum_db_manage_lock``, claimed by a committed conditional UPDATE.
  Once committed it excludes every other client, on every node of a
  Galera cluster too (where GET_LOCK and SELECT ... FOR UPDATE do not
  reach across nodes).
- a **session lock** (lock_sessions.py) that the server drops the moment
  the holder's lock connection goes.

A lease row is taken over only on evidence that its holder is gone (see
lock_lease.py). The holder keeps its lock connection from going idle,
renews its lease on it (reconnecting where it was cut, for as long as its
token is still the recorded one), and checks before every revision that
the lease is still its own.
"""

import contextlib
import logging
import os
import random
import socket
import threading
import time
import uuid

from sqlalchemy import exc

from solum_db_manage import db, errors, lock_sessions
from solum_db_manage.lock_lease import (
    DEFAULT_LEASE,
    DONE,
    FAILED,
    RUNNING,
    TABLE,
    Status,
    ensure_row,
    evidence_of_death,
    failure_detail,
    read,
)
from solum_db_manage.lock_sessions import SQLiteSession, error_code

LOG = logging.getLogger("solum_db_manage")

DEFAULT_TIMEOUT = 300   # seconds a run waits for the lock
_POLL = 0.5             # seconds between two tries
_KEEP_BUSY = 10.0       # seconds the lock connection may sit idle at most

# Errors a claim may lose a race with: a Galera certification failure
# (1213) or a lock wait on the row (1205).
_RACE_ERRORS = {1205, 1213}


class MigrationLock:
    """Hold with ``with MigrationLock(url, ...).hold() as lock:``."""

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
    def hold(self):
        """Wait for the lock, hold it for the ``with`` block, release it,
        recording how the run ended (done, or failed while changing)."""
        self._engine = db.create_engine(self.url, database=self.database)
        try:
            self._connection = db.open_connection(
                self._engine, isolation_level="AUTOCOMMIT")
            self._session = lock_sessions.session_for(self._connection)
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
                              failure_detail(error) if self.changing else None)
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
        if not isinstance(self._session, SQLiteSession):
            return self._try()
        left = max(0.0, deadline - time.monotonic())
        self._connection.exec_driver_sql(
            f"PRAGMA busy_timeout = {int(left * 1000)}")
        try:
            return self._try()
        except exc.DBAPIError as error:
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
            ensure_row(self._connection)
        record = read(self._connection)
        condition = TABLE.c.token.is_(None)
        note = None
        now = self._session.now()
        if record.token is not None:
            condition = TABLE.c.token == record.token
            if record.node == self._node():
                # Seen from its own server: its connections tell, and a
                # lease unrenewed for a whole term past its expiry (ids
                # are reused; we hold the session lock: it is free).
                if not evidence_of_death(self._session, record,
                                         self._node(), session_free=True,
                                         now=now):
                    return False
            elif record.expired(now):
                condition &= TABLE.c.expires_at < now
            else:
                return False
            note = (f"the previous {record.holder()} did not finish (the "
                    f"process died or lost its connection); taking over "
                    f"its lock")
        try:
            claimed = self._connection.execute(
                TABLE.update().where(TABLE.c.id == 1, condition).values(
                    token=self.token, host=socket.gethostname(),
                    pid=os.getpid(), command=self.command[:255],
                    node=self._node(), acquired_at=now,
                    expires_at=now + self.lease, renewed_at=now,
                    lease=self.lease, connections=self._ids(),
                    state=RUNNING, detail=None)).rowcount
        except exc.DBAPIError as error:
            if error_code(error) in _RACE_ERRORS:
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

    def _read_quietly(self):
        try:
            return read(self._connection)
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
        now = self._session.now()
        return self._connection.execute(
            TABLE.update().where(
                TABLE.c.id == 1, TABLE.c.token == self.token
            ).values(expires_at=now + self.lease, renewed_at=now,
                     connections=self._ids())).rowcount

    def _release(self, state, detail):
        LOG.debug("Lock: releasing, recording the run as %s", state)
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        release = TABLE.update().where(
            TABLE.c.id == 1, TABLE.c.token == self.token
        ).values(token=None, expires_at=None, state=state, detail=detail)
        with self._mutex:
            try:
                if isinstance(self._session, SQLiteSession):
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
