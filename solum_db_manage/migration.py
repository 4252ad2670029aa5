"""One function per command, named and shaped like ``alembic.command``.

Each takes a :class:`Settings` (what the command line gives) or the Alembic
``Config`` built by :func:`make_config`, and plain values; release names
are accepted wherever a revision is. Commands that need Alembic build its
Config from the Settings on first use (:func:`alembic_config`): ``version``,
``check`` below head and ``upgrade`` of an empty database never import it.
"""

import contextlib
import functools
import logging
import sys

from solum_db_manage import errors, output, releases

LOG = logging.getLogger("solum_db_manage")

SCRIPT_LOCATION = "solum_db_manage:alembic_migrations"

# Schemes whose default DBAPI we do not ship: use the one we depend on.
_DEFAULT_DRIVERS = {
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
}


def scripts_path():
    """The directory of the migration scripts (SCRIPT_LOCATION)."""
    import importlib
    import os

    package, colon, path = SCRIPT_LOCATION.partition(":")
    if not colon or os.sep in package:
        return SCRIPT_LOCATION
    root = os.path.dirname(importlib.import_module(package).__file__)
    return os.path.join(root, *path.split("/"))


def make_config(url, stdout=None, attributes=None):
    """Build the Alembic Config: our scripts, the URL, our stdout.

    ``attributes``, if given, becomes the Config's attributes dict itself
    (not a copy), as :class:`Settings` shares its own with env.py.
    """
    from alembic.config import Config

    config = Config(stdout=stdout or sys.stdout)
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if attributes is not None:
        # Config.attributes is computed once and cached on the instance.
        config.attributes = attributes
    # The URL goes through attributes, not the ini options: those
    # interpolate "%", which URL-encoded passwords contain.
    config.attributes["url"] = url
    return config


class Settings:
    """What a command runs with, without Alembic: the URL, stdout, and the
    attributes env.py reads (connection, lock, options).

    The Alembic Config is built from it, sharing those attributes, only by
    the commands that run Alembic (:func:`alembic_config`).
    """

    def __init__(self, url, stdout=None):
        self.stdout = stdout or sys.stdout
        self.attributes = {"url": url}
        self._alembic = None

    def print_stdout(self, text, *arg):
        """Write one line to stdout, as Alembic's Config.print_stdout."""
        output = str(text) % arg if arg else str(text)
        encoding = getattr(self.stdout, "encoding", "ascii") or "ascii"
        for part in (output, "\n"):
            try:
                self.stdout.write(part.encode(encoding, "replace").decode(
                    encoding))
            except OSError:
                break   # a closed pipe, as Alembic ignores it

    def alembic_config(self):
        if self._alembic is None:
            self._alembic = make_config(
                self.attributes["url"], stdout=self.stdout,
                attributes=self.attributes)
        return self._alembic


def alembic_config(config):
    """The Alembic Config of ``config`` (Settings or Config)."""
    return config.alembic_config() if isinstance(config, Settings) else config


