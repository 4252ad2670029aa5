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

"""What each migration step destroys, and how much of it a database holds.

Every revision declares here, by id, what its upgrade and its downgrade
drop or narrow. Before a command runs, :func:`assess` counts on the live
database the rows whose values those steps would lose, with COUNT queries
only: it reads, and writes nothing. ``upgrade`` then warns and proceeds;
``downgrade`` refuses unless forced (see :func:`review`). An upgrade
step that finds what it loses while doing its work (the trigger move)
reports it as it runs instead, and the run warns then: the costly part
of its count is the move's own (``Custom.reported``).

The declarations live here rather than in the version files so that a
reader sees every loss of the chain in one place, and so that
``tests/test_dataloss.py`` can check them against what each step really
removes.
"""

import dataclasses
import logging

import sqlalchemy as sa

from solum_db_manage.alembic_migrations import helpers

UPGRADE = "upgrade"
DOWNGRADE = "downgrade"


def _rows(count):
    return "1 row holds" if count == 1 else f"{count} rows hold"


def _count_where(connection, live, table, column, condition):
    """The rows of ``table`` whose ``column`` meets ``condition`` (of the
    column); 0 where the column does not exist (yet)."""
    if not live.has_column(table, column):
        return 0
    return connection.scalar(
        sa.select(sa.func.count()).select_from(sa.table(table))
        .where(condition(sa.column(column))))


@dataclasses.dataclass(frozen=True)
class DropTable:
    """The step drops a table: every row of it is lost."""

    table: str

    @property
    def what(self):
        return f"drops table {self.table}"

    def consequence(self, count):
        return f"{count} row{'' if count == 1 else 's'} will be lost"

    def covers(self):
        return {("table", self.table, None)}

    def count(self, connection, live):
        if not live.has_table(self.table):
            return 0
        return connection.scalar(
            sa.select(sa.func.count()).select_from(sa.table(self.table)))


@dataclasses.dataclass(frozen=True)
class DropColumn:
    """The step drops a column: its non-NULL values are lost."""

    table: str
    column: str

    @property
    def what(self):
        return f"drops {self.table}.{self.column}"

    def consequence(self, count):
        return f"{_rows(count)} a value that will be lost"

    def covers(self):
        return {("column", self.table, self.column)}

    def count(self, connection, live):
        return _count_where(connection, live, self.table, self.column,
                            lambda column: column.is_not(None))


@dataclasses.dataclass(frozen=True)
class Narrow:
    """The step makes a text column VARCHAR(length): longer values are cut.

    ``column`` is the column's name before the step (a step may rename
    it as well).
    """

    table: str
    column: str
    length: int

    @property
    def what(self):
        return (f"narrows {self.table}.{self.column} to {self.length} "
                f"characters")

    def consequence(self, count):
        return f"{_rows(count)} a longer value that will be cut"

    def covers(self):
        return {("narrow", self.table, self.column)}

    def count(self, connection, live):
        return _count_where(
            connection, live, self.table, self.column,
            lambda column: helpers.char_length(column) > self.length)


@dataclasses.dataclass(frozen=True)
class Custom:
    """A step that moves data and loses part of it on the way.

    ``count_sql`` is one SELECT COUNT(*) of the rows whose value does not
    survive the move, or a function of the dialect name and the live
    schema that returns it;
    where it selects several counts, ``column`` says which is this one's
    (the statement runs once for all the declarations that share it).
    ``columns`` are the (table, column) pairs the step drops that the move
    accounts for. Where one of them does not exist (yet), there is nothing
    to lose. ``needs`` are further columns
    the count reads: where one is gone already (a run of the step stopped
    half-way), the count cannot be made, and the move is past.
    """

    description: str
    count_sql: object
    columns: tuple[tuple[str, str], ...]
    needs: tuple[tuple[str, str], ...] = ()
    column: int = 0
    # The step itself reports what it lost (helpers.report, keyed by the
    # (table, column) of ``columns``): an upgrade, which only warns,
    # takes its word instead of counting first (see :func:`assess`).
    reported: bool = False

    @property
    def what(self):
        return self.description

    def consequence(self, count):
        return f"{_rows(count)} a value that will be lost"

    def covers(self):
        return {("column", table, column) for table, column in self.columns}

    def count(self, connection, live):
        if not all(live.has_column(table, column)
                   for table, column in self.columns + self.needs):
            return 0
        sql = self.count_sql
        if callable(sql):
            sql = sql(connection.dialect.name, live)
        return live.row(connection, sql)[self.column]


