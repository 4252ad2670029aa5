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

"""Target 3, big databases: ``upgrade head`` from ``498adc6185ae`` and from
``icehouse`` of a database holding N rows, against copying its four data
tables once, measured on the same database in the same run.

Per N and start revision a template database is built once (the tool's
own ``upgrade START`` on an empty database, then server-side rows, see
datagen.py). Each repetition clones it (SQLite: a file copy; PostgreSQL:
CREATE DATABASE ... TEMPLATE; MariaDB: SHOW CREATE TABLE + INSERT ...
SELECT), then times the copy baseline and the real CLI's ``upgrade
head`` as a subprocess, whose peak RSS comes from wait4(). Per-revision
times come from the timestamps of Alembic's ``Running upgrade`` lines on
the CLI's stderr; one more instrumented run (instrument.py) says which
statements dominate and which tables each step rebuilt.
"""

import datetime
import json
import math
import os
import re
import sys

from benchmarks import common, datagen, floor, fresh

START_REVISIONS = ("498adc6185ae", "icehouse")

# At 10^6 rows (issue 5).
GOALS = {"mysql": 0.6, "postgresql": 0.3, "sqlite": 1.0}
GOAL_ROWS = 10 ** 6
GOAL_RSS_MIB = 100
# Issue 13, at 10^6 rows: the upgrade against its floor (floor.py),
# ``upgrade --plan`` against the upgrade, the tool's own work's share of
# the instrumented upgrade, peak RSS flat in the row count (the largest
# N's at most this much above the smallest's).
GOAL_FLOOR = 1.25
GOAL_PLAN = 0.3
GOAL_OWN_WORK = 0.10
GOAL_RSS_FLAT = 1.10

_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) .*?Running upgrade "
    r"([^\s,]*) -> ([^\s,]+)")


