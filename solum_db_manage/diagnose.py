"""What state a database is in, and what to do about it.

``check`` prints a :class:`Diagnosis`; ``version`` and ``upgrade`` reuse
it for their messages and guards. Everything here only reads.

The schema a revision leaves is known by walking the chain once on an
in-memory SQLite database (cached for the process): per table, the set of
column names. That is what tells an Icehouse schema recorded as
498adc6185ae, or the revision an untracked database is at. At head, the
schema is also compared, types included, with the models.
"""

import functools
import logging

import sqlalchemy as sa

from solum_db_manage import errors, lock, releases

VERSION_TABLE = "alembic_version"
_OWN_TABLES = {VERSION_TABLE, lock.LOCK_TABLE}

# Exit status and name of each state, in the order check ranks them:
# the first state found that applies is the one reported.
CURRENT = (errors.EXIT_OK, "current")
BEHIND = (errors.EXIT_BEHIND, "behind")
EMPTY = (errors.EXIT_BEHIND, "empty")
NEWER = (errors.EXIT_NEWER, "newer")
UNTRACKED = (errors.EXIT_UNTRACKED, "untracked")
MISMATCH = (errors.EXIT_MISMATCH, "mismatch")
LOCKED = (errors.EXIT_LOCKED, "locked")
INTERRUPTED = (errors.EXIT_LOCKED, "interrupted")

PROG = "solum-db-manage"


class Diagnosis:
    """One state, the lines that explain it, and the data for --json."""

    def __init__(self, state, message, recorded=(), head=None):
        self.status, self.state = state
        self.message = message
        self.recorded = list(recorded)
        self.head = head
        self.pending = []
        self.differences = []
        self.repair = []
        self.matches = None
        self.notes = []
        self.lock = None
        # Commands that may run from this state nonetheless.
        self.allows = set()

    def lines(self):
        lines = [self.message]
        if self.pending:
            lines.append("Pending revisions: " + ", ".join(self.pending))
        lines += [f"  {difference}" for difference in self.differences]
        lines += self.notes
        if self.lock is not None and self.state not in ("locked",
                                                        "interrupted"):
            lines.append(self.lock.describe())
        if self.repair:
            lines.append("To repair, run: " + "; then ".join(self.repair))
        return lines

    def as_dict(self):
        return {
            "status": self.status,
            "state": self.state,
            "message": self.message,
            "revisions": self.recorded,
            "releases": [releases.describe(r) or None
                         for r in self.recorded],
            "head": self.head,
            "pending": self.pending,
            "differences": self.differences,
            "matches": self.matches,
            "repair": self.repair,
            "notes": self.notes,
            "lock": self.lock.as_dict() if self.lock else None,
        }


def _sentence(text):
    return text[:1].upper() + text[1:] + "."


def _named(revision):
    release = releases.describe(revision)
    return f"{revision} ({release})" if release else revision


def script_directory(config):
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config)


# --- What the chain leaves at each revision --------------------------------

def live_fingerprint(connection):
    """Per table (but our own), the set of its column names."""
    inspector = sa.inspect(connection)
    return {
        table: frozenset(c["name"] for c in inspector.get_columns(table))
        for table in inspector.get_table_names()
        if table not in _OWN_TABLES
    }


@functools.lru_cache(maxsize=1)
def revision_fingerprints():
    """[(revision, fingerprint)] from the root to head, walked on SQLite."""
    from alembic import command

    from solum_db_manage import migration

    config = migration.make_config("sqlite://")
    fingerprints = []

    def record(ctx, step, heads, run_args):
        fingerprints.append((step.up_revision_id,
                             live_fingerprint(ctx.connection)))

    config.attributes["after_revision"] = record
    engine = sa.create_engine("sqlite://")
    quiet = logging.getLogger("alembic")
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        quiet.setLevel(level)
        engine.dispose()
    return fingerprints


def _contains(big, small):
    return all(table in big and columns <= big[table]
               for table, columns in small.items())


def _differences(expected, live):
    """What ``live`` lacks and holds beyond ``expected``, as lines."""
    missing, extra = [], []
    for table in sorted(set(expected) | set(live)):
        if table not in live:
            missing.append(f"table {table} is missing")
        elif table not in expected:
            extra.append(f"table {table} is not expected")
        else:
            missing += [f"column {table}.{c} is missing"
                        for c in sorted(expected[table] - live[table])]
            extra += [f"column {table}.{c} is not expected"
                      for c in sorted(live[table] - expected[table])]
    return missing, extra


