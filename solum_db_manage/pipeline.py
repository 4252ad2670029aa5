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

"""The guarded change pipeline of ``upgrade``, ``downgrade`` and ``stamp``.

Every run holds the migration lock (lock.py), then reads where the
database is (diagnose.py), refuses what cannot go well from there, and
builds a :class:`Plan`: what it will do, decided before anything
changes (the steps, and what they destroy: dataloss.py); :func:`apply`
carries it out (as Django's ``migration_plan()`` and ``migrate(plan)``).
:func:`run` does all of it.
"""

import contextlib
import dataclasses
import logging

from solum_db_manage import (
    db,
    errors,
    output,
    releases,
    scripts,
    version_table,
)
from solum_db_manage.output import PROG

LOG = logging.getLogger("solum_db_manage")

UPGRADE, DOWNGRADE = 1, -1


@dataclasses.dataclass
class Plan:
    """What one run of ``command`` will do, decided before it changes
    anything."""

    command: str        # "upgrade", "downgrade" or "stamp"
    asked: str          # the revision as given (a release name, "-1"...)
    target: str         # the revision resolved (releases.resolve)
    direction: int | None = None    # UPGRADE, DOWNGRADE; None for stamp
    # The Diagnosis the run began with (upgrade, downgrade).
    diagnosis: object = None
    # The revisions the database records, as the plan was made.
    recorded: tuple = ()
    # Build the head schema directly (fresh.py), no step looked up: an
    # empty database upgraded to head.
    fast_path: bool = False
    # Turn the original Solum's forms into ours first (forms.py).
    normalise: bool = False
    # Alembic's steps in order, and what they destroy (dataloss.Loss,
    # accepted: warned of as the plan is applied).
    steps: list = dataclasses.field(default_factory=list)
    losses: list = dataclasses.field(default_factory=list)
    # Values a narrowed column cannot hold are cut (config "truncate").
    truncate: bool = False
    # Where no step will run: "", or the line that says why where it is
    # not the usual "Nothing to do: the database is already at ...".
    nothing: str | None = None
    purge: bool = False     # stamp --purge
    # What the steps will do to this database (forecast.Forecast): here
    # only the failures the data will cause, which refuse the run.
    forecast: object = None


def run(config, command, revision, force=False, purge=False):
    """``command`` to ``revision`` (as given), holding the lock."""
    target = releases.resolve(revision)
    with locked(config, f"{command} {target}") as (connection, held):
        plan = make_plan(config, connection, held, command, revision,
                         force=force, purge=purge)
        apply(config, connection, held, plan)


def make_plan(config, connection, held, command, revision, force=False,
              purge=False):
    """The :class:`Plan` of ``command`` to ``revision`` from where the
    database is; raises, having changed nothing, where the command is
    refused. Only reads. ``force``: downgrade despite losses, stamp over
    a schema lacking the revision's tables."""
    plan = Plan(command, revision, releases.resolve(revision), purge=purge)
    if command == "stamp":
        _plan_stamp(config, connection, held, plan, force)
        return plan
    from solum_db_manage import diagnose

    plan.direction = UPGRADE if command == "upgrade" else DOWNGRADE
    diagnosis = plan.diagnosis = diagnose.diagnose(
        connection, models=False, own_lock=held.token,
        previous=held.previous)
    plan.recorded = tuple(diagnosis.recorded)
    refuse(diagnosis, command)
    if command == "upgrade":
        plan.fast_path = (diagnosis.head_tables_built is not None
                          and plan.target
                          in diagnose.head_targets(diagnosis.head))
        LOG.debug("Fresh-install fast path: %s", "tried" if plan.fast_path
                  else "not taken (not an empty database upgraded to head)")
        if plan.fast_path:
            return plan
    _plan_steps(config, connection, plan, force)
    return plan


