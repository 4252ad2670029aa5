"""Alembic environment: online on the connection solum-db-manage opened,
offline (``--sql``) from the URL alone."""

from alembic import context

from solum_db_manage import models

config = context.config


def _skip_empty_autogenerate(context, revision, directives):
    """Write no script when autogenerate finds no difference."""
    script = directives[0]
    if script.upgrade_ops is not None and script.upgrade_ops.is_empty():
        directives[:] = []


def run_migrations_offline():
    context.configure(
        url=config.attributes["url"],
        target_metadata=models.Base.metadata,
        literal_binds=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=models.Base.metadata,
        transaction_per_migration=True,
        compare_type=True,
        compare_server_default=True,
        render_as_batch=connection.dialect.name == "sqlite",
        process_revision_directives=_skip_empty_autogenerate,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
