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

"""One instrumented ``upgrade head``, in a child process of its own.

``python -m benchmarks.instrument URL DATABASE OUT.json`` runs
``solum_db_manage.cli.main(["--database-connection", URL, "upgrade",
"head"])`` with SQLAlchemy cursor hooks and a handler on Alembic's
``Running upgrade`` log line, and writes to OUT.json:

* the time split: before Alembic's ``command.upgrade`` is entered (the
  tool's own work: configuration, lock, guards, counts of values a step
  drops), inside it before the first revision (scripts, env.py, version
  table), each revision, and after;
* per revision, its statements: time, rows affected and, for each
  ``ALTER TABLE``, whether the table was rebuilt: MariaDB's InnoDB table
  id (a new id is a rebuild; affected rows > 0 is ALGORITHM=COPY),
  PostgreSQL's ``pg_class.relfilenode`` (a new one is a rewrite);
* per revision, which of the four data tables got a new physical
  identity (also SQLite's batch rebuilds, seen as a new root page).

The timed runs never carry these hooks; this run explains them.
"""

import collections
import contextlib
import io
import json
import logging
import re
import sys
import threading
import time
import traceback

from benchmarks.backends import BACKENDS, DATA_TABLES

_RUNNING = re.compile(r"Running upgrade ([^\s,]*) -> ([^\s,]+)")
_TABLE = re.compile(
    r"^\s*(ALTER|UPDATE|INSERT INTO|CREATE TABLE|DROP TABLE|DELETE FROM)\s+"
    r"[`\"]?(\w+)", re.IGNORECASE)
_PRE = "(before the first revision)"
_WRAPPERS = ("cli.", "commands.", "pipeline.run", "pipeline.make_plan")
# Statements the tool makes inside a revision for itself, not for the
# change: a step counting what it lost, for the run's warning
# (helpers.report).
_IN_STEP_OWN = ("helpers.py:values_held",)


class Recorder(logging.Handler):
    def __init__(self, backend, database, target):
        super().__init__(logging.INFO)
        self.backend = backend
        self.database = database
        self.target = target  # the URL's database part
        self.other_count = 0
        self.other_seconds = 0.0
        self.revision = None
        self.revisions = []  # [name, started, title]
        self.statements = []
        self.identities = {}  # revision -> {table: identity} at its start
        self.upgrade_window = [None, None]
        self._pending = {}

    # -- Alembic's progress line -----------------------------------------
    def emit(self, record):
        message = record.getMessage()
        match = _RUNNING.search(message)
        if match:
            self.revision = match.group(2)
            title = message.split(",", 1)[1].strip() if "," in message \
                else ""
            self.revisions.append([self.revision, time.perf_counter(),
                                   title])

    # -- statements ---------------------------------------------------------
    def _identity(self, dbapi_connection, tables):
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(self.backend.identity_sql(self.database, tables))
            return {name: str(identity) for name, identity in
                    cursor.fetchall()}
        finally:
            cursor.close()

    def before(self, conn, cursor, statement, parameters, context,
               executemany):
        if conn.engine.url.database != self.target:
            # Another engine: the tool's scratch databases (e.g. a walk of
            # the chain on in-memory SQLite); counted, not attributed.
            self._pending[id(cursor)] = {"other": True,
                                         "t0": time.perf_counter()}
            return
        revision = self.revision or _PRE
        dbapi_connection = cursor.connection
        if revision != _PRE and revision not in self.identities:
            self.identities[revision] = self._identity(
                dbapi_connection, DATA_TABLES)
        match = _TABLE.match(statement)
        entry = {
            "revision": revision,
            "sql": " ".join(statement.split())[:160],
            "table": match.group(2) if match else None,
            "caller": _caller(),
        }
        if match and match.group(1).upper() == "ALTER" and \
                self.backend.name != "sqlite":
            entry["identity_before"] = self._identity(
                dbapi_connection, [match.group(2)]).get(match.group(2))
        self._pending[id(cursor)] = entry
        entry["t0"] = time.perf_counter()

    def after(self, conn, cursor, statement, parameters, context,
              executemany):
        t1 = time.perf_counter()
        entry = self._pending.pop(id(cursor), None)
        if entry is None:
            return
        entry["seconds"] = t1 - entry.pop("t0")
        if entry.get("other"):
            self.other_count += 1
            self.other_seconds += entry["seconds"]
            return
        entry["rowcount"] = cursor.rowcount
        if "identity_before" in entry:
            entry["identity_after"] = self._identity(
                cursor.connection, [entry["table"]]).get(entry["table"])
            entry["kind"] = _classify(self.backend.name, entry)
        self.statements.append(entry)


