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

"""How this server carries out each operation (operations.py).

Rules by server and version, each saying the versions it covers; for any
other version the way is "unknown" (the plan says so, and still counts
rows and failures):

- MariaDB 10.4.3 to 11.8 (InnoDB): INSTANT, NOCOPY (in place, no
  rebuild), INPLACE (in place, rebuilds the table) or COPY, and the
  lock: NONE (reads and writes go on), SHARED (writes wait) or
  EXCLUSIVE. Decided by the table's ROW_FORMAT and by the column's
  character set (the bytes of a VARCHAR decide whether its length prefix
  grows). On a Galera node in TOI mode every ALTER runs on all nodes at
  once, and writes to the table wait on every node while it runs.
  Each rule was verified on MariaDB 10.11 (tests/test_forecast_rewrites.py,
  DYNAMIC, REDUNDANT and COMPRESSED tables, latin1 and utf8mb4); for the
  other versions it rests on MariaDB's documentation of InnoDB's online
  DDL: instant ADD COLUMN anywhere, instant DROP COLUMN and instant
  VARCHAR widening in a REDUNDANT table came with 10.4.0 (MDEV-15562,
  MDEV-15563), and before 10.4.3 a COMPRESSED table's rename or widening
  was NOCOPY, not INSTANT (MDEV-18444): hence the lower bound.
- MySQL: no rules (no MySQL server was at hand to verify them): unknown.
- PostgreSQL 11 to 18: catalog only, a table rewrite, or a full scan
  (an index build), and the lock (ACCESS EXCLUSIVE for every ALTER TABLE
  here: reads and writes wait while it runs).
- SQLite 3.x: in place, or a table rebuild (Alembic's batch mode), by
  the same decision the scripts make (helpers.py); the database's write
  lock is held, so writers wait.

Verified by tests/test_forecast_rewrites.py on this server: the predicted
rewrite against the table's physical identity, and on MariaDB each
predicted ALGORITHM= and LOCK= accepted, the next cheaper algorithm and
the next weaker lock refused.
"""

import dataclasses

MARIADB_COVERED = ((10, 4, 3), (11, 8))
POSTGRESQL_COVERED = (11, 18)

# Cheapest first (MariaDB's order; MySQL has no NOCOPY).
ALGORITHMS = ("INSTANT", "NOCOPY", "INPLACE", "COPY")
LOCKS = ("NONE", "SHARED", "EXCLUSIVE")

_WAITS = {
    "NONE": "reads and writes go on",
    "SHARED": "reads go on, writes wait",
    "EXCLUSIVE": "reads and writes wait",
    "ACCESS EXCLUSIVE": "reads and writes wait",
    "database write lock": "reads go on, writers wait",
    "row locks": "writes to the rows it changes wait",
    "metadata lock": "brief",
}


@dataclasses.dataclass
class Server:
    """What the plan needs to know of the server, read once."""

    dialect: str                 # "mysql", "postgresql", "sqlite"
    version: tuple = ()
    mariadb: bool = False
    galera: bool = False         # a Galera node replicating DDL in TOI
    # MySQL: {table: ROW_FORMAT}, {(table, column): bytes per character},
    # {table: bytes per character of its default charset}.
    row_formats: dict = dataclasses.field(default_factory=dict)
    column_bytes: dict = dataclasses.field(default_factory=dict)
    table_bytes: dict = dataclasses.field(default_factory=dict)
    # SQLite: the scripts' own decision, (table, column) -> in place.
    sqlite_drop_in_place: object = None
    sqlite_rename_in_place: bool = True

    @property
    def name(self):
        if self.dialect == "mysql":
            return "MariaDB" if self.mariadb else "MySQL"
        return {"postgresql": "PostgreSQL", "sqlite": "SQLite"}.get(
            self.dialect, self.dialect)

    @property
    def version_text(self):
        return ".".join(str(part) for part in self.version)

    def covered(self):
        if self.dialect == "sqlite":
            return True
        if self.dialect == "postgresql":
            low, high = POSTGRESQL_COVERED
            return low <= (self.version[:1] or (0,))[0] <= high
        if not self.mariadb:
            return False
        low, high = MARIADB_COVERED
        return low <= tuple(self.version[:len(low)]) and \
            tuple(self.version[:len(high)]) <= high


@dataclasses.dataclass
class Way:
    """How one operation is carried out on one table."""

    rewrite: bool = False       # the table's rows are written anew
    algorithm: str | None = None
    lock: str | None = None
    scan: bool = False          # reads every row (an index build, a check)
    note: str = ""
    stalls_cluster: bool = False    # Galera TOI: writes wait on every node

    @property
    def waits(self):
        return _WAITS.get(self.lock, "unknown")

    def as_dict(self):
        return {"rewrite": self.rewrite, "algorithm": self.algorithm,
                "lock": self.lock, "scan": self.scan,
                "waits": self.waits if self.lock else None,
                "stalls_cluster": self.stalls_cluster, "note": self.note}


UNKNOWN = "unknown"


