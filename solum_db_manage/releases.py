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

"""Solum's release names, accepted wherever a revision is.

Each name stands for the head revision of Solum's final release in that
series (SOLUM_SCHEMA_FACTS.md, section 5.2).
"""

import re

# The head revision of Solum's last release (2023.2): the chain's head
# today, but a revision added since is in no release.
LAST_RELEASED_REVISION = "a271b35952be"

# Release names in release order, with the revision each one shipped last.
RELEASES = (
    ("icehouse", "icehouse"),
    ("juno", "438cd6d1c655"),  # 2014.2.2
    ("kilo", "1393c21ea82c"),  # 2015.1.0
    ("liberty", "e5f2e8af3b8"),  # 4.0.0
    ("mitaka", LAST_RELEASED_REVISION),
    ("newton", LAST_RELEASED_REVISION),
    ("ocata", LAST_RELEASED_REVISION),
    ("pike", LAST_RELEASED_REVISION),
    ("queens", LAST_RELEASED_REVISION),
    ("rocky", LAST_RELEASED_REVISION),
    ("stein", LAST_RELEASED_REVISION),
    ("train", LAST_RELEASED_REVISION),
    ("ussuri", LAST_RELEASED_REVISION),
    ("victoria", LAST_RELEASED_REVISION),
    ("wallaby", LAST_RELEASED_REVISION),
    ("xena", LAST_RELEASED_REVISION),
    ("yoga", LAST_RELEASED_REVISION),
    ("zed", LAST_RELEASED_REVISION),
    ("2023.1", LAST_RELEASED_REVISION),
    ("2023.2", LAST_RELEASED_REVISION),
)

# Codenames of the numbered releases: accepted, never displayed.
ALIASES = {"antelope": "2023.1", "bobcat": "2023.2"}

_REVISIONS = dict(RELEASES)
_PART = re.compile(r"^(?P<name>[^+\-@]+)(?P<rest>[+\-]\d+)?$")


def revision_of(name):
    """Return the revision a release name stands for, or None."""
    name = name.lower()
    return _REVISIONS.get(ALIASES.get(name, name))


def resolve(spec):
    """Replace release names in a revision spec by their revisions.

    Handles ``A:B`` ranges and ``NAME+N`` / ``NAME-N``; everything else
    (ids, ``head``, ``base``, ``-1``) passes through unchanged.
    """
    if spec is None:
        return None
    return ":".join(_resolve_part(part) for part in spec.split(":"))


def _resolve_part(part):
    match = _PART.match(part)
    if not match:
        return part
    revision = revision_of(match["name"])
    if revision is None:
        return part
    return revision + (match["rest"] or "")


def describe(revision):
    """Name the releases that shipped ``revision`` last: "" if none.

    One release gives its name, several give the range ("mitaka ...
    2023.2").
    """
    names = [name for name, rev in RELEASES if rev == revision]
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    return f"{names[0]} ... {names[-1]}"


# The 20 revisions of Solum's development chain before the squash of
# 2014-04-09 (SOLUM_SCHEMA_FACTS.md, sections 1.3 and 5.3), with their
# titles: the squash deleted them and gave its one new revision the id of
# the last one, 498adc6185ae. No release shipped them; a database or a
# command that names one meets them here rather than as an unknown id.
PRE_SQUASH = {
    "594288b1585a": "Add applications",
    "a42f578cef8": "Add Plan",
    "37d6ad94f2ce": "Add service table",
    "4d72260e56e": "merge plan and application",
    "46ffedad6d56": "Add operation",
    "3d1c8e21f103": "Add sensor",
    "1767df1e2659": "Add extension",
    "3f2eaf30c19f": "Add assembly",
    "396a439167dc": "Add component",
    "27e7701946fe": "add missing description field",
    "365ff074069c": "Add language_pack table",
    "3d69d7ff26cb": "add image table",
    "2e60bd23410d": "add trigger to assembly",
    "49f732ce446c": "Update plan raw content",
    "9012e1a6ff1": "add more fields to the image table",
    "23f2a946d20e": "update lp table to match model",
    "44fcd06e4009": "add status to assembly",
    "12d90235e174": "Add uri to component",
    "18b94e085cf9": "update component foreign keys",
    "4ee48e775ad7": "Add application_uri to assembly",
}
SQUASHED_INTO = "498adc6185ae"


def pre_squash(spec):
    """The pre-squash revision a revision spec names, or None.

    Looks at each side of an ``A:B`` range and past a ``+N``/``-N``.
    """
    if not spec:
        return None
    for part in spec.split(":"):
        name = re.sub(r"[+\-]\d+$", "", part).lower()
        if name in PRE_SQUASH:
            return name
    return None


def describe_pre_squash(revision):
    """One sentence saying what a pre-squash revision is."""
    return (f"{revision} ({PRE_SQUASH[revision]!r}) is a pre-Icehouse "
            f"development revision of Solum: the 2014 squash removed it "
            f"with the 19 others of its chain and folded them all into "
            f"{SQUASHED_INTO}, so no Solum release has it")
