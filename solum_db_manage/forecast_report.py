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

"""``--plan`` as the operator reads it: lines, or one JSON object.

The JSON layout (``format`` 1, README "upgrade --plan"): ``command``,
``from`` (the revisions recorded), ``to``, ``server`` {``name``,
``version``, ``covered``, ``galera``}, ``state`` (check's), ``steps``
[{``revision``, ``release``, ``title``, ``direction``, ``operations``
[{``text``, ``table``, ``rewrite``, ``algorithm``, ``lock``}],
``tables`` [{``name``, ``rows``, ``rows_estimated``, ``bytes``,
``rewrite``, ``algorithm``, ``lock``, ``waits``, ``scan``,
``stalls_cluster``, ``note``, ``created``}], ``losses`` [{``what``, ``rows``,
``text``}], ``failures`` [{``kind``, ``table``, ``what``, ``count``,
``keys``, ``fix``}]}], ``losses_need`` (the flag, or null), ``disk``
{``needed_bytes``, ``free_bytes``}, ``summary`` {``tables_rewritten``,
``rows_rewritten``, ``values_lost``, ``failures``}, ``unmeasured``,
``complete`` (false where something could not be measured: the figures
are then lower bounds), ``asked`` (the revision as given; ``to`` is the
revision the walk reaches),
``notes``. A key may be added within a format.
"""

from solum_db_manage import forecast as forecasting


def _size(count):
    if count is None:
        return "unknown"
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if count < 1024 or unit == "TiB":
            return (f"{count:.0f} {unit}" if unit == "bytes"
                    else f"{count:.1f} {unit}")
        count /= 1024
    return None


def _count(number, noun):
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _rows(effect):
    if effect.created:
        return "new"
    if effect.rows is None:
        return "rows not counted"
    about = "" if effect.rows_exact else "~"
    return about + _count(effect.rows, "row") + (
        "" if effect.rows_exact else " (estimate)")


def _way(way):
    if way.algorithm is None and way.lock == "metadata lock":
        return ""
    parts = []
    if way.algorithm:
        parts.append(way.algorithm)
    if way.rewrite:
        parts.append("rewrites the table")
    elif way.scan:
        parts.append("reads every row")
    if way.lock:
        parts.append(f"lock {way.lock} ({way.waits})")
    if way.stalls_cluster:
        parts.append("writes wait on every Galera node while it runs")
    if way.note:
        parts.append(way.note)
    return ", ".join(parts)


def lines(found, header, notes=(), made=True):
    """The plan as text lines; ``made``: False where the run would be
    refused or would first complete an interrupted run (``notes`` say
    which): then no plan follows the header."""
    out = [header]
    server = found.server
    if not server.covered():
        out.append(f"  {server.name} {server.version_text}: the way each "
                   f"change is carried out is unknown for this version.")
    for step in found.steps:
        release = f" ({step.release})" if step.release else ""
        out.append(f"{step.direction} {step.revision or '(no revision)'}"
                   f"{release}: "
                   f"{step.title.splitlines()[0] if step.title else ''}")
        for op, way in step.operations:
            described = _way(way)
            out.append(f"  - {op.words()}"
                       + (f": {described}" if described else ""))
        for effect in step.tables.values():
            out.append(f"  table {effect.name}: {_rows(effect)}"
                       + (", rewritten" if effect.way.rewrite
                          and not effect.created else ""))
        for loss in step.losses:
            out.append(f"  loses: {loss}")
        for failure in step.failures:
            out.append(f"  FAILS: {failure}")
    if not made:
        return out + list(notes) + [
            "Summary: no plan made; the run would not start from here."]
    if not found.steps:
        out.append("  No revision to run.")
    summary = found.summary()
    needed = found.needed_bytes()
    if summary["tables_rewritten"]:
        out.append(f"Disk: the largest rebuild needs about {_size(needed)}; "
                   f"free: {_size(found.free_bytes)}"
                   + ("" if found.free_bytes is not None else
                      " (the server does not report it)") + ".")
    if found.flag and summary["values_lost"]:
        out.append(f"Losses: the run needs {found.flag} to lose them.")
    out += list(notes)
    out += [f"Not measured: {what}" for what in found.unmeasured]
    if found.unmeasured:
        out.append("Not everything could be measured (above): the figures "
                   "below are lower bounds.")
    out.append(
        f"Summary: {_count(summary['tables_rewritten'], 'table')} "
        f"rewritten ({_count(summary['rows_rewritten'], 'row')}), "
        f"{_count(summary['values_lost'], 'value')} lost, "
        f"{_count(summary['failures'], 'failure')} predicted.")
    return out


def as_dict(found, command, recorded, target, state, notes=()):
    server = found.server
    return {
        "format": forecasting.JSON_FORMAT,
        "command": command,
        "from": list(recorded),
        "to": target,
        "state": state,
        "server": {"name": server.name, "version": server.version_text,
                   "covered": server.covered(), "galera": server.galera},
        "steps": [{
            "revision": step.revision,
            "release": step.release,
            "title": step.title.splitlines()[0] if step.title else "",
            "direction": step.direction,
            "operations": [{"text": op.words(), "table": op.table,
                            "rewrite": way.rewrite,
                            "algorithm": way.algorithm, "lock": way.lock}
                           for op, way in step.operations],
            "tables": [dict(effect.as_dict(), created=effect.created)
                       for effect in step.tables.values()],
            "losses": [{"what": loss.declaration.what, "rows": loss.rows,
                        "text": str(loss)} for loss in step.losses],
            "failures": [failure.as_dict() for failure in step.failures],
        } for step in found.steps],
        "losses_need": found.flag,
        "disk": {"needed_bytes": found.needed_bytes(),
                 "free_bytes": found.free_bytes},
        "summary": found.summary(),
        "unmeasured": list(found.unmeasured),
        # False where something could not be measured: the figures are
        # then lower bounds.
        "complete": not found.unmeasured,
        "notes": list(notes),
    }
