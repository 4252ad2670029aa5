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

"""The database: connection URLs, engines, connections and the two tables
of our own.

An engine is made as Solum's services made theirs (no pool, MySQL strict
mode, the drivers this package depends on), with the session settings a
migration needs: SQLite's own transactions (BEGIN, BEGIN IMMEDIATE for a
writer), Galera's sync wait, bounded lock waits (--ddl-lock-timeout).
version_table.py reads the version table without Alembic.

Nothing here imports SQLAlchemy before it connects: ``-h`` stays fast.
"""

import contextlib
import functools
import logging

from solum_db_manage import db_options, errors, output

LOG = logging.getLogger("solum_db_manage")

# Alembic's table of the revisions a database records.
VERSION_TABLE = "alembic_version"
# The migration lock's table (lock.py).
LOCK_TABLE = "solum_db_manage_lock"
# The tables of the tool's own, in no schema a revision leaves.
OWN_TABLES = frozenset({VERSION_TABLE, LOCK_TABLE})


# Schemes whose default DBAPI we do not ship: use the one we depend on.
_DEFAULT_DRIVERS = {
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
}


def parse_url(url):
    """Parse a connection URL, choosing the drivers this package uses."""
    from sqlalchemy import exc
    from sqlalchemy.engine import make_url

    if isinstance(url, str) and output.extra_at_sign(url):
        # Read as SQLAlchemy and Solum's services read it, the rest of the
        # password would become the host; refused before connecting, and
        # nothing of it is echoed.
        raise errors.ConfigError(
            "the database connection URL has more than one '@' after the "
            "user's ':': write an '@' of the password as %40 (and '%' as "
            "%25, anywhere in the URL); the URL is not shown, as it holds "
            "the password")
    try:
        parsed = make_url(url)
    except (exc.ArgumentError, ValueError):
        # Not echoed: a URL that does not parse may hide its password
        # from every pattern that masks one.
        raise errors.ConfigError(
            "the database connection URL is not valid; expected "
            "dialect+driver://user:password@host/database") from None
    driver = _DEFAULT_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


def dialect_name(url):
    """Return the SQLAlchemy dialect name of a connection URL."""
    return parse_url(url).get_backend_name()


def create_engine(url, sqlite_timeout=None, database=None):
    """An engine as Solum's services had it: no pool, MySQL strict mode.

    ``sqlite_timeout``: how long SQLite waits for another process's write
    lock on the file (its busy timeout; Python's default is 5 s).
    ``database``: the [database] settings (db_options.DatabaseSettings;
    None for the defaults): the session's sql_mode and Galera sync wait,
    the URL's extra parameters, SQL logging, connection attempts,
    pool_recycle.
    """
    import sqlalchemy
    from sqlalchemy import event, exc
    from sqlalchemy.pool import NullPool

    database = database or db_options.DEFAULTS
    parsed = parse_url(url)
    if database.connection_parameters:
        parsed = parsed.update_query_string(database.connection_parameters,
                                            append=True)
    options = {}
    if sqlite_timeout is not None and parsed.get_backend_name() == "sqlite":
        options["connect_args"] = {"timeout": float(sqlite_timeout)}
    # As oslo.db: connection_debug sets the level of SQLAlchemy's logger,
    # whose records reach the handlers that mask passwords (output.py).
    logging.getLogger("sqlalchemy.engine").setLevel(
        database.engine_log_level())
    try:
        engine = sqlalchemy.create_engine(
            parsed, poolclass=NullPool,
            pool_recycle=database.connection_recycle_time, **options)
    except exc.NoSuchModuleError:
        raise errors.ConfigError(
            f"unknown database type {parsed.drivername!r} in the "
            f"connection URL") from None
    except (ValueError, TypeError) as error:
        # A query parameter of the wrong kind (?connect_timeout=x).
        raise errors.ConfigError(
            f"a parameter of the connection URL{_added(database)} is not "
            f"valid: {error}") from None
    except ImportError as error:
        hint = ""
        if parsed.get_backend_name() == "postgresql":
            hint = " (pip install 'solum-db-manage[postgresql]')"
        raise errors.ConfigError(
            f"the database driver for {parsed.drivername} is not "
            f"installed: {error}{hint}") from None
    connector = _dialect_connect
    if engine.dialect.name == "mysql":
        if engine.dialect.driver == "pymysql":
            connector = _pymysql_connect
        event.listen(engine, "connect",
                     functools.partial(_prepare_mysql_session, database))
    elif engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_own_transactions)
        event.listen(engine, "begin", _sqlite_begin)
    if engine.dialect.name != "sqlite":
        event.listen(engine, "do_connect", _connecting(
            connector, database, _shown(engine.url)))
    return engine