def _plan_steps(config, connection, plan, force=False):
    """The steps of an upgrade or downgrade, what they destroy, and the
    failures the data would cause (refused here, changing nothing)."""
    from solum_db_manage import dataloss

    if not _walk(config, connection, plan):
        return
    # An upgrade only warns: what a step finds itself while doing its
    # work (the trigger move) it reports when it has run (_step_report),
    # not counted here first. A downgrade, refused without --force,
    # counts everything first.
    plan.losses = dataloss.review(connection, dataloss.steps_of(plan.steps),
                                  plan.target, force=force,
                                  defer=plan.command == "upgrade")
    # Upgrades cut values a narrowed column cannot hold, as warned.
    plan.truncate = plan.command == "upgrade" or force
    if not plan.steps:
        plan.nothing = ""
        return
    plan.forecast = _forecast(connection, plan, measure=False)
    refuse_failures(connection, plan)


def _walk(config, connection, plan):
    """Fill ``plan.steps`` with Alembic's walk to the target; False where
    the target lies the other way (``plan.nothing`` says so; raised for
    a downgrade)."""
    past = is_past(config, plan.diagnosis, plan.target, plan.direction,
                   plan.asked)
    if past and plan.command == "downgrade":
        connection.rollback()
        raise errors.SolumDBManageError(past)
    if past:
        plan.nothing = past
        return False
    plan.normalise = plan.command == "upgrade" and bool(plan.diagnosis.forms)
    script = scripts.script_directory(config)
    walk = (script._upgrade_revs if plan.command == "upgrade"
            else script._downgrade_revs)
    with scripts.alembic_errors():
        plan.steps = list(walk(plan.target, plan.recorded))
    LOG.debug("Plan: %s %s walks %d revisions%s", plan.command, plan.target,
              len(plan.steps), ": " + ", ".join(
                  step.revision.revision for step in plan.steps)
              if plan.steps else "")
    return True


def _forecast(connection, plan, measure):
    from solum_db_manage import forecast

    # The normalisation cannot fail on the data: --plan shows it.
    found = forecast.forecast(
        connection, plan.steps, plan.losses, measure=measure,
        normalise=plan.diagnosis.forms if measure and plan.normalise
        else ())
    if plan.command == "downgrade" and plan.losses:
        found.flag = "--force"
    return found


def refuse_failures(connection, plan):
    """Stop before the first statement where the forecast predicts that
    the data makes a step fail: the plan's lines, and how to fix it."""
    failures = plan.forecast.failures
    if not failures:
        return
    connection.rollback()
    lines = [str(failure) for failure in failures]
    raise errors.SolumDBManageError(
        f"{plan.command} refused, nothing was changed: the data would make "
        f"it fail: {' '.join(lines)} '{PROG} {plan.command} --plan "
        f"{plan.asked}' shows the whole plan.",
        exit_code=errors.EXIT_PLAN_FAILS,
        details=[f"{plan.command} refused, nothing was changed: the data "
                 f"would make it fail:", *lines])


# check's states a run refuses or waits for: --plan says so, with
# check's exit status.
_NOT_PASSABLE = ("newer", "untracked", "mismatch", "corrupt", "locked",
                 "interrupted")


