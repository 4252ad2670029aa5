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

"""Release names stand for revisions wherever a revision is accepted.

Each name is the head revision of Solum's final release in its series
(SOLUM_SCHEMA_FACTS.md, section 5.2); ``icehouse`` is the revision that
creates the Icehouse schema of section 6.
"""

import re

import pytest

from solum_db_manage import db, releases
from solum_db_manage.config import make_config
from tests import dbutil
from tests.helpers import (
    HEAD,
    JUNO,
    KILO,
    LIBERTY,
    run_ok,
)

# The chain, base to head: the new root, then section 1's 22 revisions.
CHAIN = (
    "icehouse", "498adc6185ae", "450600086a09", "3a615b3b2eae",
    "586c15b92842", "269f9da4b38e", "438cd6d1c655", "27dff58cbc65",
    "2c058b5051e4", "176c26131889", "2f15f41cd87f", "1f57763d7871",
    "5583c6e70156", "452f34e8ea3", "1393c21ea82c", "40df542e345",
    "43df309dbf3f", "390c6c4aa97b", "112cfe038dd3", "e5f2e8af3b8",
    "2e825c2c80c7", "272e7cd352f9", "a271b35952be",
)

LATER = ("mitaka", "newton", "ocata", "pike", "queens", "rocky", "stein",
         "train", "ussuri", "victoria", "wallaby", "xena", "yoga", "zed",
         "2023.1", "2023.2")

SHOWN = {"icehouse": "icehouse", JUNO: "juno", KILO: "kilo",
         LIBERTY: "liberty", HEAD: "mitaka ... 2023.2"}


def version_line(revision):
    return f"Current DB revision is {revision} ({SHOWN[revision]})\n"


# ---------------------------------------------------------------------------
# Names to revisions, no database.


@pytest.mark.parametrize("name, revision", [
    ("icehouse", "icehouse"),
    ("juno", JUNO),
    ("kilo", KILO),
    ("liberty", LIBERTY),
    *((name, HEAD) for name in LATER),
    ("antelope", HEAD),
    ("bobcat", HEAD),
])
def test_each_release_name_resolves_to_its_last_revision(name, revision):
    assert releases.resolve(name) == revision
    assert releases.resolve(name.upper()) == revision
    assert releases.resolve(name.capitalize()) == revision
    assert releases.revision_of(name) == revision


@pytest.mark.parametrize("spec, resolved", [
    ("juno:kilo", f"{JUNO}:{KILO}"),
    ("icehouse:head", "icehouse:head"),
    ("base:Liberty", f"base:{LIBERTY}"),
    ("kilo+1", f"{KILO}+1"),
    ("liberty-2", f"{LIBERTY}-2"),
    ("2023.1-1", f"{HEAD}-1"),
])
def test_names_resolve_inside_ranges_and_relative_revisions(spec,
                                                            resolved):
    assert releases.resolve(spec) == resolved


@pytest.mark.parametrize("spec", [
    "head", "heads", "base", "-1", "+2", "1393c21ea82c", "e5f2e8af3b8",
    "498adc6185ae", "1393c21", "head-1", "heads@head", "havana",
    "kilo@head", "current",
])
def test_other_specs_pass_through_unchanged(spec):
    assert releases.resolve(spec) == spec


def test_no_revision_stays_none():
    assert releases.resolve(None) is None


@pytest.mark.parametrize("revision, described", [
    ("icehouse", "icehouse"),
    (JUNO, "juno"),
    (KILO, "kilo"),
    (LIBERTY, "liberty"),
    (HEAD, "mitaka ... 2023.2"),
    ("498adc6185ae", ""),
    ("450600086a09", ""),
    ("1f57763d7871", ""),  # the chain's head on Kilo day, not its last
])
def test_describe_names_the_releases_that_shipped_a_revision_last(
        revision, described):
    assert releases.describe(revision) == described


def test_codenames_are_accepted_but_never_displayed():
    assert releases.resolve("Antelope") == releases.resolve("2023.1")
    assert releases.resolve("BOBCAT") == releases.resolve("2023.2")
    assert "antelope" not in releases.describe(HEAD)
    assert "bobcat" not in releases.describe(HEAD)


def test_release_names_follow_the_chain_and_end_at_head():
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(make_config(None))
    chain = [rev.revision for rev in script.walk_revisions()][::-1]
    assert tuple(chain) == CHAIN
    positions = [chain.index(revision)
                 for _, revision in releases.RELEASES]
    assert positions == sorted(positions)
    assert releases.RELEASES[-1][1] == script.get_current_head() == HEAD
    assert releases.LAST_RELEASED_REVISION == HEAD


# ---------------------------------------------------------------------------
# The commands, on every backend.


def test_version_without_tracking_says_none(db_url, solum):
    result = run_ok(solum, "version", url=db_url)
    assert result.out == "Current DB revision is None\n"


def test_upgrade_release_by_release_up_to_head(db_url, engine, solum):
    for name, revision in [("icehouse", "icehouse"), ("juno", JUNO),
                           ("kilo", KILO), ("liberty", LIBERTY),
                           ("mitaka", HEAD), ("2023.2", HEAD)]:
        run_ok(solum, "upgrade", name, url=db_url)
        assert dbutil.version_rows(engine) == [revision], name
        result = run_ok(solum, "version", url=db_url)
        assert result.out == version_line(revision), name