def match_revision(live, upto=None):
    """The revision to stamp for a schema: (revision, exact) or None.

    An exact match gives the earliest revision with that schema (every
    step is safe to re-run, so stamping early is safe). Otherwise: the
    latest revision (not past ``upto``) whose every table and column the
    schema holds; ``upgrade head`` then completes the rest.
    """
    fingerprints = revision_fingerprints()
    if upto is not None:
        ids = [revision for revision, _ in fingerprints]
        fingerprints = fingerprints[:ids.index(upto) + 1]
    for revision, fingerprint in fingerprints:
        if fingerprint == live:
            return revision, True
    for revision, fingerprint in reversed(fingerprints):
        if _contains(live, fingerprint):
            return revision, False
    return None


def _solum_tables():
    tables = set()
    for _, fingerprint in revision_fingerprints():
        tables.update(fingerprint)
    return tables


# --- Drift from the models at head -----------------------------------------

def model_differences(connection):
    """Differences between the live schema and the models, as lines."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from solum_db_manage import models

    context = MigrationContext.configure(connection, opts={
        "compare_type": True,
        "compare_server_default": True,
        "include_name": include_name,
    })
    return [_describe_change(change)
            for change in _flatten(compare_metadata(
                context, models.Base.metadata))]


def include_name(name, type_, parent_names):
    """Leave the tool's own tables out of comparisons (and autogenerate)."""
    return not (type_ == "table" and name in _OWN_TABLES)


def _flatten(changes):
    for change in changes:
        if isinstance(change, list):
            yield from change
        else:
            yield change


def _describe_change(change):
    kind = change[0]
    if kind in ("add_table", "remove_table"):
        where = ("is missing" if kind == "add_table"
                 else "is not in the models")
        return f"table {change[1].name} {where}"
    if kind in ("add_column", "remove_column"):
        where = ("is missing" if kind == "add_column"
                 else "is not in the models")
        return f"column {change[2]}.{change[3].name} {where}"
    if kind == "modify_type":
        return (f"column {change[2]}.{change[3]} is {change[5]}; the "
                f"models say {change[6]}")
    if kind == "modify_nullable":
        return (f"column {change[2]}.{change[3]} is "
                f"{'NULL' if change[5] else 'NOT NULL'}; the models say "
                f"{'NULL' if change[6] else 'NOT NULL'}")
    if kind == "modify_default":
        return (f"column {change[2]}.{change[3]} has default "
                f"{_default(change[5])}; the models say "
                f"{_default(change[6])}")
    if kind in ("add_index", "remove_index", "add_constraint",
                "remove_constraint", "add_fk", "remove_fk"):
        item = change[1]
        table = getattr(item, "table", None)
        where = ("is missing" if kind.startswith("add")
                 else "is not in the models")
        noun = {"index": "index", "constraint": "constraint",
                "fk": "foreign key"}[kind.split("_", 1)[1]]
        return (f"{noun} {item.name or ''} on "
                f"{table.name if table is not None else '?'}"
                f"({', '.join(c.name for c in item.columns)}) {where}")
    return " ".join(str(part) for part in change)


def _default(value):
    text = getattr(value, "arg", value)
    return "none" if text is None else str(getattr(text, "text", text))


# --- The diagnosis -----------------------------------------------------------

