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

"""What state a database is in, and what to do about it.

Finds which of the states (states.py) applies, from the version table,
the lock's record and the schema (compared by compare.py), and says how
to repair it: the commands to run, or why none can. Everything here only
reads.
"""

import logging
import re

import sqlalchemy as sa

from solum_db_manage import (
    compare,
    db,
    errors,
    forms,
    lock_lease,
    releases,
    repair,
    scripts,
    version_table,
)
from solum_db_manage.db import VERSION_TABLE
from solum_db_manage.output import PROG
from solum_db_manage.states import (
    BEHIND,
    CORRUPT,
    CURRENT,
    EMPTY,
    INTERRUPTED,
    LOCKED,
    MISMATCH,
    NEWER,
    ORIGINAL,
    UNTRACKED,
    Diagnosis,
    named,
)
from solum_db_manage.version_table import CorruptVersionTable, current_heads

LOG = logging.getLogger("solum_db_manage")


def _sentence(text):
    return text[:1].upper() + text[1:] + "."


# --- The diagnosis -----------------------------------------------------------

def diagnose(connection, schema=True, models=True, own_lock=None,
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
    head = scripts.current_chain().head
    status = lock_lease.status(connection, ignore=own_lock) or previous
    try:
        recorded = list(current_heads(connection))
        bad = None
    except CorruptVersionTable as error:
        recorded, bad = [], error
    LOG.debug("Diagnosis: the database records %s (head %s); lock: %s",
              "a corrupt version table" if bad else
              ", ".join(recorded) or "no revision", head,
              status.describe() if status else "no other run")
    if status is not None and status.kind == "running":
        diagnosis = Diagnosis(LOCKED, _sentence(status.describe()), recorded,
                              head)
        diagnosis.lock = status
        diagnosis.notes.append(
            "The schema was not examined while it changes.")
        return diagnosis
    if bad is not None:
        diagnosis = corrupt(connection, bad)
        diagnosis.lock = status
        return diagnosis
    diagnosis = _diagnose_schema(connection, recorded, head, schema, models,
                                 status)
    diagnosis.lock = status
    if status is not None and diagnosis.status in (errors.EXIT_OK,
                                                   errors.EXIT_BEHIND):
        # An interrupted run outranks being behind: it says why.
        interrupted = Diagnosis(INTERRUPTED, _sentence(status.describe()),
                                recorded, head)
        interrupted.pending = diagnosis.pending
        interrupted.head_tables_built = diagnosis.head_tables_built
        interrupted.forms = diagnosis.forms
        interrupted.notes = [diagnosis.message] + diagnosis.notes
        interrupted.lock = status
        # Running the command again completes it (every step is safe to
        # re-run) and clears the record, even where nothing is left to do.
        again = _again(status.record.command or "upgrade head")
        if again:
            interrupted.repair = [f"{PROG} {again}"]
        else:
            interrupted.notes.append(
                f"Its target, '{status.record.command}', counts from the "
                f"revision the database is at, which the interrupted run "
                f"moved: run the downgrade again naming the revision it "
                f"was to reach.")
        LOG.debug("Diagnosis: %s (exit %s)", interrupted.state,
                  interrupted.status)
        return interrupted
    LOG.debug("Diagnosis: %s (exit %s)%s", diagnosis.state, diagnosis.status,
              f", {len(diagnosis.differences)} differences"
              if diagnosis.differences else "")
    return diagnosis


def _again(command):
    """The command that completes an interrupted ``command``: itself, but
    for a relative target (``+2``, ``kilo-1``), which would now count from
    where the run stopped. An upgrade then goes to head; for a downgrade
    only the operator knows where it was going (None)."""
    verb, _, target = command.partition(" ")
    if not re.search(r"[+-][0-9]+$", target):
        return command
    return "upgrade head" if verb == "upgrade" else None


def _stopped(status, command):
    """True if the lock says the last run of ``command`` did not finish.

    Only then is a schema between two revisions read as one cut short: a
    2014 schema recorded as 438cd6d1c655 also lacks just what
    27dff58cbc65 drops, and must be stamped, not upgraded past.
    """
    return status is not None and (status.record.command or "").startswith(
        command)


def corrupt(connection, error):
    """The diagnosis of a corrupt version table: what it holds, and the
    revision the schema is at, to record instead."""
    head = scripts.current_chain().head
    diagnosis = Diagnosis(CORRUPT, str(error), (), head)
    diagnosis.notes.append(
        "No revision can be read from it, so nothing is migrated until a "
        "revision is recorded again.")
    diagnosis.matches = repair.advise(
        diagnosis, version_table.live_fingerprint(connection),
        purge=not error.retype)
    if error.retype and diagnosis.repair:
        diagnosis.repair.insert(
            0, f"the SQL 'DROP TABLE {VERSION_TABLE}' (the stamp creates "
               f"it again, rightly typed)")
    return diagnosis


def _diagnose_schema(connection, recorded, head, full, models, status):
    known = set(scripts.current_chain().revisions)
    tables = (set(sa.inspect(connection).get_table_names())
              - db.OWN_TABLES)
    if not recorded:
        return _untracked(connection, tables, head, full, status)
    if len(recorded) == 1 and recorded[0] in releases.PRE_SQUASH:
        return _pre_squash(connection, recorded, head, full)
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
        return _behind(recorded, head)
    if current == head:
        return _at_head(connection, recorded, head, models)
    live = version_table.live_fingerprint(connection)
    before, expected, after = compare.neighbours(current)
    missing, extra = compare.missing_and_extra(expected[1], live)
    if (missing and after and _stopped(status, "upgrade")
            and compare.between(live, expected[1], after[1])):
        diagnosis = _behind(recorded, head)
        diagnosis.differences = missing + extra
        diagnosis.notes.append(
            f"Revision {after[0]} was applied only in part (an upgrade "
            f"killed or failed half-way; MySQL/MariaDB cannot roll DDL "
            f"back): 'upgrade head' completes it, since every step is safe "
            f"to re-run.")
        return diagnosis
    if missing and _stopped(status, "downgrade") and compare.between(
            live, before[1], expected[1]):
        diagnosis = Diagnosis(
            MISMATCH,
            f"The database records revision {named(current)}, but a "
            f"downgrade of it stopped half-way.", recorded, head)
        diagnosis.differences = missing + extra
        diagnosis.allows = {"downgrade"}
        target = before[0] or "base"
        diagnosis.repair = [f"{PROG} downgrade {target}"]
        diagnosis.notes.append(
            f"Run the downgrade again to finish it, or, to go back up, "
            f"'{PROG} stamp {target}' then '{PROG} upgrade head' (every "
            f"step is safe to re-run).")
        return diagnosis
    if missing:
        return _mismatch(recorded, head, missing + extra, live)
    diagnosis = (_original(connection, recorded, head)
                 or _behind(recorded, head))
    if extra:
        diagnosis.notes.append(
            "The schema already holds parts of later revisions (an "
            "interrupted upgrade?): " + "; ".join(extra) + ". 'upgrade "
            "head' completes them.")
    return diagnosis


def _mismatch(recorded, head, differences, live):
    if not set(live) & compare.solum_tables():
        # Nothing to keep: forget the revision, then create the schema.
        diagnosis = Diagnosis(
            MISMATCH,
            f"The database records revision {named(recorded[0])} but "
            f"holds none of its tables (no Solum table at all): nothing "
            f"was created, or everything was dropped.", recorded, head)
        diagnosis.repair = [f"{PROG} stamp base", f"{PROG} upgrade head"]
        diagnosis.notes.append(
            "'stamp base' records no revision; 'upgrade head' then "
            "creates the whole schema.")
        return diagnosis
    diagnosis = Diagnosis(
        MISMATCH,
        f"The database records revision {named(recorded[0])} but its "
        f"schema is not that revision's.", recorded, head)
    diagnosis.differences = differences
    diagnosis.matches = repair.advise(diagnosis, live, upto=recorded[0])
    return diagnosis


def _pre_squash(connection, recorded, head, full):
    """A database recorded at a revision the 2014 squash removed."""
    diagnosis = Diagnosis(
        MISMATCH, f"The database records revision {recorded[0]}: "
        f"{releases.describe_pre_squash(recorded[0])}. Its schema, not "
        f"that id, says where it is.", recorded, head)
    if not full:
        diagnosis.notes.append(f"Run '{PROG} check' to find its revision.")
        return diagnosis
    live = version_table.live_fingerprint(connection)
    if not set(live) & compare.solum_tables():
        diagnosis.notes.append("It holds no Solum table.")
        diagnosis.repair = [f"{PROG} stamp --purge base",
                            f"{PROG} upgrade head"]
        return diagnosis
    diagnosis.matches = repair.advise(diagnosis, live, purge=True)
    if diagnosis.matches is None:
        diagnosis.notes.append(
            "No Solum release has a way from a schema older than Icehouse "
            "(2014.1.0): keep its data elsewhere, create the database "
            f"again, and run '{PROG} upgrade head'.")
    return diagnosis


def _original(connection, recorded, head):
    """The diagnosis of a schema in the original Solum's form (forms.py),
    the rest being the recorded revision's; None if it is in ours."""
    differences = forms.find(connection)
    if not differences:
        return None
    at_head = recorded == [head]
    diagnosis = Diagnosis(
        ORIGINAL,
        f"The database is at {'head ' if at_head else 'revision '}"
        f"{named(recorded[0])}, with that revision's schema in the form "
        f"the original Solum left it: 'upgrade head' normalises it"
        f"{'' if at_head else ' and upgrades it'} (no revision is added; "
        f"every row is kept).", recorded, head)
    diagnosis.forms = differences
    diagnosis.differences = [str(d) for d in differences]
    if not at_head:
        diagnosis.pending = scripts.current_chain().pending(recorded[0])
    diagnosis.repair = [f"{PROG} upgrade head"]
    return diagnosis


def _at_head(connection, recorded, head, models):
    if not models:
        # Without the models, still tell an older form recorded as head.
        live = version_table.live_fingerprint(connection)
        missing, extra = compare.missing_and_extra(
            dict(compare.revision_fingerprints())[head], live)
        if missing:
            return _mismatch(recorded, head, missing + extra, live)
        return _original(connection, recorded, head) or _behind(
            recorded, head)
    differences = forms.find(connection)
    drift = [line for line in compare.model_differences(connection)
             if not forms.explains(differences, line)]
    if differences and not drift:
        return _original(connection, recorded, head)
    if not drift:
        return Diagnosis(
            CURRENT, f"The database is at head {named(head)}, and its "
            f"schema matches the models.", recorded, head)
    live = version_table.live_fingerprint(connection)
    missing, extra = compare.missing_and_extra(
        dict(compare.revision_fingerprints())[head], live)
    if missing:
        # Not drift: an older form of the schema recorded as head.
        return _mismatch(recorded, head, missing + extra, live)
    diagnosis = Diagnosis(
        MISMATCH,
        f"The database is at head {named(head)} but its schema differs "
        f"from Solum's models.", recorded, head)
    diagnosis.differences = drift
    diagnosis.notes.append(
        "These changes were not made by solum-db-manage: undo them by "
        "hand (the list says what), or restore the database.")
    if differences:
        diagnosis.differences += [str(d) for d in differences]
        diagnosis.notes.append(
            "The rest is the form the original Solum left: 'upgrade "
            "head' normalises it once the changes above are undone.")
    return diagnosis


def _behind(recorded, head):
    if recorded == [head]:
        return Diagnosis(CURRENT, f"The database is at head {named(head)}.",
                         recorded, head)
    diagnosis = Diagnosis(
        BEHIND,
        f"The database is at revision {named(recorded[0])}; head is "
        f"{named(head)}: upgrade needed.", recorded, head)
    diagnosis.pending = scripts.current_chain().pending(recorded[0])
    diagnosis.repair = [f"{PROG} upgrade head"]
    return diagnosis


def _untracked(connection, tables, head, full, status):
    solum = tables & compare.solum_tables() if full and tables else tables
    if not solum:
        diagnosis = Diagnosis(
            EMPTY, "The database holds no Solum table and no version: "
            "'upgrade head' creates the schema.", (), head)
        diagnosis.pending = list(scripts.current_chain().revisions)
        diagnosis.repair = [f"{PROG} upgrade head"]
        diagnosis.head_tables_built = set()
        return diagnosis
    if full:
        live = version_table.live_fingerprint(connection)
        if _head_built_in_part(live, head, status):
            diagnosis = Diagnosis(
                EMPTY, "The database holds part of the head schema and no "
                "version: its first 'upgrade head', which creates the head "
                "tables one by one, stopped half-way. 'upgrade head' "
                "completes it.", (), head)
            diagnosis.pending = list(scripts.current_chain().revisions)
            diagnosis.repair = [f"{PROG} upgrade head"]
            diagnosis.head_tables_built = set(live)
            return diagnosis
        root = compare.revision_fingerprints()[0]
        if live != root[1] and compare.between(live, {}, root[1]):
            diagnosis = Diagnosis(
                EMPTY, f"The database holds part of the {root[0]} schema "
                f"and no version: its first upgrade stopped half-way. "
                f"'upgrade head' completes it.", (), head)
            diagnosis.pending = list(scripts.current_chain().revisions)
            diagnosis.repair = [f"{PROG} upgrade head"]
            return diagnosis
    diagnosis = Diagnosis(
        UNTRACKED, "The database holds Solum tables but no version "
        "(alembic_version is missing or empty).", (), head)
    if full:
        diagnosis.matches = repair.advise(
            diagnosis, version_table.live_fingerprint(connection))
    else:
        diagnosis.notes.append(f"Run '{PROG} check' to find its revision.")
    return diagnosis


def head_targets(head):
    """The upgrade targets that build an empty database's head schema
    directly (fresh.py) rather than walk the chain."""
    return ("head", "heads", head)


def _head_built_in_part(live, head, status):
    """True if ``live`` is what a cut-short ``upgrade head`` of an empty
    database leaves: some tables of the head schema, each whole.

    That run builds the head schema directly; on MySQL/MariaDB, where
    each CREATE TABLE commits on its own, a kill leaves the tables made
    so far. The lock says which command stopped.
    """
    command = status.record.command if status is not None else None
    if command not in (f"upgrade {name}" for name in head_targets(head)):
        return False
    expected = dict(compare.revision_fingerprints())[head]
    return all(expected.get(table) == columns
               for table, columns in live.items())


def _several(connection, recorded, head, full):
    diagnosis = Diagnosis(
        MISMATCH, f"The version table records several revisions "
        f"({', '.join(recorded)}); Solum's chain has one head.",
        recorded, head)
    if full:
        diagnosis.matches = repair.advise(
            diagnosis, version_table.live_fingerprint(connection), purge=True)
    return diagnosis
