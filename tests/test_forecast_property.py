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

"""The plan is right over generated rows (hypothesis).

Each example seeds a database at 498adc6185ae with plans (with or
without deploy_keys_uri) and assemblies (with or without trigger_id and
trust_id, under varied ids), upgrades it past the
trigger move to 112cfe038dd3, seeds workflows whose (app_id, wf_id) may
collide, upgrades to head, then seeds images whose status and
base_image_id are around the lengths the downgrade narrows to, and
downgrades with --force to 498adc6185ae. At each run:

- where the plan predicts no failure, the run succeeds; where it
  predicts one, the run refuses with exit 8 and changes nothing (then
  the test removes the duplicates and goes on);
- the values the plan says each step loses (per loss, its row count) are
  exactly those lost, found by comparing the data before and after.

Many examples on SQLite, a few on PostgreSQL and MariaDB (each about
a second a run there); each example on a database of its own.
"""

import collections
import contextlib
import json
import shutil
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solum_db_manage import cli, db, errors
from tests import dbutil
from tests.helpers import (
    SERVER_URLS,
    admin_engine,
    execute,
    insert,
    provision,
    require_backend,
)

HEAD = "a271b35952be"
START = "498adc6185ae"
MIDDLE = "112cfe038dd3"

EXAMPLES = {"sqlite": 20, "postgresql": 5, "mysql": 3}

_ids = st.integers(min_value=1, max_value=10_000)
_small = st.sampled_from(["t1", "t2", "t3"])

rows = st.fixed_dictionaries({
    "plans": st.lists(st.one_of(st.none(), st.sampled_from(
        ["git://keys", "http://k"])), min_size=1, max_size=4),
    "assemblies": st.lists(st.tuples(
        _ids, st.integers(0, 3),
        st.one_of(st.none(), _small), st.one_of(st.none(), _small)),
        max_size=7, unique_by=lambda assembly: assembly[0]),
    "workflows": st.lists(st.tuples(st.sampled_from(["a", "b"]),
                                    st.integers(1, 3)), max_size=5),
    "images": st.lists(st.tuples(
        st.one_of(st.none(), st.integers(10, 14)),
        st.one_of(st.none(), st.integers(34, 38))), max_size=4),
    # Plans given a trigger at head directly (some without assemblies).
    "plan_triggers": st.lists(st.booleans(), min_size=4, max_size=4),
})


class Runner:
    def __init__(self, capsys, config_file):
        self.capsys = capsys
        self.config_file = config_file

    def __call__(self, url, *args):
        self.capsys.readouterr()
        code = cli.main(["--config-file", self.config_file,
                         "--database-connection", url, *args])
        out, err = self.capsys.readouterr()
        return code, out, err


