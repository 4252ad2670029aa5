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

"""rename image state column to status

Revision ID: 1f57763d7871
Revises: 2f15f41cd87f
Create Date: 2015-03-09 16:46:44.406091

The original declared the existing type as VARCHAR(36), so MySQL widened
the column from 12 to 36 while SQLite kept 12. Here the column becomes
VARCHAR(36) on every backend, and the downgrade narrows it back.
"""

import sqlalchemy as sa
from alembic import op

from solum_db_manage.alembic_migrations import helpers

# revision identifiers, used by Alembic.
revision = "1f57763d7871"
down_revision = "2f15f41cd87f"
branch_labels = None
depends_on = None


def upgrade():
    if helpers.has_column("image", "state"):
        # On SQLite the type change rebuilds the table, and the rebuild
        # renames too: a separate RENAME COLUMN would save nothing.
        with op.batch_alter_table("image") as batch:
            batch.alter_column("state", new_column_name="status",
                               type_=sa.String(36),
                               existing_type=sa.String(12),
                               existing_nullable=True)
    elif helpers.column_type("image", "status").length < 36:
        helpers.alter_type("image", "status", sa.String(36),
                           existing_type=sa.String(12))


def downgrade():
    if helpers.has_column("image", "status"):
        # A forced downgrade cuts what VARCHAR(12) cannot hold first.
        helpers.cut_before_narrowing("image", "status", sa.String(12),
                                     sa.String(36))
        with op.batch_alter_table("image") as batch:
            batch.alter_column("status", new_column_name="state",
                               type_=sa.String(12),
                               existing_type=sa.String(36),
                               existing_nullable=True)
    elif helpers.column_type("image", "state").length > 12:
        helpers.alter_type("image", "state", sa.String(12),
                           existing_type=sa.String(36))
