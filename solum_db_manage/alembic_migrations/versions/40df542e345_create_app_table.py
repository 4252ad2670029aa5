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

"""Create app table

Revision ID: 40df542e345
Revises: 1393c21ea82c
Create Date: 2015-05-19 18:52:34.825827

"""

import sqlalchemy as sa

from solum_db_manage import coltypes
from solum_db_manage.alembic_migrations import helpers

# revision identifiers, used by Alembic.
revision = "40df542e345"
down_revision = "1393c21ea82c"
branch_labels = None
depends_on = None


def upgrade():
    helpers.create_table(
        "app",
        sa.Column("id", sa.String(36), primary_key=True, nullable=False),
        sa.Column("created_at", sa.DateTime()),
        sa.Column("updated_at", sa.DateTime()),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("project_id", sa.String(36)),
        sa.Column("user_id", sa.String(36)),
        sa.Column("languagepack", sa.String(100), nullable=False),
        sa.Column("stack_id", sa.String(36)),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.String(255), nullable=False),
        sa.Column("ports", coltypes.text(1024)),
        sa.Column("source", coltypes.text(1024)),
        sa.Column("workflow_config", coltypes.text(1024)),
        sa.Column("trigger_uuid", sa.String(36)),
        sa.Column("trigger_actions", coltypes.text(1024)),
        sa.Column("trust_id", sa.String(255)),
        sa.Column("trust_user", sa.String(256)),
    )


def downgrade():
    helpers.drop_table("app")
