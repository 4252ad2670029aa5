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

"""Regenerate chain_data.py, the chain of the migration scripts as data.

After adding or changing a revision::

    python -m solum_db_manage.chain --write   # rewrites chain_data.py
    python -m solum_db_manage.chain           # exit 1 if it is stale

The scripts are walked with Alembic on an in-memory SQLite database
(scripts.walk_chain); what each revision leaves is written as data, so
that ``version``, ``check`` and the guards of ``upgrade`` need neither
Alembic nor the scripts (loading and walking them costs ~0.3 s a process).
tests/test_chain_data.py fails while chain_data.py is stale; until it is
regenerated, scripts.current_chain() notices a script added, removed or
renamed and walks the scripts instead, with a warning.
"""

from solum_db_manage import chain_data, scripts

_GENERATED_START = "# --- generated: do not edit by hand"
_GENERATED_END = "# --- end of the generated part"


def render(head, walked, names):
    """The generated part of chain_data.py for a walk."""
    lines = [_GENERATED_START + " " + "-" * (78 - len(_GENERATED_START)),
             "", f"HEAD = {_literal(head)}", "",
             "# The scripts this was generated from (versions/*.py).",
             "SCRIPTS = ("]
    lines += _wrapped(sorted(names), " " * 4, end=")")
    lines += ["",
              "# Root first: (revision, down_revision, {table: its column "
              "names after the",
              "# revision}), for each table the revision creates or "
              "changes; None for a",
              "# table it drops.",
              "CHAIN = ("]
    before = {}
    for revision, down_revision, tables in walked:
        changed = [table for table in sorted(set(before) | set(tables))
                   if before.get(table) != tables.get(table)]
        opening = f"    ({_literal(revision)}, {_literal(down_revision)}, {{"
        if not changed:
            lines.append(opening + "}),")
        else:
            lines.append(opening)
            for table in changed:
                if table not in tables:
                    lines.append(f"        {_literal(table)}: None,")
                else:
                    lines.append(f"        {_literal(table)}: (")
                    lines += _wrapped(sorted(tables[table]), " " * 12)
            lines.append("    }),")
        before = tables
    lines += [")", "",
              _GENERATED_END + " " + "-" * (78 - len(_GENERATED_END))]
    return "\n".join(lines) + "\n"


def _literal(value):
    """A name as this project quotes it (revision ids, table, column and
    file names are ASCII, for which JSON's quoting is Python's)."""
    import json

    return "None" if value is None else json.dumps(value)


def _wrapped(names, indent, end="),"):
    lines, line = [], indent
    for at, name in enumerate(names):
        item = _literal(name) + ("," if at + 1 < len(names) else end)
        if line != indent and len(line) + 1 + len(item) > 79:
            lines.append(line)
            line = indent
        line += ("" if line == indent else " ") + item
    lines.append(line)
    return lines


def regenerated(text):
    """``text`` (chain_data.py's) with its generated part made from the
    scripts."""
    start = text.index(_GENERATED_START)
    end = text.index("\n", text.index(_GENERATED_END)) + 1
    return (text[:start] + render(*scripts.walk_chain(),
                                  scripts.script_names()) + text[end:])


def main(argv=None):
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m solum_db_manage.chain",
        description="Check (or with --write, regenerate) "
                    "solum_db_manage/chain_data.py from the migration "
                    "scripts.")
    parser.add_argument("--write", action="store_true",
                        help="Rewrite chain_data.py instead of checking it.")
    args = parser.parse_args(argv)
    path = chain_data.__file__
    with open(path, encoding="utf-8") as source:
        text = source.read()
    fresh = regenerated(text)
    if args.write:
        if fresh != text:
            with open(path, "w", encoding="utf-8") as target:
                target.write(fresh)
            print(f"{path} regenerated")
        else:
            print(f"{path} is up to date")
        return 0
    if fresh != text:
        sys.stderr.write(f"{path} is stale: run 'python -m "
                         f"solum_db_manage.chain --write'\n")
        return 1
    print(f"{path} is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
