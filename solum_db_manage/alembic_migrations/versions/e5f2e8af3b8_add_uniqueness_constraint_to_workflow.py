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

"""empty message

Revision ID: e5f2e8af3b8
Revises: 112cfe038dd3
Create Date: 2015-09-23 18:49:34.292533

Adds the unique constraint app_id_wf_id on workflow (app_id, wf_id). The
original's downgrade called an Alembic operation that does not exist.
"""

from alembic import op

from solum_db_manage.alembic_migrations import helpers

# revision identifiers, used by Alembic.
revision = "e5f2e8af3b8"
down_revision = "112cfe038dd3"
branch_labels = None
depends_on = None


def upgrade():
    if helpers.lacks_unique_constraint("workflow", "app_id_wf_id"):
        with op.batch_alter_table("workflow") as batch:
            batch.create_unique_constraint("app_id_wf_id",
                                           ["app_id", "wf_id"])


def downgrade():
    if helpers.has_unique_constraint("workflow", "app_id_wf_id"):
        with op.batch_alter_table("workflow") as batch:
            batch.drop_constraint("app_id_wf_id", type_="unique")