# --- 5583c6e70156: triggers move from assemblies to plans -----------------

# The upgrade copies to each plan the values of its newest (highest id)
# assembly that has a trigger (``helpers.trigger_holders``, the query the
# revision runs); the other assemblies' values are lost.


def _trigger_move_losses(dialect, live):
    """One row: the triggers, then the trusts, that the move leaves
    behind. Only each plan's newest holder passes its values on; every
    other assembly's trigger_id and trust_id are lost. One statement for
    both, as the holders are the costly part to find. An Icehouse
    assembly has no trust_id yet (498adc6185ae adds it, empty). A holder
    whose plan is gone (SQLite keeps such rows) passes nothing on."""
    if live.has_column("assembly", "trust_id"):
        trusts, holder_trusts = "COUNT(trust_id)", "COUNT(h.trust_id)"
        holders = helpers.trigger_holders(dialect, ("trust_id",))
    else:
        trusts = holder_trusts = "0"
        holders = ("(SELECT DISTINCT plan_id FROM assembly WHERE "
                   "trigger_id IS NOT NULL AND plan_id IS NOT NULL) h")
    return (
        "SELECT t.triggers - x.holders, t.trusts - x.holder_trusts FROM "
        f"(SELECT COUNT(trigger_id) AS triggers, {trusts} AS trusts "
        "FROM assembly) t, "
        f"(SELECT COUNT(*) AS holders, {holder_trusts} AS holder_trusts "
        f"FROM {holders} JOIN plan hp ON hp.id = h.plan_id) x")


# The downgrade gives a plan's values to its newest assembly; a plan
# without assemblies keeps nothing.
_PLAN_WITHOUT_ASSEMBLY = (
    "NOT EXISTS (SELECT 1 FROM assembly a WHERE a.plan_id = p.id)")


def _plan_values_lost(column):
    return (f"SELECT COUNT(*) FROM plan p WHERE p.{column} IS NOT NULL "
            f"AND {_PLAN_WITHOUT_ASSEMBLY}")


# The newest assembly keeps a username of its own: the plan's is lost
# unless it is the same.
_PLAN_USERNAMES_LOST = (
    "SELECT COUNT(*) FROM plan p WHERE p.username IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM assembly a WHERE a.plan_id = p.id "
    "AND (a.username IS NULL OR a.username = p.username) "
    "AND NOT EXISTS (SELECT 1 FROM assembly b "
    "WHERE b.plan_id = a.plan_id AND b.id > a.id))")


# --- the declarations, revision by revision, base to head -----------------

_ICEHOUSE_TABLES = ("service", "component", "assembly", "plan", "extension",
                    "image", "operation", "sensor")

