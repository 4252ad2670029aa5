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

"""Create the Icehouse schema

Revision ID: icehouse
Revises:
Create Date: 2014-04-17 00:00:00

The schema Solum 2014.1.0 (Icehouse) created under the id 498adc6185ae,
before that revision was edited in place into the form that id means
now. It is the root of the chain so that ``stamp icehouse`` names what
an Icehouse database holds, and ``upgrade head`` then completes it.

As in 2014: YAML text was built on VARCHAR (plan.raw_content), foreign
keys are unnamed and inline (MySQL names them ``<table>_ibfk_<n>``), and
tables come in their original order. Each table is created only where it
is missing, so that a run interrupted half-way can run again.
"""

import sqlalchemy as sa

from solum_db_manage.alembic_migrations import helpers

# revision identifiers, used by Alembic.
revision = "icehouse"
down_revision = None
branch_labels = None
depends_on = None


def _common():
    return [
        sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime()),
        sa.Column("updated_at", sa.DateTime()),
    ]


def upgrade():
    helpers.create_table(
        "sensor",
        *_common(),
        sa.Column("project_id", sa.String(36)),
        sa.Column("user_id", sa.String(36)),
        sa.Column("name", sa.String(255)),
        sa.Column("sensor_type", sa.String(255)),
        sa.Column("value", sa.String(255)),
        sa.Column("timestamp", sa.DateTime()),
        sa.Column("description", sa.String(255)),
        sa.Column("documentation", sa.String(255)),
        sa.Column("target_resource", sa.String(255)),
    )
    helpers.create_table(
        "operation",
        *_common(),
        sa.Column("name", sa.String(100)),
        sa.Column("description", sa.String(255)),
        sa.Column("project_id", sa.String(36)),
        sa.Column("user_id", sa.String(36)),
        sa.Column("tags", sa.Text()),
        sa.Column("documentation", sa.Text()),
        sa.Column("target_resource", sa.Text()),
    )
    helpers.create_table(
        "image",
        *_common(),
        sa.Column("name", sa.String(100)),
        sa.Column("description", sa.String(255)),
        sa.Column("source_uri", sa.String(1024)),
        sa.Column("project_id", sa.String(36)),
        sa.Column("user_id", sa.String(36)),
        sa.Column("tags", sa.Text()),
        sa.Column("state", sa.String(12)),
        sa.Column("base_image_id", sa.String(36)),
        sa.Column("created_image_id", sa.String(36)),
        sa.Column("image_format", sa.String(12)),
        sa.Column("source_format", sa.String(12)),
    )
    helpers.create_table(
        "extension",
        *_common(),
        sa.Column("project_id", sa.String(36)),
        sa.Column("user_id", sa.String(36)),
        sa.Column("description", sa.String(255)),
        sa.Column("name", sa.String(100)),
        sa.Column("version", sa.String(16)),
        sa.Column("documentation", sa.String(255)),
    )
    helpers.create_table(
        "plan",
        *_common(),
        sa.Column("project_id", sa.String(36)),
        sa.Column("user_id", sa.String(36)),
        sa.Column("raw_content", sa.String(2048)),
        sa.Column("description", sa.String(255)),
        sa.Column("name", sa.String(255)),
    )
    helpers.create_table(
        "assembly",
        *_common(),
        sa.Column("name", sa.String(100)),
        sa.Column("description", sa.String(255)),
        sa.Column("project_id", sa.String(36)),
        sa.Column("user_id", sa.String(36)),
        sa.Column("tags", sa.Text()),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("plan.id"),
                  nullable=False),
        sa.Column("status", sa.String(36)),
        sa.Column("trigger_id", sa.String(36)),
        sa.Column("application_uri", sa.String(1024)),
    )
    helpers.create_table(
        "component",
        *_common(),
        sa.Column("name", sa.String(100)),
        sa.Column("description", sa.String(255)),
        sa.Column("project_id", sa.String(36)),
        sa.Column("user_id", sa.String(36)),
        sa.Column("tags", sa.Text()),
        sa.Column("assembly_id", sa.Integer(),
                  sa.ForeignKey("assembly.id")),
        sa.Column("parent_component_id", sa.Integer(),
                  sa.ForeignKey("component.id")),
        sa.Column("resource_uri", sa.String(1024)),
    )
    helpers.create_table(
        "service",
        *_common(),
        sa.Column("name", sa.String(100)),
        sa.Column("description", sa.String(255)),
        sa.Column("project_id", sa.String(36)),
        sa.Column("user_id", sa.String(36)),
        sa.Column("service_type", sa.String(100)),
        sa.Column("read_only", sa.Integer()),
        sa.Column("tags", sa.Text()),
    )


def downgrade():
    for table in ("service", "component", "assembly", "plan", "extension",
                  "image", "operation", "sensor"):
        helpers.drop_table(table)
