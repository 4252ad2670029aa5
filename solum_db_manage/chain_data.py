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

"""The chain of the migration scripts, as data: GENERATED, do not edit.

Written by ``python -m solum_db_manage.chain --write`` (solum_db_manage/
chain.py), which walks the scripts with Alembic on an in-memory SQLite
database; run it after adding or changing a revision. ``python -m
solum_db_manage.chain`` alone exits 1 while this file is stale, and so
does tests/test_chain_data.py.

What ``version``, ``check`` and the guards of ``upgrade`` know of the
chain without loading it through Alembic (scripts.current_chain() reads
it): the head, the scripts' file names, and root first, per revision, the
tables it creates or changes with their column names after it (None for
a table it drops).
"""

# --- generated: do not edit by hand ------------------------------------------

HEAD = "a271b35952be"

# The scripts this was generated from (versions/*.py).
SCRIPTS = (
    "112cfe038dd3_add_status_and_appurl_to_app.py",
    "1393c21ea82c_add_image_id_to_assembly_table.py",
    "176c26131889_rename_assembly_uuid_column_in_userlogs.py",
    "1f57763d7871_rename_image_state_column_to_status.py",
    "269f9da4b38e_add_username_to_assembly_table.py",
    "272e7cd352f9_add_result_column_to_workflow_table.py",
    "27dff58cbc65_drop_column_deploy_keys_uri_in_plan.py",
    "2c058b5051e4_add_external_ref_to_image_table.py",
    "2e825c2c80c7_add_raw_content_to_app_table.py",
    "2f15f41cd87f_add_workflow_column_to_assembly_table.py",
    "390c6c4aa97b_create_workflow_table.py",
    "3a615b3b2eae_add_artifact_type_to_image_table.py",
    "40df542e345_create_app_table.py",
    "438cd6d1c655_add_project_column_to_userlogs.py",
    "43df309dbf3f_extend_base_image_id_to_100_chars.py",
    "450600086a09_add_user_logs_table.py",
    "452f34e8ea3_add_docker_image_name_to_image_table.py",
    "498adc6185ae_create_initial_db_schema.py",
    "5583c6e70156_move_triggers_from_assembly_to_plan.py",
    "586c15b92842_create_parameter_table.py",
    "a271b35952be_add_scale_config_to_app_table.py",
    "e5f2e8af3b8_add_uniqueness_constraint_to_workflow.py",
    "icehouse_create_icehouse_schema.py")