def script_directory(config):
    """The migration scripts, loaded through Alembic."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(config))


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


def _sqlite_file(url):
    from solum_db_manage import lock

    return lock.sqlite_path(parse_url(url).database or "")


def _masked_by_cleanup(error):
    """The error a batch operation's cleanup hid, or ``error`` itself.

    Where a SQLite table rebuild fails (a full disk), Alembic drops its
    copy ``_alembic_tmp_<table>``, which the failure already rolled back:
    "no such table" then replaces the real cause.
    """
    from sqlalchemy import exc

    statement = (error.statement or "").lstrip().upper()
    if not (statement.startswith("DROP TABLE")
            and "_ALEMBIC_TMP_" in statement):
        return error
    # SQLAlchemy raises its error from the driver's, which was raised
    # while the first failure was being handled.
    for link in _chain(error):
        if isinstance(link, exc.DBAPIError) and link is not error:
            return link
    return error


def _chain(error, depth=6):
    """The exceptions ``error`` was raised from or while handling."""
    found, todo = [], [error]
    while todo and len(found) < depth:
        link = todo.pop(0)
        for cause in (link.__cause__, link.__context__):
            if cause is not None and all(cause is not f for f in found):
                found.append(cause)
                todo.append(cause)
    return found


def _write_failure(path):
    """Why writing the SQLite file failed, as far as the process can tell."""
    import resource

    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if limit != resource.RLIM_INFINITY:
        return (f"the file-size limit of this process (ulimit -f, "
                f"RLIMIT_FSIZE) is {limit} bytes, too small for the SQLite "
                f"database {path} or its journal")
    import os

    try:
        info = os.statvfs(os.path.dirname(os.path.abspath(path)))
        free = f"; {info.f_bavail * info.f_frsize} bytes are free now"
    except OSError:
        free = ""
    return (f"the filesystem holding the SQLite database {path} is full, or "
            f"the disk failed (see the system log){free}")


@contextlib.contextmanager
def _explaining_sqlite_failures(url, seconds):
    """Name the real cause of a SQLite migration failure: another process
    holding the file, a full disk, a file-size limit."""
    from sqlalchemy import exc

    try:
        yield
    except exc.DBAPIError as raised:
        if parse_url(url).get_backend_name() != "sqlite":
            raise
        error = _masked_by_cleanup(raised)
        code = getattr(error.orig, "sqlite_errorcode", None)
        if sqlite_busy(error):
            raise errors.SolumDBManageError(
                f"another process has a transaction open on the SQLite "
                f"database {_sqlite_file(url)} (a writer, or a reader while "
                f"a revision commits); a migration "
                f"statement waited {float(seconds):g} s for it "
                f"(--ddl-lock-timeout) and did not run: its revision was "
                f"rolled back whole, revisions finished before it stay "
                f"applied ('solum-db-manage check' tells where the database "
                f"is). Run the command again once that process has "
                f"finished.") from error
        if code is not None and code & 0xFF in (10, 13):   # IOERR, FULL
            statement = " ".join((error.statement or "").split())[:200]
            raise errors.SolumDBManageError(
                f"database error: {error.orig}: "
                f"{_write_failure(_sqlite_file(url))}. The revision in "
                f"progress was rolled back whole; revisions finished before "
                f"it stay applied. [SQL: {statement}]") from error
        if error is not raised:
            raise error from None
        raise


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


@contextlib.contextmanager
def locked(config, command):
    """Hold the migration lock, then connect: see lock.py."""
    from solum_db_manage import lock

    held = lock.MigrationLock(
        config.attributes["url"], command,
        timeout=config.attributes.get("lock_timeout", lock.DEFAULT_TIMEOUT),
        lease=lock.lease_term(
            config.attributes.get("lock_lease", lock.DEFAULT_LEASE),
            config.attributes.get("ddl_lock_timeout")),
        report=_report)
    with held.held():
        config.attributes["lock"] = held
        try:
            with (connect(config) as connection,
                  _explaining_sqlite_failures(
                      config.attributes["url"],
                      config.attributes.get("ddl_lock_timeout", 5))):
                held.register(connection)
                yield connection, held
        finally:
            config.attributes.pop("lock", None)


def unlock(config):
    """Clear the lock of a run that is gone: see lock.unlock."""
    from solum_db_manage import lock

    config.print_stdout(lock.unlock(config.attributes["url"]))


def _report(line, level=logging.INFO):
    LOG.log(level, "%s", line)


def current_heads(connection):
    """The revisions the database records: () when it has no tracking."""
    from solum_db_manage import diagnose

    return diagnose.current_heads(connection)


_REVISION_REQUIRED = {
    "downgrade": "downgrade needs a target revision, for example "
                 "'downgrade -1' or 'downgrade kilo'; 'downgrade base' "
                 "drops every Solum table and must be asked for by name",
    "stamp": "stamp needs a revision, for example 'stamp icehouse' or "
             "'stamp head'",
}


def require_revision(command, revision):
    """Refuse to guess the revision of a command that could lose data.

    The original went to base (downgrade) or emptied the version table
    (stamp) when the revision was left out.
    """
    if not revision and command in _REVISION_REQUIRED:
        raise errors.UsageError(_REVISION_REQUIRED[command])


def version(config):
    """Print the current database revision, as the original did.

    A note on stderr says what ``check`` would find, where the version
    alone misleads (no tracking, an unknown or pre-squash revision, a
    schema that is not the revision's, a run going on).
    """
    from solum_db_manage import diagnose

    with connect(config, read_only=True) as connection:
        # The schema is compared (table and column names, from chain.py),
        # not the models: no Alembic.
        found = diagnose.diagnose(connection, models=False)
    if found.state == "corrupt":
        raise errors.SolumDBManageError(" ".join(found.lines()),
                                        exit_code=found.status)
    described = []
    for head in found.recorded:
        release = releases.describe(head)
        described.append(f"{head} ({release})" if release else head)
    config.print_stdout(
        "Current DB revision is %s", ", ".join(described) or "None")
    if _misleads(found):
        for line in found.lines():
            LOG.warning("%s", line)


def _misleads(found):
    """True where the recorded revision alone does not say the state."""
    if found.state in ("current", "behind"):
        return bool(found.differences or found.notes)
    if found.state == "empty":
        return found.built is None or bool(found.built)
    return True


def check(config, as_json=False):
    """Print the database's state; return its exit status (see errors)."""
    import json

    from solum_db_manage import diagnose

    with connect(config, read_only=True) as connection:
        found = diagnose.diagnose(connection)
    missing = config.attributes.get("missing_file")
    if missing:
        found.notes.append(
            f"The SQLite file {missing} does not exist (yet); 'upgrade "
            f"head' creates it.")
    if as_json:
        config.print_stdout(json.dumps(found.as_dict(), sort_keys=True))
    else:
        for line in found.lines():
            config.print_stdout(line)
    return found.status


def _refuse(found, command):
    """Stop before a command that cannot go well from this state."""
    if (found.state in ("newer", "untracked", "mismatch", "corrupt")
            and command not in found.allows):
        raise errors.SolumDBManageError(
            f"{command} refused, nothing was changed: "
            + " ".join(found.lines()), exit_code=found.status,
            details=[f"{command} refused, nothing was changed:",
                     *found.lines()])
    if found.state == "interrupted":
        LOG.warning("%s Completing it.", found.lock.describe()
                    if found.lock else found.message)


_PRE_SQUASH_INSTEAD = {
    "upgrade": "'{prog} upgrade head' reaches the newest schema, and "
               "'{prog} check' says where the database is",
    "downgrade": "the oldest schema a release had is icehouse: "
                 "'{prog} downgrade icehouse' ('downgrade base' drops every "
                 "Solum table)",
    "stamp": "'{prog} check' names the revision whose schema the database "
             "holds, and the stamp to run",
    "show": "'{prog} show {squashed}' shows the revision they became",
    "history": "'{prog} history -r base:{squashed}' shows the revisions "
               "they became",
}


def refuse_pre_squash(command, spec):
    """Name a revision the 2014 squash removed, and what works instead."""
    squashed = releases.pre_squash(spec)
    if squashed is None:
        return
    instead = _PRE_SQUASH_INSTEAD[command].format(
        prog=PROG, squashed=releases.SQUASHED_INTO)
    raise errors.SolumDBManageError(
        f"{releases.describe_pre_squash(squashed)}; {instead}.")


PROG = "solum-db-manage"


def _target(script, spec):
    """The revision id ``spec`` names ("" for base), or None where it is
    relative (``+1``, ``kilo-1``: counted from the database) or several."""
    import re

    if re.search(r"[+\-][0-9]+$", spec or ""):
        return None
    if spec == "base":
        return ""
    try:
        revisions = [rev for rev in script.get_revisions(spec)
                     if rev is not None]
    except Exception:
        # Alembic's own call (upgrade, downgrade) says what is wrong.
        return None
    return revisions[0].revision if len(revisions) == 1 else None


def _order(revision):
    """Position of a revision in the chain: base ("") is -1."""
    from solum_db_manage import chain

    return chain.current().revisions.index(revision) if revision else -1


def _is_past(config, connection, found, spec, direction, asked=None):
    """Where ``spec`` lies the other way from the database: a message.

    ``direction`` is 1 for upgrade (a target older than the database) and
    -1 for downgrade (a target newer than it); None where it is not.
    """
    from solum_db_manage import chain

    if len(found.recorded) != 1:
        return None
    at = found.recorded[0]
    target = _target(script_directory(config), spec)
    known = chain.current().revisions
    if target is None or at not in known or (target and target not in
                                              known):
        return None
    if (_order(target) - _order(at)) * direction >= 0:
        return None
    name = _described(target) if target else "base"
    if direction == 1:
        return (f"Nothing to do: the database is at {_described(at)}, "
                f"later than {name}, and upgrade never goes back; "
                f"'{PROG} downgrade {asked or target or 'base'}' would.")
    return (f"downgrade refused, nothing was changed: the database is at "
            f"{_described(at)}, earlier than {name}, and downgrade never "
            f"goes forward; '{PROG} upgrade {asked or target}' would.")


def _described(revision):
    release = releases.describe(revision)
    return f"{revision} ({release})" if release else revision


def _nothing_to_do(config, connection):
    heads = current_heads(connection)
    at = ", ".join(f"{h} ({releases.describe(h)})" if releases.describe(h)
                   else h for h in heads) or "base (no version)"
    config.print_stdout(
        "Nothing to do: the database is already at %s.", at)


def upgrade(config, revision="head", sql=False):
    """Upgrade the database to a later revision, holding the lock.

    An empty database upgraded to head gets the head schema directly
    (fresh.py) instead of the walk through every revision.
    """
    from solum_db_manage import diagnose

    refuse_pre_squash("upgrade", revision)
    asked, revision = revision, releases.resolve(revision)
    if sql:
        from alembic import command

        _check_offline(config)
        command.upgrade(alembic_config(config), revision, sql=True)
        return
    with locked(config, f"upgrade {revision}") as (connection, held):
        found = diagnose.diagnose(connection, models=False,
                                  own_lock=held.token,
                                  previous=held.previous)
        _refuse(found, "upgrade")
        fast = (found.built is not None
                and revision in diagnose.head_targets(found.head))
        LOG.debug("Fresh-install fast path: %s", "tried" if fast else
                  "not taken (not an empty database upgraded to head)")
        if fast and _build_head(connection, held, found):
            return
        from alembic import command

        from solum_db_manage import dataloss

        older = _is_past(config, connection, found, revision, 1, asked)
        if older:
            connection.rollback()
            config.print_stdout(older)
            return
        normalised = _normalise(connection, held, found)
        script = script_directory(config)
        steps = script._upgrade_revs(revision, tuple(found.recorded))
        _debug_plan("upgrade", revision, steps)
        dataloss.review(connection, dataloss.steps_of(steps), revision)
        # Cut values a narrowed column cannot hold, as warned.
        config.attributes["truncate"] = True
        # End the transaction the checks' reads began: Alembic commits
        # each revision on its own only on a connection not in one.
        connection.rollback()
        if not steps:
            if normalised:
                config.print_stdout(
                    "Normalised the schema the original Solum left; the "
                    "database is at %s.", ", ".join(found.recorded))
            else:
                _nothing_to_do(config, connection)
            return
        held.changing = True
        command.upgrade(alembic_config(config), revision)


def _debug_plan(command, revision, steps):
    LOG.debug("Plan: %s %s walks %d revisions%s", command, revision,
              len(steps), ": " + ", ".join(
                  step.revision.revision for step in steps) if steps else "")


def _normalise(connection, held, found):
    """Turn the parts of the schema in the original Solum's form into this
    tool's form (forms.py), before any revision runs: the first step of
    every upgrade, also of a database recorded at head. True if it
    changed anything."""
    from solum_db_manage import forms

    if not found.forms:
        return False
    held.changing = True
    changed = forms.normalise(connection)
    held.verify()
    connection.commit()
    for difference in changed:
        LOG.info("Normalised the original Solum's form: %s.", difference)
    return bool(changed)


def _build_head(connection, held, found):
    """The fresh-install fast path: True if it built the head schema.

    On a database diagnosed empty (or holding what a cut-short run of
    this path left), in the transaction the diagnosis began; with nothing
    to lose, there is no destructive step to review. Where the models are
    not of the scripts' head (a revision being written), or the database
    is not fresh after all, nothing is changed and the chain runs instead.
    """
    from solum_db_manage import chain, fresh

    # The models are of the shipped chain's head.
    if found.head != chain.HEAD:
        return False
    held.changing = True
    head = fresh.build_head(connection, resume=bool(found.built))
    if head is None:
        held.changing = False
        connection.rollback()
        return False
    # Renewed just before (register); a write here would come between
    # the build and its commit.
    held.verify(renew=False)
    connection.commit()
    LOG.info("Created the head schema %s directly: the database was "
             "empty, so no revision was walked.", head)
    return True


def downgrade(config, revision, sql=False, force=False):
    """Revert the database to an earlier revision, holding the lock.

    A downgrade that would lose data is refused unless ``force``.
    """
    from alembic import command

    from solum_db_manage import dataloss, diagnose

    require_revision("downgrade", revision)
    refuse_pre_squash("downgrade", revision)
    asked, revision = revision, releases.resolve(revision)
    if sql:
        _check_offline(config)
        command.downgrade(alembic_config(config), revision, sql=True)
        return
    with locked(config, f"downgrade {revision}") as (connection, held):
        found = diagnose.diagnose(connection, models=False,
                                  own_lock=held.token,
                                  previous=held.previous)
        _refuse(found, "downgrade")
        newer = _is_past(config, connection, found, revision, -1, asked)
        if newer:
            connection.rollback()
            raise errors.SolumDBManageError(newer)
        script = script_directory(config)
        steps = script._downgrade_revs(revision, tuple(found.recorded))
        _debug_plan("downgrade", revision, steps)
        dataloss.review(connection, dataloss.steps_of(steps), revision,
                        force=force)
        config.attributes["truncate"] = force
        connection.rollback()
        if not steps:
            _nothing_to_do(config, connection)
            return
        held.changing = True
        command.downgrade(alembic_config(config), revision)


def stamp(config, revision, sql=False, purge=False, force=False):
    """Record a revision without running migrations, holding the lock.

    Refused, changing nothing, where the live schema lacks tables or
    columns of the revision's schema (it would record more than exists),
    unless ``force``; ``stamp base`` always runs.
    """
    from alembic import command

    from solum_db_manage import diagnose

    require_revision("stamp", revision)
    refuse_pre_squash("stamp", revision)
    asked, revision = revision, releases.resolve(revision)
    if sql:
        command.stamp(alembic_config(config), revision, sql=True,
                      purge=purge)
        return
    with locked(config, f"stamp {revision}") as (connection, held):
        script = script_directory(config)
        wanted = {rev.revision for rev in script.get_revisions(revision)
                  if rev is not None}
        recorded = _stamp_reads(connection, purge)
        if not purge:
            _refuse_unknown_recorded(connection, recorded, held)
        if wanted == recorded:
            connection.rollback()
            _nothing_to_do(config, connection)
            return
        for wanted_revision in sorted(wanted):
            refusal = diagnose.stamp_refusal(
                connection, wanted_revision, sorted(recorded),
                script.get_current_head())
            if refusal is None:
                continue
            if force:
                LOG.warning("Stamping anyway (--force): %s",
                            " ".join(refusal.lines()[:2]))
                continue
            connection.rollback()
            # Before the repair: scripts read the repair off the end.
            refusal.notes.append(
                f"'{PROG} stamp --force {asked}' records it anyway.")
            raise errors.SolumDBManageError(
                "stamp refused, nothing was changed: "
                + " ".join(refusal.lines()), exit_code=refusal.status)
        connection.rollback()
        held.changing = True
        command.stamp(alembic_config(config), revision, purge=purge)


def _stamp_reads(connection, purge):
    """The revisions recorded, for stamp. A corrupt version table is
    refused, with the repair, but by ``stamp --purge``, which empties it
    first (unless the table itself is wrong: no text column)."""
    from solum_db_manage import diagnose

    try:
        return set(current_heads(connection))
    except diagnose.CorruptVersionTable as error:
        if purge and not error.retype:
            return set()
        found = diagnose.corrupt(connection, error)
        raise errors.SolumDBManageError(
            "stamp refused, nothing was changed: " + " ".join(found.lines()),
            exit_code=found.status) from None


def revision(config, message=None, autogenerate=False):
    """Write a new migration script into the package's versions/.

    Refused, writing nothing, where versions/ belongs to an installed
    package or cannot be written; a script that does not load is removed
    (see authoring.py).
    """
    from alembic import command

    from solum_db_manage import authoring

    scripts = scripts_path()
    authoring.refuse_unsafe_location(scripts)
    with authoring.removing_new_scripts(scripts):
        if not autogenerate:
            command.revision(alembic_config(config), message=message)
            return
        with connect(config):
            script = command.revision(
                alembic_config(config), message=message, autogenerate=True,
                process_revision_directives=authoring.skip_empty_revision)
    if not script:
        config.print_stdout("No changes in schema detected.")


def current(config, verbose=False):
    """Print the revision(s) the database records, as Alembic does."""
    from alembic import command

    with connect(config, read_only=True) as connection:
        # A corrupt version table: the same line as version's.
        from solum_db_manage import diagnose

        try:
            recorded = current_heads(connection)
        except diagnose.CorruptVersionTable as error:
            found = diagnose.corrupt(connection, error)
            raise errors.SolumDBManageError(
                " ".join(found.lines()), exit_code=found.status) from None
        _refuse_unknown_recorded(connection, recorded)
        command.current(alembic_config(config), verbose=verbose)


def _refuse_unknown_recorded(connection, recorded, held=None):
    """Alembic cannot read a revision its scripts lack (a pre-squash id,
    a newer release's): say what ``check`` says of it instead, with its
    exit status, before Alembic's bare "No such revision". ``held``: the
    lock this run holds (stamp), which is no sign of another run."""
    from solum_db_manage import chain, diagnose

    known = set(chain.current().revisions)
    if all(revision in known for revision in recorded):
        return
    found = diagnose.diagnose(
        connection, models=False, own_lock=held and held.token,
        previous=held and held.previous)
    prefix = "stamp refused, nothing was changed: " if held else ""
    if held and not found.repair:
        found.notes.append(
            f"'{PROG} stamp --purge REV' replaces what it records.")
    raise errors.SolumDBManageError(
        prefix + " ".join(found.lines()), exit_code=found.status)


def history(config, rev_range=None, verbose=False):
    """List the migration scripts in order."""
    from alembic import command

    refuse_pre_squash("history", rev_range)
    command.history(alembic_config(config),
                    rev_range=releases.resolve(rev_range), verbose=verbose)


def heads(config, verbose=False):
    """Show the head revision(s) of the scripts."""
    from alembic import command

    command.heads(alembic_config(config), verbose=verbose)


def branches(config, verbose=False):
    """Show the branch points of the scripts."""
    from alembic import command

    command.branches(alembic_config(config), verbose=verbose)


def show(config, revision):
    """Show one revision."""
    from alembic import command

    refuse_pre_squash("show", revision)
    command.show(alembic_config(config), releases.resolve(revision))


def _check_offline(config):
    if dialect_name(config.attributes["url"]) == "sqlite":
        raise errors.SolumDBManageError(
            "--sql cannot render upgrades or downgrades for SQLite: "
            "several steps rebuild tables, which needs the live schema; "
            "run the command without --sql")
