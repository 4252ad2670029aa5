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

"""What to run to repair a database: the stamp that records the revision
its schema is at, and why a stamp must not run where it would record
more than exists.
"""

from solum_db_manage import compare, scripts, version_table
from solum_db_manage.output import PROG
from solum_db_manage.states import MISMATCH, Diagnosis, named


def advise(diagnosis, live, upto=None, purge=False):
    """Say which revision the schema is, and how to record it."""
    match = compare.match_revision(live, upto=upto)
    if match is None:
        diagnosis.notes.append(
            "Its schema matches no revision of Solum's chain: restore it "
            "from a backup, or repair it by hand.")
        return None
    revision, exact = match
    if exact:
        diagnosis.notes.append(f"Its schema is that of revision "
                               f"{named(revision)}.")
    else:
        diagnosis.notes.append(
            f"Its schema holds every table and column of revision "
            f"{named(revision)}, and more: 'upgrade head' completes it "
            f"(every step is safe to re-run).")
    stamp = f"{PROG} stamp{' --purge' if purge else ''} {revision}"
    diagnosis.repair = [stamp]
    if revision != diagnosis.head or not exact:
        diagnosis.repair.append(f"{PROG} upgrade head")
    return {"revision": revision, "exact": exact}


def stamp_refusal(connection, revision, recorded, head):
    """Why ``stamp revision`` must not run here, or None if it may.

    Stamping records that the schema holds what ``revision`` leaves; where
    the live schema lacks any of its tables or columns, later steps would
    build on what is not there. Where it holds them all (and more, as the
    Icehouse-era forms do), stamping is safe: every step is safe to re-run.
    """
    expected = dict(compare.revision_fingerprints())[revision]
    live = version_table.live_fingerprint(connection)
    missing, _ = compare.missing_and_extra(expected, live)
    if not missing:
        return None
    known = set(scripts.current_chain().revisions)
    purge = any(rev not in known for rev in recorded)
    if not set(live) & compare.solum_tables():
        diagnosis = Diagnosis(
            MISMATCH, f"The database holds no Solum table, so recording "
            f"revision {named(revision)} would record tables that do not "
            f"exist; 'upgrade head' creates the whole schema.", recorded,
            head)
        diagnosis.repair = [f"{PROG} upgrade head"]
        if recorded:
            diagnosis.repair.insert(
                0, f"{PROG} stamp{' --purge' if purge else ''} base")
        return diagnosis
    shown = "; ".join(missing[:_SHOWN]) + (
        f"; and {len(missing) - _SHOWN} more" if len(missing) > _SHOWN
        else "")
    diagnosis = Diagnosis(
        MISMATCH, f"The database lacks tables or columns of revision "
        f"{named(revision)}'s schema ({shown}), so recording it would "
        f"record more than exists.", recorded, head)
    diagnosis.matches = advise(diagnosis, live, purge=purge)
    if (diagnosis.matches is not None and len(recorded) == 1
            and diagnosis.repair[0].endswith(f" {recorded[0]}")):
        # Already recorded: the stamp it would advise is a no-op.
        diagnosis.repair = diagnosis.repair[1:] or [f"{PROG} check"]
    return diagnosis


# Differences listed in a stamp refusal (one line: the rest is counted).
_SHOWN = 6
