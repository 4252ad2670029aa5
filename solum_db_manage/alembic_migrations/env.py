"""Alembic environment: online on the connection solum-db-manage opened,
offline (``--sql``) from the URL alone."""

import logging

from alembic import context

from solum_db_manage import compare, tables

config = context.config
LOG = logging.getLogger("solum_db_manage")


def _after_revision(ctx, step, heads, run_args):
    """After each revision, in its transaction: the test hooks."""
    LOG.debug("Step done: %s; now at %s", step.up_revision_id
              if step.is_upgrade else step.down_revision_ids, ", ".join(heads)
              or "base")
    hook = config.attributes.get("after_revision")
    if hook is not None:
        hook(ctx, step, heads, run_args)


def _verify_lock_before_each_revision(migration_context):
    """Before each revision, outside its transaction: renew the lock's
    lease, and stop if it was lost.

    Alembic calls no hook there (on_version_apply runs inside the
    revision's transaction, where stopping would roll back the version
    row but not MySQL's DDL), so its list of steps is wrapped.
    """
    held = config.attributes.get("lock")
    if held is None:
        return
    steps = migration_context._migrations_fn

    def checked(heads, ctx):
        for step in steps(heads, ctx):
            held.verify()
            yield step

    migration_context._migrations_fn = checked


def _skip_empty_autogenerate(context, revision, directives):
    """Write no script when autogenerate finds no difference."""
    script = directives[0]
    if script.upgrade_ops is not None and script.upgrade_ops.is_empty():
        directives[:] = []


def run_migrations_offline():
    context.configure(
        url=config.attributes["url"],
        target_metadata=tables.metadata,
        literal_binds=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=tables.metadata,
        transaction_per_migration=True,
        compare_type=compare.compare_type,
        compare_server_default=True,
        render_as_batch=connection.dialect.name == "sqlite",
        # SQLite rolls DDL back too, once the connection lets it (see
        # db.create_engine): each revision is all or nothing.
        transactional_ddl=(True if connection.dialect.name == "sqlite"
                           else None),
        process_revision_directives=_skip_empty_autogenerate,
        include_name=compare.include_name,
        on_version_apply=_after_revision,
    )
    _verify_lock_before_each_revision(context.get_context())
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
