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

"""Target 1, start-up: ``-h`` and ``version`` against the plain Alembic CLI,
and which imports the time goes to (``python -X importtime``)."""

import collections
import re
import sys

from benchmarks import common

GOAL_HELP = 0.4
GOAL_VERSION = 0.8

_IMPORTTIME = re.compile(
    r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S.*)$")


def has_check_command():
    """Whether this solum-db-manage has ``check`` (operator-safety issue)."""
    result = common.run(common.script("solum-db-manage") + ["-h"])
    return re.search(r"^\s+check\s", result.stdout, re.MULTILINE) is not None


def run_comparisons(ctx, plain):
    """The start-up comparisons on a SQLite database at head."""
    sqlite = ctx.sqlite
    database = sqlite.create("startup")
    url = sqlite.url(database)
    solum = common.script("solum-db-manage")
    common.run(solum + ["--database-connection", url, "upgrade",
                        "head"]).check()
    cases = [
        ("-h", "alembic --help", plain_argv(["--help"]),
         "solum-db-manage -h", solum + ["-h"], GOAL_HELP),
        ("version, SQLite at head", "alembic current",
         plain.argv(url, "current"), "solum-db-manage version",
         solum + ["--database-connection", url, "version"], GOAL_VERSION),
    ]
    if ctx.has_check:
        cases.append(
            ("check, SQLite at head (no goal)", "alembic current",
             plain.argv(url, "current"), "solum-db-manage check",
             solum + ["--database-connection", url, "check"], None))
    # Both sides print the head revision: they read the same chain.
    for argv in (cases[1][2], cases[1][4]):
        out = common.run(argv).check()
        if common.HEAD not in out.stdout:
            raise RuntimeError(f"{argv} did not print {common.HEAD}: "
                               f"{out.stdout!r}")
    results = []
    for case, base_name, base_argv, cand_name, cand_argv, goal in cases:
        common.progress(f"target 1: {case}")
        comparison = common.Comparison(
            target="1 start-up", backend="sqlite" if "SQLite" in case
            else "-", case=case, baseline=base_name, candidate=cand_name,
            goal=goal)
        if not ctx.quick:
            # One untimed run each: .pyc files and the page cache are warm.
            common.run(base_argv).check()
            common.run(cand_argv).check()
        comparison.baseline_times, comparison.candidate_times = \
            common.interleave(
                ctx.repeat,
                lambda i, argv=base_argv: common.run(argv).check().seconds,
                lambda i, argv=cand_argv: common.run(argv).check().seconds)
        results.append(comparison)
    sqlite.drop(database)
    return results


def plain_argv(args):
    return common.script("alembic") + list(args)


# -- python -X importtime ----------------------------------------------------

def parse_importtime(stderr):
    """[(self_us, cumulative_us, depth, module, parent)] in print order.

    Python prints a module after everything it imported (post-order),
    each nesting level indented by two more spaces.
    """
    entries = []
    pending = collections.defaultdict(list)  # depth -> indexes
    for line in stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if not match or match.group(4) == "imported package":
            continue
        depth = (len(match.group(3)) - 1) // 2
        index = len(entries)
        entries.append([int(match.group(1)), int(match.group(2)), depth,
                        match.group(4).strip(), None])
        for child in pending.pop(depth + 1, []):
            entries[child][4] = index
        pending[depth].append(index)
    return [tuple(entry) for entry in entries]


def _importers(entries, known):
    """{package: "a > b > c"}: the import chain that first brought in
    each package (its heaviest entry), from the top-level import down."""
    result = {}
    best = {}
    for index, (_self, cumulative, _depth, module, parent) in \
            enumerate(entries):
        package = module.split(".")[0]
        if package in known:
            continue
        if parent is not None and \
                entries[parent][3].split(".")[0] == package:
            continue  # inside the package: not where it came in
        if cumulative > best.get(package, (-1,))[0]:
            best[package] = (cumulative, index)
    for package, (_cumulative, index) in best.items():
        chain = []
        parent = entries[index][4]
        while parent is not None:
            chain.append(entries[parent][3])
            parent = entries[parent][4]
        chain.reverse()
        if len(chain) > 4:
            chain = chain[:2] + ["..."] + chain[-2:]
        result[package] = " > ".join(chain) or "(top level)"
    return result


