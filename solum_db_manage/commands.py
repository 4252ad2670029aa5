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

"""One function per command, named and shaped like ``alembic.command``.

Each takes the config of :func:`config.make_config` and plain values;
release names are accepted wherever a revision is. ``upgrade``,
``downgrade`` and ``stamp`` run through the guarded pipeline
(pipeline.py).
"""

import logging

from solum_db_manage import (
    db,
    errors,
    pipeline,
    releases,
    scripts,
    version_table,
)
from solum_db_manage.output import PROG

LOG = logging.getLogger("solum_db_manage")


def version(config):
    """Print the current database revision, as the original did.

    A note on stderr says what ``check`` would find, where the version
    alone misleads (no tracking, an unknown or pre-squash revision, a
    schema that is not the revision's, a run going on).
    """
    from solum_db_manage import diagnose

    with db.connect(config, read_only=True) as connection:
        # The schema is compared (table and column names, from chain_data.py),
        # not the models: no Alembic.
        diagnosis = diagnose.diagnose(connection, models=False)
    if diagnosis.state == "corrupt":
        raise errors.SolumDBManageError(" ".join(diagnosis.lines()),
                                        exit_code=diagnosis.status)
    config.print_stdout("Current DB revision is %s", ", ".join(
        pipeline.described(head) for head in diagnosis.recorded) or "None")
    if _misleads(diagnosis):
        for line in diagnosis.lines():
            LOG.warning("%s", line)


def _misleads(diagnosis):
    """True where the recorded revision alone does not say the state."""
    if diagnosis.state in ("current", "behind"):
        return bool(diagnosis.differences or diagnosis.notes)
    if diagnosis.state == "empty":
        return (diagnosis.head_tables_built is None
                or bool(diagnosis.head_tables_built))
    return True


def check(config, as_json=False):
    """Print the database's state; return its exit status (see errors)."""
    import json

    from solum_db_manage import diagnose

    with db.connect(config, read_only=True) as connection:
        diagnosis = diagnose.diagnose(connection)
    missing = config.attributes.get("missing_file")
    if missing:
        diagnosis.notes.append(
            f"The SQLite file {missing} does not exist (yet); 'upgrade "
            f"head' creates it.")
    if as_json:
        config.print_stdout(json.dumps(diagnosis.as_dict(), sort_keys=True))
    else:
        for line in diagnosis.lines():
            config.print_stdout(line)
    return diagnosis.status


def upgrade(config, revision="head", sql=False, plan=False,
            as_json=False):
    """Upgrade the database to a later revision, holding the lock.

    An empty database upgraded to head gets the head schema directly
    (fresh.py) instead of the walk through every revision. ``plan``:
    only say what it would do (pipeline.preview); returns the status.
    """
    refuse_pre_squash("upgrade", revision)
    _plan_options(sql, plan, as_json)
    if plan:
        return pipeline.preview(config, "upgrade", revision,
                                as_json=as_json)
    if sql:
        _check_offline(config)
        _render_sql(config, "upgrade", revision)
        return
    pipeline.run(config, "upgrade", revision)


def downgrade(config, revision, sql=False, force=False, plan=False,
              as_json=False):
    """Revert the database to an earlier revision, holding the lock.

    A downgrade that would lose data is refused unless ``force``.
    """
    require_revision("downgrade", revision)
    refuse_pre_squash("downgrade", revision)
    _plan_options(sql, plan, as_json)
    if plan:
        return pipeline.preview(config, "downgrade", revision, force=force,
                                as_json=as_json)
    if sql:
        _check_offline(config)
        _render_sql(config, "downgrade", revision)
        return
    pipeline.run(config, "downgrade", revision, force=force)


def _plan_options(sql, plan, as_json):
    if plan and sql:
        raise errors.UsageError(
            "--plan and --sql cannot be combined: --sql prints the SQL "
            "without looking at the database, --plan looks at it")
    if as_json and not plan:
        raise errors.UsageError("--json goes with --plan")


def stamp(config, revision, sql=False, purge=False, force=False):
    """Record a revision without running migrations, holding the lock.

    Refused, changing nothing, where the live schema lacks tables or
    columns of the revision's schema (it would record more than exists),
    unless ``force``; ``stamp base`` always runs.
    """
    require_revision("stamp", revision)
    refuse_pre_squash("stamp", revision)
    if sql:
        _render_sql(config, "stamp", revision, purge=purge)
        return
    pipeline.run(config, "stamp", revision, force=force, purge=purge)