def diagnose(config, connection, schema=True, models=True, own_lock=None,
             previous=None):
    """Find the database's state.

    ``schema`` compares the schema with the one the recorded revision
    leaves, and ``models`` (at head) with the models, types included;
    without them only the version table, the table names and the lock are
    read, as ``version`` does. ``own_lock`` is the token of a lock this
    process holds, which is no sign of another run; ``previous`` is then
    what the lock said of the run before (interrupted or failed), if
    anything.
    """
    from solum_db_manage import migration

    script = script_directory(config)
    head = script.get_current_head()
    status = lock.status(connection, ignore=own_lock) or previous
    recorded = list(migration.current_heads(connection))
    if status is not None and status.kind == "running":
        found = Diagnosis(LOCKED, _sentence(status.describe()), recorded,
                          head)
        found.lock = status
        found.notes.append("The schema was not examined while it changes.")
        return found
    found = _diagnose_schema(script, connection, recorded, head, schema,
                             models, status)
    found.lock = status
    if status is not None and found.status in (errors.EXIT_OK,
                                               errors.EXIT_BEHIND):
        # An interrupted run outranks being behind: it says why.
        interrupted = Diagnosis(INTERRUPTED, _sentence(status.describe()),
                                recorded, head)
        interrupted.pending = found.pending
        interrupted.notes = [found.message] + found.notes
        interrupted.lock = status
        # Running the command again completes it (every step is safe to
        # re-run) and clears the record, even where nothing is left to do.
        again = status.record.command or "upgrade head"
        interrupted.repair = [f"{PROG} {again}"]
        return interrupted
    return found


def _neighbours(revision):
    """(id, fingerprint) of the revision before, itself, and after.

    Before the root is (None, {}): no schema at all. After head is None.
    """
    fingerprints = revision_fingerprints()
    ids = [rev for rev, _ in fingerprints]
    at = ids.index(revision)
    before = fingerprints[at - 1] if at else (None, {})
    after = fingerprints[at + 1] if at + 1 < len(ids) else None
    return before, fingerprints[at], after


def _between(live, first, second):
    """True if ``live`` is a revision change from first to second, cut
    short: it holds every table and column the two share, and nothing
    either lacks."""
    for table in set(first) & set(second):
        shared = first[table] & second[table]
        if table not in live or not shared <= live[table]:
            return False
    for table, columns in live.items():
        if table not in first and table not in second:
            return False
        allowed = first.get(table, frozenset()) | second.get(
            table, frozenset())
        if not columns <= allowed:
            return False
    return True


def _stopped(status, command):
    """True if the lock says the last run of ``command`` did not finish.

    Only then is a schema between two revisions read as one cut short: a
    2014 schema recorded as 438cd6d1c655 also lacks just what
    27dff58cbc65 drops, and must be stamped, not upgraded past.
    """
    return status is not None and (status.record.command or "").startswith(
        command)


def _diagnose_schema(script, connection, recorded, head, full, models,
                     status):
    known = {rev.revision for rev in script.walk_revisions()}
    tables = set(sa.inspect(connection).get_table_names()) - _OWN_TABLES
    if not recorded:
        return _untracked(connection, tables, head, full)
    unknown = [rev for rev in recorded if rev not in known]
    if unknown:
        return Diagnosis(
            NEWER,
            f"The database records revision {', '.join(unknown)}, unknown "
            f"to this solum-db-manage (head {head}): it was migrated by a "
            f"newer release. Use that release's solum-db-manage.",
            recorded, head)
    if len(recorded) > 1:
        return _several(connection, recorded, head, full)
    current = recorded[0]
    if not full:
        return _behind(script, recorded, head)
    if current == head:
        return _at_head(connection, recorded, head, models)
    live = live_fingerprint(connection)
    before, expected, after = _neighbours(current)
    missing, extra = _differences(expected[1], live)
    if (missing and after and _stopped(status, "upgrade")
            and _between(live, expected[1], after[1])):
        found = _behind(script, recorded, head)
        found.differences = missing + extra
        found.notes.append(
            f"Revision {after[0]} was applied only in part (an upgrade "
            f"killed or failed half-way; MySQL/MariaDB cannot roll DDL "
            f"back): 'upgrade head' completes it, since every step is safe "
            f"to re-run.")
        return found
    if missing and _stopped(status, "downgrade") and _between(
            live, before[1], expected[1]):
        found = Diagnosis(
            MISMATCH,
            f"The database records revision {_named(current)}, but a "
            f"downgrade of it stopped half-way.", recorded, head)
        found.differences = missing + extra
        found.allows = {"downgrade"}
        target = before[0] or "base"
        found.repair = [f"{PROG} downgrade {target}"]
        found.notes.append(
            f"Run the downgrade again to finish it, or, to go back up, "
            f"'{PROG} stamp {target}' then '{PROG} upgrade head' (every "
            f"step is safe to re-run).")
        return found
    if missing:
        return _mismatch(recorded, head, missing + extra, live)
    found = _behind(script, recorded, head)
    if extra:
        found.notes.append(
            "The schema already holds parts of later revisions (an "
            "interrupted upgrade?): " + "; ".join(extra) + ". 'upgrade "
            "head' completes them.")
    return found