DECLARATIONS = {
    "icehouse": {
        DOWNGRADE: tuple(DropTable(table) for table in _ICEHOUSE_TABLES),
    },
    "498adc6185ae": {
        DOWNGRADE: (
            DropTable("execution"),
            DropTable("pipeline"),
            DropTable("infrastructure_stack"),
            DropColumn("plan", "deploy_keys_uri"),
            DropColumn("component", "component_type"),
            DropColumn("component", "heat_stack_id"),
            DropColumn("assembly", "trust_id"),
            Narrow("plan", "raw_content", 2048),
            Narrow("image", "source_format", 12),
        ),
    },
    "450600086a09": {DOWNGRADE: (DropTable("userlogs"),)},
    "3a615b3b2eae": {DOWNGRADE: (DropColumn("image", "artifact_type"),)},
    "586c15b92842": {DOWNGRADE: (DropTable("parameter"),)},
    "269f9da4b38e": {DOWNGRADE: (DropColumn("assembly", "username"),)},
    "438cd6d1c655": {DOWNGRADE: (DropColumn("userlogs", "project_id"),)},
    # The downgrade adds the column back, empty.
    "27dff58cbc65": {UPGRADE: (DropColumn("plan", "deploy_keys_uri"),)},
    "2c058b5051e4": {DOWNGRADE: (DropColumn("image", "external_ref"),)},
    # The rename of userlogs.assembly_uuid keeps its values.
    "176c26131889": {DOWNGRADE: (DropColumn("userlogs", "resource_type"),)},
    "2f15f41cd87f": {DOWNGRADE: (DropColumn("assembly", "workflow"),)},
    # The upgrade renames image.state and widens it 12 -> 36.
    "1f57763d7871": {DOWNGRADE: (Narrow("image", "status", 12),)},
    "5583c6e70156": {
        UPGRADE: (
            Custom("moves triggers to plans and drops assembly.trigger_id, "
                   "which only each plan's newest assembly with a trigger "
                   "passes on", _trigger_move_losses,
                   (("assembly", "trigger_id"),), reported=True),
            Custom("moves triggers to plans and drops assembly.trust_id, "
                   "which only each plan's newest assembly with a trigger "
                   "passes on", _trigger_move_losses,
                   (("assembly", "trust_id"),),
                   needs=(("assembly", "trigger_id"),), column=1,
                   reported=True),
        ),
        DOWNGRADE: (
            Custom("gives triggers back to assemblies and drops "
                   "plan.trigger_id, which a plan without assemblies "
                   "cannot pass on", _plan_values_lost("trigger_id"),
                   (("plan", "trigger_id"),)),
            Custom("gives triggers back to assemblies and drops "
                   "plan.trust_id, which a plan without assemblies cannot "
                   "pass on", _plan_values_lost("trust_id"),
                   (("plan", "trust_id"),)),
            Custom("gives triggers back to assemblies and drops "
                   "plan.username, which only a newest assembly without a "
                   "username of its own takes", _PLAN_USERNAMES_LOST,
                   (("plan", "username"),)),
        ),
    },
    "452f34e8ea3": {DOWNGRADE: (DropColumn("image", "docker_image_name"),)},
    "1393c21ea82c": {DOWNGRADE: (DropColumn("assembly", "image_id"),)},
    "40df542e345": {DOWNGRADE: (DropTable("app"),)},
    # The upgrade widens image.base_image_id 36 -> 100.
    "43df309dbf3f": {DOWNGRADE: (Narrow("image", "base_image_id", 36),)},
    "390c6c4aa97b": {DOWNGRADE: (DropTable("workflow"),)},
    "112cfe038dd3": {
        DOWNGRADE: (DropColumn("app", "app_url"), DropColumn("app", "status")),
    },
    # Adds and drops a unique constraint only.
    "e5f2e8af3b8": {},
    "2e825c2c80c7": {DOWNGRADE: (DropColumn("app", "raw_content"),)},
    "272e7cd352f9": {DOWNGRADE: (DropColumn("workflow", "result"),)},
    "a271b35952be": {DOWNGRADE: (DropColumn("app", "scale_config"),)},
}


def declared(revision, direction):
    """What a revision's upgrade or downgrade destroys, as declared."""
    return DECLARATIONS.get(revision, {}).get(direction, ())


# --- counting -----------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Loss:
    """Values one step of a plan would destroy on this database."""

    revision: str
    direction: str
    declaration: object
    rows: int

    def __str__(self):
        return (f"{self.direction} {self.revision} "
                f"{self.declaration.what}: "
                f"{self.declaration.consequence(self.rows)}")


