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

"""The sdist and wheel as a distribution packager gets them.

``python -m build`` makes the sdist and, from it, the wheel, as a
packager's tooling does; the sdist must hold every file of the repository
but CI's own, and the SQLite tier must pass from the unpacked sdist alone
(the current interpreter, with the unpacked tree first on PYTHONPATH: it is
the sdist's files under test, not whether pip can install them).
"""

import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Tracked files that are the repository's, not the distribution's.
NOT_DISTRIBUTED = re.compile(r"^(\.ci/|\.git|\.stestr)")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(the unpacked sdist's root, its member names, the wheel's names)."""
    tmp = tmp_path_factory.mktemp("sdist")
    process = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(tmp / "dist"),
         str(ROOT)], capture_output=True, text=True, timeout=600)
    assert process.returncode == 0, process.stdout + process.stderr
    [sdist] = (tmp / "dist").glob("*.tar.gz")
    [wheel] = (tmp / "dist").glob("*.whl")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
        archive.extractall(tmp / "unpacked", filter="data")
    [top] = (tmp / "unpacked").iterdir()
    members = {name.split("/", 1)[1] for name in names if "/" in name}
    with zipfile.ZipFile(wheel) as archive:
        wheel_names = set(archive.namelist())
    return top, members, wheel_names


def test_the_sdist_holds_what_its_tests_and_a_packager_need(built):
    _, members, _ = built
    assert {"LICENSE", "README.rst", "tox.ini", "setup.cfg",
            "pyproject.toml", "tests/conftest.py",
            "etc/solum.conf.sample"} <= members
    if not (ROOT / ".git").exists():
        return
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
        check=True).stdout.split()
    missing = sorted(name for name in tracked
                     if not NOT_DISTRIBUTED.match(name)
                     and name not in members)
    assert missing == [], "not in the sdist (MANIFEST.in): " + str(missing)


def test_the_wheel_carries_the_license(built):
    _, _, wheel_names = built
    assert any(re.fullmatch(r"[^/]+\.dist-info/(licenses/)?LICENSE", name)
               for name in wheel_names), sorted(wheel_names)


@pytest.mark.slow
def test_the_tests_pass_from_the_unpacked_sdist(built):
    """The SQLite tier (``-m sqlite``) run from the unpacked sdist, with
    its code imported from there, passes whole: as many tests as this tree
    collects, none failed or in error."""
    top, _, _ = built
    env = dict(os.environ, PYTHONPATH=str(top))
    where = subprocess.run(
        [sys.executable, "-c",
         "import solum_db_manage; print(solum_db_manage.__file__)"],
        cwd=top, env=env, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).is_relative_to(top)
    tier = ["-m", "sqlite", "--ignore", "tests/test_sdist.py",
            "-p", "no:cacheprovider"]
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *tier],
        cwd=ROOT, capture_output=True, text=True)
    expected = int(re.search(r"(\d+)(/\d+)? tests? collected",
                             collected.stdout).group(1))
    process = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *tier], cwd=top, env=env,
        capture_output=True, text=True, timeout=3600)
    summary = process.stdout.strip().splitlines()[-1]
    assert process.returncode == 0, process.stdout[-5000:] + process.stderr
    counts = {word: int(n) for n, word in
              re.findall(r"(\d+) (passed|skipped|xfailed|failed|errors?)",
                         summary)}
    assert counts.get("passed", 0) > 0, summary
    assert sum(counts.get(word, 0) for word in
               ("passed", "skipped", "xfailed")) == expected, summary
