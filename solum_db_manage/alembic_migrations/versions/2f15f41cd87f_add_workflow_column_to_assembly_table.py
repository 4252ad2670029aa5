"""add workflow column to assembly table

Revision ID: 2f15f41cd87f
Revises: 176c26131889
Create Date: 2015-03-04 23:10:57.979224

"""

import sqlalchemy as sa

from solum_db_manage import coltypes
from solum_db_manage.alembic_migrations import helpers

# revision identifiers, used by Alembic.
revision = "2f15f41cd87f"
down_revision = "176c26131889"
branch_labels = None
depends_on = None


def upgrade():
    helpers.add_column("assembly", sa.Column("workflow", coltypes.text(1024)))


def downgrade():
    helpers.drop_columns("assembly", "workflow")
