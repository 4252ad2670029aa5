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

"""The states a database can be in, and the Diagnosis that reports one.

``check`` prints a :class:`Diagnosis`; ``version`` and ``upgrade`` reuse
it for their messages and guards. diagnose.py finds which applies.
"""

from solum_db_manage import errors, releases

# Exit status and name of each state, in the order check ranks them:
# the first state found that applies is the one reported.
CURRENT = (errors.EXIT_OK, "current")
BEHIND = (errors.EXIT_BEHIND, "behind")
EMPTY = (errors.EXIT_BEHIND, "empty")
NEWER = (errors.EXIT_NEWER, "newer")
UNTRACKED = (errors.EXIT_UNTRACKED, "untracked")
MISMATCH = (errors.EXIT_MISMATCH, "mismatch")
CORRUPT = (errors.EXIT_MISMATCH, "corrupt")   # alembic_version unreadable
# A revision's schema in the original Solum's form (forms.py).
ORIGINAL = (errors.EXIT_BEHIND, "original")
LOCKED = (errors.EXIT_LOCKED, "locked")
INTERRUPTED = (errors.EXIT_LOCKED, "interrupted")

# The version of the layout of ``check --json`` (README, the man page). A
# key may be added within a format; removing or renaming a key, or giving
# one another meaning, raises it. Every change is announced in a release
# note (releasenotes/notes/).
JSON_FORMAT = 1


class Diagnosis:
    """One state, the lines that explain it, and the data for --json."""

    def __init__(self, state, message, recorded=(), head=None):
        self.status, self.state = state
        self.message = message
        self.recorded = list(recorded)
        self.head = head
        self.pending = []
        self.differences = []
        self.repair = []
        self.matches = None
        self.notes = []
        self.lock = None
        # Commands that may run from this state nonetheless.
        self.allows = set()
        # The head tables already there where ``upgrade head`` may build
        # the head schema directly (fresh.py): none on an empty database,
        # some where a run doing so stopped half-way; None otherwise.
        self.head_tables_built = None
        # The parts in the original Solum's form (forms.Difference), which
        # ``upgrade`` normalises before it walks.
        self.forms = []

    def lines(self):
        lines = [self.message]
        if self.pending:
            lines.append("Pending revisions: " + ", ".join(self.pending))
        lines += [f"  {difference}" for difference in self.differences]
        lines += self.notes
        if self.lock is not None and self.state not in ("locked",
                                                        "interrupted"):
            lines.append(self.lock.describe())
        if self.repair:
            lines.append("To repair, run: " + "; then ".join(self.repair))
        return lines

    def as_dict(self):
        return {
            "format": JSON_FORMAT,
            "status": self.status,
            "state": self.state,
            "message": self.message,
            "revisions": self.recorded,
            "releases": [releases.describe(r) or None
                         for r in self.recorded],
            "head": self.head,
            "pending": self.pending,
            "differences": self.differences,
            "matches": self.matches,
            "repair": self.repair,
            "notes": self.notes,
            "lock": self.lock.as_dict() if self.lock else None,
        }


def named(revision):
    """A revision id, with the releases that shipped it last."""
    release = releases.describe(revision)
    return f"{revision} ({release})" if release else revision