@pytest.mark.parametrize("name, revision", [
    ("juno", JUNO), ("Kilo", KILO), ("LIBERTY", LIBERTY),
])
def test_database_at_a_release_upgrades_to_head(db_url, engine, solum,
                                                name, revision):
    run_ok(solum, "upgrade", name, url=db_url)
    assert dbutil.version_rows(engine) == [revision]
    assert run_ok(solum, "version", url=db_url).out == \
        version_line(revision)
    run_ok(solum, "upgrade", "head", url=db_url)
    assert dbutil.version_rows(engine) == [HEAD]
    assert run_ok(solum, "version", url=db_url).out == version_line(HEAD)


@pytest.mark.parametrize("name", ["antelope", "Bobcat", "zed"])
def test_numbered_and_code_names_upgrade_to_head(db_url, engine, solum,
                                                 name):
    run_ok(solum, "upgrade", name, url=db_url)
    assert dbutil.version_rows(engine) == [HEAD]
    assert run_ok(solum, "version", url=db_url).out == \
        "Current DB revision is a271b35952be (mitaka ... 2023.2)\n"


def test_downgrade_kilo_from_head_gives_the_kilo_schema(
        db_url, engine, new_db_url, solum):
    run_ok(solum, "upgrade", "head", url=db_url)
    run_ok(solum, "downgrade", "kilo", url=db_url)
    assert dbutil.version_rows(engine) == [KILO]
    assert run_ok(solum, "version", url=db_url).out == version_line(KILO)

    kilo_url = new_db_url()
    run_ok(solum, "upgrade", "kilo", url=kilo_url)
    kilo = db.create_engine(kilo_url)
    try:
        assert dbutil.snapshot(engine) == dbutil.snapshot(kilo)
    finally:
        kilo.dispose()


def test_relative_to_a_release_name(db_url, engine, solum):
    run_ok(solum, "upgrade", "kilo+1", url=db_url)
    assert dbutil.version_rows(engine) == ["40df542e345"]
    run_ok(solum, "downgrade", "juno-1", url=db_url)
    assert dbutil.version_rows(engine) == ["269f9da4b38e"]
    assert run_ok(solum, "version", url=db_url).out == \
        "Current DB revision is 269f9da4b38e\n"


@pytest.mark.parametrize("name", ["liberty", "Liberty"])
def test_stamp_liberty_records_its_revision(db_url, engine, solum, name):
    # Stamping records no more than exists: head holds liberty's schema.
    run_ok(solum, "upgrade", "head", url=db_url)
    run_ok(solum, "stamp", name, url=db_url)
    assert dbutil.version_rows(engine) == [LIBERTY]
    assert run_ok(solum, "version", url=db_url).out == \
        version_line(LIBERTY)


def test_unknown_release_name_is_an_error_and_changes_nothing(
        db_url, engine, solum):
    result = solum("upgrade", "havana", url=db_url)
    assert result.code != 0
    assert result.out == ""
    # INFO log lines may come first; the error is one line, the last.
    [line] = [line for line in result.err.splitlines()
              if line.startswith("ERROR: ")]
    assert result.err.splitlines()[-1] == line
    assert "havana" in line
    assert dbutil.version_rows(engine) == []
    assert dbutil.snapshot(engine) == {}


# ---------------------------------------------------------------------------
# The script-only commands: no database.


def test_show_kilo_shows_its_revision(solum):
    result = run_ok(solum, "show", "kilo")
    assert re.search(r"^Rev: 1393c21ea82c\b", result.out, re.M)
    assert re.search(r"^Parent: 452f34e8ea3\b", result.out, re.M)
    assert "Add image id to assembly table" in result.out


@pytest.mark.parametrize("name, revision", [
    ("icehouse", "icehouse"), ("JUNO", JUNO), ("bobcat", HEAD),
])
def test_show_accepts_any_release_name(solum, name, revision):
    result = run_ok(solum, "show", name)
    assert re.search(rf"^Rev: {revision}\b", result.out, re.M)


def test_show_unknown_release_is_an_error(solum):
    result = solum("show", "havana")
    assert result.code != 0
    assert result.err.splitlines()[-1].startswith("ERROR: ")
    assert "havana" in result.err.splitlines()[-1]


def listed(output):
    """The revisions a history listing shows, newest first."""
    return re.findall(r"-> (\w+)\b", output)


def test_history_between_two_release_names(solum):
    result = run_ok(solum, "history", "-r", "juno:kilo")
    expected = CHAIN[CHAIN.index(JUNO):CHAIN.index(KILO) + 1]
    assert listed(result.out) == list(reversed(expected))
    assert "Add image id to assembly table" in result.out
    assert "add project column to userlogs" in result.out


def test_history_from_icehouse_to_juno(solum):
    result = run_ok(solum, "history", "-r", "Icehouse:juno")
    assert listed(result.out) == list(reversed(
        CHAIN[:CHAIN.index(JUNO) + 1]))
    assert "<base> -> icehouse" in result.out