def preview(config, command, revision, force=False, as_json=False):
    """``upgrade --plan``, ``downgrade --plan``: what the run would do,
    read-only (no lock, nothing written); returns the exit status."""
    import json

    import sqlalchemy as sa

    from solum_db_manage import dataloss, diagnose, forecast, forecast_report

    plan = Plan(command, revision, releases.resolve(revision))
    plan.direction = UPGRADE if command == "upgrade" else DOWNGRADE
    notes, unmeasured = [], []
    with db.connect(config, read_only=True) as connection:
        diagnosis = plan.diagnosis = diagnose.diagnose(connection,
                                                       models=False)
        plan.recorded = tuple(diagnosis.recorded)
        passable = not (diagnosis.state in _NOT_PASSABLE
                        and command not in diagnosis.allows)
        if passable and command == "upgrade" and (
                diagnosis.head_tables_built is not None
                and plan.target in diagnose.head_targets(diagnosis.head)):
            notes.append("The database is empty: the run creates the head "
                         "schema directly, no revision is walked, nothing "
                         "is rewritten or lost.")
        elif passable:
            # A revision Alembic does not know, a downgrade "to" a later
            # one: the run's own ERROR line and status, as the run gives.
            walked = _walk(config, connection, plan)
            if plan.nothing:
                notes.append(plan.nothing)
            if walked:
                try:
                    plan.losses = dataloss.assess(
                        connection, dataloss.steps_of(plan.steps))
                except sa.exc.DBAPIError as error:
                    # An account that may not read a table: the plan
                    # still comes, saying what it could not count.
                    connection.rollback()
                    unmeasured.append(
                        forecast.unmeasured("the values lost", error))
                if plan.normalise:
                    notes.append("First the original Solum's forms are made "
                                 "this tool's (the first step above): "
                                 + "; ".join(str(form)
                                             for form in diagnosis.forms))
        else:
            # A run takes an interrupted run's lock over and completes
            # it; the plan does not guess where that run stopped.
            notes = [(f"{command} would first complete the interrupted "
                      f"run; no plan is made until it has: "
                      if diagnosis.state == "interrupted" else
                      f"{command} would be refused or would wait: ")
                     + _flat(diagnosis.lines())]
        found = _forecast(connection, plan, measure=True)
        found.unmeasured[:0] = unmeasured
        if force and found.flag:
            notes.append(f"{found.flag} is given: the run would lose them.")
        connection.rollback()
    reaches = _destination(plan) if plan.steps else plan.target
    if as_json:
        report = forecast_report.as_dict(
            found, command, plan.recorded, reaches, diagnosis.state, notes)
        report["asked"] = revision
        config.print_stdout(json.dumps(report, sort_keys=True))
    else:
        start = (", ".join(map(described, plan.recorded))
                 or ("base" if diagnosis.state == "empty"
                     else "no recorded revision"))
        walked_steps = sum(1 for step in found.steps if step.revision)
        target = described(plan.target) if plan.target else "base"
        if reaches != plan.target:
            target += f" = {described(reaches) if reaches else 'base'}"
        header = (f"Plan: {command} from {start} to {target}"
                  f" on {found.server.name} {found.server.version_text}"
                  f" ({walked_steps} revision"
                  f"{'' if walked_steps == 1 else 's'}); nothing was "
                  f"changed.")
        for line in forecast_report.lines(found, header, notes,
                                          made=passable):
            config.print_stdout("%s", line)
    if not passable:
        return diagnosis.status
    return errors.EXIT_PLAN_FAILS if found.failures else errors.EXIT_OK


def _destination(plan):
    """The revision the plan's walk ends at ("" for base)."""
    last = plan.steps[-1].revision
    if plan.direction == UPGRADE:
        return last.revision
    down = last.down_revision
    return down if isinstance(down, str) else ""


def _flat(lines):
    """check's lines as one: each ends a sentence."""
    return " ".join(line.strip() if line.strip().endswith((".", ":"))
                    else line.strip() + "." for line in lines if line.strip())


def _plan_stamp(config, connection, held, plan, force):
    from solum_db_manage import repair

    script = scripts.script_directory(config)
    with scripts.alembic_errors():
        wanted = {rev.revision for rev in script.get_revisions(plan.target)
                  if rev is not None}
        head = script.get_current_head()
    recorded = stamp_reads(connection, plan.purge)
    plan.recorded = tuple(sorted(recorded))
    if not plan.purge:
        refuse_unknown_recorded(connection, recorded, held)
    if wanted == recorded:
        plan.nothing = ""
        return
    for wanted_revision in sorted(wanted):
        refusal = repair.stamp_refusal(
            connection, wanted_revision, sorted(recorded), head)
        if refusal is None:
            continue
        if force:
            LOG.warning("Stamping anyway (--force): %s",
                        " ".join(refusal.lines()[:2]))
            continue
        connection.rollback()
        # Before the repair: scripts read the repair off the end.
        refusal.notes.append(
            f"'{PROG} stamp --force {plan.asked}' records it anyway.")
        raise errors.SolumDBManageError(
            "stamp refused, nothing was changed: "
            + " ".join(refusal.lines()), exit_code=refusal.status)