class Sampler(threading.Thread):
    """Where the main thread is, every few milliseconds, outside Alembic's
    command.upgrade: the wall time of the tool's own steps, SQL waits
    included, without a profiler's overhead."""

    INTERVAL = 0.002

    def __init__(self, recorder):
        super().__init__(daemon=True)
        self.recorder = recorder
        self.main_id = threading.get_ident()
        self.samples = collections.Counter()  # chain -> seconds
        self.count = 0
        self._halt = threading.Event()

    def run(self):
        last = time.perf_counter()
        while not self._halt.wait(self.INTERVAL):
            # Weighted by the time since the previous sample: the thread
            # wakes late while the main thread holds the GIL.
            now = time.perf_counter()
            weight, last = now - last, now
            entered, left = self.recorder.upgrade_window
            if entered is not None and left is None:
                continue  # inside command.upgrade: the revisions
            frame = sys._current_frames().get(self.main_id)
            chain = []
            while frame is not None:
                path = frame.f_code.co_filename
                if "solum_db_manage" in path and "versions" not in path:
                    module = path.rsplit("/", 1)[-1].removesuffix(".py")
                    chain.append(f"{module}.{frame.f_code.co_name}")
                frame = frame.f_back
            # Outermost first, without the frames every run has (cli.main,
            # the command function, pipeline.run and make_plan).
            chain = [c for c in reversed(chain)
                     if not c.startswith(_WRAPPERS)]
            self.count += 1
            self.samples[tuple(chain[:3])] += weight

    def stop(self):
        self._halt.set()
        self.join()

    def report(self):
        """Seconds per step, two levels below the command function."""
        steps = collections.Counter()
        for chain, seconds in self.samples.items():
            steps[" > ".join(chain) or "(outside solum_db_manage)"] \
                += seconds
        return {"interval": self.INTERVAL, "samples": self.count,
                "steps": steps.most_common(14)}


def _caller():
    """The innermost frame in solum_db_manage that led to a statement."""
    for frame in reversed(traceback.extract_stack(limit=60)):
        if "solum_db_manage" in frame.filename:
            path = frame.filename.split("solum_db_manage", 1)[1]
            return f"solum_db_manage{path}:{frame.name}"
    return None


def _classify(backend, entry):
    before, after = entry.get("identity_before"), entry.get("identity_after")
    rebuilt = before is not None and after is not None and before != after
    if backend == "mysql":
        if (entry.get("rowcount") or 0) > 0:
            return "COPY"
        return "INPLACE (rebuild)" if rebuilt else "INSTANT/INPLACE"
    if backend == "postgresql":
        return "rewrite" if rebuilt else "no rewrite"
    return "rebuilt" if rebuilt else "in place"


