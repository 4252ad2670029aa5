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

"""The rows a walk over the chain inserts, as each revision must keep them.

``Ledger`` inserts realistic rows into every table of the revision a
database is at and follows them through the chain: renamed and dropped
columns, dropped tables (from ``schema_spec``), and the one revision that
moves values between tables, 5583c6e70156 (each plan gets the trigger of
its newest assembly holding one; the downgrade gives it back to the plan's
newest assembly). ``row_differences`` and ``check`` say where a database
differs from it; ``schema_differences`` where a schema differs from
``schema_spec``'s. tests/test_migrations_walk.py states what each revision
must do, revision by revision; this module is the bookkeeping that the
walk, the crash campaigns and the SQLite ALTER tests share.
"""

import collections
import datetime
import re
import uuid

import sqlalchemy as sa

from tests import dbutil, schema_spec

MOVE_TRIGGERS = "5583c6e70156"


TRIGGER_VALUES = ("trigger_id", "trust_id", "username")


PROJECT = "5e3a2b1c9d8f4e7a8b6c5d4e3f2a1b0c"


USER = "0f1e2d3c4b5a49688776655443322110"


_DATETIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?")


def _uuid(*parts):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(map(str, parts))))


def _when(step, minute=0):
    start = datetime.datetime(2014, 4, 17, 9, 30)
    moment = start + datetime.timedelta(days=30 * step, minutes=minute)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def schema_differences(expected, actual, dialect):
    """Human-readable differences between two snapshots."""
    found = []
    for table in sorted(expected.keys() - actual.keys()):
        found.append(f"table {table} is missing")
    for table in sorted(actual.keys() - expected.keys()):
        found.append(f"table {table} should not exist")
    for table in sorted(expected.keys() & actual.keys()):
        want, got = expected[table], actual[table]
        want_columns = {c["name"]: c for c in want["columns"]}
        got_columns = {c["name"]: c for c in got["columns"]}
        for name in sorted(want_columns.keys() - got_columns.keys()):
            found.append(f"{table}.{name} is missing")
        for name in sorted(got_columns.keys() - want_columns.keys()):
            found.append(f"{table}.{name} should not exist "
                         f"({got_columns[name]['type']})")
        for name in sorted(want_columns.keys() & got_columns.keys()):
            for key, value in want_columns[name].items():
                if got_columns[name].get(key) != value:
                    found.append(
                        f"{table}.{name} {key}: expected {value!r}, "
                        f"got {got_columns[name].get(key)!r}")
        want_order = [c["name"] for c in want["columns"]]
        got_order = [c["name"] for c in got["columns"]]
        if (dialect == "mysql" and set(want_order) == set(got_order)
                and want_order != got_order):
            found.append(f"{table} column order: expected {want_order}, "
                         f"got {got_order}")
        for key in ("primary_key", "foreign_keys", "unique", "indexes"):
            if want[key] != got[key]:
                found.append(f"{table} {key}: expected {want[key]}, "
                             f"got {got[key]}")
    return found


