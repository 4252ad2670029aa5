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

"""What the migrations share: looking at the live schema, and adding
columns at a given position.

Every step asks the live schema before it changes it, so that a step
interrupted half-way (MySQL commits each DDL statement on its own) can
simply run again: it creates only what is missing and drops, renames or
reads only what is there.

On SQLite, Alembic's batch mode rebuilds a table (create a copy, copy the
rows, drop, rename) for any change but an added column. Renaming columns
and dropping one use SQLite's own ALTER TABLE instead where the library
has it and the column allows it (``alter_columns``), giving the schema a
rebuild gives: a rename changes only the schema, a drop rewrites the rows
where they are. Changing a declared type, a constraint or a column's
position stays a rebuild: SQLite documents no other safe way to do it
(lang_altertable.html, "Making Other Kinds Of Table Schema Changes").

Offline (``--sql``) nothing can be inspected: each question then answers
as the schema the step was written against, the oldest one a revision
supports. What a step creates is missing (``lacks_*`` is True), what it
drops, renames or reads is there (``has_*`` is True), and
``column_type`` is None; so the SQL printed is what that schema needs.
"""

import contextlib
import logging
import re
import typing

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
    cut_before_narrowing(table, column, type_, existing_type)
    with op.batch_alter_table(table) as batch:
        batch.alter_column(column, type_=type_, existing_type=existing_type,
                           existing_nullable=nullable)


def drop_columns(table, *columns):
    """Drop the columns the table has (SQLite: in place, or one rebuild)."""
    alter_columns(table, drops=columns)


class Rename(typing.NamedTuple):
    """A column to rename, with what MySQL's CHANGE needs to restate."""

    column: str
    new_name: str
    existing_type: sa.types.TypeEngine
    existing_nullable: bool = True


def alter_columns(table, renames=(), drops=()):
    """Rename (``Rename``) and drop columns of one table, renames first.

    Only columns the table has are renamed or dropped. SQLite does it all
    with its own ALTER TABLE where it can and it is cheaper
    (``_sqlite_in_place``), and otherwise rebuilds the table once.
    """
    renames = [rename for rename in renames
               if has_column(table, rename.column)]
    drops = [column for column in drops if has_column(table, column)]
    if not (renames or drops):
        return
    if _sqlite_online() and _sqlite_in_place(table, renames, drops):
        for rename in renames:
            op.alter_column(table, rename.column,
                            new_column_name=rename.new_name,
                            existing_type=rename.existing_type,
                            existing_nullable=rename.existing_nullable)
        for column in drops:
            op.drop_column(table, column)
        return
    with op.batch_alter_table(table) as batch:
        for rename in renames:
            batch.alter_column(rename.column, new_column_name=rename.new_name,
                               existing_type=rename.existing_type,
                               existing_nullable=rename.existing_nullable)
        for column in drops:
            batch.drop_column(column)


# --- SQLite's own ALTER TABLE ------------------------------------------------

# RENAME COLUMN came with 3.25.0; 3.27.0 fixed it for tables with redundant
# UNIQUE constraints and for views and triggers with WITH clauses. DROP
# COLUMN came with 3.35.0; 3.35.5 fixed defects of it that could corrupt
# the database file. Older libraries rebuild the table, as before.
SQLITE_RENAME_COLUMN = (3, 27, 0)
SQLITE_DROP_COLUMN = (3, 35, 5)
# UPDATE ... FROM came with 3.33.0.
SQLITE_UPDATE_FROM = (3, 33, 0)

_CHECK = re.compile(r"\bCHECK\s*\(", re.IGNORECASE)


def sqlite_version():
    """The version of the SQLite library the connection runs on."""
    return op.get_bind().dialect.server_version_info


def _sqlite_online():
    return dialect_name() == "sqlite" and not offline()


def _pragma(name, argument):
    bind = op.get_bind()
    quoted = bind.dialect.identifier_preparer.quote(argument)
    return bind.exec_driver_sql(f"PRAGMA {name}({quoted})").mappings().all()


def _sqlite_in_place(table, renames, drops):
    # A rename changes only the schema. DROP COLUMN rewrites every row,
    # once per column: past one column a single rebuild is cheaper (500,000
    # assembly rows, SQLite 3.40: one column 0.65 s in place against 0.97 s
    # rebuilt, two 1.05 s against 0.89 s).
    if len(drops) > 1:
        return False
    if renames and not sqlite_can_rename_columns():
        return False
    return all(sqlite_can_drop_column(table, column) for column in drops)


def sqlite_can_rename_columns():
    """True where SQLite renames columns in place.

    That takes only a recent enough library: SQLite renames the column in
    indexes, constraints, views and triggers too, which a rebuild does not
    (it fails on a view of the table, and loses the table's triggers).
    """
    return sqlite_version() >= SQLITE_RENAME_COLUMN