def importtime(ctx, label, args, runs):
    """Where ``solum-db-manage ARGS`` spends its import time.

    Returns the medians over ``runs`` runs: total, per top-level package
    (self time), the top-level imports (cumulative) and the heavy
    imports made directly by solum_db_manage's modules.
    """
    argv = common.script("solum-db-manage")
    if argv[0] != sys.executable:
        argv = [sys.executable] + argv
    argv = [argv[0], "-X", "importtime"] + argv[1:] + list(args)
    via = {}
    per_package = collections.defaultdict(list)
    roots = collections.defaultdict(list)
    direct = collections.defaultdict(list)
    totals, walls = [], []
    for _ in range(runs):
        result = common.run(argv).check()
        entries = parse_importtime(result.stderr)
        walls.append(result.seconds)
        totals.append(sum(e[0] for e in entries) / 1e6)
        packages = collections.Counter()
        for self_us, cumulative, depth, module, parent in entries:
            packages[module.split(".")[0]] += self_us
            if depth == 0:
                roots[module].append(cumulative / 1e6)
            if parent is not None and entries[parent][3].startswith(
                    "solum_db_manage") and not module.startswith(
                    "solum_db_manage"):
                direct[(entries[parent][3], module)].append(
                    cumulative / 1e6)
        for package, self_us in packages.items():
            per_package[package].append(self_us / 1e6)
        via.update(_importers(entries, via))
    # A package missing from a run counts as 0 there.
    def med(values):
        return common.median(values + [0.0] * (runs - len(values)))

    return {
        "command": "solum-db-manage " + " ".join(
            "URL" if a.startswith(("sqlite:", "mysql", "postgresql"))
            else a for a in args),
        "label": label,
        "runs": runs,
        "wall": common.median(walls),
        "total": common.median(totals),
        "packages": sorted(((p, med(v), via.get(p, ""))
                            for p, v in per_package.items()),
                           key=lambda item: -item[1])[:12],
        "roots": sorted(((m, med(v)) for m, v in roots.items()),
                        key=lambda item: -item[1])[:10],
        "direct": sorted(((f"{parent} -> {module}", med(v))
                          for (parent, module), v in direct.items()),
                         key=lambda item: -item[1])[:10],
    }


_EXIT_PROBE = """\
import sys, time
from solum_db_manage.cli import main
status = main()  # the process's own argv, as the console script runs it
sys.stdout.flush()
sys.stderr.write("BENCH_MAIN_RETURNED %.6f\\n" % time.time())
sys.stderr.flush()
sys.exit(status)
"""


def exit_cost(args, runs):
    """Median seconds from main() returning to the process being gone:
    the interpreter's finalisation (module teardown, garbage)."""
    costs = []
    for _ in range(runs):
        result = common.run([sys.executable, "-c", _EXIT_PROBE, *args])
        if result.returncode not in (0, None):
            result.check()
        returned = [float(line.split()[1])
                    for line in result.stderr.splitlines()
                    if line.startswith("BENCH_MAIN_RETURNED")]
        if returned:
            costs.append(result.ended - returned[-1])
    return common.median(costs)


def run_importtime(ctx):
    sqlite = ctx.sqlite
    database = sqlite.create("importtime")
    url = sqlite.url(database)
    common.run(common.script("solum-db-manage") + [
        "--database-connection", url, "upgrade", "head"]).check()
    runs = 1 if ctx.quick else 3
    common.progress("target 1: python -X importtime")
    reports = []
    for label, args in (("-h", ["-h"]),
                        ("version", ["--database-connection", url,
                                     "version"])):
        report = importtime(ctx, label, args, runs)
        report["exit"] = exit_cost(args, runs)
        reports.append(report)
    sqlite.drop(database)
    return reports
