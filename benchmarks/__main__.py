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

"""python -m benchmarks [--quick] [--rows ...] [--backends ...] [--repeat N]
[--write doc/source/benchmarks.rst]"""

import argparse
import json
import os
import secrets
import shlex
import shutil
import signal
import sys
import tempfile
import time
import types

from benchmarks import (
    backends,
    bigdb,
    common,
    fresh,
    plain_alembic,
    readonly,
    report,
    startup,
)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmarks of solum-db-manage (issue 5): start-up, "
                    "fresh install, big databases, read-only commands on "
                    "big databases. Prints a table; --write publishes it.")
    parser.add_argument(
        "--quick", action="store_true",
        help="Smoke mode for CI: every benchmark at 1,000 rows, one run "
             "each, no warm-up; the figures mean nothing, the point is "
             "that every benchmark still runs.")
    parser.add_argument(
        "--rows", default=None,
        help="Comma-separated database sizes for target 3 (default: "
             "10000,100000,1000000; --quick: 1000). Target 4 uses the "
             "largest.")
    parser.add_argument(
        "--backends", default="sqlite,mysql,postgresql",
        help="Comma-separated backends (default: %(default)s). A server "
             "that does not answer is skipped with the reason.")
    parser.add_argument(
        "--repeat", type=int, default=None,
        help="Runs per figure, interleaved with the baseline's (default: "
             "5; --quick: 1).")
    parser.add_argument(
        "--targets", default="1,2,3,4",
        help="Which targets of issue 5 to run (default: %(default)s).")
    parser.add_argument(
        "--start-revisions", default=",".join(bigdb.START_REVISIONS),
        help="Start revisions for target 3 (default: %(default)s).")
    parser.add_argument(
        "--timeout", type=float, default=None,
        help="Seconds after which one upgrade of target 3 is killed and "
             "reported as a lower bound; larger sizes of that case are "
             "then skipped (default: 1800; --quick: 60).")
    parser.add_argument(
        "--no-analysis", dest="analysis", action="store_false",
        help="Skip the instrumented upgrade (per-statement times, rebuilt "
             "tables) of target 3.")
    parser.add_argument(
        "--write", metavar="RST",
        help="Write the results as an RST page, e.g. "
             "doc/source/benchmarks.rst.")
    parser.add_argument(
        "--render-json", metavar="FILE",
        help="Measure nothing: print (and --write) the figures a "
             "previous run saved with --json; the page names the command "
             "that measured them.")
    parser.add_argument(
        "--json", metavar="FILE",
        help="Also write the raw figures as JSON (rewritten after each "
             "target, so a long run keeps what it measured).")
    args = parser.parse_args(argv)
    args.rows = [int(r) for r in (args.rows or (
        "1000" if args.quick else "10000,100000,1000000")).split(",")]
    args.repeat = args.repeat or (1 if args.quick else 5)
    args.timeout = args.timeout or (60 if args.quick else 1800)
    args.backends = [b.strip() for b in args.backends.split(",") if b]
    unknown = set(args.backends) - set(backends.BACKENDS)
    if unknown:
        parser.error(f"unknown backends: {', '.join(sorted(unknown))}")
    args.targets = {t.strip() for t in args.targets.split(",")}
    args.start_revisions = args.start_revisions.split(",")
    return args


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.render_json:
        result = report.load(args.render_json)
        report.print_all(result)
        if args.write:
            report.write_rst(args.write, result)
            common.progress(f"wrote {args.write}")
        return 0
    # SIGTERM too drops the databases made so far.
    signal.signal(signal.SIGTERM, _interrupt)
    if args.repeat < 5 and not args.quick:
        common.progress(f"note: --repeat {args.repeat}: issue 5 asks for "
                        f"medians of at least 5 runs")
    started = time.time()
    run_id = secrets.token_hex(3)
    workdir = tempfile.mkdtemp(prefix=f"solum_bench_{run_id}_")
    ready, missing = backends.make(args.backends, run_id, workdir)
    for name, reason in missing.items():
        common.progress(f"skipping {name}: {reason}")
    sqlite = next((b for b in ready if b.name == "sqlite"), None) or \
        backends.SQLite(run_id, workdir)
    ctx = types.SimpleNamespace(
        quick=args.quick, repeat=args.repeat, rows=sorted(args.rows),
        timeout=args.timeout, analysis=args.analysis, workdir=workdir,
        sqlite=sqlite, has_check=startup.has_check_command())
    result = {
        "command": "python -m benchmarks" + (
            " " + shlex.join(argv) if argv else ""),
        "started": report.now(),
        "machine": report.machine(),
        "versions": report.versions(),
        "servers": {b.label: {"version": b.server_version(),
                              "settings": b.settings()} for b in ready},
        "missing": missing,
        "comparisons": [],
        "importtime": None,
        "cases": [],
        "has_check": ctx.has_check,
        "errors": [],
    }
    plain = plain_alembic.PlainAlembic(workdir)

    def save():
        if args.json:
            dump = dict(result)
            dump["comparisons"] = [c.to_dict() for c in result["comparisons"]]
            dump["cases"] = [c.to_dict() for c in result["cases"]]
            with open(args.json, "w") as f:
                json.dump(dump, f, indent=1, default=str)

    def attempt(target, backend, case, fn, *fn_args):
        """Run one benchmark; a failure is reported, the others go on."""
        try:
            return fn(*fn_args)
        except Exception as error:
            common.progress(f"FAILED: {target} {backend} {case}: "
                            f"{type(error).__name__}: {error}")
            result["errors"].append(f"{target}, {backend}, {case}: "
                                    f"{type(error).__name__}: "
                                    f"{str(error)[:500]}")
            return None

    fixed = {}  # backend -> seconds of upgrade head on an empty database
    interrupted = False
    try:
        if "1" in args.targets:
            result["comparisons"] += attempt(
                "1", "sqlite", "start-up", startup.run_comparisons, ctx,
                plain) or []
            result["importtime"] = attempt(
                "1", "sqlite", "importtime", startup.run_importtime, ctx)
            save()
        if "2" in args.targets:
            for backend in ready:
                for fn, label in ((fresh.in_process, "in-process"),
                                  (fresh.shell, "shell")):
                    extra = (plain,) if fn is fresh.shell else ()
                    comparison = attempt("2", backend.name, label, fn, ctx,
                                         backend, *extra)
                    if comparison:
                        result["comparisons"].append(comparison)
                        if fn is fresh.shell:
                            fixed[backend.name] = comparison.candidate_median
                save()
        if "3" in args.targets:
            for backend in ready:
                for start in args.start_revisions:
                    case = bigdb.Case(backend, start,
                                      fixed.get(backend.name, 0.0))
                    result["cases"].append(case)
                    for rows in ctx.rows:
                        if case.timed_out:
                            common.progress(
                                f"target 3: skipping {backend.name} from "
                                f"{start} at {common.fmt_rows(rows)}: a "
                                f"smaller size timed out")
                            result["errors"].append(
                                f"3, {backend.name}, from {start}, "
                                f"{common.fmt_rows(rows)}: not run, a "
                                f"smaller size timed out")
                            continue
                        predicted, exponent = case.predict(rows)
                        if predicted is not None and predicted > ctx.timeout:
                            note = (f"not run: one upgrade would take about "
                                    f"{predicted:.0f} s (the row-dependent "
                                    f"part growing as N^{exponent:.1f} "
                                    f"between the smaller sizes), more than "
                                    f"--timeout {ctx.timeout:.0f}")
                            common.progress(f"target 3: {backend.name} from "
                                            f"{start} at "
                                            f"{common.fmt_rows(rows)}: {note}")
                            case.skipped[rows] = {"predicted": predicted,
                                                  "exponent": exponent}
                            result["comparisons"].append(common.Comparison(
                                target="3 big database",
                                backend=backend.name,
                                case=f"upgrade head from {start}", rows=rows,
                                baseline="copy the 4 tables once",
                                candidate="solum-db-manage upgrade head",
                                goal=bigdb.GOALS[backend.name],
                                not_run=True, note=note))
                            result["errors"].append(
                                f"3, {backend.name}, from {start}, "
                                f"{common.fmt_rows(rows)}: {note}")
                            continue
                        attempt("3", backend.name,
                                f"from {start} {common.fmt_rows(rows)}",
                                bigdb.measure, ctx, case, rows)
                        if rows in case.comparisons:
                            result["comparisons"].append(
                                case.comparisons[rows])
                        result["comparisons"] += case.extra_comparisons(rows)
                        save()
        if "4" in args.targets:
            for backend in ready:
                result["comparisons"] += attempt(
                    "4", backend.name, "read-only", readonly.run, ctx,
                    backend, max(ctx.rows)) or []
                save()
    except KeyboardInterrupt:
        interrupted = True
        common.progress("interrupted: reporting what was measured")
    finally:
        for backend in ready + ([] if sqlite in ready else [sqlite]):
            backend.drop_all()
            for name in backend.created:
                common.progress(f"could not drop {backend.name} database "
                                f"{name}: drop it by hand")
        shutil.rmtree(workdir, ignore_errors=True)
    result["machine"]["loadavg_end"] = " ".join(
        f"{x:.2f}" for x in os.getloadavg())
    result["duration"] = time.time() - started
    save()
    report.print_all(result)
    for error in result["errors"]:
        print(f"ERROR: {error}")
    if args.write and not interrupted:
        report.write_rst(args.write, result)
        common.progress(f"wrote {args.write}")
    if interrupted:
        return 130
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
