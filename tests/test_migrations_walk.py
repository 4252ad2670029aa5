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

"""The chain, one revision at a time, up to head and back down to base.

After every step the schema must equal ``schema_spec`` for the revision the
database is now at (on MySQL exactly, column order and foreign key names
included; elsewhere its projection), alembic_version must hold exactly that
revision, and every row inserted so far must still be there with its
values, except where a step exists to change them: renamed and dropped
columns, dropped tables, and the trigger move of 5583c6e70156 (the rows'
bookkeeping: tests/rows_spec.py).

What each revision that moves or reshapes data must do is said revision by
revision, as ironic's walk does: ``_pre_upgrade_<rev>`` seeds the rows it
acts on, ``_check_<rev>`` asserts the rows and columns it leaves,
``_post_downgrade_<rev>`` what its downgrade leaves
(``test_each_revision_does_what_it_must``).
"""

import pytest
import sqlalchemy as sa

from solum_db_manage import commands
from solum_db_manage.config import make_config
from tests import dbutil, schema_spec
from tests.helpers import insert
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
    config = make_config(db_url)
    ledger = Ledger()
    problems = check(engine, ledger, "at base", backend)

    for step, revision in enumerate(REVISIONS):
        commands.upgrade(config, revision)
        ledger.upgraded(revision)
        problems += check(engine, ledger, f"upgrade to {revision}", backend)
        ledger.insert(engine, step)
        problems += check(
            engine, ledger, f"rows inserted at {revision}", backend)

    for revision in reversed(REVISIONS):
        target = schema_spec.below(revision)
        # The rows fill the columns each step drops: a loss to accept.
        commands.downgrade(config, target or "base", force=True)
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


# --- what each revision must do ------------------------------------------
#
# As ironic's walk: before the chain reaches a revision,
# ``_pre_upgrade_<rev>(engine)`` seeds the rows it acts on and returns
# what it seeded; once it is applied, ``_check_<rev>(engine, seeded)``
# asserts the rows and columns it must leave; once it is undone on the way
# back down, ``_post_downgrade_<rev>(engine, seeded)`` asserts what its
# downgrade must leave.


def _columns(engine, table):
    """{column name: reflected column} of the table, as it is now."""
    return {column["name"]: column
            for column in sa.inspect(engine).get_columns(table)}


def _row(engine, table, key):
    return next(row for row in dbutil.rows(engine, table)
                if row["id"] == key)


# 176c26131889: userlogs.assembly_uuid is renamed resource_uuid (still
# VARCHAR(36) NOT NULL, its values kept); resource_type is added, empty.

def _pre_upgrade_176c26131889(engine):
    key = insert(engine, "userlogs", assembly_uuid=ASSEMBLY_UUID)
    return {"userlogs": key}


def _check_176c26131889(engine, seeded):
    columns = _columns(engine, "userlogs")
    assert "assembly_uuid" not in columns
    assert columns["resource_uuid"]["nullable"] is False
    assert columns["resource_uuid"]["type"].length == 36
    assert columns["resource_type"]["nullable"] is True
    assert columns["resource_type"]["type"].length == 36
    row = _row(engine, "userlogs", seeded["userlogs"])
    assert (row["resource_uuid"], row["resource_type"]) == (ASSEMBLY_UUID,
                                                            None)


def _post_downgrade_176c26131889(engine, seeded):
    columns = _columns(engine, "userlogs")
    assert {"resource_uuid", "resource_type"}.isdisjoint(columns)
    assert columns["assembly_uuid"]["nullable"] is False
    row = _row(engine, "userlogs", seeded["userlogs"])
    assert row["assembly_uuid"] == ASSEMBLY_UUID


# 1f57763d7871: image.state is renamed status and is VARCHAR(36) on every
# backend (the original widened it on MySQL only), values kept; the
# downgrade gives state back as VARCHAR(12).

def _pre_upgrade_1f57763d7871(engine):
    assert _columns(engine, "image")["state"]["type"].length == 12
    return {"image": insert(engine, "image", state="READY")}


