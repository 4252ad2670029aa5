"""One function per command, named and shaped like ``alembic.command``.

Each takes the Alembic ``Config`` built by :func:`make_config` and plain
values; release names are accepted wherever a revision is.
"""

import contextlib
import sys

from solum_db_manage import errors, guards, releases

SCRIPT_LOCATION = "solum_db_manage:alembic_migrations"

# Schemes whose default DBAPI we do not ship: use the one we depend on.
_DEFAULT_DRIVERS = {
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
}


def make_config(url, stdout=None):
    """Build the Alembic Config: our scripts, the URL, our stdout."""
    from alembic.config import Config

    config = Config(stdout=stdout or sys.stdout)
    config.set_main_option("script_location", SCRIPT_LOCATION)
    # The URL goes through attributes, not the ini options: those
    # interpolate "%", which URL-encoded passwords contain.
    config.attributes["url"] = url
    return config


def parse_url(url):
    """Parse a connection URL, choosing the drivers this package uses."""
    from sqlalchemy import exc
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except exc.ArgumentError:
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


def create_engine(url):
    """An engine as Solum's services had it: no pool, MySQL strict mode."""
    import sqlalchemy
    from sqlalchemy import event, exc
    from sqlalchemy.pool import NullPool

    parsed = parse_url(url)
    try:
        engine = sqlalchemy.create_engine(parsed, poolclass=NullPool)
    except exc.NoSuchModuleError:
        raise errors.ConfigError(
            f"unknown database type {parsed.drivername!r} in the "
            f"connection URL") from None
    except ImportError as error:
        hint = ""
        if parsed.get_backend_name() == "postgresql":
            hint = " (pip install 'solum-db-manage[postgresql]')"
        raise errors.ConfigError(
            f"the database driver for {parsed.drivername} is not "
            f"installed: {error}{hint}") from None
    if engine.dialect.name == "mysql":
        event.listen(engine, "connect", _set_traditional_sql_mode)
    return engine


def _set_traditional_sql_mode(dbapi_connection, connection_record):
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET SESSION sql_mode = 'TRADITIONAL'")
    finally:
        cursor.close()


@contextlib.contextmanager
def connect(config):
    """Open the connection that env.py runs on, through config.attributes.

    Whatever the commands leave in a transaction is committed when they
    succeed and rolled back when they fail.
    """
    from sqlalchemy import exc

    engine = create_engine(config.attributes["url"])
    try:
        try:
            connection = engine.connect()
        except exc.DBAPIError as error:
            raise errors.SolumDBManageError(
                f"cannot connect to the database "
                f"{engine.url.render_as_string(hide_password=True)}: "
                f"{error.orig}") from error
        with connection:
            config.attributes["connection"] = connection
            try:
                yield connection
                if connection.in_transaction():
                    connection.commit()
            finally:
                config.attributes.pop("connection", None)
    finally:
        engine.dispose()


def current_heads(connection):
    """The revisions the database records: () when it has no tracking."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_heads()


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
    """Print the current database revision, as the original did."""
    with connect(config) as connection:
        heads = current_heads(connection)
    described = []
    for head in heads:
        release = releases.describe(head)
        described.append(f"{head} ({release})" if release else head)
    config.print_stdout(
        "Current DB revision is %s", ", ".join(described) or "None")


def upgrade(config, revision="head", sql=False):
    """Upgrade the database to a later revision."""
    from alembic import command

    revision = releases.resolve(revision)
    if sql:
        _check_offline(config)
        command.upgrade(config, revision, sql=True)
        return
    with connect(config) as connection:
        guards.check_upgrade(connection, current_heads(connection))
        # End the transaction the checks' reads began: Alembic commits
        # each revision on its own only on a connection not in one.
        connection.rollback()
        command.upgrade(config, revision)


def downgrade(config, revision, sql=False):
    """Revert the database to an earlier revision."""
    from alembic import command

    require_revision("downgrade", revision)
    revision = releases.resolve(revision)
    if sql:
        _check_offline(config)
        command.downgrade(config, revision, sql=True)
        return
    with connect(config):
        command.downgrade(config, revision)


def stamp(config, revision, sql=False, purge=False):
    """Record a revision in the database without running migrations."""
    from alembic import command

    require_revision("stamp", revision)
    revision = releases.resolve(revision)
    if sql:
        command.stamp(config, revision, sql=True, purge=purge)
        return
    with connect(config):
        command.stamp(config, revision, purge=purge)


def revision(config, message=None, autogenerate=False):
    """Write a new migration script into the package's versions/."""
    from alembic import command

    if not autogenerate:
        command.revision(config, message=message)
        return
    with connect(config):
        script = command.revision(
            config, message=message, autogenerate=True)
    if not script:
        config.print_stdout("No changes in schema detected.")


def current(config, verbose=False):
    """Print the revision(s) the database records, as Alembic does."""
    from alembic import command

    with connect(config):
        command.current(config, verbose=verbose)


def history(config, rev_range=None, verbose=False):
    """List the migration scripts in order."""
    from alembic import command

    command.history(
        config, rev_range=releases.resolve(rev_range), verbose=verbose)


def heads(config, verbose=False):
    """Show the head revision(s) of the scripts."""
    from alembic import command

    command.heads(config, verbose=verbose)


def branches(config, verbose=False):
    """Show the branch points of the scripts."""
    from alembic import command

    command.branches(config, verbose=verbose)


def show(config, revision):
    """Show one revision."""
    from alembic import command

    command.show(config, releases.resolve(revision))


def _check_offline(config):
    if dialect_name(config.attributes["url"]) == "sqlite":
        raise errors.SolumDBManageError(
            "--sql cannot render upgrades or downgrades for SQLite: "
            "several steps rebuild tables, which needs the live schema; "
            "run the command without --sql")