def _dialect_connect(dialect, connection_record, cargs, cparams):
    return dialect.connect(*cargs, **cparams)


def _connecting(connector, database, shown):
    """A do_connect handler: ``connector``, tried ``max_retries`` times
    ``retry_interval`` apart while the server is not up yet."""
    import time

    def connect(dialect, connection_record, cargs, cparams):
        attempts = database.attempts()
        attempt = 1
        while True:
            try:
                return connector(dialect, connection_record, cargs, cparams)
            except (ValueError, TypeError) as error:
                # A parameter of the wrong name or kind (connect_timeout=x).
                raise errors.ConfigError(
                    f"cannot connect to the database {shown}: a parameter "
                    f"of the connection URL{_added(database)} is not "
                    f"valid: {error}") from error
            except dialect.loaded_dbapi.Error as error:
                if (attempt == attempts
                        or not _server_not_up(dialect, error)):
                    raise
                refused = " ".join(str(error).split())
            # Logged outside the except clause: oslo.log's formatter would
            # add the exception being handled to the line.
            left = attempts - attempt if attempts is not None else None
            LOG.warning(
                "cannot connect to the database %s yet: %s; trying again in "
                "%s s (max_retries: %s)", shown, refused,
                database.retry_interval,
                "no limit" if left is None else
                f"{left} attempt{'s' if left > 1 else ''} left")
            time.sleep(database.retry_interval)
            attempt += 1

    return connect


def _added(database):
    """Where a URL parameter may come from besides the URL itself."""
    return (" or of [database] connection_parameters"
            if database.connection_parameters else "")


# PyMySQL's "can't connect" (socket, TCP), "server has gone away" and "lost
# connection" (a server still starting may close the handshake).
_MYSQL_NOT_UP = {2002, 2003, 2006, 2013}
# PostgreSQL's cannot_connect_now: "the database system is starting up".
_POSTGRESQL_NOT_UP = "57P03"


def _server_not_up(dialect, error):
    """True where the server is not accepting connections (yet), as
    opposed to refusing this one (password, database, rights)."""
    if dialect.name == "mysql":
        return bool(error.args) and error.args[0] in _MYSQL_NOT_UP
    if dialect.name == "postgresql":
        # Without a server's answer (refused, unreachable), no SQLSTATE.
        state = getattr(error, "sqlstate", None)
        return (isinstance(error, dialect.loaded_dbapi.OperationalError)
                and state in (None, _POSTGRESQL_NOT_UP))
    return False




def _pymysql_connect(dialect, connection_record, cargs, cparams):
    _require_latin1_password(cparams)
    return _pymysql_connection_class()(*cargs, **cparams)


def _require_latin1_password(cparams):
    """PyMySQL sends a password as Latin-1: say so for one it cannot."""
    for key in ("password", "passwd"):
        password = cparams.get(key)
        if not isinstance(password, str):
            continue
        try:
            password.encode("latin-1")
        except UnicodeEncodeError:
            # Not echoed, not even the one character: it is the password.
            if any("\udc80" <= c <= "\udcff" for c in password):
                raise errors.ConfigError(
                    "the password in the database connection URL holds "
                    "bytes that are not UTF-8 text") from None
            raise errors.ConfigError(
                "the password in the database connection URL holds "
                "characters that PyMySQL cannot send: it sends MySQL/MariaDB "
                "passwords as Latin-1 (ISO 8859-1) bytes, and Solum's "
                "services use PyMySQL too; give the database user a "
                "password of Latin-1 characters (ASCII is safest)") from None


_SHARED_TLS = {}


@functools.cache
def _pymysql_connection_class():
    import pymysql.connections

    class Connection(pymysql.connections.Connection):
        """PyMySQL's connection, with one TLS context for the process.

        Given no ssl option, PyMySQL 1.2 tries TLS on every connection
        (and falls back where the server has none), building a new
        default SSLContext each time: 20 ms of loading CA certificates,
        twice per command (the lock's connection and the migration's), as
        much as creating the whole schema. SSLContext is made to be
        shared; explicit ssl options still get their own.
        """

        def _create_ssl_ctx(self, sslp):
            if sslp != {}:
                return super()._create_ssl_ctx(sslp)
            if "default" not in _SHARED_TLS:
                _SHARED_TLS["default"] = super()._create_ssl_ctx({})
            return _SHARED_TLS["default"]

    return Connection