def _check_1f57763d7871(engine, seeded):
    columns = _columns(engine, "image")
    assert "state" not in columns
    assert columns["status"]["type"].length == 36
    assert _row(engine, "image", seeded["image"])["status"] == "READY"


def _post_downgrade_1f57763d7871(engine, seeded):
    columns = _columns(engine, "image")
    assert "status" not in columns
    assert columns["state"]["type"].length == 12
    assert _row(engine, "image", seeded["image"])["state"] == "READY"


# 5583c6e70156: the triggers move from assembly to plan. Each plan gets
# trigger_id, trust_id and username of its newest assembly (highest id)
# that holds a trigger; a plan without one gets none; assembly loses
# trigger_id and trust_id and keeps its username. The downgrade gives
# each plan's trigger_id and trust_id to its newest assembly, and its
# username where that assembly has none.

def _trigger(n):
    return {"trigger_id": f"trigger-{n}", "trust_id": f"trust-{n}",
            "username": f"user-{n}"}


NO_TRIGGER = {"trigger_id": None, "trust_id": None, "username": None}


def _pre_upgrade_5583c6e70156(engine):
    plans = {name: insert(engine, "plan", name=name)
             for name in ("two-triggers", "newest-without", "no-assembly",
                          "never-triggered")}

    def assembly(plan, values):
        return insert(engine, "assembly", plan_id=plans[plan], **values)

    return {"plans": plans, "assemblies": {
        "older": assembly("two-triggers", _trigger(1)),
        "newer": assembly("two-triggers", _trigger(2)),
        "holder": assembly("newest-without", _trigger(3)),
        "newest": assembly("newest-without", NO_TRIGGER),
        "untriggered": assembly("never-triggered",
                                {**NO_TRIGGER, "username": "dave"}),
    }}


def _triggers(engine, table, key):
    row = _row(engine, table, key)
    return {name: row[name] for name in TRIGGER_VALUES}


def _check_5583c6e70156(engine, seeded):
    assert {"trigger_id", "trust_id"}.isdisjoint(
        _columns(engine, "assembly"))
    columns = _columns(engine, "plan")
    assert [columns[name]["type"].length for name in TRIGGER_VALUES] == [
        36, 255, 256]
    plans = seeded["plans"]
    assert _triggers(engine, "plan", plans["two-triggers"]) == _trigger(2)
    assert _triggers(engine, "plan", plans["newest-without"]) == _trigger(3)
    assert _triggers(engine, "plan", plans["no-assembly"]) == NO_TRIGGER
    assert _triggers(engine, "plan", plans["never-triggered"]) == NO_TRIGGER
    usernames = {name: _row(engine, "assembly", key)["username"]
                 for name, key in seeded["assemblies"].items()}
    assert usernames == {"older": "user-1", "newer": "user-2",
                         "holder": "user-3", "newest": None,
                         "untriggered": "dave"}


def _post_downgrade_5583c6e70156(engine, seeded):
    assert {"trigger_id", "trust_id", "username"}.isdisjoint(
        _columns(engine, "plan"))
    got = {name: _triggers(engine, "assembly", key)
           for name, key in seeded["assemblies"].items()}
    assert got == {
        "older": {**NO_TRIGGER, "username": "user-1"},
        "newer": _trigger(2),
        "holder": {**NO_TRIGGER, "username": "user-3"},
        # The plan's trigger, and its username: this one had none.
        "newest": _trigger(3),
        "untriggered": {**NO_TRIGGER, "username": "dave"},
    }


# 43df309dbf3f: image.base_image_id widens from VARCHAR(36) to
# VARCHAR(100), values kept; the downgrade narrows it back.

def _pre_upgrade_43df309dbf3f(engine):
    assert _columns(engine, "image")["base_image_id"]["type"].length == 36
    return {"image": insert(engine, "image", base_image_id=BASE_IMAGE_36)}


def _check_43df309dbf3f(engine, seeded):
    assert _columns(engine, "image")["base_image_id"]["type"].length == 100
    assert _row(engine, "image", seeded["image"])["base_image_id"] == \
        BASE_IMAGE_36
    # 100 characters fit now (the row goes again: the downgrade would
    # have to cut it).
    key = insert(engine, "image", base_image_id=BASE_IMAGE_100)
    assert _row(engine, "image", key)["base_image_id"] == BASE_IMAGE_100
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM image WHERE id = :id"),
                           {"id": key})


