"""Add image id to assembly table

Revision ID: 1393c21ea82c
Revises: 452f34e8ea3
Create Date: 2015-05-28 22:31:45.336763

"""

import sqlalchemy as sa

from solum_db_manage.alembic_migrations import helpers

# revision identifiers, used by Alembic.
revision = "1393c21ea82c"
down_revision = "452f34e8ea3"
branch_labels = None
depends_on = None


def upgrade():
    helpers.add_column("assembly", sa.Column("image_id", sa.Integer()))


def downgrade():
    helpers.drop_columns("assembly", "image_id")
