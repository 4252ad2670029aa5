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

"""The scripts form one straight chain with the original's ids and headers.

This replaces the original's tools/check_for_alembic_branches.sh: exactly
one head, one base, no branch or merge point, and every revision with the
id, down_revision, file name, title and Create Date of
SOLUM_SCHEMA_FACTS.md section 1 (plus the new root ``icehouse``).
"""

import os
import re

from alembic.script import ScriptDirectory

from solum_db_manage.config import make_config

# (revision, down_revision, file slug, title, Create Date), base to head.
CHAIN = (
    ("icehouse", None, "create_icehouse_schema",
     "Create the Icehouse schema", "2014-04-17 00:00:00"),
    ("498adc6185ae", "icehouse", "create_initial_db_schema",
     "Create initial Solum DB schema", "2014-02-03 15:51:20.819539"),
    ("450600086a09", "498adc6185ae", "add_user_logs_table",
     "Add user logs table", "2014-09-29 20:43:55.544682"),
    ("3a615b3b2eae", "450600086a09", "add_artifact_type_to_image_table",
     "add artifact_type to image table", "2014-10-13 17:25:04.880051"),
    ("586c15b92842", "3a615b3b2eae", "create_parameter_table",
     "create parameter table", "2014-10-28 17:53:56.752062"),
    ("269f9da4b38e", "586c15b92842", "add_username_to_assembly_table",
     "add username to assembly table", "2014-11-14 20:48:25.457672"),
    ("438cd6d1c655", "269f9da4b38e", "add_project_column_to_userlogs",
     "add project column to userlogs", "2014-11-19 19:25:21.654009"),
    ("27dff58cbc65", "438cd6d1c655", "drop_column_deploy_keys_uri_in_plan",
     "drop column deploy_keys_uri in plan", "2015-01-03 04:23:08.078712"),
    ("2c058b5051e4", "27dff58cbc65", "add_external_ref_to_image_table",
     "add external_ref to image table", "2015-01-05 20:07:41.936667"),
    ("176c26131889", "2c058b5051e4",
     "rename_assembly_uuid_column_in_userlogs",
     "Rename assembly_uuid column in userlogs",
     "2015-02-06 19:35:19.658096"),
    ("2f15f41cd87f", "176c26131889",
     "add_workflow_column_to_assembly_table",
     "add workflow column to assembly table", "2015-03-04 23:10:57.979224"),
    ("1f57763d7871", "2f15f41cd87f", "rename_image_state_column_to_status",
     "rename image state column to status", "2015-03-09 16:46:44.406091"),
    ("5583c6e70156", "1f57763d7871", "move_triggers_from_assembly_to_plan",
     "Move triggers from Assembly to Plan", "2015-03-09 16:31:28.130484"),
    ("452f34e8ea3", "5583c6e70156", "add_docker_image_name_to_image_table",
     "add docker_image_name to image table", "2015-04-02 22:07:34.346737"),
    ("1393c21ea82c", "452f34e8ea3", "add_image_id_to_assembly_table",
     "Add image id to assembly table", "2015-05-28 22:31:45.336763"),
    ("40df542e345", "1393c21ea82c", "create_app_table",
     "Create app table", "2015-05-19 18:52:34.825827"),
    ("43df309dbf3f", "40df542e345", "extend_base_image_id_to_100_chars",
     "extend base_image_id to 100 chars", "2015-06-30 20:39:56.988397"),
    ("390c6c4aa97b", "43df309dbf3f", "create_workflow_table",
     "create workflow table", "2015-07-06 16:11:55.370993"),
    ("112cfe038dd3", "390c6c4aa97b", "add_status_and_appurl_to_app",
     "empty message", "2015-08-20 19:11:01.544203"),
    ("e5f2e8af3b8", "112cfe038dd3", "add_uniqueness_constraint_to_workflow",
     "empty message", "2015-09-23 18:49:34.292533"),
    ("2e825c2c80c7", "e5f2e8af3b8", "add_raw_content_to_app_table",
     "empty message", "2016-01-04 21:58:38.225814"),
    ("272e7cd352f9", "2e825c2c80c7", "add_result_column_to_workflow_table",
     "empty message", "2016-01-19 19:57:57.224831"),
    ("a271b35952be", "272e7cd352f9", "add_scale_config_to_app_table",
     "empty message", "2016-02-03 15:46:27.641527"),
)


def scripts():
    return ScriptDirectory.from_config(make_config(None))


def test_exactly_one_head_and_one_base():
    directory = scripts()
    assert directory.get_heads() == ["a271b35952be"]
    assert directory.get_bases() == ["icehouse"]


def test_no_branch_or_merge_point():
    for script in scripts().walk_revisions():
        assert not script.is_branch_point, script.revision
        assert not script.is_merge_point, script.revision
        assert not script.branch_labels and not script.dependencies


def test_chain_has_the_original_ids_and_order():
    walked = [(s.revision, s.down_revision)
              for s in reversed(list(scripts().walk_revisions()))]
    assert walked == [(rev, down) for rev, down, *_ in CHAIN]


def test_every_script_is_listed_and_named_after_its_id():
    directory = scripts()
    files = sorted(name for name in os.listdir(
        os.path.join(directory.dir, "versions")) if name.endswith(".py"))
    assert files == sorted(f"{rev}_{slug}.py"
                           for rev, _, slug, *_ in CHAIN)
    for revision, _, slug, _, _ in CHAIN:
        path = directory.get_revision(revision).path
        assert os.path.basename(path) == f"{revision}_{slug}.py"


def test_titles_and_headers_are_the_originals():
    directory = scripts()
    for revision, down_revision, _, title, created in CHAIN:
        script = directory.get_revision(revision)
        assert script.doc == title, revision
        docstring = script.module.__doc__
        assert docstring.startswith(title + "\n\n"), revision
        header = re.search(
            r"^Revision ID: (\S*)\nRevises: ?(\S*)\nCreate Date: (.*)$",
            docstring, re.M)
        assert header, revision
        assert header.groups() == (revision, down_revision or "", created)
