"""Solum's release names, accepted wherever a revision is.

Each name stands for the head revision of Solum's final release in that
series (SOLUM_SCHEMA_FACTS.md, section 5.2).
"""

import re

HEAD = "a271b35952be"

# Release names in release order, with the revision each one shipped last.
RELEASES = (
    ("icehouse", "icehouse"),
    ("juno", "438cd6d1c655"),  # 2014.2.2
    ("kilo", "1393c21ea82c"),  # 2015.1.0
    ("liberty", "e5f2e8af3b8"),  # 4.0.0
    ("mitaka", HEAD),
    ("newton", HEAD),
    ("ocata", HEAD),
    ("pike", HEAD),
    ("queens", HEAD),
    ("rocky", HEAD),
    ("stein", HEAD),
    ("train", HEAD),
    ("ussuri", HEAD),
    ("victoria", HEAD),
    ("wallaby", HEAD),
    ("xena", HEAD),
    ("yoga", HEAD),
    ("zed", HEAD),
    ("2023.1", HEAD),
    ("2023.2", HEAD),
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