def sqlite_can_drop_column(table, column):
    """True where SQLite drops the column in place, leaving the schema a
    rebuild leaves.

    SQLite refuses to drop a column that is (part of) the primary key,
    unique, indexed, in a table's FOREIGN KEY clause, named by a CHECK
    constraint, a partial index, a generated column, a view or a trigger.
    Such a column is left to the rebuild, as before; to keep the check
    simple, so is any column of a table with a CHECK constraint, a partial
    or expression index or a generated column, any column that a foreign
    key points at or that has one, and any named in a view's or trigger's
    SQL (a rebuild loses the table's triggers; the ALTER TABLE refuses).
    """
    if sqlite_version() < SQLITE_DROP_COLUMN:
        return False
    objects = op.get_bind().exec_driver_sql(
        "SELECT type, name, sql FROM sqlite_master").all()
    named = re.compile(rf"\b{re.escape(column)}\b", re.IGNORECASE)
    for kind, name, sql in objects:
        if kind in ("view", "trigger") and named.search(sql or ""):
            return False
        if kind == "table" and name == table and _CHECK.search(sql or ""):
            return False
    for info in _pragma("table_xinfo", table):
        if info["hidden"] in (2, 3):  # a generated column
            return False
        if info["name"] == column and info["pk"]:
            return False
    for index in _pragma("index_list", table):
        if index["partial"]:
            return False
        for part in _pragma("index_xinfo", index["name"]):
            if part["key"] and (part["cid"] == -2 or part["name"] == column):
                return False
    if any(fk["from"] == column
           for fk in _pragma("foreign_key_list", table)):
        return False
    for kind, name, _ in objects:
        if kind == "table" and any(
                fk["table"].lower() == table.lower() and fk["to"] == column
                for fk in _pragma("foreign_key_list", name)):
            return False
    return True


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



# --- what the data moves and narrowings run ---------------------------------
#
# The data-loss review (``dataloss``) counts with the same queries: it
# imports them from here, so that an edit made for the review cannot
# change what an old revision does.


def char_length(column):
    """The length of a text value in characters, as VARCHAR(n) counts.

    CHAR_LENGTH on MySQL and PostgreSQL; SQLAlchemy renders it as LENGTH
    on SQLite.
    """
    return sa.func.char_length(column)


def trigger_holders(dialect, columns=("trigger_id", "trust_id",
                                      "username")):
    """A FROM item naming ``h`` each plan's newest assembly with a trigger.

    ``h`` has the column plan_id and ``columns`` of that assembly. It is
    found in one pass over assembly on each backend, in the form that
    backend runs fastest (measured at 500,000 assemblies: a correlated
    subquery per plan took 7.7 s on MariaDB and 2.5 s on PostgreSQL for
    the whole move; these take 2.3 s and 1.3 s):

    - PostgreSQL: DISTINCT ON, one sort;
    - SQLite: GROUP BY with MAX(id), whose other columns SQLite documents
      to come from the row holding the maximum;
    - MySQL and the rest: the newest ids by GROUP BY, joined back by
      primary key (MariaDB plans a join inside the derived table badly).
    """
    newest = ("FROM assembly WHERE trigger_id IS NOT NULL "
              "AND plan_id IS NOT NULL")
    listed = "".join(f", {column}" for column in columns)
    if dialect == "postgresql":
        return (f"(SELECT DISTINCT ON (plan_id) plan_id{listed} {newest} "
                "ORDER BY plan_id, id DESC) h")
    if dialect == "sqlite":
        return (f"(SELECT plan_id, MAX(id) AS id{listed} {newest} "
                "GROUP BY plan_id) h")
    return (f"(SELECT MAX(id) AS id {newest} GROUP BY plan_id) newest "
            "JOIN assembly h ON h.id = newest.id")


# --- what a step tells the command running it --------------------------------
#
# A command may want to know what a step found while doing its work (the
# values a data move left behind, for its warning). It gives a callable
# as the config attribute "step_report"; a step calls it through
# :func:`report`. Where there is none (offline, plain ``alembic``), the
# step does the same work and counts nothing.


def reporting():
    """True where the command running this step takes its reports."""
    return not offline() and callable(
        context.config.attributes.get("step_report"))


def report(revision, direction, **found):
    """Hand what the step found to the command running it (a no-op where
    the command takes no reports): plain values only, so the command's
    own structures never reach the scripts."""
    if reporting():
        context.config.attributes["step_report"](revision, direction,
                                                 **found)


def values_held(table, columns):
    """{column: rows holding a non-NULL value} of ``columns`` of
    ``table`` that exist, in one pass; {} where none does."""
    present = [column for column in columns if has_column(table, column)]
    if not present:
        return {}
    counts = op.get_bind().execute(
        sa.select(*(sa.func.count(sa.column(column))
                    for column in present)).select_from(sa.table(table))
    ).one()
    return dict(zip(present, counts, strict=True))


def _text_length(type_):
    """Characters a column type holds; None for unbounded text."""
    if isinstance(type_, sa.Text) or not isinstance(type_, sa.String):
        return None
    return type_.length


def cut_before_narrowing(table, column, type_, existing_type):
    """In a migration step, before a column's type changes: cut the values
    ``type_`` cannot hold, where the command accepted that loss (the
    ``truncate`` attribute of its config). Offline, nothing is done."""
    if offline() or not context.config.attributes.get("truncate"):
        return 0
    return cut_to_fit(op.get_bind(), table, column, type_, existing_type)


def cut_to_fit(connection, table, column, type_, existing_type):
    """Cut values that ``type_`` is too short for; return how many.

    Nothing is done unless ``type_`` is a VARCHAR shorter than
    ``existing_type``. MySQL's strict mode would otherwise fail the
    ALTER half-way through a downgrade, and PostgreSQL always would.
    The count is a warning through the tool's logger.
    """
    length = _text_length(type_)
    if length is None or not isinstance(existing_type, sa.String):
        return 0
    existing = _text_length(existing_type)
    if existing is not None and existing <= length:
        return 0
    target = sa.column(column)
    cut = connection.execute(
        sa.update(sa.table(table, target))
        .values({column: sa.func.substr(target, 1, length)})
        .where(char_length(target) > length))
    count = cut.rowcount
    if count:
        values = "1 value" if count == 1 else f"{count} values"
        logging.getLogger("solum_db_manage").warning(
            "%s", f"cut {values} of {table}.{column} to {length} characters")
    return count