def _render_sql(config, name, revision, **options):
    """``--sql``: Alembic's command ``name`` prints the SQL it would run,
    from the URL alone (no connection, no lock)."""
    from alembic import command

    with scripts.alembic_errors():
        getattr(command, name)(config, releases.resolve(revision), sql=True,
                               **options)


def _check_offline(config):
    if db.dialect_name(config.attributes["url"]) == "sqlite":
        raise errors.SolumDBManageError(
            "--sql cannot render upgrades or downgrades for SQLite: "
            "several steps rebuild tables, which needs the live schema; "
            "run the command without --sql")


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


_PRE_SQUASH_INSTEAD = {
    "upgrade": "'{prog} upgrade head' reaches the newest schema, and "
               "'{prog} check' says where the database is",
    "downgrade": "the oldest schema a release had is icehouse: "
                 "'{prog} downgrade icehouse' ('downgrade base' drops every "
                 "Solum table)",
    "stamp": "'{prog} check' names the revision whose schema the database "
             "holds, and the stamp to run",
    "show": "'{prog} show {squashed}' shows the revision they became",
    "history": "'{prog} history -r base:{squashed}' shows the revisions "
               "they became",
}


def refuse_pre_squash(command, spec):
    """Name a revision the 2014 squash removed, and what works instead."""
    squashed = releases.pre_squash(spec)
    if squashed is None:
        return
    instead = _PRE_SQUASH_INSTEAD[command].format(
        prog=PROG, squashed=releases.SQUASHED_INTO)
    raise errors.SolumDBManageError(
        f"{releases.describe_pre_squash(squashed)}; {instead}.")


def current(config, verbose=False):
    """Print the revision(s) the database records, as Alembic does."""
    from alembic import command

    with db.connect(config, read_only=True) as connection:
        # A corrupt version table: the same line as version's.
        from solum_db_manage import diagnose

        try:
            recorded = version_table.current_heads(connection)
        except version_table.CorruptVersionTable as error:
            diagnosis = diagnose.corrupt(connection, error)
            raise errors.SolumDBManageError(
                " ".join(diagnosis.lines()),
                exit_code=diagnosis.status) from None
        pipeline.refuse_unknown_recorded(connection, recorded)
        with scripts.alembic_errors():
            command.current(config, verbose=verbose)


def history(config, rev_range=None, verbose=False):
    """List the migration scripts in order."""
    from alembic import command

    refuse_pre_squash("history", rev_range)
    with scripts.alembic_errors():
        command.history(config, rev_range=releases.resolve(rev_range),
                        verbose=verbose)


def heads(config, verbose=False):
    """Show the head revision(s) of the scripts."""
    from alembic import command

    with scripts.alembic_errors():
        command.heads(config, verbose=verbose)


def branches(config, verbose=False):
    """Show the branch points of the scripts."""
    from alembic import command

    with scripts.alembic_errors():
        command.branches(config, verbose=verbose)


def show(config, revision):
    """Show one revision."""
    from alembic import command

    refuse_pre_squash("show", revision)
    if revision == "current":
        # Alembic reads "current" from the database; show runs without one.
        raise scripts.InvalidRevision(
            "invalid revision or range: Alembic cannot read it ('current' "
            f"is the database's; run '{PROG} current' for it)")
    with scripts.alembic_errors():
        command.show(config, releases.resolve(revision))


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
    # Outside removing_new_scripts: a new script that does not load is
    # its to remove and name.
    with scripts.alembic_errors(), authoring.removing_new_scripts(location):
        if not autogenerate:
            command.revision(config, message=message)
            return
        with db.connect(config):
            script = command.revision(
                config, message=message, autogenerate=True,
                process_revision_directives=authoring.skip_empty_revision)
    if not script:
        config.print_stdout("No changes in schema detected.")


def unlock(config):
    """Clear the lock of a run that is gone: see lock_lease.unlock."""
    from solum_db_manage import lock_lease

    config.print_stdout(lock_lease.unlock(
        config.attributes["url"], database=config.attributes.get("database")))
