"""Rename assembly_uuid column in userlogs

Revision ID: 176c26131889
Revises: 2c058b5051e4
Create Date: 2015-02-06 19:35:19.658096

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "176c26131889"
down_revision = "2c058b5051e4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("userlogs") as batch:
        batch.alter_column("assembly_uuid", new_column_name="resource_uuid",
                           existing_type=sa.String(36),
                           existing_nullable=False)
    op.add_column("userlogs", sa.Column("resource_type", sa.String(36)))


def downgrade():
    with op.batch_alter_table("userlogs") as batch:
        batch.alter_column("resource_uuid", new_column_name="assembly_uuid",
                           existing_type=sa.String(36),
                           existing_nullable=False)
        batch.drop_column("resource_type")
