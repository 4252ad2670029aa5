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

"""Create initial Solum DB schema

Revision ID: 498adc6185ae
Revises: icehouse
Create Date: 2014-02-03 15:51:20.819539

Solum edited this revision in place until 2014-09-30, so databases that
record it hold one of several schemas (2014.1.0 to 2014.2.1 and the final
one). Here it completes whichever pre-Juno form it finds, after ``stamp
icehouse``, to the final form, creating only what is missing; on a fresh
install it turns the ``icehouse`` schema into the final one. On MySQL the
columns land where the original's CREATE TABLE put them. Run again (after
an interruption, or after ``stamp icehouse`` on a later schema) it changes
only what is still missing.

It also gives a 2014 alembic_version the primary key a new one has.
"""

import sqlalchemy as sa

from solum_db_manage import coltypes
from solum_db_manage.alembic_migrations import helpers

# revision identifiers, used by Alembic.
revision = "498adc6185ae"
down_revision = "icehouse"
branch_labels = None
depends_on = None


def upgrade():
    helpers.ensure_version_table_primary_key()
    _widen_source_format()
    _make_raw_content_text()
    _add_missing_columns()
    _create_missing_tables()


def _widen_source_format():
    existing = helpers.column_type("image", "source_format")
    if existing is None or (existing.length or 0) < 36:
        helpers.alter_type("image", "source_format", sa.String(36),
                           existing_type=existing or sa.String(12))


def _make_raw_content_text():
    # YAMLEncodedDict was built on VARCHAR until 2014-10-28.
    existing = helpers.column_type("plan", "raw_content")
    if existing is None or not isinstance(existing, sa.Text):
        helpers.alter_type("plan", "raw_content", coltypes.text(2048),
                           existing_type=existing or sa.String(2048))


def _add_missing_columns():
    # Without trigger_id, 5583c6e70156 has moved both columns to plan.
    if helpers.has_column("assembly", "trigger_id"):
        helpers.add_columns("assembly", [
            (sa.Column("trust_id", sa.String(255)), "trigger_id"),
        ])
    helpers.add_columns("component", [
        (sa.Column("component_type", sa.String(100)), "name"),
        (sa.Column("heat_stack_id", sa.String(36)), None),
    ])
    helpers.add_columns("plan", [
        (sa.Column("deploy_keys_uri", sa.String(1024)), None),
    ])


def _create_missing_tables():
    helpers.create_table(
        "pipeline",
        sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime()),
        sa.Column("updated_at", sa.DateTime()),
        sa.Column("name", sa.String(100)),
        sa.Column("description", sa.String(255)),
        sa.Column("project_id", sa.String(36)),
        sa.Column("user_id", sa.String(36)),
        sa.Column("tags", sa.Text()),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("plan.id"),
                  nullable=False),
        sa.Column("workbook_name", sa.String(255)),
        sa.Column("trigger_id", sa.String(36)),
        sa.Column("trust_id", sa.String(255)),
    )
    helpers.create_table(
        "execution",
        sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), sa.ForeignKey("pipeline.id")),
        sa.Column("created_at", sa.DateTime()),
        sa.Column("updated_at", sa.DateTime()),
    )
    helpers.create_table(
        "infrastructure_stack",
        sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime()),
        sa.Column("updated_at", sa.DateTime()),
        sa.Column("name", sa.String(100)),
        sa.Column("description", sa.String(255)),
        sa.Column("project_id", sa.String(36)),
        sa.Column("user_id", sa.String(36)),
        sa.Column("tags", sa.Text()),
        sa.Column("image_id", sa.String(36), nullable=False),
        sa.Column("heat_stack_id", sa.String(36)),
    )


def downgrade():
    # Back to the icehouse schema. alembic_version keeps its primary key.
    helpers.drop_table("execution")
    helpers.drop_table("pipeline")
    helpers.drop_table("infrastructure_stack")
    helpers.drop_columns("plan", "deploy_keys_uri")
    helpers.drop_columns("component", "component_type", "heat_stack_id")
    helpers.drop_columns("assembly", "trust_id")
    existing = helpers.column_type("plan", "raw_content")
    if existing is None or isinstance(existing, sa.Text):
        helpers.alter_type("plan", "raw_content", sa.String(2048),
                           existing_type=coltypes.text(2048))
    existing = helpers.column_type("image", "source_format")
    if existing is None or (existing.length or 0) > 12:
        helpers.alter_type("image", "source_format", sa.String(12),
                           existing_type=sa.String(36))