def apply(config, connection, held, plan):
    """Carry out ``plan`` (of :func:`make_plan`, on this connection)."""
    if plan.fast_path:
        if _build_head(connection, held, plan.diagnosis):
            return
        # Not fresh after all, or models not of the head: the chain.
        plan.fast_path = False
        _plan_steps(config, connection, plan)
    if plan.nothing:
        connection.rollback()
        config.print_stdout(plan.nothing)
        return
    normalised = plan.normalise and _normalise(connection, held)
    for loss in plan.losses:
        output.warn(loss)
    if plan.command != "stamp":
        config.attributes["truncate"] = plan.truncate
        config.attributes["step_report"] = _step_report(plan)
    # End the transaction the checks' reads began: Alembic commits each
    # revision on its own only on a connection not in one.
    connection.rollback()
    if plan.nothing is not None:
        if normalised:
            config.print_stdout(
                "Normalised the schema the original Solum left; the "
                "database is at %s.", ", ".join(plan.recorded))
        else:
            nothing_to_do(config, connection)
        return
    from alembic import command

    held.changing = True
    with scripts.alembic_errors():
        if plan.command == "upgrade":
            command.upgrade(config, plan.target)
        elif plan.command == "downgrade":
            command.downgrade(config, plan.target)
        else:
            command.stamp(config, plan.target, purge=plan.purge)


def _step_report(plan):
    """The callable a step reports what it found to (helpers.report):
    the values it lost are warned of as the Loss lines the review warns
    of, when the step has run."""
    from solum_db_manage import dataloss

    def received(revision, direction, lost=None, **_other):
        for loss in dataloss.reported(revision, direction, lost or {}):
            plan.losses.append(loss)
            output.warn(loss)

    return received


@contextlib.contextmanager
def locked(config, command):
    """Hold the migration lock, then connect: see lock.py."""
    from solum_db_manage import (
        lock,
        lock_lease,
        lock_sessions,
        sqlite_failures,
    )

    url = config.attributes["url"]
    held = lock.MigrationLock(
        url, command,
        timeout=config.attributes.get("lock_timeout", lock.DEFAULT_TIMEOUT),
        lease=lock_lease.lease_term(
            config.attributes.get("lock_lease", lock_lease.DEFAULT_LEASE),
            config.attributes.get("ddl_lock_timeout")),
        report=_report, database=config.attributes.get("database"))
    with held.hold():
        config.attributes["lock"] = held
        try:
            with (db.connect(config) as connection,
                  sqlite_failures.explained(
                      url, lock_sessions.sqlite_path(
                          db.parse_url(url).database or ""),
                      config.attributes.get("ddl_lock_timeout", 5))):
                held.register(connection)
                yield connection, held
        finally:
            config.attributes.pop("lock", None)


def _report(line, level=logging.INFO):
    LOG.log(level, "%s", line)


def refuse(diagnosis, command):
    """Stop before a command that cannot go well from this state."""
    if (diagnosis.state in ("newer", "untracked", "mismatch", "corrupt")
            and command not in diagnosis.allows):
        raise errors.SolumDBManageError(
            f"{command} refused, nothing was changed: "
            + " ".join(diagnosis.lines()), exit_code=diagnosis.status,
            details=[f"{command} refused, nothing was changed:",
                     *diagnosis.lines()])
    if diagnosis.state == "interrupted":
        LOG.warning("%s Completing it.", diagnosis.lock.describe()
                    if diagnosis.lock else diagnosis.message)


def _target(script, spec):
    """The revision id ``spec`` names ("" for base), or None where it is
    relative (``+1``, ``kilo-1``: counted from the database) or several."""
    import re

    if re.search(r"[+\-][0-9]+$", spec or ""):
        return None
    if spec == "base":
        return ""
    try:
        revisions = [rev for rev in script.get_revisions(spec)
                     if rev is not None]
    except Exception:
        # Alembic's own call (upgrade, downgrade) says what is wrong.
        return None
    return revisions[0].revision if len(revisions) == 1 else None


def _order(revision):
    """Position of a revision in the chain: base ("") is -1."""
    return (scripts.current_chain().revisions.index(revision) if revision
            else -1)


