"""The database: connection URLs, engines, connections and the two tables
of our own.

An engine is made as Solum's services made theirs (no pool, MySQL strict
mode, the drivers this package depends on), with the session settings a
migration needs: SQLite's own transactions (BEGIN, BEGIN IMMEDIATE for a
writer), Galera's sync wait, bounded lock waits (--ddl-lock-timeout).
:func:`current_heads` reads the version table without Alembic.

Nothing here imports SQLAlchemy before it connects: ``-h`` stays fast.
"""

import contextlib
import functools
import logging
import re

from solum_db_manage import errors, output

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


def create_engine(url, sqlite_timeout=None):
    """An engine as Solum's services had it: no pool, MySQL strict mode.

    ``sqlite_timeout``: how long SQLite waits for another process's write
    lock on the file (its busy timeout; Python's default is 5 s).
    """
    import sqlalchemy
    from sqlalchemy import event, exc
    from sqlalchemy.pool import NullPool

    parsed = parse_url(url)
    options = {}
    if sqlite_timeout is not None and parsed.get_backend_name() == "sqlite":
        options["connect_args"] = {"timeout": float(sqlite_timeout)}
    try:
        engine = sqlalchemy.create_engine(parsed, poolclass=NullPool,
                                          **options)
    except exc.NoSuchModuleError:
        raise errors.ConfigError(
            f"unknown database type {parsed.drivername!r} in the "
            f"connection URL") from None
    except (ValueError, TypeError) as error:
        # A query parameter of the wrong kind (?connect_timeout=x).
        raise errors.ConfigError(
            f"a parameter of the connection URL is not valid: {error}"
        ) from None
    except ImportError as error:
        hint = ""
        if parsed.get_backend_name() == "postgresql":
            hint = " (pip install 'solum-db-manage[postgresql]')"
        raise errors.ConfigError(
            f"the database driver for {parsed.drivername} is not "
            f"installed: {error}{hint}") from None
    if engine.dialect.name == "mysql":
        if engine.dialect.driver == "pymysql":
            event.listen(engine, "do_connect", _pymysql_connect)
        event.listen(engine, "connect", _prepare_mysql_session)
    elif engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_own_transactions)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


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


def _prepare_mysql_session(dbapi_connection, connection_record):
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET SESSION sql_mode = 'TRADITIONAL'")
        # On a Galera node, read what other nodes committed before us.
        cursor.execute("SHOW VARIABLES LIKE 'wsrep_on'")
        row = cursor.fetchone()
        if row and str(row[1]).upper() == "ON":
            cursor.execute("SET SESSION wsrep_sync_wait = 1")
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
    engine = create_engine(url, sqlite_timeout=seconds)
    LOG.debug("Connecting to %s", _shown(engine.url))
    try:
        with open_connection(engine) as connection:
            if seconds is not None and engine.dialect.name == "sqlite":
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


# --- the version table -----------------------------------------------------

# More rows than any version table of a one-head chain can hold rightly;
# reading stops there, so a table stuffed with rows costs no memory.
_MAX_VERSION_ROWS = 100


_REVISION_ID = re.compile(r"[A-Za-z0-9_]+")


class CorruptVersionTable(errors.SolumDBManageError):
    """alembic_version holds what no revision id is (see current_heads)."""

    exit_code = errors.EXIT_MISMATCH

    def __init__(self, problems, retype=False):
        self.problems = problems
        # The table itself must be made again (no version_num text
        # column): 'stamp --purge' cannot write a revision id into it.
        self.retype = retype
        super().__init__(
            f"The version table {VERSION_TABLE} is corrupt: "
            + "; ".join(problems) + ".")


def _shown_value(value):
    text = repr(value)
    return text if len(text) <= 48 else text[:45] + "..."


def _value_problem(value):
    """What is wrong with one version_num value, or None."""
    if value is None:
        return "a row holds NULL"
    if not isinstance(value, str):
        return (f"a row holds {_shown_value(value)} (of type "
                f"{type(value).__name__}), not a revision id")
    if value == "":
        return "a row holds '' (an empty string)"
    stripped = value.strip()
    if value != stripped:
        before = len(value) - len(value.lstrip())
        after = len(value) - len(value.rstrip())
        return (f"a row holds {_shown_value(stripped)} padded with "
                f"whitespace ({before} characters before it, {after} "
                f"after)")
    if not _REVISION_ID.fullmatch(value) or value.isdigit():
        return f"a row holds {_shown_value(value)}, not a revision id"
    return None


def current_heads(connection):
    """The revisions the database records: () when it has no tracking.

    What Alembic's MigrationContext.get_current_heads() reads, without
    loading Alembic. Raises CorruptVersionTable where a row holds no
    revision id (NULL, an integer, '', an id padded with spaces) or the
    table has no text column version_num: such a row is no revision,
    known or newer, and Alembic would fail on it half-way.
    """
    import sqlalchemy as sa

    inspector = sa.inspect(connection)
    if not inspector.has_table(VERSION_TABLE):
        return ()
    column = {c["name"]: c for c in inspector.get_columns(VERSION_TABLE)
              }.get("version_num")
    if column is None:
        raise CorruptVersionTable(
            ["it has no column version_num"], retype=True)
    text = isinstance(column["type"], sa.String)
    values = connection.exec_driver_sql(
        f"SELECT version_num FROM {VERSION_TABLE}").fetchmany(
            _MAX_VERSION_ROWS + 1)
    values = [row[0] for row in values]
    problems = []
    if len(values) > _MAX_VERSION_ROWS:
        problems.append(f"it holds more than {_MAX_VERSION_ROWS} rows")
    for value in values:
        problem = _value_problem(value)
        if problem and problem not in problems:
            problems.append(problem)
    if not text:
        problems.append(f"its column version_num is {column['type']}, "
                        f"not text")
    if problems:
        raise CorruptVersionTable(problems[:5], retype=not text)
    return tuple(values)


def live_fingerprint(connection):
    """Per table (but our own), the set of its column names."""
    import sqlalchemy as sa

    inspector = sa.inspect(connection)
    return {
        table: frozenset(c["name"] for c in inspector.get_columns(table))
        for table in inspector.get_table_names()
        if table not in OWN_TABLES
    }
