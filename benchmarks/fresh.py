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

"""Target 2, fresh install: ``upgrade head`` on an empty database.

In-process, against the physical floor (the head schema created directly
from the models, plus the version row); from the shell, against the plain
Alembic CLI walking the same chain.
"""

import contextlib
import io
import sys

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from benchmarks import common

GOAL_INPROCESS = 1.5
GOAL_SHELL = 0.7


def upgrade_in_process(url, revision="head"):
    """solum_db_manage.cli.main(), its output kept from the table."""
    from solum_db_manage import cli

    out, err = io.StringIO(), io.StringIO()
    hook = sys.excepthook
    try:
        with contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(err):
            status = cli.main(["--database-connection", url, "upgrade",
                               revision])
    finally:
        # oslo.log's setup() routes uncaught exceptions to its logger,
        # whose stream was the StringIO above.
        sys.excepthook = hook
    if status != 0:
        raise RuntimeError(f"upgrade {revision} exited {status}: "
                           f"{err.getvalue()[-3000:]}")


def _traditional(dbapi_connection, record):
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION sql_mode = 'TRADITIONAL'")
    cursor.close()


def create_head_schema(url):
    """The floor: metadata.create_all + the version row, one transaction."""
    from solum_db_manage import tables

    engine = sa.create_engine(url, poolclass=NullPool)
    if engine.dialect.name == "mysql":
        sa.event.listen(engine, "connect", _traditional)
    try:
        with engine.begin() as connection:
            # Solum's tables; the lock's (in the same metadata) is the
            # tool's own, made by its lock, not by the chain.
            tables.metadata.create_all(connection,
                                       tables=tables.solum_tables())
            connection.exec_driver_sql(
                "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT "
                "NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY "
                "(version_num))")
            connection.exec_driver_sql(
                f"INSERT INTO alembic_version (version_num) VALUES "
                f"('{common.HEAD}')")
    finally:
        engine.dispose()


def schema_of(backend, name):
    """{table: [columns in order]} and the recorded version."""
    engine = backend.engine(name)
    try:
        inspector = sa.inspect(engine)
        tables = {table: [c["name"] for c in inspector.get_columns(table)]
                  for table in sorted(inspector.get_table_names())}
        with engine.connect() as connection:
            version = [row[0] for row in connection.exec_driver_sql(
                "SELECT version_num FROM alembic_version")]
        return tables, version
    finally:
        engine.dispose()


def _on_fresh(backend, purpose, fn):
    """Run ``fn(url)`` on a new empty database; return its seconds."""
    name = backend.create(purpose)
    try:
        backend.settle(name)
        seconds, _ = common.timed(fn, backend.url(name))
        return seconds, name
    except BaseException:
        backend.drop(name)
        raise


def in_process(ctx, backend):
    common.progress(f"target 2: fresh install in-process, {backend.name}")
    comparison = common.Comparison(
        target="2 fresh install", backend=backend.name,
        case="upgrade head, empty database, in-process",
        baseline="create_all + version row",
        candidate="cli.main upgrade head", goal=GOAL_INPROCESS)
    # Untimed warm-up: the first call imports Alembic, the models, ...
    for fn in (create_head_schema, upgrade_in_process):
        _, name = _on_fresh(backend, "warm", fn)
        backend.drop(name)
        if ctx.quick:
            break

    def measure(fn, purpose):
        def one(i):
            seconds, name = _on_fresh(backend, purpose, fn)
            backend.drop(name)
            return seconds
        return one

    comparison.baseline_times, comparison.candidate_times = \
        common.interleave(ctx.repeat, measure(create_head_schema, "floor"),
                          measure(upgrade_in_process, "fresh"))
    return comparison


def shell(ctx, backend, plain):
    common.progress(f"target 2: fresh install from the shell, "
                    f"{backend.name}")
    comparison = common.Comparison(
        target="2 fresh install", backend=backend.name,
        case="upgrade head, empty database, shell",
        baseline="alembic upgrade head",
        candidate="solum-db-manage upgrade head", goal=GOAL_SHELL)
    solum = common.script("solum-db-manage")
    checked = []

    def measure(make_argv, purpose):
        def one(i):
            name = backend.create(purpose)
            try:
                backend.settle(name)
                result = common.run(make_argv(backend.url(name))).check()
                if i == 0:
                    checked.append(schema_of(backend, name))
            finally:
                backend.drop(name)
            return result.seconds
        return one

    comparison.baseline_times, comparison.candidate_times = \
        common.interleave(
            ctx.repeat,
            measure(lambda url: plain.argv(url, "upgrade", "head"), "alembic"),
            measure(lambda url: solum + ["--database-connection", url,
                                         "upgrade", "head"], "solum"))
    (plain_all, plain_version), (solum_all, solum_version) = checked
    # The tool may keep tables of its own (a lock table): compare Solum's.
    from solum_db_manage import tables

    solum_schema = {table.name for table in tables.solum_tables()}
    plain_tables = {t: c for t, c in plain_all.items() if t in solum_schema}
    solum_tables = {t: c for t, c in solum_all.items() if t in solum_schema}
    extra = sorted(set(solum_all) - set(plain_all))
    if plain_tables != solum_tables or plain_version != solum_version:
        differ = sorted(
            t for t in set(plain_tables) | set(solum_tables)
            if plain_tables.get(t) != solum_tables.get(t))
        raise RuntimeError(
            f"{backend.name}: the plain Alembic walk and solum-db-manage "
            f"built different schemas: versions {plain_version} and "
            f"{solum_version}; tables that differ: "
            + "; ".join(f"{t}: {plain_tables.get(t)} vs "
                        f"{solum_tables.get(t)}" for t in differ))
    comparison.note = (f"same chain: both end at {solum_version[0]} with "
                       f"the same {len(solum_tables)} Solum tables and "
                       f"columns" + (f"; solum-db-manage also made "
                                     f"{', '.join(extra)}" if extra else ""))
    return comparison
