"""What the migrations share: looking at the live schema, and adding
columns at a given position.

Every step asks the live schema before it changes it, so that a step
interrupted half-way (MySQL commits each DDL statement on its own) can
simply run again: it creates only what is missing and drops, renames or
reads only what is there.

Offline (``--sql``) nothing can be inspected: each question then answers
as the schema the step was written against, the oldest one a revision
supports. What a step creates is missing (``lacks_*`` is True), what it
drops, renames or reads is there (``has_*`` is True), and
``column_type`` is None; so the SQL printed is what that schema needs.
"""

import contextlib

import sqlalchemy as sa
from alembic import context, op


def dialect_name():
    return op.get_context().dialect.name


def offline():
    return context.is_offline_mode()


def _inspector():
    # A new inspector each time: it caches, and the schema changes.
    return sa.inspect(op.get_bind())


def lacks_table(table):
    """True if the table does not exist (always, offline)."""
    return offline() or not _inspector().has_table(table)


def has_table(table):
    """True if the table exists (always, offline)."""
    return offline() or _inspector().has_table(table)


def _column_names(table):
    try:
        return {c["name"] for c in _inspector().get_columns(table)}
    except sa.exc.NoSuchTableError:
        return set()


def lacks_column(table, column):
    """True if the table has no such column (always, offline)."""
    return offline() or column not in _column_names(table)


def has_column(table, column):
    """True if the table has the column (always, offline)."""
    return offline() or column in _column_names(table)


def _unique_names(table):
    # MySQL keeps a unique constraint as a unique index of the same name.
    inspector = _inspector()
    names = {uc["name"] for uc in inspector.get_unique_constraints(table)}
    names.update(ix["name"] for ix in inspector.get_indexes(table)
                 if ix["unique"])
    return names


def lacks_unique_constraint(table, name):
    """True if no unique constraint has that name (always, offline)."""
    return offline() or name not in _unique_names(table)


def has_unique_constraint(table, name):
    """True if a unique constraint has that name (always, offline)."""
    return offline() or name in _unique_names(table)


def column_type(table, column):
    """The reflected type of a column; None offline."""
    if offline():
        return None
    for reflected in _inspector().get_columns(table):
        if reflected["name"] == column:
            return reflected["type"]
    raise LookupError(f"{table}.{column} does not exist")


def create_table(table, *columns):
    """Create the table, unless it exists."""
    if lacks_table(table):
        op.create_table(table, *columns)


def drop_table(table):
    """Drop the table, if it exists."""
    if has_table(table):
        op.drop_table(table)


def add_column(table, column):
    """Add a column at the end of the table, unless it is there."""
    add_columns(table, [(column, None)])


def add_columns(table, columns):
    """Add ``(column, after)`` pairs, each after the named column.

    Columns the table has already are left alone. ``after`` None adds at
    the end. MySQL gets ``ADD COLUMN ... AFTER`` (Alembic's add_column has
    no position); SQLite rebuilds the table with the columns in place;
    PostgreSQL cannot place a column, so there they go last.
    """
    columns = [(column, after) for column, after in columns
               if lacks_column(table, column.name)]
    if not columns:
        return
    dialect = dialect_name()
    if dialect == "sqlite" and any(after for _, after in columns):
        with op.batch_alter_table(table, recreate="always") as batch:
            for column, after in columns:
                batch.add_column(column, insert_after=after)
        return
    for column, after in columns:
        if dialect == "mysql" and after is not None:
            _mysql_add_column_after(table, column, after)
        else:
            op.add_column(table, column)


def _mysql_add_column_after(table, column, after):
    dialect = op.get_context().dialect
    quote = dialect.identifier_preparer.quote
    # The column must belong to a table to compile.
    sa.Table(table, sa.MetaData(), column)
    spec = sa.schema.CreateColumn(column).compile(dialect=dialect)
    op.execute(f"ALTER TABLE {quote(table)} ADD COLUMN {spec} "
               f"AFTER {quote(after)}")


def alter_type(table, column, type_, existing_type, nullable=True):
    """Change a column's type in place (SQLite: by rebuilding the table).

    Where the command accepted the loss (``truncate`` in the config's
    attributes), values a narrower VARCHAR cannot hold are cut first.
    """
    from solum_db_manage import dataloss

    dataloss.cut_before_narrowing(table, column, type_, existing_type)
    with op.batch_alter_table(table) as batch:
        batch.alter_column(column, type_=type_, existing_type=existing_type,
                           existing_nullable=nullable)


def drop_columns(table, *columns):
    """Drop the columns the table has (SQLite: rebuilding it once)."""
    columns = [column for column in columns if has_column(table, column)]
    if not columns:
        return
    with op.batch_alter_table(table) as batch:
        for column in columns:
            batch.drop_column(column)


def ensure_version_table_primary_key():
    """Give a 2014 alembic_version the primary key Alembic now creates.

    Alembic added that key (named ``<table>_pkc``) in 0.8.10, and only to
    tables it creates. Offline there is nothing to look at: a version
    table created by the printed SQL has the key already.
    """
    if offline():
        return
    migration_context = op.get_context()
    table = migration_context.version_table
    schema = migration_context.version_table_schema
    key = _inspector().get_pk_constraint(table, schema=schema)
    if key["constrained_columns"]:
        return
    with op.batch_alter_table(table, schema=schema) as batch:
        batch.create_primary_key(f"{table}_pkc", ["version_num"])


@contextlib.contextmanager
def lookup_index(table, columns, name):
    """An index that a data move's lookups need, for that move only.

    MySQL indexes every foreign key itself. SQLite and PostgreSQL do not:
    there, a correlated subquery per row would scan the whole table for
    each row. One left behind by an interrupted run is built again.
    """
    if dialect_name() == "mysql":
        yield
        return
    if not offline() and name in {
            index["name"] for index in _inspector().get_indexes(table)}:
        op.drop_index(name, table_name=table)
    op.create_index(name, table, columns)
    yield
    op.drop_index(name, table_name=table)