@contextlib.contextmanager
def _engine(url):
    parsed = db.parse_url(url)
    connect_args = {}
    if parsed.get_backend_name() == "mysql":
        connect_args["init_command"] = "SET SESSION sql_mode = 'TRADITIONAL'"
    engine = sa.create_engine(parsed, connect_args=connect_args,
                              poolclass=sa.pool.NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


class Databases:
    """Fresh databases at START, as cheaply as the backend allows: a copy
    of a template file (SQLite), CREATE DATABASE ... TEMPLATE
    (PostgreSQL), a new database upgraded (MariaDB)."""

    def __init__(self, backend, directory, run, stack):
        self.backend, self.directory, self.run = backend, directory, run
        self.template = None
        if backend == "sqlite":
            self.template = stack.enter_context(provision(backend, directory))
            self._upgrade(self.template)
        elif backend == "postgresql":
            self.template = stack.enter_context(provision(backend, directory))
            self._upgrade(self.template)

    def _upgrade(self, url):
        code, out, err = self.run(url, "upgrade", START)
        assert code == 0, err

    @contextlib.contextmanager
    def fresh(self):
        if self.backend == "sqlite":
            source = db.parse_url(self.template).database
            target = f"{self.directory}/{uuid.uuid4().hex}.sqlite"
            shutil.copyfile(source, target)
            yield f"sqlite:///{target}"
        elif self.backend == "postgresql":
            name = f"solum_test_{uuid.uuid4().hex[:12]}"
            template = db.parse_url(self.template).database
            admin = admin_engine("postgresql")
            with admin.connect() as connection:
                connection.exec_driver_sql(
                    f"CREATE DATABASE {name} TEMPLATE {template}")
            try:
                yield db.parse_url(SERVER_URLS["postgresql"]).set(
                    database=name).render_as_string(hide_password=False)
            finally:
                with admin.connect() as connection:
                    connection.exec_driver_sql(
                        f"DROP DATABASE {name} WITH (FORCE)")
                admin.dispose()
        else:
            with provision(self.backend, self.directory) as url:
                self._upgrade(url)
                yield url


def _table(engine, name):
    return dbutil.rows(engine, name)


def _losses(report):
    """{(revision, what): rows} of a --plan --json report."""
    return {(step["revision"], loss["what"]): loss["rows"]
            for step in report["steps"] for loss in step["losses"]}


def _failures(report):
    return [failure for step in report["steps"]
            for failure in step["failures"]]


def _plan(run, url, *args):
    code, out, err = run(url, *args, "--plan", "--json")
    report = json.loads(out)
    assert code == (errors.EXIT_PLAN_FAILS if _failures(report) else 0), err
    return report


def _lost(before, after):
    """How many of the multiset ``before`` ``after`` does not hold."""
    return sum((collections.Counter(before)
                - collections.Counter(after)).values())


def _seed_start(engine, data):
    with engine.begin() as connection:
        for n, keys in enumerate(data["plans"], start=1):
            connection.execute(sa.text(
                "INSERT INTO plan (id, uuid, deploy_keys_uri) "
                "VALUES (:id, :uuid, :keys)"),
                {"id": n, "uuid": f"p{n}", "keys": keys})
        for id_, plan, trigger, trust in data["assemblies"]:
            # assembly.plan_id is NOT NULL.
            plan_id = plan % len(data["plans"]) + 1
            connection.execute(sa.text(
                "INSERT INTO assembly (id, uuid, plan_id, trigger_id, "
                "trust_id) VALUES (:id, :uuid, :plan, :trigger, :trust)"),
                {"id": id_, "uuid": f"a{id_}", "plan": plan_id,
                 "trigger": trigger, "trust": trust})


def _check_up_to_middle(run, url, engine, data):
    report = _plan(run, url, "upgrade", MIDDLE)
    assert not _failures(report)
    predicted = _losses(report)
    assemblies = _table(engine, "assembly")
    plans_before = _table(engine, "plan")
    code, _, err = run(url, "upgrade", MIDDLE)
    assert code == 0, err
    plans = _table(engine, "plan")
    actual = {
        ("27dff58cbc65", "drops plan.deploy_keys_uri"): sum(
            plan["deploy_keys_uri"] is not None for plan in plans_before),
        "trigger_id": _lost(
            [(a["plan_id"], a["trigger_id"]) for a in assemblies
             if a["trigger_id"] is not None],
            [(p["id"], p["trigger_id"]) for p in plans]),
        "trust_id": _lost(
            [(a["plan_id"], a["trust_id"]) for a in assemblies
             if a["trust_id"] is not None],
            [(p["id"], p["trust_id"]) for p in plans]),
    }
    said = {"trigger_id": 0, "trust_id": 0}
    for (revision, what), count in predicted.items():
        if revision == "5583c6e70156":
            column = "trust_id" if "assembly.trust_id" in what \
                else "trigger_id"
            said[column] += count
        else:
            said[(revision, what)] = count
    for key in set(said) | set(actual):
        assert said.get(key, 0) == actual.get(key, 0), (key, said, actual)


def _everything(engine):
    tables = sorted(sa.inspect(engine).get_table_names())
    return (dbutil.snapshot(engine, include_version_table=True),
            {table: _table(engine, table) for table in tables
             if table not in ("solum_db_manage_lock", "alembic_version")},
            dbutil.version_rows(engine))


def _check_up_to_head(run, url, engine, data):
    for n, (app_id, wf_id) in enumerate(data["workflows"], start=1):
        insert(engine, "workflow", id=str(n), app_id=app_id, wf_id=wf_id)
    report = _plan(run, url, "upgrade")
    pairs = collections.Counter(data["workflows"])
    collide = {pair: n for pair, n in pairs.items() if n > 1}
    failures = _failures(report)
    if failures:
        assert [(f["kind"], f["count"]) for f in failures] == [
            ("duplicate", sum(collide.values()))]
        before = _everything(engine)
        code, _, err = run(url, "upgrade")
        assert code == errors.EXIT_PLAN_FAILS, err
        assert _everything(engine) == before
        execute(engine, "DELETE FROM workflow WHERE id NOT IN (SELECT m "
                        "FROM (SELECT MIN(id) AS m FROM workflow GROUP BY "
                        "app_id, wf_id) k)")
    else:
        assert not collide
    code, _, err = run(url, "upgrade")
    assert code == 0, err
    assert dbutil.version_rows(engine) == [HEAD]


def _check_down(run, url, engine, data):
    with engine.begin() as connection:
        for n, (status, base) in enumerate(data["images"], start=1):
            connection.execute(sa.text(
                "INSERT INTO image (id, uuid, status, base_image_id) VALUES "
                "(:id, :uuid, :status, :base)"),
                {"id": n, "uuid": f"i{n}",
                 "status": None if status is None else "s" * status,
                 "base": None if base is None else "b" * base})
        for n, triggered in enumerate(data["plan_triggers"], start=1):
            if triggered:
                connection.execute(sa.text(
                    "UPDATE plan SET trigger_id = :t WHERE id = :id"),
                    {"t": f"pt{n}", "id": n})
    report = _plan(run, url, "downgrade", START, "--force")
    assert not _failures(report)
    predicted = _losses(report)
    images = {row["id"]: row for row in _table(engine, "image")}
    plans = _table(engine, "plan")
    workflows = len(_table(engine, "workflow"))
    code, _, err = run(url, "downgrade", "--force", START)
    assert code == 0, err
    after = {row["id"]: row for row in _table(engine, "image")}
    assemblies = _table(engine, "assembly")
    cut = {
        column: sum(images[id_][old] != after[id_][new] for id_ in images)
        for column, old, new in (("status", "status", "state"),
                                 ("base_image_id", "base_image_id",
                                  "base_image_id"))}
    assert predicted.get(("1f57763d7871", "narrows image.status to 12 "
                          "characters"), 0) == cut["status"]
    assert predicted.get(("43df309dbf3f", "narrows image.base_image_id to "
                          "36 characters"), 0) == cut["base_image_id"]
    assert predicted.get(("390c6c4aa97b", "drops table workflow"), 0) == \
        workflows
    triggers_lost = _lost(
        [(p["id"], p["trigger_id"]) for p in plans
         if p["trigger_id"] is not None],
        [(a["plan_id"], a["trigger_id"]) for a in assemblies])
    said = sum(count for (revision, what), count in predicted.items()
               if revision == "5583c6e70156" and "plan.trigger_id" in what)
    assert said == triggers_lost, (predicted, plans, assemblies)


def _property(backend, tmp_path, capsys):
    config = tmp_path / "solum.conf"
    config.write_text("")
    run = Runner(capsys, str(config))
    with contextlib.ExitStack() as stack:
        databases = Databases(backend, tmp_path, run, stack)

        @settings(max_examples=EXAMPLES[backend], deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture,
                                         HealthCheck.too_slow])
        @given(data=rows)
        def check(data):
            with databases.fresh() as url, _engine(url) as engine:
                _seed_start(engine, data)
                _check_up_to_middle(run, url, engine, data)
                _check_up_to_head(run, url, engine, data)
                _check_down(run, url, engine, data)

        check()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mysql"])
def test_plan_predicts_failures_and_losses(backend, tmp_path, capsys,
                                           monkeypatch):
    monkeypatch.delenv("OS_DATABASE__CONNECTION", raising=False)
    require_backend(backend)
    _property(backend, tmp_path, capsys)
