"""The chain, one revision at a time, up to head and back down to base.

After every step the schema must equal ``schema_spec`` for the revision the
database is now at (on MySQL exactly, column order and foreign key names
included; elsewhere its projection), alembic_version must hold exactly that
revision, and every row inserted so far must still be there with its
values, except where a step exists to change them: renamed and dropped
columns, dropped tables, and the trigger move of 5583c6e70156.
"""

from solum_db_manage import migration
from tests import dbutil, schema_spec
from tests.rows_spec import MOVE_TRIGGERS, TRIGGER_VALUES, Ledger, check

REVISIONS = schema_spec.REVISIONS

# --- the walk ----------------------------------------------------------------


def _check_triggers_returned(engine, ledger, step_name):
    """The assemblies that held the triggers got them back."""
    assert ledger.trigger_holders, "the rows give no assembly a trigger"
    actual = {row["id"]: row for row in dbutil.rows(engine, "assembly")}
    problems = []
    for assembly_id, held in sorted(ledger.trigger_holders.items()):
        got = {key: actual[assembly_id][key] for key in TRIGGER_VALUES}
        if got != held:
            problems.append((step_name, (
                f"assembly {assembly_id} held {held} before the upgrade, "
                f"has {got} after the downgrade")))
    return problems


def test_walk_up_and_down_matches_spec_and_keeps_rows(backend, db_url,
                                                       engine):
    config = migration.make_config(db_url)
    ledger = Ledger()
    problems = check(engine, ledger, "at base", backend)

    for step, revision in enumerate(REVISIONS):
        migration.upgrade(config, revision)
        ledger.upgraded(revision)
        problems += check(engine, ledger, f"upgrade to {revision}", backend)
        ledger.insert(engine, step)
        problems += check(
            engine, ledger, f"rows inserted at {revision}", backend)

    for revision in reversed(REVISIONS):
        target = schema_spec.below(revision)
        # The rows fill the columns each step drops: a loss to accept.
        migration.downgrade(config, target or "base", force=True)
        ledger.downgraded(revision)
        step_name = f"downgrade {revision} -> {target or 'base'}"
        problems += check(engine, ledger, step_name, backend)
        if revision == MOVE_TRIGGERS:
            problems += _check_triggers_returned(engine, ledger, step_name)

    left = set(dbutil.snapshot(engine, include_version_table=True))
    if left - {dbutil.VERSION_TABLE}:
        problems.append(("at base", f"tables left: {sorted(left)}"))
    assert not problems, f"on {backend}:\n" + _report(problems)


def _report(problems, limit=80):
    """One line a problem, with the steps it was seen at."""
    steps = {}
    for step_name, problem in problems:
        steps.setdefault(problem, []).append(step_name)
    lines = []
    for problem, seen in steps.items():
        later = f" (and {len(seen) - 1} later steps)" if len(seen) > 1 else ""
        lines.append(f"{seen[0]}{later}: {problem}")
    if len(lines) > limit:
        lines[limit:] = [f"... and {len(lines) - limit} more"]
    return "\n".join(lines)