def _mismatch(recorded, head, differences, live):
    found = Diagnosis(
        MISMATCH,
        f"The database records revision {_named(recorded[0])} but its "
        f"schema is not that revision's.", recorded, head)
    found.differences = differences
    found.matches = _repair(found, live, upto=recorded[0])
    return found


def _at_head(connection, recorded, head, models):
    if not models:
        return _behind(None, recorded, head)
    drift = model_differences(connection)
    if not drift:
        return Diagnosis(
            CURRENT, f"The database is at head {_named(head)}, and its "
            f"schema matches the models.", recorded, head)
    live = live_fingerprint(connection)
    missing, extra = _differences(dict(revision_fingerprints())[head], live)
    if missing:
        # Not drift: an older form of the schema recorded as head.
        return _mismatch(recorded, head, missing + extra, live)
    found = Diagnosis(
        MISMATCH,
        f"The database is at head {_named(head)} but its schema differs "
        f"from Solum's models.", recorded, head)
    found.differences = drift
    found.notes.append(
        "These changes were not made by solum-db-manage: undo them by "
        "hand (the list says what), or restore the database.")
    return found


def _behind(script, recorded, head):
    if recorded == [head]:
        return Diagnosis(CURRENT, f"The database is at head {_named(head)}.",
                         recorded, head)
    found = Diagnosis(
        BEHIND,
        f"The database is at revision {_named(recorded[0])}; head is "
        f"{_named(head)}: upgrade needed.", recorded, head)
    found.pending = [
        step.revision.revision
        for step in script._upgrade_revs("heads", tuple(recorded))]
    found.repair = [f"{PROG} upgrade head"]
    return found


def _script_revisions():
    from solum_db_manage import migration

    return script_directory(migration.make_config(None)).walk_revisions()


def _untracked(connection, tables, head, full):
    solum = tables & _solum_tables() if full and tables else tables
    if not solum:
        found = Diagnosis(
            EMPTY, "The database holds no Solum table and no version: "
            "'upgrade head' creates the schema.", (), head)
        found.pending = [rev.revision for rev in reversed(list(
            _script_revisions()))]
        found.repair = [f"{PROG} upgrade head"]
        return found
    if full:
        live = live_fingerprint(connection)
        root = revision_fingerprints()[0]
        if live != root[1] and _between(live, {}, root[1]):
            found = Diagnosis(
                EMPTY, f"The database holds part of the {root[0]} schema "
                f"and no version: its first upgrade stopped half-way. "
                f"'upgrade head' completes it.", (), head)
            found.pending = [rev for rev, _ in revision_fingerprints()]
            found.repair = [f"{PROG} upgrade head"]
            return found
    found = Diagnosis(
        UNTRACKED, "The database holds Solum tables but no version "
        "(alembic_version is missing or empty).", (), head)
    if full:
        found.matches = _repair(found, live_fingerprint(connection))
    else:
        found.notes.append(f"Run '{PROG} check' to find its revision.")
    return found


def _several(connection, recorded, head, full):
    found = Diagnosis(
        MISMATCH, f"The version table records several revisions "
        f"({', '.join(recorded)}); Solum's chain has one head.",
        recorded, head)
    if full:
        found.matches = _repair(found, live_fingerprint(connection),
                                purge=True)
    return found


def _repair(found, live, upto=None, purge=False):
    """Say which revision the schema is, and how to record it."""
    match = match_revision(live, upto=upto)
    if match is None:
        found.notes.append(
            "Its schema matches no revision of Solum's chain: restore it "
            "from a backup, or repair it by hand.")
        return None
    revision, exact = match
    if exact:
        found.notes.append(f"Its schema is that of revision "
                           f"{_named(revision)}.")
    else:
        found.notes.append(
            f"Its schema holds every table and column of revision "
            f"{_named(revision)}, and more: 'upgrade head' completes it "
            f"(every step is safe to re-run).")
    stamp = f"{PROG} stamp{' --purge' if purge else ''} {revision}"
    found.repair = [stamp]
    if revision != found.head or not exact:
        found.repair.append(f"{PROG} upgrade head")
    return {"revision": revision, "exact": exact}