def way(server, op, schema):
    """The :class:`Way` ``op`` takes on ``schema`` (before it runs)."""
    if op.kind in ("create_table", "drop_table"):
        return Way(algorithm=None, lock="metadata lock",
                   note="the table is new" if op.kind == "create_table"
                   else "")
    if op.kind == "update":
        return Way(lock="database write lock" if server.dialect == "sqlite"
                   else "row locks", scan=True,
                   note="an UPDATE: rows written in place, not a rebuild")
    if not server.covered():
        return Way(rewrite=None, algorithm=UNKNOWN, lock=UNKNOWN,
                   note=f"{server.name} {server.version_text} is not "
                        f"covered by the rules (server_rules.py)")
    found = {"sqlite": _sqlite, "postgresql": _postgresql,
             "mysql": _mysql}[server.dialect](server, op, schema)
    if server.galera and server.dialect == "mysql":
        found.stalls_cluster = found.rewrite or found.scan or \
            found.algorithm not in ("INSTANT",)
    return found


# --- SQLite ---------------------------------------------------------------

def _rebuild():
    return Way(rewrite=True, algorithm="rebuild",
               lock="database write lock")


def _in_place(note=""):
    return Way(algorithm="in place", lock="database write lock", note=note)


def _sqlite(server, op, schema):
    if op.kind == "add_column":
        return _rebuild() if op.positioned(schema) else _in_place()
    if op.kind == "drop_column":
        present = op.present(schema)
        if len(present) == 1 and server.sqlite_drop_in_place and \
                server.sqlite_drop_in_place(op.table, present[0]):
            return _in_place("DROP COLUMN rewrites each row where it is")
        return _rebuild()
    if op.kind == "rename_column":
        if op.to_type is None and server.sqlite_rename_in_place:
            return _in_place()
        return _rebuild()
    # Type changes, constraints, the version table's key: batch mode.
    return _rebuild()


# --- PostgreSQL -------------------------------------------------------------

def _pg_type_change(column, to_type):
    """True where ALTER COLUMN TYPE rewrites the table: not for a wider
    VARCHAR or VARCHAR to TEXT (binary coercible), yes for narrowing."""
    if to_type.kind == "text":
        return column.kind not in ("varchar", "text")
    if to_type.kind == "varchar" and column.kind == "varchar":
        return (to_type.length or 0) < (column.length or 0)
    return True


def _postgresql(server, op, schema):
    lock = "ACCESS EXCLUSIVE"
    if op.kind in ("add_unique", "version_key"):
        return Way(scan=True, algorithm="index build", lock=lock,
                   note="builds a unique index: reads every row")
    if op.kind in ("change_type", "rename_column") and \
            getattr(op, "to_type", None) is not None:
        column = schema.table(op.table).column(op.column)
        if _pg_type_change(column, op.to_type):
            return Way(rewrite=True, algorithm="rewrite", lock=lock)
    return Way(algorithm="catalog", lock=lock, note="catalog only")


# --- MariaDB and MySQL -------------------------------------------------------

def _length_bytes(chars, per_char):
    """The length prefix of a VARCHAR: 1 byte up to 255 bytes, else 2."""
    return 1 if (chars or 0) * per_char <= 255 else 2


def _mysql(server, op, schema):
    row_format = (server.row_formats.get(op.table) or "").upper()
    instant = Way(algorithm="INSTANT", lock="NONE")
    if op.kind in ("add_column", "drop_column"):
        # A COMPRESSED table has no instant ADD or DROP COLUMN: it is
        # rebuilt in place. Renames and VARCHAR widenings stay instant.
        if row_format == "COMPRESSED":
            return Way(rewrite=True, algorithm="INPLACE", lock="NONE",
                       note="a COMPRESSED table is rebuilt in place")
        return instant
    if op.kind in ("add_unique", "version_key"):
        if op.kind == "version_key":
            return Way(rewrite=True, algorithm="INPLACE", lock="NONE",
                       note="a new primary key rebuilds the table")
        return Way(scan=True, lock="NONE",
                   algorithm="NOCOPY" if server.mariadb else "INPLACE",
                   note="builds a unique index in place")
    if op.kind == "drop_unique":
        return Way(algorithm="NOCOPY" if server.mariadb else "INPLACE",
                   lock="NONE")
    if op.kind == "drop_check":
        # MariaDB 10.11 accepts DROP CONSTRAINT of a CHECK with
        # ALGORITHM=INSTANT: the rows are not read.
        return Way(algorithm="INSTANT", lock="NONE")
    column = schema.table(op.table).column(op.column)
    to_type = op.to_type
    if op.kind == "rename_column" and (
            to_type is None or (to_type.kind, to_type.length)
            == (column.kind, column.length)):
        return instant
    return _mysql_type_change(server, op, column, to_type, row_format,
                              instant)


def _mysql_type_change(server, op, column, to_type, row_format, instant):
    copy = Way(rewrite=True, algorithm="COPY", lock="SHARED")
    if not (column.kind == to_type.kind == "varchar"):
        return copy
    if (to_type.length or 0) < (column.length or 0):
        return copy
    if (to_type.length or 0) == (column.length or 0):
        return instant
    per_char = server.column_bytes.get(
        (op.table, op.column), server.table_bytes.get(op.table, 4))
    # A wider VARCHAR is instant where its length prefix keeps its size
    # (one byte up to 255 bytes), in any row format, COMPRESSED included;
    # a REDUNDANT row has no such prefix, so there it always is.
    if row_format == "REDUNDANT" or (
            _length_bytes(column.length, per_char)
            == _length_bytes(to_type.length, per_char)):
        return instant
    return copy
