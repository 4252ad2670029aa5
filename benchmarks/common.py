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

"""What every benchmark shares: running and timing, interleaving, results."""

import dataclasses
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HEAD = "a271b35952be"


def script(name):
    """The console script ``name`` of the running environment.

    Benchmarks run the commands as an operator does: the installed
    console scripts of this virtualenv (solum-db-manage, alembic).
    """
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    if os.path.exists(candidate):
        return [candidate]
    found = shutil.which(name)
    if found:
        return [found]
    module = {"solum-db-manage": "solum_db_manage"}.get(name, name)
    return [sys.executable, "-m", module]


def child_env():
    """The environment for the commands: no connection from outside."""
    env = dict(os.environ)
    env.pop("OS_DATABASE__CONNECTION", None)
    return env


@dataclasses.dataclass
class Run:
    """One finished child process."""

    argv: list
    seconds: float
    returncode: int
    stdout: str
    stderr: str
    maxrss_kib: int
    started: float  # time.time() when started
    ended: float

    def check(self):
        if self.returncode != 0:
            raise RuntimeError(
                f"{' '.join(self.argv)} exited {self.returncode}:\n"
                f"{self.stderr[-3000:]}")
        return self


def run(argv, timeout=None, cwd=None, env=None):
    """Run a command, measuring wall time and the child's peak RSS.

    The peak RSS comes from wait4(), i.e. getrusage() of that one child.
    """
    with tempfile.TemporaryFile("w+") as out, \
            tempfile.TemporaryFile("w+") as err:
        started = time.time()
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=cwd,
                                env=env or child_env())
        deadline = None if timeout is None else t0 + timeout
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                proc.returncode = -9
                err.seek(0)
                error = TimeoutError(
                    f"{' '.join(argv)} took longer than {timeout} s")
                error.stderr = err.read()
                raise error
            time.sleep(0.002)
        seconds = time.perf_counter() - t0
        ended = time.time()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(list(argv), seconds, proc.returncode, out.read(),
                   err.read(), rusage.ru_maxrss, started, ended)


def timed(fn, *args, **kwargs):
    """(seconds, result) of one call."""
    t0 = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - t0, result


def median(values):
    return statistics.median(values) if values else float("nan")


def least_squares(xs, ys):
    """Slope and intercept of the least-squares line through (xs, ys)."""
    n = len(xs)
    if n < 2:
        return float("nan"), float("nan")
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if not sxx:
        return float("nan"), float("nan")
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return slope, my - slope * mx


@dataclasses.dataclass
class Comparison:
    """A candidate against its baseline, both measured in this run."""

    target: str
    backend: str
    case: str
    baseline: str
    candidate: str
    rows: int | None = None
    goal: float | None = None
    goal_note: str = ""
    baseline_times: list = dataclasses.field(default_factory=list)
    candidate_times: list = dataclasses.field(default_factory=list)
    note: str = ""
    # Only judged where the issue sets the goal (e.g. at 10^6 rows).
    judged: bool = True
    # The candidate was killed: its time (and the ratio) is a lower bound.
    timed_out: bool = False
    # Not run at all (e.g. predicted to exceed the time-out).
    not_run: bool = False

    @property
    def baseline_median(self):
        return median(self.baseline_times)

    @property
    def candidate_median(self):
        return median(self.candidate_times)

    @property
    def ratio(self):
        if not self.baseline_times or not self.candidate_times:
            return float("nan")
        return self.candidate_median / self.baseline_median

    @property
    def status(self):
        if self.not_run:
            return "not run"
        if self.goal is None or self.ratio != self.ratio:
            return ""
        if not self.judged:
            return "(info)"
        if self.timed_out:
            return "FAIL"
        return "ok" if self.ratio <= self.goal else "FAIL"

    def to_dict(self):
        data = dataclasses.asdict(self)
        data.update(ratio=self.ratio, status=self.status)
        return data


def interleave(repeat, baseline, candidate, before=None):
    """Call baseline(), candidate(), baseline(), ... ``repeat`` times each.

    Each callable returns the seconds it measured. ``before(i)``, if
    given, prepares repetition ``i`` untimed. Returns both lists.
    """
    base, cand = [], []
    for i in range(repeat):
        if before is not None:
            before(i)
        base.append(baseline(i))
        cand.append(candidate(i))
    return base, cand


def fmt_seconds(value):
    if value != value:
        return "-"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def fmt_rows(rows):
    if rows is None:
        return ""
    exponent = len(str(rows)) - 1
    if rows == 10 ** exponent and exponent >= 3:
        return f"10^{exponent}"
    return str(rows)


def progress(message):
    """Progress goes to stderr, the results table to stdout."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr,
          flush=True)
