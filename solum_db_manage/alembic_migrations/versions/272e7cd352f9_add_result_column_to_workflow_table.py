"""empty message

Revision ID: 272e7cd352f9
Revises: 2e825c2c80c7
Create Date: 2016-01-19 19:57:57.224831

Adds workflow.result.
"""

import sqlalchemy as sa

from solum_db_manage.alembic_migrations import helpers

# revision identifiers, used by Alembic.
revision = "272e7cd352f9"
down_revision = "2e825c2c80c7"
branch_labels = None
depends_on = None


def upgrade():
    helpers.add_column("workflow", sa.Column("result", sa.Text()))


def downgrade():
    helpers.drop_columns("workflow", "result")