def is_past(config, diagnosis, spec, direction, asked=None):
    """Where ``spec`` lies the other way from the database: a message.

    ``direction`` is 1 for upgrade (a target older than the database) and
    -1 for downgrade (a target newer than it); None where it is not.
    """
    if len(diagnosis.recorded) != 1:
        return None
    at = diagnosis.recorded[0]
    target = _target(scripts.script_directory(config), spec)
    known = scripts.current_chain().revisions
    if target is None or at not in known or (target and target not in
                                              known):
        return None
    if (_order(target) - _order(at)) * direction >= 0:
        return None
    name = described(target) if target else "base"
    if direction == 1:
        return (f"Nothing to do: the database is at {described(at)}, "
                f"later than {name}, and upgrade never goes back; "
                f"'{PROG} downgrade {asked or target or 'base'}' would.")
    return (f"downgrade refused, nothing was changed: the database is at "
            f"{described(at)}, earlier than {name}, and downgrade never "
            f"goes forward; '{PROG} upgrade {asked or target}' would.")


def described(revision):
    """A revision id, with the release that shipped it last if any."""
    release = releases.describe(revision)
    return f"{revision} ({release})" if release else revision


def nothing_to_do(config, connection):
    heads = version_table.current_heads(connection)
    at = ", ".join(described(head) for head in heads) or "base (no version)"
    config.print_stdout(
        "Nothing to do: the database is already at %s.", at)


def _normalise(connection, held):
    """Turn the parts of the schema in the original Solum's form into this
    tool's form (forms.py), before any revision runs: the first step of
    every upgrade, also of a database recorded at head. True if it
    changed anything."""
    from solum_db_manage import forms

    held.changing = True
    changed = forms.normalise(connection)
    held.verify()
    connection.commit()
    for difference in changed:
        LOG.info("Normalised the original Solum's form: %s.", difference)
    return bool(changed)


def _build_head(connection, held, diagnosis):
    """The fresh-install fast path: True if it built the head schema.

    On a database diagnosed empty (or holding what a cut-short run of
    this path left), in the transaction the diagnosis began; with nothing
    to lose, there is no destructive step to review. Where the models are
    not of the scripts' head (a revision being written), or the database
    is not fresh after all, nothing is changed and the chain runs instead.
    """
    from solum_db_manage import chain_data, fresh

    # The models are of the shipped chain's head.
    if diagnosis.head != chain_data.HEAD:
        return False
    held.changing = True
    head = fresh.build_head(
        connection, resume=bool(diagnosis.head_tables_built))
    if head is None:
        held.changing = False
        connection.rollback()
        return False
    # Renewed just before (register); a write here would come between
    # the build and its commit.
    held.verify(renew=False)
    connection.commit()
    LOG.info("Created the head schema %s directly: the database was "
             "empty, so no revision was walked.", head)
    return True


def stamp_reads(connection, purge):
    """The revisions recorded, for stamp. A corrupt version table is
    refused, with the repair, but by ``stamp --purge``, which empties it
    first (unless the table itself is wrong: no text column)."""
    from solum_db_manage import diagnose

    try:
        return set(version_table.current_heads(connection))
    except version_table.CorruptVersionTable as error:
        if purge and not error.retype:
            return set()
        diagnosis = diagnose.corrupt(connection, error)
        raise errors.SolumDBManageError(
            "stamp refused, nothing was changed: "
            + " ".join(diagnosis.lines()),
            exit_code=diagnosis.status) from None


def refuse_unknown_recorded(connection, recorded, held=None):
    """Alembic cannot read a revision its scripts lack (a pre-squash id,
    a newer release's): say what ``check`` says of it instead, with its
    exit status, before Alembic's bare "No such revision". ``held``: the
    lock this run holds (stamp), which is no sign of another run."""
    from solum_db_manage import diagnose

    known = set(scripts.current_chain().revisions)
    if all(revision in known for revision in recorded):
        return
    diagnosis = diagnose.diagnose(
        connection, models=False, own_lock=held and held.token,
        previous=held and held.previous)
    prefix = "stamp refused, nothing was changed: " if held else ""
    if held and not diagnosis.repair:
        diagnosis.notes.append(
            f"'{PROG} stamp --purge REV' replaces what it records.")
    raise errors.SolumDBManageError(
        prefix + " ".join(diagnosis.lines()), exit_code=diagnosis.status)