def _sqlite_own_transactions(dbapi_connection, connection_record):
    # Python's sqlite3 commits before every DDL statement on its own, so a
    # revision failing half-way would stay half-applied. Take over: no
    # implicit transactions, and BEGIN where SQLAlchemy begins one.
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection):
    options = connection.get_execution_options()
    if options.get("isolation_level") != "AUTOCOMMIT":
        # A migrating connection takes the write lock at BEGIN: SQLite
        # waits (its busy timeout) only for a transaction that holds no
        # lock yet; one that read first fails at once on another writer.
        connection.exec_driver_sql(
            "BEGIN IMMEDIATE" if options.get(_SQLITE_WRITER) else "BEGIN")


_SQLITE_WRITER = "solum_sqlite_writer"


def sqlite_busy(error):
    """True for SQLite's "database is locked" (SQLITE_BUSY, SQLITE_LOCKED)."""
    orig = getattr(error, "orig", error)
    code = getattr(orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (5, 6)


def _prepare_mysql_session(database, dbapi_connection, connection_record):
    """The session's sql_mode and, on a Galera node, its sync wait."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SHOW VARIABLES WHERE Variable_name IN "
                       "('wsrep_on', 'wsrep_sync_wait')")
        variables = {str(name).lower(): str(value)
                     for name, value in cursor.fetchall()}
        names, values = [], []
        if database.mysql_sql_mode:
            names.append("sql_mode = %s")
            values.append(database.mysql_sql_mode)
        # On a Galera node, read what other nodes committed before us.
        wait = database.sets_sync_wait(
            variables.get("wsrep_on", "").upper() == "ON")
        if wait is not None and "wsrep_sync_wait" in variables:
            names.append("wsrep_sync_wait = %s")
            values.append(wait)
        if names:
            cursor.execute("SET SESSION " + ", ".join(names), values)
    finally:
        cursor.close()


def open_connection(engine, **options):
    """Connect, turning a refusal into one clear error."""
    from sqlalchemy import exc

    try:
        connection = engine.connect()
    except exc.DBAPIError as error:
        raise errors.SolumDBManageError(
            f"cannot connect to the database {_shown(engine.url)}: "
            f"{error.orig}") from error
    except (ValueError, TypeError) as error:
        # A connection parameter of the wrong kind (connect_timeout=x).
        raise errors.ConfigError(
            f"cannot connect to the database {_shown(engine.url)}: a "
            f"parameter of the connection URL is not valid: {error}"
        ) from error
    if options:
        connection.execution_options(**options)
    return connection


def _shown(url):
    """The URL without its password, for messages."""
    try:
        return url.render_as_string(hide_password=True)
    except UnicodeError:
        return "(a URL holding bytes that are not UTF-8)"


def _limit_lock_waits(connection, seconds):
    """Bound how long one statement waits for a lock (issue: DDL waits)."""
    name = connection.dialect.name
    if name == "mysql":
        connection.exec_driver_sql(
            f"SET SESSION lock_wait_timeout = {int(seconds)}, "
            f"innodb_lock_wait_timeout = {int(seconds)}")
    elif name == "postgresql":
        connection.exec_driver_sql(
            f"SET SESSION lock_timeout = '{int(seconds * 1000)}ms'")
    else:
        return
    connection.commit()


@contextlib.contextmanager
def connect(config, read_only=False):
    """Open the connection that env.py runs on, through config.attributes.

    Whatever the commands leave in a transaction is committed when they
    succeed and rolled back when they fail. ``read_only`` commands do not
    create a SQLite file that does not exist: they read an empty database
    instead.
    """
    url = config.attributes["url"]
    if read_only and _missing_sqlite_file(url):
        config.attributes["missing_file"] = parse_url(url).database
        url = "sqlite://"
    seconds = config.attributes.get("ddl_lock_timeout")
    engine = create_engine(url, sqlite_timeout=seconds,
                           database=config.attributes.get("database"))
    LOG.debug("Connecting to %s", _shown(engine.url))
    try:
        with open_connection(engine) as connection:
            if (seconds is not None and engine.dialect.name == "sqlite"
                    and not read_only):
                # --plan (read-only, with the run's options) only reads.
                connection.execution_options(**{_SQLITE_WRITER: True})
            seconds = config.attributes.get("ddl_lock_timeout")
            if seconds:
                _limit_lock_waits(connection, seconds)
            config.attributes["connection"] = connection
            try:
                yield connection
                if connection.in_transaction():
                    connection.commit()
            finally:
                config.attributes.pop("connection", None)
    finally:
        engine.dispose()


def _missing_sqlite_file(url):
    import os

    parsed = parse_url(url)
    path = parsed.database
    # A missing directory stays an error: that path cannot be created.
    return (parsed.get_backend_name() == "sqlite" and bool(path)
            and path != ":memory:" and not path.startswith("file:")
            and not os.path.exists(path)
            and os.path.isdir(os.path.dirname(os.path.abspath(path))))