def main(argv):
    url, database, backend_name, out_path = argv
    import sqlalchemy
    from alembic import command
    from sqlalchemy import event
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    # Only for its SQL (identity queries); it creates no database.
    backend = BACKENDS[backend_name](run_id="x", workdir=None)
    recorder = Recorder(backend, database, make_url(url).database)
    logging.getLogger("alembic.runtime.migration").addHandler(recorder)
    event.listen(sqlalchemy.engine.Engine, "before_cursor_execute",
                 recorder.before)
    event.listen(sqlalchemy.engine.Engine, "after_cursor_execute",
                 recorder.after)

    original = command.upgrade

    def timed_upgrade(config, *args, **kwargs):
        # Only the upgrade of the target database: the tool may also walk
        # the chain on a scratch database of its own.
        own = config.attributes.get("url")
        if own is None or make_url(own).database != recorder.target:
            return original(config, *args, **kwargs)
        recorder.upgrade_window[:] = [time.perf_counter(), None]
        try:
            return original(config, *args, **kwargs)
        finally:
            recorder.upgrade_window[1] = time.perf_counter()

    command.upgrade = timed_upgrade
    from solum_db_manage import cli

    out, err = io.StringIO(), io.StringIO()
    sampler = Sampler(recorder)
    t0 = time.perf_counter()
    sampler.start()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(["--database-connection", url, "upgrade", "head"])
    t_end = time.perf_counter()
    sampler.stop()
    if status != 0:
        sys.stderr.write(err.getvalue())
        return status
    # The data tables' identities at the end, for the last revision.
    engine = sqlalchemy.create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        final = recorder._identity(connection.connection.dbapi_connection,
                                   DATA_TABLES)
    engine.dispose()
    summary = summarise(recorder, t0, t_end, final)
    summary["own_work"] = sampler.report()
    summary["other_engines"] = {"count": recorder.other_count,
                                "seconds": recorder.other_seconds}
    with open(out_path, "w") as f:
        json.dump(summary, f, indent=1)
    return 0


def summarise(recorder, t0, t_end, final):
    entered, left = recorder.upgrade_window
    revisions = recorder.revisions
    first = revisions[0][1] if revisions else left
    result = {
        "total": t_end - t0,
        "before_alembic": (entered or t0) - t0,
        "alembic_setup": first - (entered or t0),
        "after_alembic": t_end - (left or t_end),
        "revisions": [],
        "pre_statements": [],
    }
    by_revision = {}
    for entry in recorder.statements:
        by_revision.setdefault(entry["revision"], []).append(entry)
    pre = by_revision.get(_PRE, [])
    result["pre_statement_seconds"] = sum(e["seconds"] for e in pre)
    result["pre_statement_count"] = len(pre)
    result["pre_statements"] = sorted(
        pre, key=lambda e: -e["seconds"])[:8]
    for i, (name, started, title) in enumerate(revisions):
        ended = revisions[i + 1][1] if i + 1 < len(revisions) else left
        statements = by_revision.get(name, [])
        before = recorder.identities.get(name, {})
        after = (recorder.identities.get(revisions[i + 1][0], final)
                 if i + 1 < len(revisions) else final)
        rebuilt = sorted(t for t in DATA_TABLES if t in before and
                         t in after and before[t] != after[t])
        notable = [e for e in statements if e.get("kind") or
                   e["seconds"] >= 0.005 or re.match(
                       r"\s*(UPDATE|INSERT|DELETE)", e["sql"], re.I)]
        result["revisions"].append({
            "revision": name,
            "title": title,
            "seconds": ended - started,
            "sql_seconds": sum(e["seconds"] for e in statements),
            "statement_count": len(statements),
            "rebuilt_tables": rebuilt,
            "statements": sorted(notable, key=lambda e: -e["seconds"])[:8],
            "all_alters": [e for e in statements if e.get("kind")],
        })
    result["wall_in_revisions"] = sum(r["seconds"]
                                      for r in result["revisions"])
    in_step = [e for e in recorder.statements
               if e["revision"] != _PRE and (e["caller"] or "").endswith(
                   _IN_STEP_OWN)]
    result["in_step_own"] = {
        "seconds": sum(e["seconds"] for e in in_step),
        "statements": [{k: e[k] for k in ("revision", "sql", "seconds")}
                       for e in in_step]}
    # The tool's own work: before Alembic's command.upgrade (configuration,
    # lock, diagnosis, review, forecast), Alembic's set-up and the
    # counting inside steps; against the whole run.
    result["own_work_seconds"] = (result["before_alembic"]
                                  + result["alembic_setup"]
                                  + result["in_step_own"]["seconds"])
    result["own_work_share"] = result["own_work_seconds"] / result["total"]
    return result


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
