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

"""The version table, read without Alembic: the revisions a database
records (:func:`current_heads`), refusing rows that are no revision id,
and the live tables' columns (:func:`live_fingerprint`)."""

import re

from solum_db_manage import errors
from solum_db_manage.db import OWN_TABLES, VERSION_TABLE

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