def revision_times(result):
    """{"pre": s, "revisions": [(rev, s)], "post_last": s} from stderr.

    "pre" runs from the process start to the first revision (start-up and
    the tool's own checks); the last revision's time runs to the process
    end, so it includes closing down.
    """
    marks = []
    for line in result.stderr.splitlines():
        match = _LINE.match(line)
        if match:
            stamp = datetime.datetime.strptime(
                match.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
            marks.append((match.group(3), stamp))
    if not marks:
        return None
    ends = [stamp for _, stamp in marks[1:]] + [result.ended]
    return {
        "pre": marks[0][1] - result.started,
        "revisions": [(rev, end - stamp)
                      for (rev, stamp), end in zip(marks, ends, strict=True)],
    }


class Case:
    """One backend and start revision, over every N."""

    def __init__(self, backend, start, fixed=0.0):
        self.backend = backend
        self.start = start
        # What an upgrade costs whatever the rows (start-up, the chain on
        # an empty database): kept out of the growth estimate.
        self.fixed = fixed
        self.comparisons = {}  # rows -> Comparison
        self.rss = {}  # rows -> [KiB]
        self.revisions = {}  # rows -> [revision_times()]
        self.templates = {}  # rows -> {"seconds", "bytes", "counts"}
        self.analysis = {}  # rows -> instrument.py's summary
        self.timed_out = {}
        self.skipped = {}  # rows -> predicted seconds, exponent
        # Issue 13: rows -> Comparison of the upgrade against its floor,
        # and of ``upgrade --plan`` against the upgrade; rows -> [floor
        # parts (floor.measure)], [peak RSS KiB of --plan].
        self.floor_comparisons = {}
        self.plan_comparisons = {}
        self.floors = {}
        self.plan_rss = {}

    def to_dict(self):
        return {
            "backend": self.backend.name, "start": self.start,
            "comparisons": {r: c.to_dict()
                            for r, c in self.comparisons.items()},
            "rss_kib": self.rss, "revisions": self.revisions,
            "templates": self.templates, "analysis": self.analysis,
            "timed_out": self.timed_out, "skipped": self.skipped,
            "slope": self.slope(),
            "floor_comparisons": {r: c.to_dict() for r, c in
                                  self.floor_comparisons.items()},
            "plan_comparisons": {r: c.to_dict() for r, c in
                                 self.plan_comparisons.items()},
            "floors": self.floors, "plan_rss_kib": self.plan_rss,
        }

    def extra_comparisons(self, rows):
        """Issue 13's comparisons at ``rows`` (for the results table)."""
        return [c[rows] for c in (self.floor_comparisons,
                                  self.plan_comparisons) if rows in c]

    def predict(self, rows):
        """(seconds, exponent) one upgrade at ``rows`` should take, from the
        sizes measured so far (linear from a single size)."""
        done = [(r, c.candidate_median) for r, c in
                sorted(self.comparisons.items())
                if c.candidate_times and not c.timed_out and r < rows]
        if not done:
            return None, None
        fixed = min(self.fixed, done[0][1] * 0.5)
        exponent = 1.0
        if len(done) >= 2:
            (r0, t0), (r1, t1) = done[-2], done[-1]
            if t1 > t0:
                exponent = max(1.0, math.log((t1 - fixed) / (t0 - fixed))
                               / math.log(r1 / r0))
        r1, t1 = done[-1]
        return fixed + (t1 - fixed) * (rows / r1) ** exponent, exponent

    def slope(self):
        """Seconds per 10^5 rows, least squares over the sizes measured."""
        points = [(rows / 1e5, c.candidate_median, c.baseline_median)
                  for rows, c in sorted(self.comparisons.items())
                  if c.candidate_times and not c.timed_out]
        if len(points) < 2:
            return None
        xs = [p[0] for p in points]
        upgrade, _ = common.least_squares(xs, [p[1] for p in points])
        copy, _ = common.least_squares(xs, [p[2] for p in points])
        # The exponent k of t - fixed ~ N^k between the smallest and the
        # largest N, the fixed part being upgrade head on an empty
        # database: 1 is linear, 2 quadratic.
        (x0, y0, _), (x1, y1, _) = points[0], points[-1]
        fixed = min(self.fixed, y0 * 0.5)
        exponent = (math.log((y1 - fixed) / (y0 - fixed)) / math.log(x1 / x0)
                    if y1 > y0 else None)
        return {"upgrade": upgrade, "copy": copy, "exponent": exponent,
                "sizes": [int(x * 1e5) for x in xs]}


def build_template(ctx, backend, start, rows):
    name = backend.create("tpl")
    fresh.upgrade_in_process(backend.url(name), start)
    seconds, counts = common.timed(datagen.fill, backend, name, rows)
    info = {"seconds": seconds, "bytes": backend.size_bytes(name),
            "counts": counts}
    common.progress(f"  template {backend.name} {start} "
                    f"{common.fmt_rows(rows)}: {seconds:.1f} s, "
                    f"{info['bytes'] / 2**20:.0f} MiB")
    return name, info


def measure(ctx, case, rows):
    """Interleaved copy and upgrade runs at one N."""
    backend = case.backend
    common.progress(f"target 3: {backend.name} from {case.start}, "
                    f"{common.fmt_rows(rows)} rows")
    template, case.templates[rows] = build_template(ctx, backend, case.start,
                                                    rows)
    comparison = common.Comparison(
        target="3 big database", backend=backend.name,
        case=f"upgrade head from {case.start}", rows=rows,
        baseline="copy the 4 tables once",
        candidate="solum-db-manage upgrade head",
        goal=GOALS[backend.name], judged=rows == GOAL_ROWS)
    case.comparisons[rows] = comparison
    against_floor = case.floor_comparisons[rows] = common.Comparison(
        target="13 floor", backend=backend.name,
        case=f"upgrade head from {case.start}", rows=rows,
        baseline="the floor (benchmarks/floor.py)",
        candidate="solum-db-manage upgrade head", goal=GOAL_FLOOR,
        judged=rows == GOAL_ROWS)
    plan = case.plan_comparisons[rows] = common.Comparison(
        target="13 --plan", backend=backend.name,
        case=f"upgrade --plan head from {case.start}", rows=rows,
        baseline="upgrade head",
        candidate="solum-db-manage upgrade --plan head", goal=GOAL_PLAN,
        judged=rows == GOAL_ROWS)
    case.rss[rows] = []
    case.revisions[rows] = []
    case.floors[rows] = []
    case.plan_rss[rows] = []
    solum = common.script("solum-db-manage")
    try:
        for i in range(ctx.repeat):
            work = backend.clone(template)
            try:
                backend.settle(work)
                comparison.baseline_times.append(backend.copy_tables(work))
                backend.settle(work)
                # Read-only: the upgrade then runs on the same database.
                planned = common.run(
                    solum + ["--database-connection", backend.url(work),
                             "upgrade", "--plan", "head"],
                    timeout=ctx.timeout).check()
                case.plan_rss[rows].append(planned.maxrss_kib)
                backend.settle(work)
                try:
                    result = common.run(
                        solum + ["--database-connection", backend.url(work),
                                 "upgrade", "head"],
                        timeout=ctx.timeout).check()
                except TimeoutError as error:
                    comparison.timed_out = True
                    comparison.candidate_times.append(ctx.timeout)
                    comparison.note = (f"upgrade killed after "
                                       f"{ctx.timeout:.0f} s; stopped "
                                       f"after {i + 1} run(s)")
                    case.timed_out[rows] = {
                        "seconds": ctx.timeout,
                        "stderr_tail": error.stderr[-2000:]}
                    common.progress(f"  timed out after {ctx.timeout} s")
                    break
                comparison.candidate_times.append(result.seconds)
                against_floor.candidate_times.append(result.seconds)
                plan.baseline_times.append(result.seconds)
                plan.candidate_times.append(planned.seconds)
                case.rss[rows].append(result.maxrss_kib)
                times = revision_times(result)
                if times:
                    case.revisions[rows].append(times)
            finally:
                backend.drop(work)
            work = backend.clone(template, "floor")
            try:
                backend.settle(work)
                parts = floor.measure(backend, work, case.start)
            finally:
                backend.drop(work)
            case.floors[rows].append(parts)
            against_floor.baseline_times.append(parts["total"])
            common.progress(
                f"  run {i + 1}: copy {comparison.baseline_times[-1]:.2f}"
                f" s, upgrade {result.seconds:.2f} s, "
                f"{result.maxrss_kib / 1024:.0f} MiB, --plan "
                f"{planned.seconds:.2f} s, floor {parts['total']:.2f} s")
        # --quick: the instrumented run is exercised from one start only.
        if ctx.analysis and not comparison.timed_out and not (
                ctx.quick and case.start != START_REVISIONS[0]):
            analyse(ctx, case, template, rows)
    finally:
        backend.drop(template)


def analyse(ctx, case, template, rows):
    """One instrumented upgrade in a child process (instrument.py)."""
    backend = case.backend
    common.progress(f"  instrumented run, {backend.name} from {case.start}")
    work = backend.clone(template)
    out = os.path.join(ctx.workdir, f"analysis_{backend.name}_"
                                    f"{case.start}_{rows}.json")
    try:
        backend.settle(work)
        common.run([sys.executable, "-m", "benchmarks.instrument",
                    backend.url(work), work, backend.name, out],
                   timeout=ctx.timeout,
                   cwd=os.path.dirname(os.path.dirname(
                       os.path.abspath(__file__)))).check()
        with open(out) as f:
            case.analysis[rows] = json.load(f)
    except (TimeoutError, RuntimeError) as error:
        common.progress(f"  instrumented run failed: {error}")
    finally:
        backend.drop(work)


def median_revisions(times_list):
    """Median per revision (and of "pre") over the runs of one N."""
    if not times_list:
        return None
    pre = common.median([t["pre"] for t in times_list])
    per = {}
    order = []
    for times in times_list:
        for rev, seconds in times["revisions"]:
            if rev not in per:
                order.append(rev)
            per.setdefault(rev, []).append(seconds)
    return {"pre": pre,
            "revisions": [(rev, common.median(per[rev])) for rev in order]}