def _row_values(table, n, step):
    """Realistic values for every column the table ever had."""
    common = {"uuid": _uuid(table, n), "created_at": _when(step),
              "updated_at": _when(step, 5), "project_id": PROJECT,
              "user_id": USER}
    values = {
        "sensor": {"name": f"cpu-{n}", "sensor_type": "int",
                   "value": str(40 + n), "timestamp": _when(step, 1),
                   "description": "CPU load of the web tier",
                   "documentation": "http://docs.example.com/sensors",
                   "target_resource": f"http://example.com/assemblies/{n}"},
        "operation": {"name": f"scale-{n}",
                      "description": "Scale the web tier",
                      "tags": "['ops']",
                      "documentation": "Adds one web server.",
                      "target_resource": f"http://example.com/a/{n}"},
        "image": {"name": f"nodeus-{n}", "description": "Node.js example",
                  "source_uri": "https://github.com/example/nodeus.git",
                  "tags": "['web']", "state": "READY", "status": "READY",
                  "base_image_id": _uuid("base-image", n),
                  "created_image_id": _uuid("glance", n),
                  "image_format": "docker", "source_format": "heroku",
                  "artifact_type": "application",
                  "external_ref": f"http://swift.example.com/du/{n}",
                  "docker_image_name": f"tenant-nodeus-{n}"},
        "extension": {"description": "Adds a Ruby language pack",
                      "name": f"ruby-{n}", "version": "1.0",
                      "documentation": "http://docs.example.com/ext"},
        "service": {"name": f"mysql-{n}", "description": "MySQL database",
                    "service_type": "language_pack", "read_only": 0,
                    "tags": "['db']"},
        "plan": {"raw_content": (f"name: plan-{n}\nversion: 1\n"
                                 "artifacts:\n- name: web\n"
                                 "  language_pack: python\n"),
                 "description": f"Plan {n} of the walk",
                 "name": f"plan-{n}",
                 "deploy_keys_uri": f"swift://keys/plan-{n}"},
        "assembly": {"name": f"assembly-{n}",
                     "description": "Web application",
                     "tags": "['web']", "status": "READY",
                     "application_uri": f"http://10.0.0.{n}:5000",
                     "workflow": "- unittest\n- build\n- deploy\n",
                     "image_id": n},
        "component": {"name": f"web-{n}", "component_type": "heat_stack",
                      "description": "Web server", "tags": "['web']",
                      "resource_uri": f"http://heat.example.com/s/{n}",
                      "heat_stack_id": _uuid("heat", n)},
        "pipeline": {"name": f"pipe-{n}", "description": "Build and deploy",
                     "tags": "['ci']", "workbook_name": "build_deploy",
                     "trigger_id": _uuid("pipeline-trigger", n),
                     "trust_id": f"trust-pipeline-{n}"},
        "execution": {},
        "infrastructure_stack": {"name": f"infra-{n}",
                                 "description": "Build farm",
                                 "tags": "['infra']",
                                 "image_id": _uuid("infra-image", n),
                                 "heat_stack_id": _uuid("infra-heat", n)},
        "userlogs": {"assembly_uuid": _uuid("assembly", n),
                     "resource_uuid": _uuid("assembly", n),
                     "location": f"http://swift.example.com/logs/{n}.log",
                     "strategy": "swift",
                     "strategy_info": '{"container": "solum_logs"}',
                     "resource_type": "assembly"},
        "parameter": {"user_defined_params": "db_host: 10.0.0.5\n",
                      "sys_defined_params": f"image_id: img-{n}\n"},
        "app": {"id": _uuid("app", n), "deleted": False,
                "languagepack": "python", "stack_id": _uuid("stack", n),
                "name": f"app-{n}", "description": "Example application",
                "ports": "- 80\n",
                "source": ("repository: https://github.com/example/app\n"
                           "revision: master\n"),
                "workflow_config": "test_cmd: ./unit_tests.sh\n",
                "trigger_uuid": _uuid("app-trigger", n),
                "trigger_actions": "- unittest\n- build\n- deploy\n",
                "trust_id": f"trust-app-{n}", "trust_user": "alice",
                "app_url": f"http://10.0.1.{n}:80",
                "status": "DEPLOYMENT_COMPLETE",
                "raw_content": f"name: app-{n}\nlanguagepack: python\n",
                "scale_config": '{"target": 2}'},
        "workflow": {"id": _uuid("workflow", n), "deleted": False,
                     "app_id": _uuid("app", n), "wf_id": n,
                     "source": "repository: https://github.com/example/a\n",
                     "config": "run_cmd: python app.py\n",
                     "actions": "- build\n- deploy\n",
                     "status": "DEPLOYED", "assembly": n,
                     "result": "success"},
    }[table]
    return {**common, **values}


