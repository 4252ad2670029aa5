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

"""The machine, the versions, the table on stdout and the RST page."""

import datetime
import os
import platform
import subprocess
import sys
from importlib import metadata

from benchmarks import bigdb, common

PACKAGES = ("solum-db-manage", "SQLAlchemy", "alembic", "oslo.config",
            "oslo.log", "PyMySQL", "psycopg", "PyYAML")


def machine():
    info = {"cores": os.cpu_count(), "cpu": "", "memory": "",
            "kernel": f"{platform.system()} {platform.release()}",
            "loadavg_start": " ".join(f"{x:.2f}" for x in os.getloadavg())}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    kib = int(line.split()[1])
                    info["memory"] = f"{kib / 2**20:.1f} GiB (MemTotal " \
                                     f"{kib} kB)"
                    break
    except OSError:
        pass
    return info


def versions():
    result = {"Python": sys.version.split()[0]}
    for package in PACKAGES:
        try:
            result[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            result[package] = "not installed"
    try:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        commit = subprocess.run(
            ["git", "-C", root, "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "--",
             "solum_db_manage"], capture_output=True, text=True).stdout
        if commit:
            result["solum-db-manage"] += (
                f" (git {commit}" + (", with uncommitted changes in "
                                     "solum_db_manage/)" if dirty else ")"))
    except OSError:
        pass
    return result


# -- the table ---------------------------------------------------------------

HEADER = ("Target", "Backend", "Case", "Rows", "Baseline", "Base s",
          "Cand s", "Ratio", "Goal", "Status")


def row_cells(c):
    prefix = ">" if c.timed_out else ""
    ratio = c.ratio
    return (
        c.target, c.backend, c.case, common.fmt_rows(c.rows) or "-",
        c.baseline, common.fmt_seconds(c.baseline_median),
        prefix + common.fmt_seconds(c.candidate_median),
        "-" if ratio != ratio else f"{prefix}{ratio:.2f}x",
        "-" if c.goal is None else f"<= {c.goal}x",
        c.status or "-",
    )


def text_grid(header, rows, indent="  "):
    rows = [header] + [tuple(str(c) for c in row) for row in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]

    def line(cells):
        return indent + "  ".join(c.ljust(w) for c, w in zip(
            cells, widths, strict=True)).rstrip()

    lines = [line(rows[0]), line(["-" * w for w in widths])]
    return "\n".join(lines + [line(row) for row in rows[1:]])


def text_table(comparisons):
    notes = [f"  * {c.backend} {c.case} {common.fmt_rows(c.rows)}: {c.note}"
             for c in comparisons if c.note]
    table = text_grid(HEADER, [row_cells(c) for c in comparisons], "")
    return "\n".join([table] + ([""] + notes if notes else []))


def rst_table(header, rows):
    """An RST simple table."""
    rows = [[str(cell) if str(cell) != "" else "-" for cell in row]
            for row in rows]
    widths = [max([len(header[i])] + [len(r[i]) for r in rows])
              for i in range(len(header))]
    rule = "  ".join("=" * w for w in widths)
    def line(cells):
        return "  ".join(c.ljust(w) for c, w in zip(
            cells, widths, strict=True)).rstrip()

    out = [rule, line(header), rule] + [line(r) for r in rows]
    out.append(rule)
    return "\n".join(out)


def _heading(text, char):
    return f"{text}\n{char * len(text)}\n"


def _ms(seconds):
    return f"{seconds * 1000:.0f} ms"


# -- sections -----------------------------------------------------------------

def importtime_text(reports):
    lines = []
    for report in reports:
        lines.append(
            f"{report['command']}: {report['wall']:.3f} s wall, "
            f"{report['total']:.3f} s importing (median of "
            f"{report['runs']}, python -X importtime), "
            f"{report.get('exit', float('nan')):.3f} s exiting after main()"
            f" returned")
        lines.append("  by package (self time), and the import chain "
                     "that brought it in:")
        for package, seconds, via in report["packages"][:10]:
            lines.append(f"    {_ms(seconds):>7}  {package:<20} {via}")
        lines.append("  top-level imports, cumulative (a function-level "
                     "import shows here): " + ", ".join(
                         f"{m} {_ms(s)}" for m, s in report["roots"][:6]))
        lines.append("  imported by solum_db_manage (cumulative): " +
                     ", ".join(f"{m} {_ms(s)}"
                               for m, s in report["direct"][:6]))
    return "\n".join(lines)


BIGDB_HEADER = ("Backend", "From", "Rows", "Peak RSS MiB", "<= 100 MiB",
                "Size MiB / slope")


def bigdb_rows(cases):
    """Per backend and start: slope, exponent, RSS per N."""
    out = []
    for case in cases:
        slope = case.slope()
        for rows in sorted(case.comparisons):
            rss = case.rss.get(rows) or []
            out.append((
                case.backend.name, case.start, common.fmt_rows(rows),
                f"{max(rss) / 1024:.0f}" if rss else "-",
                "ok" if rss and rows == bigdb.GOAL_ROWS and max(rss) / 1024
                <= bigdb.GOAL_RSS_MIB else (
                    "FAIL" if rss and rows == bigdb.GOAL_ROWS else "-"),
                f"{case.templates[rows]['bytes'] / 2**20:.0f}"
                if rows in case.templates else "-",
            ))
        if slope:
            out.append((case.backend.name, case.start, "slope", "-", "-",
                        f"upgrade {slope['upgrade']:.2f} s/10^5 rows, copy "
                        f"{slope['copy']:.2f} s/10^5 rows"
                        + ("" if slope["exponent"] is None else
                           f", t ~ N^{slope['exponent']:.2f}")))
    return out


def _largest_revisions(case):
    done = [rows for rows in sorted(case.revisions) if case.revisions[rows]]
    if not done:
        return None, None
    rows = done[-1]
    return rows, bigdb.median_revisions(case.revisions[rows])


REVISION_HEADER = ("Revision", "Timed s", "Share", "Instrumented s",
                   "Rebuilt", "ALTERs")

_FINE = {"INSTANT/INPLACE", "no rewrite"}


def _alters(info):
    """The ALTERs of one revision: the heavy ones by name, others counted."""
    heavy, fine = [], {}
    for statement in info.get("all_alters", info.get("statements", [])):
        kind = statement.get("kind")
        if not kind:
            continue
        if kind in _FINE:
            fine[kind] = fine.get(kind, 0) + 1
        else:
            words = statement["sql"].split()
            heavy.append(f"{' '.join(words[2:5])}: {kind}"
                         + (f" ({statement['rowcount']} rows)"
                            if (statement.get("rowcount") or 0) > 0 else ""))
    heavy += [f"{n} {kind}" for kind, n in fine.items()]
    return "; ".join(heavy) or "-"


def revision_table(case):
    """Per-revision medians at the largest N, with the instrumented run."""
    rows, med = _largest_revisions(case)
    if not med:
        return None, None
    analysis = case.analysis.get(rows) or {}
    by_rev = {r["revision"]: r for r in analysis.get("revisions", [])}
    total = med["pre"] + sum(s for _, s in med["revisions"])
    before = analysis.get("before_alembic")
    table = [("(start-up, lock, checks)", f"{med['pre']:.2f}",
              f"{100 * med['pre'] / total:.0f}%",
              "-" if before is None else f"{before:.2f}", "-", "-")]
    last = med["revisions"][-1][0] if med["revisions"] else None
    for rev, seconds in med["revisions"]:
        info = by_rev.get(rev, {})
        table.append((
            rev + (" (+ exit)" if rev == last else ""), f"{seconds:.2f}",
            f"{100 * seconds / total:.0f}%",
            f"{info['seconds']:.2f}" if info else "-",
            ", ".join(info.get("rebuilt_tables", [])) or "-",
            _alters(info)))
    return rows, table


def analysis_text(case):
    if not case.analysis:
        return ""
    rows = max(case.analysis)
    a = case.analysis[rows]
    lines = [f"{case.backend.name} from {case.start}, "
             f"{common.fmt_rows(rows)} rows, one instrumented in-process "
             f"run: total {a['total']:.2f} s; before Alembic's "
             f"command.upgrade (the tool's own work) {a['before_alembic']:.2f}"
             f" s = {100 * a['before_alembic'] / a['total']:.1f}% "
             f"({a['pre_statement_count']} statements, "
             f"{a['pre_statement_seconds']:.2f} s of SQL); Alembic set-up "
             f"{a['alembic_setup']:.2f} s; revisions "
             f"{a['wall_in_revisions']:.2f} s; after {a['after_alembic']:.2f}"
             f" s."]
    if own_work_text(case):
        lines.append(own_work_text(case))
    own = a.get("own_work", {}).get("steps") or []
    if own:
        lines.append("  the tool's own work by step (wall time, sampled "
                     "every 2 ms outside command.upgrade):")
        for step, seconds in own[:8]:
            lines.append(f"    {seconds:7.3f} s  {step}")
    other = a.get("other_engines") or {}
    if other.get("count"):
        lines.append(f"  statements on other engines (the tool's scratch "
                     f"databases): {other['count']}, "
                     f"{other['seconds']:.2f} s of SQL")
    if a["pre_statements"]:
        lines.append("  slowest statements of the tool's own work:")
        for s in a["pre_statements"][:4]:
            lines.append(f"    {s['seconds']:.3f} s  {s['caller']}  "
                         f"{s['sql'][:110]}")
    slow = sorted(((s["seconds"], r["revision"], s) for r in a["revisions"]
                   for s in r["statements"]), key=lambda x: -x[0])[:5]
    if slow:
        lines.append("  slowest statements of the revisions:")
        for seconds, rev, s in slow:
            kind = f" [{s['kind']}]" if s.get("kind") else ""
            lines.append(f"    {seconds:.3f} s  {rev}  rows {s['rowcount']}"
                         f"{kind}  {s['sql'][:110]}")
    return "\n".join(lines)


# -- issue 13: the upgrade against its floor ----------------------------------

FLOOR_HEADER = ("Backend", "From", "Rows", "Upgrade s", "Floor s",
                "Upgrade / floor", "--plan s", "--plan / upgrade",
                "Own work", "Peak RSS MiB", "Targets")


def _fmt_ratio(comparison):
    if comparison is None or comparison.ratio != comparison.ratio:
        return "-"
    return f"{comparison.ratio:.2f}x"


def floor_rows(cases):
    """Per backend, start and N: issue 13's four figures."""
    out = []
    for case in cases:
        sizes = sorted(case.floor_comparisons)
        for rows in sizes:
            against = case.floor_comparisons[rows]
            plan = case.plan_comparisons.get(rows)
            analysis = case.analysis.get(rows) or {}
            share = analysis.get("own_work_share")
            rss = case.rss.get(rows) or []
            first = case.rss.get(sizes[0]) or []
            flat = (max(rss) / max(first) if rss and first else None)
            verdicts = []
            if rows == bigdb.GOAL_ROWS:
                verdicts.append(
                    "floor " + (against.status or "-"))
                if plan is not None:
                    verdicts.append("--plan " + (plan.status or "-"))
                if share is not None:
                    verdicts.append("own work " + (
                        "ok" if share < bigdb.GOAL_OWN_WORK else "FAIL"))
                if flat is not None and len(sizes) > 1:
                    verdicts.append("memory " + (
                        "ok" if flat <= bigdb.GOAL_RSS_FLAT else "FAIL"))
            out.append((
                case.backend.name, case.start, common.fmt_rows(rows),
                common.fmt_seconds(against.candidate_median),
                common.fmt_seconds(against.baseline_median),
                _fmt_ratio(against),
                common.fmt_seconds(plan.candidate_median) if plan else "-",
                _fmt_ratio(plan),
                "-" if share is None else f"{100 * share:.1f}%",
                (f"{max(rss) / 1024:.0f}" if rss else "-") + (
                    f" ({flat:.2f}x of {common.fmt_rows(sizes[0])})"
                    if flat is not None and rows != sizes[0] else ""),
                ", ".join(verdicts) or "(info)"))
    return out


FLOOR_PARTS_HEADER = ("Backend", "From", "Rows", "Part of the floor",
                      "Median s")


def floor_parts_rows(cases):
    """The floor's parts at the largest N of each case, medians."""
    out = []
    for case in cases:
        done = [rows for rows in sorted(case.floors) if case.floors[rows]]
        if not done:
            continue
        rows = done[-1]
        runs = case.floors[rows]
        label = (case.backend.name, case.start, common.fmt_rows(rows))
        for i, (revision, table, _) in enumerate(runs[0]["rebuilds"]):
            out.append((*label, f"rebuild {table} ({revision})",
                        common.fmt_seconds(common.median(
                            [run["rebuilds"][i][2] for run in runs]))))
        out.append((*label, "UPDATE moving the triggers (5583c6e70156)",
                    common.fmt_seconds(common.median(
                        [run["update"] for run in runs]))))
        out.append((*label, "process start (Python, Alembic, SQLAlchemy, "
                    "driver)",
                    common.fmt_seconds(common.median(
                        [run["start"] for run in runs]))))
        out.append((*label, "floor", common.fmt_seconds(common.median(
            [run["total"] for run in runs]))))
    return out


def bounds_lines(cases):
    """Where a target is missed at 10^6 rows: what bounds it, from the
    same run's figures at the smallest N (the part that does not grow
    with the rows) and the instrumented run."""
    lines = []
    for case in cases:
        sizes = sorted(rows for rows, c in case.floor_comparisons.items()
                       if c.candidate_times and c.baseline_times)
        if bigdb.GOAL_ROWS not in sizes:
            continue
        small, big = sizes[0], bigdb.GOAL_ROWS
        at = case.floor_comparisons
        label = f"{case.backend.name} from {case.start}"
        analysis = case.analysis.get(big) or {}
        if at[big].status == "FAIL":
            fixed = at[small].candidate_median - at[small].baseline_median
            above = at[big].candidate_median - at[big].baseline_median
            slow = sorted(((st["seconds"], rev["revision"], st["sql"])
                           for rev in analysis.get("revisions", [])
                           for st in rev["statements"]),
                          key=lambda x: -x[0])[:4]
            lines.append(
                f"* {label}: the upgrade is {at[big].ratio:.2f}x its floor "
                f"({above:.2f} s above it)."
                + (f" At {common.fmt_rows(small)} rows it is {fixed:.2f} s "
                   f"above its floor: that part does not grow with the "
                   f"rows (the interpreter's imports, the lock, the "
                   f"diagnosis, the review and forecast, and the chain's "
                   f"revisions, each committed with the lock renewed); "
                   f"{above - fixed:.2f} s grows with them."
                   if small != big else "")
                + (" The instrumented upgrade's slowest statements: "
                   + "; ".join(f"{rev} ``{' '.join(sql.split()[:6])}`` "
                               f"{seconds:.2f} s"
                               for seconds, rev, sql in slow) + "."
                   if slow else ""))
        plan = case.plan_comparisons
        if big in plan and plan[big].status == "FAIL" and small in plan:
            lines.append(
                f"* {label}: ``--plan`` is {plan[big].ratio:.2f}x the "
                f"upgrade ({plan[big].candidate_median:.2f} s)"
                + (f"; it takes {plan[small].candidate_median:.2f} s at "
                   f"{common.fmt_rows(small)} rows (start-up, diagnosis, "
                   f"reflection: fixed), the rest is its counts (the "
                   f"trigger move's holders, exact row counts below "
                   f"200,000 rows, the rebuilt tables' sizes)"
                   if small != big else "") + ".")
        big_a = case.analysis.get(big) or {}
        small_a = case.analysis.get(small) or {}
        share = big_a.get("own_work_share")
        if share is not None and share >= bigdb.GOAL_OWN_WORK:
            fixed = small_a.get("own_work_seconds")
            lines.append(
                f"* {label}: the tool's own work is {100 * share:.1f}% "
                f"({big_a['own_work_seconds']:.2f} s of "
                f"{big_a['total']:.2f} s)"
                + (f"; at {common.fmt_rows(small)} rows it is "
                   f"{fixed:.2f} s, the part that does not grow with the "
                   f"rows (mostly imports and connections)"
                   if fixed is not None and small != big else "")
                + f"; the counts for the loss warnings take "
                  f"{big_a['in_step_own']['seconds']:.2f} s inside the "
                  f"steps.")
    return lines


def own_work_text(case):
    """The instrumented run's own work at the largest N, in one line."""
    if not case.analysis:
        return ""
    rows = max(case.analysis)
    a = case.analysis[rows]
    if "own_work_seconds" not in a:
        return ""
    in_step = a["in_step_own"]["seconds"]
    return (f"  the tool's own work: {a['own_work_seconds']:.2f} s = "
            f"{100 * a['own_work_share']:.1f}% of {a['total']:.2f} s "
            f"(before command.upgrade {a['before_alembic']:.2f} s, Alembic "
            f"set-up {a['alembic_setup']:.2f} s, counting inside steps for "
            f"the warnings {in_step:.2f} s)")


# -- stdout -------------------------------------------------------------------

def print_all(result):
    print()
    print(text_table(result["comparisons"]))
    if result.get("importtime"):
        print()
        print(importtime_text(result["importtime"]))
    cases = result.get("cases") or []
    if cases:
        print()
        print("Big databases:")
        print(text_grid(BIGDB_HEADER, bigdb_rows(cases)))
        if any(case.floor_comparisons for case in cases):
            print()
            print("Issue 13: the upgrade against its floor:")
            print(text_grid(FLOOR_HEADER, floor_rows(cases)))
            print(text_grid(FLOOR_PARTS_HEADER, floor_parts_rows(cases)))
            for line in bounds_lines(cases):
                print(line)
        for case in cases:
            rows, table = revision_table(case)
            if table:
                print()
                print(f"Per revision, {case.backend.name} from {case.start},"
                      f" {common.fmt_rows(rows)} rows:")
                print(text_grid(REVISION_HEADER, table))
            text = analysis_text(case)
            if text:
                print(text)


# -- RST ----------------------------------------------------------------------

def write_rst(path, result):
    r = result
    m, v = r["machine"], r["versions"]
    out = [_heading("Benchmarks", "="),
           "Figures from ``python -m benchmarks`` (``tox -e bench``), the "
           "suite of issue 5. Every figure is the median of the runs "
           "shown; every ratio is candidate / baseline, both measured in "
           "the same invocation with their runs interleaved (baseline, "
           "candidate, baseline, ...). Lower is better; a goal is met "
           "when the ratio is at or below it.",
           "",
           _heading("How these figures were made", "-"),
           ".. code-block:: console",
           "",
           f"   $ {r['command']}",
           "",
           f"Run on {r['started']}" + (
               f" for {r['duration'] / 60:.0f} minutes." if "duration" in r
               else " (an unfinished run)."),
           "",
           rst_table(("Item", "Value"), [
               ("Cores", f"{m['cores']} ({m['cpu']})"),
               ("Memory", m["memory"]),
               ("Kernel", m["kernel"]),
               ("Load average (1, 5, 15 min)",
                f"{m['loadavg_start']} at the start, "
                f"{m.get('loadavg_end', '-')} at the end"),
           ] + [(k, val) for k, val in v.items()] + [
               (f"{name} server", info["version"])
               for name, info in r["servers"].items()
           ] + [
               (f"{name} settings", ", ".join(
                   f"{k}={val}" for k, val in info["settings"].items()))
               for name, info in r["servers"].items() if info["settings"]
           ] + [(f"{name}", f"not measured: {why}")
                for name, why in r["missing"].items()]),
           "",
           "The machine is shared with other engineers running test suites "
           "against the same MariaDB and PostgreSQL servers; interleaving "
           "spreads that noise over baseline and candidate alike, but "
           "single figures can move by tens of percent between runs.",
           "",
           _heading("Results", "-"),
           rst_table(HEADER, [row_cells(c) for c in r["comparisons"]]),
           ""]
    notes = [c for c in r["comparisons"] if c.note]
    if notes:
        out += [f"* {c.backend}, {c.case}"
                + (f", {common.fmt_rows(c.rows)} rows" if c.rows else "")
                + f": {c.note}" for c in notes] + [""]
    if r.get("errors"):
        out += ["Not measured, or failed:", ""]
        out += [f"* {error}" for error in r["errors"]] + [""]
    out += ["Target 3's goals apply at 10^6 rows; at smaller sizes the "
            "status is ``(info)``. ``>`` marks a run killed at the "
            "time-out: the figure is a lower bound.", ""]
    if r.get("importtime"):
        out += [_heading("Start-up: where the import time goes", "-"),
                "``python -X importtime``, medians; self time summed per "
                "top-level package, then the imports solum_db_manage's "
                "own modules make (cumulative).", ""]
        for report in r["importtime"]:
            out += [f"``{report['command']}``: {report['wall']:.3f} s wall, "
                    f"{report['total']:.3f} s importing, "
                    f"{report.get('exit', float('nan')):.3f} s for the "
                    f"interpreter to exit after ``main()`` returned "
                    f"(module teardown and garbage collection).", "",
                    rst_table(("Package", "Self time",
                               "Brought in by (import chain)"),
                              [(p, _ms(s), via or "-") for p, s, via in
                               report["packages"][:10]]),
                    "",
                    rst_table(("Imported by solum_db_manage", "Cumulative"),
                              [(m, _ms(s)) for m, s in
                               report["direct"][:8]]),
                    ""]
    cases = r.get("cases") or []
    if cases:
        out += [_heading("Big databases", "-"),
                "Rows: plan N/10, assembly N/2 (80% with a trigger and a "
                "trust), component N/5, image N/5, generated by the server. "
                "Peak RSS of the ``upgrade head`` process (``wait4``), the "
                "template database's size, and the least-squares slope of "
                "the medians over N; ``t ~ N^k`` is the growth of the "
                "row-dependent part (the median minus ``upgrade head`` on "
                "an empty database, target 2) between the smallest and "
                "largest N measured: 1 is linear, 2 quadratic.", "",
                rst_table(BIGDB_HEADER, bigdb_rows(cases)), ""]
        if any(case.floor_comparisons for case in cases):
            out += [_heading("The upgrade against its floor (issue 13)",
                             "-"),
                    FLOOR_TEXT, "",
                    rst_table(FLOOR_HEADER, floor_rows(cases)), "",
                    "The floor's parts at the largest N (medians):", "",
                    rst_table(FLOOR_PARTS_HEADER, floor_parts_rows(cases)),
                    ""]
            bounds = bounds_lines(cases)
            if bounds:
                out += ["Where a target is missed, what bounds it "
                        "(measured in the same run):", "", *bounds, ""]
        for case in cases:
            rows, table = revision_table(case)
            if table:
                out += [_heading(f"Per revision: {case.backend.label} from "
                                 f"{case.start}, {common.fmt_rows(rows)} "
                                 f"rows", "~"),
                        "Timed: median seconds between Alembic's ``Running "
                        "upgrade`` lines on the CLI's stderr (the first row "
                        "runs from the process start, the last one to the "
                        "process end). Instrumented: the same step in one "
                        "run with statement hooks. Rebuilt: data tables "
                        "whose physical identity "
                        "changed during the step (InnoDB table id, "
                        "``pg_class.relfilenode``, SQLite root page); "
                        "ALTERs: MariaDB ``COPY`` (rows copied), ``INPLACE "
                        "(rebuild)`` or ``INSTANT/INPLACE`` (no rebuild), "
                        "PostgreSQL rewrite or not; from one instrumented "
                        "run.", "",
                        rst_table(REVISION_HEADER, table), ""]
            text = analysis_text(case)
            if text:
                out += [".. code-block:: text", ""]
                out += ["   " + line for line in text.splitlines()] + [""]
    with open(path, "w") as f:
        f.write("\n".join(out).rstrip() + "\n")


def load(path):
    """A result saved with --json, as the renderers take it."""
    import dataclasses
    import json
    import types

    from benchmarks import backends

    with open(path) as f:
        result = json.load(f)
    fields = {f.name for f in dataclasses.fields(common.Comparison)}

    def comparison(data):
        return common.Comparison(**{k: v for k, v in data.items()
                                    if k in fields})

    def by_rows(mapping):
        return {int(rows): value for rows, value in (mapping or {}).items()}

    result["comparisons"] = [comparison(c) for c in result["comparisons"]]
    fixed = {c.backend: c.candidate_median for c in result["comparisons"]
             if c.case.endswith("shell") and c.candidate_times}
    cases = []
    for data in result.get("cases") or []:
        backend = types.SimpleNamespace(
            name=data["backend"],
            label=backends.BACKENDS[data["backend"]].label)
        case = bigdb.Case(backend, data["start"],
                          fixed.get(data["backend"], 0.0))
        case.comparisons = {rows: comparison(c) for rows, c in
                            by_rows(data["comparisons"]).items()}
        case.rss = by_rows(data["rss_kib"])
        case.revisions = by_rows(data["revisions"])
        case.templates = by_rows(data["templates"])
        case.analysis = by_rows(data["analysis"])
        case.timed_out = by_rows(data.get("timed_out"))
        case.skipped = by_rows(data.get("skipped"))
        case.floor_comparisons = {
            rows: comparison(c) for rows, c in
            by_rows(data.get("floor_comparisons")).items()}
        case.plan_comparisons = {
            rows: comparison(c) for rows, c in
            by_rows(data.get("plan_comparisons")).items()}
        case.floors = by_rows(data.get("floors"))
        case.plan_rss = by_rows(data.get("plan_rss_kib"))
        cases.append(case)
    result["cases"] = cases
    return result


FLOOR_TEXT = (
    "Measured in the same run on clones of the same template databases "
    "as the upgrade (target 3). The floor is the work the chain forces on "
    "the backend, defined without the plan (``benchmarks/floor.py``): each "
    "table rebuild the backend needs for the chain's type changes, that "
    "statement or copy alone (MariaDB: ``ALTER TABLE image MODIFY "
    "base_image_id VARCHAR(100)`` and, from Icehouse, ``ALTER TABLE plan "
    "MODIFY raw_content TEXT``; SQLite: each table its batch mode "
    "rebuilds, as create, copy, drop, rename; PostgreSQL: none), the "
    "UPDATE that moves the trigger values (5583c6e70156's statement, "
    "alone), and process start (a Python process that loads Alembic's "
    "command and runtime, SQLAlchemy and the driver, as any Alembic run "
    "does, and nothing of this tool), summed per "
    "repetition. ``--plan``: ``upgrade --plan head`` on the same database "
    "just before the upgrade. Own work: one instrumented upgrade "
    "(``benchmarks/instrument.py``): the time before Alembic's "
    "``command.upgrade`` (configuration, lock, diagnosis, data-loss "
    "review, the forecast of failures), Alembic's set-up, and the counts "
    "a step makes for the run's loss warning, against the whole run. "
    "Peak RSS: of the upgrade, with its growth since the smallest N. "
    "Targets at 10^6 rows: upgrade <= 1.25x floor, --plan <= 0.3x "
    "upgrade, own work < 10%, peak RSS flat (<= 1.10x).")


def now():
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
