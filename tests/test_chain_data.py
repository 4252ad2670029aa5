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

"""solum_db_manage/chain_data.py is what walking the migration scripts gives.

The chain's data (revisions, head, the tables and columns each revision
leaves) is shipped as a module so that ``version``, ``check`` and
``upgrade`` need not load and walk the scripts with Alembic in every
process. Here the scripts are walked for real; the shipped data must be
exactly that, or CI fails saying which command regenerates it.
"""

import logging
import pathlib
import shutil
import subprocess
import sys

import pytest
from alembic.script import ScriptDirectory

from solum_db_manage import chain, chain_data, compare, scripts
from solum_db_manage.config import make_config

REGENERATE = "python -m solum_db_manage.chain --write"


@pytest.fixture(scope="module")
def walked():
    return scripts.walk_chain()


def test_chain_py_is_current(walked):
    source = pathlib.Path(chain_data.__file__).read_text(encoding="utf-8")
    assert chain.regenerated(source) == source, (
        f"solum_db_manage/chain_data.py is stale (a revision was added or "
        f"changed): run '{REGENERATE}'")


def test_the_shipped_chain_is_the_walked_chain(walked):
    head, steps = walked
    shipped = scripts.shipped_chain()
    assert shipped.head == chain_data.HEAD == head, REGENERATE
    assert shipped.revisions == [revision for revision, _, _ in steps]
    assert shipped.fingerprints == [(revision, tables)
                                    for revision, _, tables in steps]
    assert [down for _, down, _ in steps] == [None] + shipped.revisions[:-1]


def test_the_shipped_chain_is_alembics(walked):
    script = ScriptDirectory.from_config(make_config(None))
    assert chain_data.HEAD == script.get_current_head()
    assert scripts.shipped_chain().revisions == [
        rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert chain_data.SCRIPTS == tuple(sorted(scripts.script_names()))
    for revision in scripts.shipped_chain().revisions:
        assert scripts.shipped_chain().pending(revision) == [
            step.revision.revision
            for step in script._upgrade_revs("heads", (revision,))]


def test_the_scripts_in_use_are_described_by_the_shipped_data(caplog):
    with caplog.at_level(logging.WARNING):
        assert scripts.current_chain() is scripts.shipped_chain()
    assert caplog.records == []
    assert (compare.revision_fingerprints()
            is scripts.shipped_chain().fingerprints)


def test_the_check_command_says_up_to_date():
    result = subprocess.run(
        [sys.executable, "-m", "solum_db_manage.chain"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("chain_data.py is up to date\n")


NEW_REVISION = '''"""Add a column to app

Revision ID: 0123456789ab
Revises: {head}
"""

import sqlalchemy as sa
from alembic import op

revision = "0123456789ab"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("app", sa.Column("frobnication", sa.Integer()))


def downgrade():
    with op.batch_alter_table("app") as batch:
        batch.drop_column("frobnication")
'''


@pytest.fixture
def scripts_with_a_new_revision(tmp_path, monkeypatch):
    """A copy of the scripts with one revision chain_data.py does not know."""
    real = pathlib.Path(scripts.scripts_path())
    copy = tmp_path / "alembic_migrations"
    shutil.copytree(real, copy, ignore=shutil.ignore_patterns(
        "__pycache__"))
    (copy / "versions" / "0123456789ab_add_a_column_to_app.py").write_text(
        NEW_REVISION.format(head=chain_data.HEAD))
    monkeypatch.setattr(scripts, "SCRIPT_LOCATION", str(copy))
    return copy


def test_a_revision_not_in_chain_py_is_noticed_and_walked(
        scripts_with_a_new_revision, caplog):
    with caplog.at_level(logging.WARNING, logger="solum_db_manage"):
        found = scripts.current_chain()
    assert found is not scripts.shipped_chain()
    assert found.head == "0123456789ab"
    assert found.revisions == (scripts.shipped_chain().revisions
                               + ["0123456789ab"])
    tables = dict(found.fingerprints)["0123456789ab"]
    assert "frobnication" in tables["app"]
    assert [record.getMessage() for record in caplog.records] == [
        f"solum_db_manage/chain_data.py does not describe the "
        f"migration scripts (a revision added or removed?); walking them "
        f"instead. Run '{REGENERATE}'."]
    # Regenerating would describe the new revision.
    source = pathlib.Path(chain_data.__file__).read_text(encoding="utf-8")
    regenerated = chain.regenerated(source)
    assert regenerated != source
    assert 'HEAD = "0123456789ab"' in regenerated
    assert '    "0123456789ab_add_a_column_to_app.py",\n' in regenerated


def test_render_gives_the_data_it_was_given(walked):
    """What --write writes, executed, is the walk it was made from."""
    head, steps = walked
    names = frozenset(["b.py", "a.py"])
    namespace = {}
    exec(chain.render(head, steps, names), namespace)
    assert namespace["HEAD"] == head
    assert namespace["SCRIPTS"] == ("a.py", "b.py")
    tables = {}
    for (revision, down, changes), (w_revision, w_down, w_tables) in zip(
            namespace["CHAIN"], steps, strict=True):
        assert (revision, down) == (w_revision, w_down)
        for table, columns in changes.items():
            if columns is None:
                del tables[table]
            else:
                tables[table] = frozenset(columns)
        assert tables == w_tables
