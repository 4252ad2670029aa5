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

"""create parameter table

Revision ID: 586c15b92842
Revises: 3a615b3b2eae
Create Date: 2014-10-28 17:53:56.752062

"""

import sqlalchemy as sa

from solum_db_manage import coltypes
from solum_db_manage.alembic_migrations import helpers

# revision identifiers, used by Alembic.
revision = "586c15b92842"
down_revision = "3a615b3b2eae"
branch_labels = None
depends_on = None


def upgrade():
    helpers.create_table(
        "parameter",
        sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("plan.id"),
                  nullable=False),
        sa.Column("user_defined_params", coltypes.text(65535)),
        sa.Column("sys_defined_params", coltypes.text(65535)),
        sa.Column("created_at", sa.DateTime()),
        sa.Column("updated_at", sa.DateTime()),
    )


def downgrade():
    helpers.drop_table("parameter")
