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

"""Session locks, one kind per database: the half of the migration lock
that the server drops the moment the holder's lock connection goes.

``GET_LOCK`` on MySQL/MariaDB (one server, or one Galera node),
``pg_advisory_lock`` on PostgreSQL (the whole database), ``flock`` on the
database file with SQLite. Each session also tells the server's clock,
which node it is on, and which of a holder's recorded connections the
server still has: the evidence lock.py and lock_lease.py weigh.
"""

import os
import time

import sqlalchemy as sa
from sqlalchemy import exc


def error_code(error):
    """The driver's error number of a DBAPIError (MySQL's 1205, ...)."""
    args = getattr(error.orig, "args", None) or (None,)
    return args[0]


class _ServerSession:
    """A session lock on a database server, whose connections it lists.

    A kind of server says in SQL what differs: its clock (``_NOW``), the
    id of a connection (``_CONNECTION_ID``), and which of the connection
    ids ``:ids`` it still has (``_ALIVE``).
    """

    renews = True
    _NOW = _CONNECTION_ID = _ALIVE = None

    def __init__(self, connection):
        self.adopt(connection)

    def adopt(self, connection):
        """Use ``connection`` (a new one, where the last was cut)."""
        self.connection = connection

    def now(self):
        return int(self.connection.exec_driver_sql(self._NOW).scalar())

    @classmethod
    def connection_id(cls, connection):
        return int(connection.exec_driver_sql(cls._CONNECTION_ID).scalar())

    def alive(self, ids):
        """Those of the connections ``ids`` this server still has."""
        if not ids:
            return []
        return sorted(self.connection.execute(
            sa.text(self._ALIVE).bindparams(
                sa.bindparam("ids", expanding=True)),
            {"ids": ids}).scalars())


class _MySQLSession(_ServerSession):
    """GET_LOCK: one server, or one node of a Galera cluster."""

    _NOW = "SELECT UNIX_TIMESTAMP()"
    _CONNECTION_ID = "SELECT CONNECTION_ID()"
    _ALIVE = "SELECT ID FROM information_schema.PROCESSLIST WHERE ID IN :ids"

    def __init__(self, connection):
        super().__init__(connection)
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
            if error_code(error) != 1193:   # unknown variable: no Galera
                raise

    def node(self):
        return self.connection.exec_driver_sql(
            "SELECT CONCAT(@@hostname, ':', @@port)").scalar()

    def try_acquire(self):
        return self.connection.execute(
            sa.text("SELECT GET_LOCK(:name, 0)"),
            {"name": self.name}).scalar() == 1

    def release(self):
        self.connection.execute(
            sa.text("SELECT RELEASE_LOCK(:name)"), {"name": self.name})

    def taken(self):
        """True while some connection holds the session lock."""
        return self.connection.execute(
            sa.text("SELECT IS_USED_LOCK(:name)"),
            {"name": self.name}).scalar() is not None

    def idle_timeout(self):
        """Seconds after which the server drops an idle connection."""
        return float(self.connection.exec_driver_sql(
            "SELECT @@session.wait_timeout").scalar() or 0) or None


class _PostgreSQLSession(_ServerSession):
    """pg_advisory_lock: advisory locks are per database on the server."""

    _KEY = {"a": 0x501D, "b": 0x0DB3}   # "solum db", in two int4 halves
    _NOW = "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS BIGINT)"
    _CONNECTION_ID = "SELECT pg_backend_pid()"
    _ALIVE = ("SELECT pid FROM pg_stat_activity WHERE pid IN :ids "
              "AND datname = current_database()")

    def node(self):
        return ""

    def try_acquire(self):
        return bool(self.connection.execute(
            sa.text("SELECT pg_try_advisory_lock(:a, :b)"),
            self._KEY).scalar())

    def release(self):
        self.connection.execute(
            sa.text("SELECT pg_advisory_unlock(:a, :b)"), self._KEY)

    def taken(self):
        """True while some connection holds the session lock."""
        return bool(self.connection.execute(sa.text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
            "AND database = (SELECT oid FROM pg_database "
            "WHERE datname = current_database()) "
            "AND classid = :a AND objid = :b AND objsubid = 2 AND granted"),
            self._KEY).scalar())

    def idle_timeout(self):
        # In milliseconds; 0 is off. The lock's connection is never in a
        # transaction, so idle_in_transaction_session_timeout cannot cut it.
        value = self.connection.exec_driver_sql(
            "SELECT setting FROM pg_settings "
            "WHERE name = 'idle_session_timeout'").scalar()
        return (int(value) / 1000.0) if value and int(value) else None


class SQLiteSession:
    """flock on the database file, which SQLite's own locks ignore.

    The lock is the process's own: it goes only with the process, so a
    free flock is evidence enough; there is no server connection to cut.
    """

    renews = False

    def __init__(self, connection):
        self.path = sqlite_path(connection.engine.url.database)
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

    def taken(self):
        """True while some process holds the flock."""
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


def sqlite_path(database):
    """The file of a SQLite database name, URI filenames included."""
    if database.startswith("file:"):
        from urllib.parse import unquote, urlsplit

        return unquote(urlsplit(database).path)
    return database


def session_for(connection):
    """The session lock for ``connection``'s database, or None where
    there is nobody to exclude (a private in-memory SQLite database)."""
    name = connection.dialect.name
    if name == "mysql":
        return _MySQLSession(connection)
    if name == "postgresql":
        return _PostgreSQLSession(connection)
    if name == "sqlite":
        database = connection.engine.url.database
        if database and database != ":memory:":
            return SQLiteSession(connection)
    return None
