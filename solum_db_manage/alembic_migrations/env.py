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

"""Alembic environment: online on the connection solum-db-manage opened,
offline (``--sql``) from the URL alone.

solum-db-manage hands its connection (and its lock) over through
``config.attributes``, as Alembic's cookbook shows. Under Alembic's own
command line (``alembic -c alembic.ini upgrade head``, see
etc/alembic.ini.sample) there is none: the URL is the ini's
``sqlalchemy.url``, the session is the tool's (MySQL strict mode, SQLite
transactional DDL, Galera sync wait), and a run that changes the database
(upgrade, downgrade, stamp) holds the tool's migration lock. The tool's
diagnosis, refusals and data-loss review are its commands', not this
file's: README.rst, "Plain Alembic".
"""

import contextlib
import logging
from logging.config import fileConfig

from alembic import context, util

from solum_db_manage import compare, db, errors, lock, tables

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


def _url():
    """solum-db-manage's URL, else the ini's ``sqlalchemy.url``."""
    url = (config.attributes.get("url")
           or config.get_main_option("sqlalchemy.url"))
    if not url:
        raise util.CommandError(
            "no database URL: set sqlalchemy.url in the ini file (see "
            "etc/alembic.ini.sample)")
    return url


def _destination():
    """The revision an upgrade, downgrade or stamp goes to ("base" for
    none); None for a command that changes nothing."""
    try:
        return context.get_revision_argument() or "base"
    except KeyError:   # current, check, revision: no destination
        return None


def run_migrations_offline():
    context.configure(
        url=_url(),
        target_metadata=tables.metadata,
        literal_binds=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online(connection):
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
        include_name=compare.include_name,
        include_object=compare.include_object,
        on_version_apply=_after_revision,
    )
    _verify_lock_before_each_revision(context.get_context())
    with context.begin_transaction():
        context.run_migrations()


def run_under_alembic():
    """Connect from the ini's URL; lock where the database changes."""
    url = _url()
    destination = _destination()
    engine = db.create_engine(url)
    try:
        with contextlib.ExitStack() as stack:
            held = None
            if destination is not None:
                verb = (config.cmd_opts.cmd[0].__name__
                        if getattr(config.cmd_opts, "cmd", None)
                        else "alembic")
                held = lock.MigrationLock(
                    url, f"{verb} {destination}",
                    report=lambda line, level=logging.INFO: LOG.log(
                        level, "%s", line))
                stack.enter_context(held.hold())
                config.attributes["lock"] = held
                stack.callback(config.attributes.pop, "lock", None)
            connection = stack.enter_context(
                db.open_connection(engine))
            if held is not None:
                held.register(connection)
                held.changing = True
            run_migrations_online(connection)
            if connection.in_transaction():
                connection.commit()
    except errors.SolumDBManageError as error:
        # Alembic's command line prints a CommandError as one line.
        raise util.CommandError(str(error)) from None
    finally:
        engine.dispose()


if ("url" not in config.attributes and config.config_file_name is not None
        and config.file_config.has_section("loggers")):
    # Alembic's own command line: the ini's logging, as in its template.
    fileConfig(config.config_file_name, disable_existing_loggers=False)
if context.is_offline_mode():
    run_migrations_offline()
elif "connection" in config.attributes:
    run_migrations_online(config.attributes["connection"])
else:
    run_under_alembic()