class Ledger:
    """The rows the walk inserted, as the database should hold them now."""

    def __init__(self):
        self.revision = None
        self.tables = {}  # table -> {id: {column: value}}
        self._ids = collections.Counter()
        # Assemblies that held a trigger as their plan's highest-id
        # assembly when the trigger moved to the plan: what they held.
        self.trigger_holders = {}

    def columns(self, table):
        return schema_spec.SCHEMAS[self.revision][table].names()

    # Moving between revisions.

    def upgraded(self, revision):
        moved = None
        if revision == MOVE_TRIGGERS:
            moved = self._triggers_to_plans()
        self._reshape(revision, schema_spec.renames(revision))
        if moved:
            for plan_id, values in moved.items():
                self.tables["plan"][plan_id].update(values)

    def downgraded(self, revision):
        moved = None
        if revision == MOVE_TRIGGERS:
            moved = self._triggers_to_assemblies()
        renames = {table: {new: old for old, new in names.items()}
                   for table, names in schema_spec.renames(revision).items()}
        self._reshape(schema_spec.below(revision), renames)
        if moved:
            assemblies = self.tables["assembly"]
            for assembly_id, values in moved.items():
                assembly = assemblies[assembly_id]
                assembly["trigger_id"] = values["trigger_id"]
                assembly["trust_id"] = values["trust_id"]
                if assembly["username"] is None:
                    assembly["username"] = values["username"]

    def _reshape(self, revision, renames):
        self.revision = revision
        schema = schema_spec.SCHEMAS[revision]
        for table in list(self.tables):
            if table not in schema:
                del self.tables[table]
                continue
            names = renames.get(table, {})
            columns = schema[table].names()
            for key, row in self.tables[table].items():
                row = {names.get(name, name): value
                       for name, value in row.items()}
                self.tables[table][key] = {name: row.get(name)
                                           for name in columns}

    def _triggers_to_plans(self):
        """Each plan gets the values of its newest assembly with a trigger."""
        assemblies = self.tables["assembly"]
        moved, newest = {}, {}
        for assembly_id in sorted(assemblies):
            assembly = assemblies[assembly_id]
            newest[assembly["plan_id"]] = assembly_id
            if assembly["trigger_id"] is not None:
                moved[assembly["plan_id"]] = {
                    key: assembly[key] for key in TRIGGER_VALUES}
        self.trigger_holders = {
            assembly_id: {key: assemblies[assembly_id][key]
                          for key in TRIGGER_VALUES}
            for assembly_id in newest.values()
            if assemblies[assembly_id]["trigger_id"] is not None}
        return moved

    def _triggers_to_assemblies(self):
        """Each plan's values go to its highest-id assembly."""
        newest = {}
        for assembly_id in sorted(self.tables["assembly"]):
            newest[self.tables["assembly"][assembly_id]["plan_id"]] = (
                assembly_id)
        plans = self.tables["plan"]
        return {assembly_id: {key: plans[plan_id][key]
                              for key in TRIGGER_VALUES}
                for plan_id, assembly_id in newest.items()}

    # Inserting.

    def insert(self, engine, step):
        """Insert rows into every table of the current revision."""
        schema = schema_spec.SCHEMAS[self.revision]
        before_move = "trigger_id" in self.columns("assembly")
        with engine.begin() as connection:
            def add(table, **values):
                return self._insert(connection, table, step, values)

            if before_move:
                # The newest assembly holds the newest trigger.
                plan = add("plan")
                first = add("assembly", plan_id=plan,
                            **self._trigger("a", step, 1))
                last = add("assembly", plan_id=plan,
                           **self._trigger("a", step, 2))
            else:
                plan = add("plan", **self._trigger("p", step, 1))
                first = add("assembly", plan_id=plan, username="bob")
                # Every other step the newest assembly has no username:
                # moving back down gives it the plan's.
                last = add("assembly", plan_id=plan,
                           username=None if step % 2 else "erin")
            parent = add("component", assembly_id=first)
            add("component", assembly_id=last, parent_component_id=parent)
            if self.revision == "icehouse":
                add("plan")  # a plan without assemblies
                lone = add("plan")  # its only assembly has no trigger
                add("assembly", plan_id=lone, trigger_id=None)
            if self.revision == schema_spec.below(MOVE_TRIGGERS):
                # The newest assembly without a trigger: the plan gets
                # the older one's; moving back gives them to the newest.
                plan = add("plan")
                add("assembly", plan_id=plan, username="carol",
                    **self._trigger("x", step, 1, username=False))
                add("assembly", plan_id=plan, trigger_id=None,
                    trust_id=None, username=None)
            if "pipeline" in schema:
                pipeline = add("pipeline", plan_id=plan)
                add("execution", pipeline_id=pipeline)
            if "parameter" in schema:
                add("parameter", plan_id=plan)
            for table in sorted(schema):
                if table not in ("plan", "assembly", "component",
                                 "pipeline", "execution", "parameter"):
                    add(table)

    def _trigger(self, kind, step, n, username=True):
        values = {"trigger_id": _uuid("trigger", kind, step, n),
                  "trust_id": f"trust-{kind}-{step}-{n}"}
        if username:
            values["username"] = f"user-{kind}-{step}-{n}"
        return values

    def _insert(self, connection, table, step, overrides):
        self._ids[table] += 1
        n = self._ids[table]
        columns = self.columns(table)
        values = {"id": n, **_row_values(table, n, step), **overrides}
        row = {name: values.get(name) for name in columns}
        present = [name for name in columns if row[name] is not None]
        quote = connection.dialect.identifier_preparer.quote
        connection.execute(sa.text(
            f"INSERT INTO {quote(table)} "
            f"({', '.join(quote(name) for name in present)}) "
            f"VALUES ({', '.join(':' + name for name in present)})"),
            {name: row[name] for name in present})
        self.tables.setdefault(table, {})[row["id"]] = row
        return row["id"]


def _normal(value):
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and _DATETIME.fullmatch(value):
        return value[:19]  # SQLite hands datetimes back as text
    return value


def row_differences(engine, ledger, tables):
    """Rows that are not what the ledger says they should be."""
    found = []
    for table, expected in sorted(ledger.tables.items()):
        if table not in tables:
            continue  # already reported as a missing table
        actual = {row["id"]: row for row in dbutil.rows(engine, table)}
        for key in sorted(expected.keys() - actual.keys()):
            found.append(f"{table} row {key} is gone")
        for key in sorted(actual.keys() - expected.keys()):
            found.append(f"{table} row {key} should not exist")
        for key in sorted(expected.keys() & actual.keys()):
            for name, value in expected[key].items():
                if name not in actual[key]:
                    continue  # already reported as a missing column
                got = actual[key][name]
                if _normal(got) != _normal(value):
                    found.append(f"{table} row {key} {name}: expected "
                                 f"{value!r}, got {got!r}")
    return found


def check(engine, ledger, step_name, backend):
    """Everything that must hold after a step; a list of what does not."""
    revision = ledger.revision
    problems = []
    versions = dbutil.version_rows(engine)
    if versions != ([revision] if revision else []):
        problems.append(f"alembic_version holds {versions}")
    actual = dbutil.snapshot(engine)
    problems += schema_differences(
        schema_spec.expected(revision, backend), actual, backend)
    problems += row_differences(engine, ledger, actual)
    return [(step_name, problem) for problem in problems]
