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

"""Target 4: ``version`` (and ``check``) on a big database at head against
the same command on an empty database at head. Both read the schema and
the version, never table data, so the rows should not matter."""

from benchmarks import common, datagen, fresh

GOAL = 1.2


def run(ctx, backend, rows):
    common.progress(f"target 4: {backend.name}, {common.fmt_rows(rows)} "
                    f"rows vs empty")
    solum = common.script("solum-db-manage")
    empty = backend.create("empty")
    big = backend.create("big")
    results = []
    try:
        for name in (empty, big):
            fresh.upgrade_in_process(backend.url(name))
        datagen.fill(backend, big, rows)
        commands = [("version", GOAL)]
        if ctx.has_check:
            commands.append(("check", GOAL))
        for command, goal in commands:
            comparison = common.Comparison(
                target="4 read-only, big db", backend=backend.name,
                case=f"{command} at head", rows=rows,
                baseline=f"{command}, empty database",
                candidate=f"{command}, {common.fmt_rows(rows)} rows",
                goal=goal)

            def one(name, command=command):
                def measure(i):
                    result = common.run(solum + [
                        "--database-connection", backend.url(name),
                        command]).check()
                    if command == "version" and \
                            common.HEAD not in result.stdout:
                        raise RuntimeError(f"unexpected: {result.stdout}")
                    return result.seconds
                return measure

            if not ctx.quick:
                one(empty)(0)  # warm-up, untimed
                one(big)(0)
            comparison.baseline_times, comparison.candidate_times = \
                common.interleave(ctx.repeat, one(empty), one(big))
            results.append(comparison)
        if not ctx.has_check:
            results.append(common.Comparison(
                target="4 read-only, big db", backend=backend.name,
                case="check at head", rows=rows, baseline="-",
                candidate="-", goal=GOAL,
                note="HOOK: no 'check' command in this solum-db-manage; "
                     "readonly.run() measures it once the CLI lists it"))
    finally:
        backend.drop(big)
        backend.drop(empty)
    return results
