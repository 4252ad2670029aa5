"""One function per command, named and shaped like ``alembic.command``.

Each takes the config of :func:`config.make_config` and plain values;
release names are accepted wherever a revision is. ``upgrade``,
``downgrade`` and ``stamp`` run through the guarded pipeline
(pipeline.py).
"""

import logging

from solum_db_manage import db, errors, pipeline, releases, scripts
from solum_db_manage.output import PROG

LOG = logging.getLogger("solum_db_manage")


def unlock(config):
    """Clear the lock of a run that is gone: see lock.unlock."""
    from solum_db_manage import lock

    config.print_stdout(lock.unlock(config.attributes["url"]))


_REVISION_REQUIRED = {
    "downgrade": "downgrade needs a target revision, for example "
                 "'downgrade -1' or 'downgrade kilo'; 'downgrade base' "
                 "drops every Solum table and must be asked for by name",
    "stamp": "stamp needs a revision, for example 'stamp icehouse' or "
             "'stamp head'",
}


def require_revision(command, revision):
    """Refuse to guess the revision of a command that could lose data.

    The original went to base (downgrade) or emptied the version table
    (stamp) when the revision was left out.
    """
    if not revision and command in _REVISION_REQUIRED:
        raise errors.UsageError(_REVISION_REQUIRED[command])


def version(config):
    """Print the current database revision, as the original did.

    A note on stderr says what ``check`` would find, where the version
    alone misleads (no tracking, an unknown or pre-squash revision, a
    schema that is not the revision's, a run going on).
    """
    from solum_db_manage import diagnose

    with db.connect(config, read_only=True) as connection:
        # The schema is compared (table and column names, from chain.py),
        # not the models: no Alembic.
        found = diagnose.diagnose(connection, models=False)
    if found.state == "corrupt":
        raise errors.SolumDBManageError(" ".join(found.lines()),
                                        exit_code=found.status)
    described = []
    for head in found.recorded:
        release = releases.describe(head)
        described.append(f"{head} ({release})" if release else head)
    config.print_stdout(
        "Current DB revision is %s", ", ".join(described) or "None")
    if _misleads(found):
        for line in found.lines():
            LOG.warning("%s", line)


def _misleads(found):
    """True where the recorded revision alone does not say the state."""
    if found.state in ("current", "behind"):
        return bool(found.differences or found.notes)
    if found.state == "empty":
        return found.built is None or bool(found.built)
    return True


def check(config, as_json=False):
    """Print the database's state; return its exit status (see errors)."""
    import json

    from solum_db_manage import diagnose

    with db.connect(config, read_only=True) as connection:
        found = diagnose.diagnose(connection)
    missing = config.attributes.get("missing_file")
    if missing:
        found.notes.append(
            f"The SQLite file {missing} does not exist (yet); 'upgrade "
            f"head' creates it.")
    if as_json:
        config.print_stdout(json.dumps(found.as_dict(), sort_keys=True))
    else:
        for line in found.lines():
            config.print_stdout(line)
    return found.status


def upgrade(config, revision="head", sql=False):
    """Upgrade the database to a later revision, holding the lock.

    An empty database upgraded to head gets the head schema directly
    (fresh.py) instead of the walk through every revision.
    """
    from solum_db_manage import diagnose

    pipeline.refuse_pre_squash("upgrade", revision)
    asked, revision = revision, releases.resolve(revision)
    if sql:
        from alembic import command

        pipeline.check_offline(config)
        command.upgrade(config, revision, sql=True)
        return
    with pipeline.locked(config, f"upgrade {revision}") as (connection, held):
        found = diagnose.diagnose(connection, models=False,
                                  own_lock=held.token,
                                  previous=held.previous)
        pipeline.refuse(found, "upgrade")
        fast = (found.built is not None
                and revision in diagnose.head_targets(found.head))
        LOG.debug("Fresh-install fast path: %s", "tried" if fast else
                  "not taken (not an empty database upgraded to head)")
        if fast and pipeline.build_head(connection, held, found):
            return
        from alembic import command

        from solum_db_manage import dataloss

        older = pipeline.is_past(config, connection, found, revision, 1, asked)
        if older:
            connection.rollback()
            config.print_stdout(older)
            return
        normalised = pipeline.normalise(connection, held, found)
        script = scripts.script_directory(config)
        steps = script._upgrade_revs(revision, tuple(found.recorded))
        pipeline.debug_plan("upgrade", revision, steps)
        dataloss.review(connection, dataloss.steps_of(steps), revision)
        # Cut values a narrowed column cannot hold, as warned.
        config.attributes["truncate"] = True
        # End the transaction the checks' reads began: Alembic commits
        # each revision on its own only on a connection not in one.
        connection.rollback()
        if not steps:
            if normalised:
                config.print_stdout(
                    "Normalised the schema the original Solum left; the "
                    "database is at %s.", ", ".join(found.recorded))
            else:
                pipeline.nothing_to_do(config, connection)
            return
        held.changing = True
        command.upgrade(config, revision)


