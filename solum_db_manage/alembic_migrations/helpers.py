"""What the migrations share: looking at the live schema, and adding
columns at a given position.

Offline (``--sql``) nothing can be inspected: the ``lacks_*`` and
``column_type`` questions then answer as the oldest schema a revision
supports would, so the SQL printed is what that schema needs.
"""

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


def lacks_column(table, column):
    """True if the table has no such column (always, offline)."""
    if offline():
        return True
    return column not in {c["name"] for c in _inspector().get_columns(table)}


def column_type(table, column):
    """The reflected type of a column; None offline."""
    if offline():
        return None
    for reflected in _inspector().get_columns(table):
        if reflected["name"] == column:
            return reflected["type"]
    raise LookupError(f"{table}.{column} does not exist")


def add_columns(table, columns):
    """Add ``(column, after)`` pairs, each after the named column.

    ``after`` None adds at the end. MySQL gets ``ADD COLUMN ... AFTER``
    (Alembic's add_column has no position); SQLite rebuilds the table with
    the columns in place; PostgreSQL cannot place a column, so there they
    go last.
    """
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
    """Change a column's type in place (SQLite: by rebuilding the table)."""
    with op.batch_alter_table(table) as batch:
        batch.alter_column(column, type_=type_, existing_type=existing_type,
                           existing_nullable=nullable)


def drop_columns(table, *columns):
    """Drop columns (SQLite: by rebuilding the table once)."""
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
