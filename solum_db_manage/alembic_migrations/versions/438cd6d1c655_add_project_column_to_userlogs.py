"""add project column to userlogs

Revision ID: 438cd6d1c655
Revises: 269f9da4b38e
Create Date: 2014-11-19 19:25:21.654009

"""

import sqlalchemy as sa

from solum_db_manage.alembic_migrations import helpers

# revision identifiers, used by Alembic.
revision = "438cd6d1c655"
down_revision = "269f9da4b38e"
branch_labels = None
depends_on = None


def upgrade():
    helpers.add_column("userlogs", sa.Column("project_id", sa.String(36)))


def downgrade():
    helpers.drop_columns("userlogs", "project_id")