def downgrade(config, revision, sql=False, force=False):
    """Revert the database to an earlier revision, holding the lock.

    A downgrade that would lose data is refused unless ``force``.
    """
    from alembic import command

    from solum_db_manage import dataloss, diagnose

    require_revision("downgrade", revision)
    pipeline.refuse_pre_squash("downgrade", revision)
    asked, revision = revision, releases.resolve(revision)
    if sql:
        pipeline.check_offline(config)
        command.downgrade(config, revision, sql=True)
        return
    with pipeline.locked(config, f"downgrade {revision}") as (connection,
                                                              held):
        found = diagnose.diagnose(connection, models=False,
                                  own_lock=held.token,
                                  previous=held.previous)
        pipeline.refuse(found, "downgrade")
        newer = pipeline.is_past(config, connection, found, revision, -1,
                                 asked)
        if newer:
            connection.rollback()
            raise errors.SolumDBManageError(newer)
        script = scripts.script_directory(config)
        steps = script._downgrade_revs(revision, tuple(found.recorded))
        pipeline.debug_plan("downgrade", revision, steps)
        dataloss.review(connection, dataloss.steps_of(steps), revision,
                        force=force)
        config.attributes["truncate"] = force
        connection.rollback()
        if not steps:
            pipeline.nothing_to_do(config, connection)
            return
        held.changing = True
        command.downgrade(config, revision)


def stamp(config, revision, sql=False, purge=False, force=False):
    """Record a revision without running migrations, holding the lock.

    Refused, changing nothing, where the live schema lacks tables or
    columns of the revision's schema (it would record more than exists),
    unless ``force``; ``stamp base`` always runs.
    """
    from alembic import command

    from solum_db_manage import diagnose

    require_revision("stamp", revision)
    pipeline.refuse_pre_squash("stamp", revision)
    asked, revision = revision, releases.resolve(revision)
    if sql:
        command.stamp(config, revision, sql=True,
                      purge=purge)
        return
    with pipeline.locked(config, f"stamp {revision}") as (connection, held):
        script = scripts.script_directory(config)
        wanted = {rev.revision for rev in script.get_revisions(revision)
                  if rev is not None}
        recorded = pipeline.stamp_reads(connection, purge)
        if not purge:
            pipeline.refuse_unknown_recorded(connection, recorded, held)
        if wanted == recorded:
            connection.rollback()
            pipeline.nothing_to_do(config, connection)
            return
        for wanted_revision in sorted(wanted):
            refusal = diagnose.stamp_refusal(
                connection, wanted_revision, sorted(recorded),
                script.get_current_head())
            if refusal is None:
                continue
            if force:
                LOG.warning("Stamping anyway (--force): %s",
                            " ".join(refusal.lines()[:2]))
                continue
            connection.rollback()
            # Before the repair: scripts read the repair off the end.
            refusal.notes.append(
                f"'{PROG} stamp --force {asked}' records it anyway.")
            raise errors.SolumDBManageError(
                "stamp refused, nothing was changed: "
                + " ".join(refusal.lines()), exit_code=refusal.status)
        connection.rollback()
        held.changing = True
        command.stamp(config, revision, purge=purge)


def revision(config, message=None, autogenerate=False):
    """Write a new migration script into the package's versions/.

    Refused, writing nothing, where versions/ belongs to an installed
    package or cannot be written; a script that does not load is removed
    (see authoring.py).
    """
    from alembic import command

    from solum_db_manage import authoring

    location = scripts.scripts_path()
    authoring.refuse_unsafe_location(location)
    with authoring.removing_new_scripts(location):
        if not autogenerate:
            command.revision(config, message=message)
            return
        with db.connect(config):
            script = command.revision(
                config, message=message, autogenerate=True)
    if not script:
        config.print_stdout("No changes in schema detected.")


def current(config, verbose=False):
    """Print the revision(s) the database records, as Alembic does."""
    from alembic import command

    with db.connect(config, read_only=True) as connection:
        # A corrupt version table: the same line as version's.
        from solum_db_manage import diagnose

        try:
            recorded = db.current_heads(connection)
        except db.CorruptVersionTable as error:
            found = diagnose.corrupt(connection, error)
            raise errors.SolumDBManageError(
                " ".join(found.lines()), exit_code=found.status) from None
        pipeline.refuse_unknown_recorded(connection, recorded)
        command.current(config, verbose=verbose)


def history(config, rev_range=None, verbose=False):
    """List the migration scripts in order."""
    from alembic import command

    pipeline.refuse_pre_squash("history", rev_range)
    command.history(config,
                    rev_range=releases.resolve(rev_range), verbose=verbose)


def heads(config, verbose=False):
    """Show the head revision(s) of the scripts."""
    from alembic import command

    command.heads(config, verbose=verbose)


def branches(config, verbose=False):
    """Show the branch points of the scripts."""
    from alembic import command

    command.branches(config, verbose=verbose)


def show(config, revision):
    """Show one revision."""
    from alembic import command

    pipeline.refuse_pre_squash("show", revision)
    command.show(config, releases.resolve(revision))
