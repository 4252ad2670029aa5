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

"""Rename assembly_uuid column in userlogs

Revision ID: 176c26131889
Revises: 2c058b5051e4
Create Date: 2015-02-06 19:35:19.658096

"""

import sqlalchemy as sa

from solum_db_manage.alembic_migrations import helpers

# revision identifiers, used by Alembic.
revision = "176c26131889"
down_revision = "2c058b5051e4"
branch_labels = None
depends_on = None


def upgrade():
    helpers.alter_columns("userlogs", renames=[helpers.Rename(
        "assembly_uuid", "resource_uuid", sa.String(36),
        existing_nullable=False)])
    helpers.add_column("userlogs", sa.Column("resource_type", sa.String(36)))


def downgrade():
    helpers.alter_columns("userlogs", renames=[helpers.Rename(
        "resource_uuid", "assembly_uuid", sa.String(36),
        existing_nullable=False)], drops=["resource_type"])