class _LiveSchema:
    """The tables and columns the database has now, less those that an
    earlier step of the plan drops (their values are counted there)."""

    def __init__(self, connection):
        self._inspector = sa.inspect(connection)
        self._columns = {}
        self._gone = set()
        self._rows = {}

    def row(self, connection, sql):
        """The one row ``sql`` selects, read once per assessment."""
        if sql not in self._rows:
            self._rows[sql] = tuple(connection.execute(sa.text(sql)).one())
        return self._rows[sql]

    def has_table(self, table):
        return (("table", table, None) not in self._gone
                and self._inspector.has_table(table))

    def has_column(self, table, column):
        if not self.has_table(table):
            return False
        if ("column", table, column) in self._gone:
            return False
        if table not in self._columns:
            self._columns[table] = {
                c["name"] for c in self._inspector.get_columns(table)}
        return column in self._columns[table]

    def drop(self, declaration):
        self._gone |= {key for key in declaration.covers()
                       if key[0] != "narrow"}


def deferred(declaration, direction):
    """True where a run leaves the count to the step (an upgrade step
    that reports what it lost as it runs: no work twice)."""
    return direction == UPGRADE and getattr(declaration, "reported", False)


def assess(connection, steps, defer=False):
    """The losses that running ``steps`` would cause on this database.

    ``steps`` is the ordered plan: (Script or revision id, "upgrade" or
    "downgrade") pairs. Only SELECT COUNT(*) queries run. A table or
    column that does not exist now loses nothing: if an earlier step of
    the plan adds it, it arrives empty. ``defer``: leave out what the
    steps report themselves (:func:`deferred`; the run warns of it as
    the step reports, :func:`reported`).
    """
    live = _LiveSchema(connection)
    losses = []
    for revision, direction in steps:
        revision = getattr(revision, "revision", revision)
        for declaration in declared(revision, direction):
            if defer and deferred(declaration, direction):
                continue
            rows = declaration.count(connection, live)
            if rows:
                losses.append(Loss(revision, direction, declaration, rows))
        for declaration in declared(revision, direction):
            live.drop(declaration)
    return losses


def reported(revision, direction, lost):
    """The :class:`Loss` lines of what a step reported it lost as it ran
    (``lost``: {(table, column): values}), in the declarations' order
    and words."""
    losses = []
    for declaration in declared(revision, direction):
        if not deferred(declaration, direction):
            continue
        rows = sum(lost.get(key, 0) for key in declaration.columns)
        if rows:
            losses.append(Loss(revision, direction, declaration, rows))
    return losses


def plan(config, heads, target, direction):
    """The steps an upgrade or downgrade to ``target`` runs, in order.

    The same walk Alembic's own command makes from the recorded heads,
    so "+1", "-2", "base" and partial ids mean what they mean there.
    """
    from solum_db_manage import scripts

    script = scripts.script_directory(config)
    if direction == UPGRADE:
        return steps_of(script._upgrade_revs(target, heads))
    return steps_of(script._downgrade_revs(target, heads))


def steps_of(migration_steps):
    """(revision id, direction) pairs of Alembic's migration steps."""
    return [(step.revision.revision,
             UPGRADE if step.is_upgrade else DOWNGRADE)
            for step in migration_steps]


LOG = logging.getLogger("solum_db_manage")


def review(connection, steps, target, force=False, defer=False):
    """What ``steps`` would destroy, found before any of them runs.

    Upgrades proceed whatever they lose (deployment automation must keep
    working): the caller warns of each loss (output.warn) as it applies
    them; with ``defer``, of what a step reports itself when it has run
    (:func:`assess`). A downgrade step that would lose data raises
    instead, having changed nothing, unless ``force``. Returns the
    losses.
    """
    from solum_db_manage import errors

    losses = assess(connection, steps, defer=defer)
    LOG.debug("Data-loss review: %d steps to %s, %d would lose data",
              len(steps), target, len(losses))
    refused = [str(loss) for loss in losses if loss.direction == DOWNGRADE]
    if refused and not force:
        raise errors.SolumDBManageError(
            f"downgrade to {target} would lose data, so nothing was "
            f"changed: {'; '.join(refused)}. Run it again with --force to "
            f"downgrade anyway (values too long for a narrowed column are "
            f"then cut to fit)", details=[
                f"downgrade to {target} would lose data, so nothing was "
                f"changed:", *refused])
    return losses