def _post_downgrade_43df309dbf3f(engine, seeded):
    assert _columns(engine, "image")["base_image_id"]["type"].length == 36
    assert _row(engine, "image", seeded["image"])["base_image_id"] == \
        BASE_IMAGE_36


# e5f2e8af3b8: workflow gets the unique constraint app_id_wf_id over
# (app_id, wf_id): the rows there stay, a second (app_id, wf_id) is
# refused; the downgrade drops it, and the duplicate goes in.

def _pre_upgrade_e5f2e8af3b8(engine):
    with engine.begin() as connection:
        for key, wf_id in (("wf-1", 1), ("wf-2", 2)):
            connection.execute(sa.text(
                "INSERT INTO workflow (id, deleted, app_id, wf_id) "
                "VALUES (:id, false, 'app-1', :wf_id)"),
                {"id": key, "wf_id": wf_id})
    return {"workflows": ["wf-1", "wf-2"]}


def _insert_duplicate_workflow(engine):
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO workflow (id, deleted, app_id, wf_id) "
            "VALUES ('wf-dup', false, 'app-1', 1)"))


def _unique_over_app_and_wf_id(engine):
    inspector = sa.inspect(engine)
    return sorted(
        {constraint["name"] for constraint in
         inspector.get_unique_constraints("workflow")
         if constraint["column_names"] == ["app_id", "wf_id"]}
        | {index["name"] for index in inspector.get_indexes("workflow")
           if index["unique"] and index["column_names"] == ["app_id",
                                                            "wf_id"]})


def _check_e5f2e8af3b8(engine, seeded):
    assert _unique_over_app_and_wf_id(engine) == ["app_id_wf_id"]
    assert [row["id"] for row in dbutil.rows(engine, "workflow")] == \
        seeded["workflows"]
    with pytest.raises(sa.exc.IntegrityError):
        _insert_duplicate_workflow(engine)


def _post_downgrade_e5f2e8af3b8(engine, seeded):
    assert _unique_over_app_and_wf_id(engine) == []
    _insert_duplicate_workflow(engine)
    assert [row["id"] for row in dbutil.rows(engine, "workflow")] == [
        *seeded["workflows"], "wf-dup"]


ASSEMBLY_UUID = "7d3f1e2a-3b4c-4d5e-8f60-718293a4b5c6"
BASE_IMAGE_36 = "f" * 36
BASE_IMAGE_100 = "registry.example.com/solum/" + "b" * 73
# The revisions that move or reshape data: each has its hooks above.
RESHAPING = ("176c26131889", "1f57763d7871", "5583c6e70156",
             "43df309dbf3f", "e5f2e8af3b8")


def _hook(kind, revision):
    return globals().get(f"_{kind}_{revision}")


def test_each_revision_that_reshapes_data_has_its_checks():
    for revision in RESHAPING:
        assert revision in REVISIONS
        for kind in ("pre_upgrade", "check", "post_downgrade"):
            assert _hook(kind, revision) is not None, (kind, revision)


def test_each_revision_does_what_it_must(backend, db_url, engine):
    """Up the chain one revision at a time, then back down to base: each
    revision's hooks (above) seed before it and check after it."""
    config = make_config(db_url)
    seeded = {}
    for revision in REVISIONS:
        if _hook("pre_upgrade", revision):
            seeded[revision] = _hook("pre_upgrade", revision)(engine)
        commands.upgrade(config, revision)
        assert dbutil.version_rows(engine) == [revision]
        if _hook("check", revision):
            _hook("check", revision)(engine, seeded[revision])
    assert set(seeded) == set(RESHAPING)
    for revision in reversed(REVISIONS):
        # The rows fill columns some steps drop: a loss to accept.
        commands.downgrade(config, schema_spec.below(revision) or "base",
                            force=True)
        if _hook("post_downgrade", revision):
            _hook("post_downgrade", revision)(engine, seeded[revision])
    assert dbutil.version_rows(engine) == []