# Root first: (revision, down_revision, {table: its column names after the
# revision}), for each table the revision creates or changes; None for a
# table it drops.
CHAIN = (
    ("icehouse", None, {
        "assembly": (
            "application_uri", "created_at", "description", "id", "name",
            "plan_id", "project_id", "status", "tags", "trigger_id",
            "updated_at", "user_id", "uuid"),
        "component": (
            "assembly_id", "created_at", "description", "id", "name",
            "parent_component_id", "project_id", "resource_uri", "tags",
            "updated_at", "user_id", "uuid"),
        "extension": (
            "created_at", "description", "documentation", "id", "name",
            "project_id", "updated_at", "user_id", "uuid", "version"),
        "image": (
            "base_image_id", "created_at", "created_image_id", "description",
            "id", "image_format", "name", "project_id", "source_format",
            "source_uri", "state", "tags", "updated_at", "user_id", "uuid"),
        "operation": (
            "created_at", "description", "documentation", "id", "name",
            "project_id", "tags", "target_resource", "updated_at", "user_id",
            "uuid"),
        "plan": (
            "created_at", "description", "id", "name", "project_id",
            "raw_content", "updated_at", "user_id", "uuid"),
        "sensor": (
            "created_at", "description", "documentation", "id", "name",
            "project_id", "sensor_type", "target_resource", "timestamp",
            "updated_at", "user_id", "uuid", "value"),
        "service": (
            "created_at", "description", "id", "name", "project_id",
            "read_only", "service_type", "tags", "updated_at", "user_id",
            "uuid"),
    }),
    ("498adc6185ae", "icehouse", {
        "assembly": (
            "application_uri", "created_at", "description", "id", "name",
            "plan_id", "project_id", "status", "tags", "trigger_id",
            "trust_id", "updated_at", "user_id", "uuid"),
        "component": (
            "assembly_id", "component_type", "created_at", "description",
            "heat_stack_id", "id", "name", "parent_component_id", "project_id",
            "resource_uri", "tags", "updated_at", "user_id", "uuid"),
        "execution": (
            "created_at", "id", "pipeline_id", "updated_at", "uuid"),
        "infrastructure_stack": (
            "created_at", "description", "heat_stack_id", "id", "image_id",
            "name", "project_id", "tags", "updated_at", "user_id", "uuid"),
        "pipeline": (
            "created_at", "description", "id", "name", "plan_id", "project_id",
            "tags", "trigger_id", "trust_id", "updated_at", "user_id", "uuid",
            "workbook_name"),
        "plan": (
            "created_at", "deploy_keys_uri", "description", "id", "name",
            "project_id", "raw_content", "updated_at", "user_id", "uuid"),
    }),
    ("450600086a09", "498adc6185ae", {
        "userlogs": (
            "assembly_uuid", "created_at", "id", "location", "strategy",
            "strategy_info", "updated_at"),
    }),
    ("3a615b3b2eae", "450600086a09", {
        "image": (
            "artifact_type", "base_image_id", "created_at", "created_image_id",
            "description", "id", "image_format", "name", "project_id",
            "source_format", "source_uri", "state", "tags", "updated_at",
            "user_id", "uuid"),
    }),
    ("586c15b92842", "3a615b3b2eae", {
        "parameter": (
            "created_at", "id", "plan_id", "sys_defined_params", "updated_at",
            "user_defined_params"),
    }),
    ("269f9da4b38e", "586c15b92842", {
        "assembly": (
            "application_uri", "created_at", "description", "id", "name",
            "plan_id", "project_id", "status", "tags", "trigger_id",
            "trust_id", "updated_at", "user_id", "username", "uuid"),
    }),
    ("438cd6d1c655", "269f9da4b38e", {
        "userlogs": (
            "assembly_uuid", "created_at", "id", "location", "project_id",
            "strategy", "strategy_info", "updated_at"),
    }),
    ("27dff58cbc65", "438cd6d1c655", {
        "plan": (
            "created_at", "description", "id", "name", "project_id",
            "raw_content", "updated_at", "user_id", "uuid"),
    }),
    ("2c058b5051e4", "27dff58cbc65", {
        "image": (
            "artifact_type", "base_image_id", "created_at", "created_image_id",
            "description", "external_ref", "id", "image_format", "name",
            "project_id", "source_format", "source_uri", "state", "tags",
            "updated_at", "user_id", "uuid"),
    }),
    ("176c26131889", "2c058b5051e4", {
        "userlogs": (
            "created_at", "id", "location", "project_id", "resource_type",
            "resource_uuid", "strategy", "strategy_info", "updated_at"),
    }),
    ("2f15f41cd87f", "176c26131889", {
        "assembly": (
            "application_uri", "created_at", "description", "id", "name",
            "plan_id", "project_id", "status", "tags", "trigger_id",
            "trust_id", "updated_at", "user_id", "username", "uuid",
            "workflow"),
    }),
    ("1f57763d7871", "2f15f41cd87f", {
        "image": (
            "artifact_type", "base_image_id", "created_at", "created_image_id",
            "description", "external_ref", "id", "image_format", "name",
            "project_id", "source_format", "source_uri", "status", "tags",
            "updated_at", "user_id", "uuid"),
    }),
    ("5583c6e70156", "1f57763d7871", {
        "assembly": (
            "application_uri", "created_at", "description", "id", "name",
            "plan_id", "project_id", "status", "tags", "updated_at", "user_id",
            "username", "uuid", "workflow"),
        "plan": (
            "created_at", "description", "id", "name", "project_id",
            "raw_content", "trigger_id", "trust_id", "updated_at", "user_id",
            "username", "uuid"),
    }),
    ("452f34e8ea3", "5583c6e70156", {
        "image": (
            "artifact_type", "base_image_id", "created_at", "created_image_id",
            "description", "docker_image_name", "external_ref", "id",
            "image_format", "name", "project_id", "source_format",
            "source_uri", "status", "tags", "updated_at", "user_id", "uuid"),
    }),
    ("1393c21ea82c", "452f34e8ea3", {
        "assembly": (
            "application_uri", "created_at", "description", "id", "image_id",
            "name", "plan_id", "project_id", "status", "tags", "updated_at",
            "user_id", "username", "uuid", "workflow"),
    }),
    ("40df542e345", "1393c21ea82c", {
        "app": (
            "created_at", "deleted", "description", "id", "languagepack",
            "name", "ports", "project_id", "source", "stack_id",
            "trigger_actions", "trigger_uuid", "trust_id", "trust_user",
            "updated_at", "user_id", "workflow_config"),
    }),
    ("43df309dbf3f", "40df542e345", {}),
    ("390c6c4aa97b", "43df309dbf3f", {
        "workflow": (
            "actions", "app_id", "assembly", "config", "created_at", "deleted",
            "deleted_at", "id", "project_id", "source", "status", "updated_at",
            "user_id", "wf_id"),
    }),
    ("112cfe038dd3", "390c6c4aa97b", {
        "app": (
            "app_url", "created_at", "deleted", "description", "id",
            "languagepack", "name", "ports", "project_id", "source",
            "stack_id", "status", "trigger_actions", "trigger_uuid",
            "trust_id", "trust_user", "updated_at", "user_id",
            "workflow_config"),
    }),
    ("e5f2e8af3b8", "112cfe038dd3", {}),
    ("2e825c2c80c7", "e5f2e8af3b8", {
        "app": (
            "app_url", "created_at", "deleted", "description", "id",
            "languagepack", "name", "ports", "project_id", "raw_content",
            "source", "stack_id", "status", "trigger_actions", "trigger_uuid",
            "trust_id", "trust_user", "updated_at", "user_id",
            "workflow_config"),
    }),
    ("272e7cd352f9", "2e825c2c80c7", {
        "workflow": (
            "actions", "app_id", "assembly", "config", "created_at", "deleted",
            "deleted_at", "id", "project_id", "result", "source", "status",
            "updated_at", "user_id", "wf_id"),
    }),
    ("a271b35952be", "272e7cd352f9", {
        "app": (
            "app_url", "created_at", "deleted", "description", "id",
            "languagepack", "name", "ports", "project_id", "raw_content",
            "scale_config", "source", "stack_id", "status", "trigger_actions",
            "trigger_uuid", "trust_id", "trust_user", "updated_at", "user_id",
            "workflow_config"),
    }),
)

# --- end of the generated part -----------------------------------------------
