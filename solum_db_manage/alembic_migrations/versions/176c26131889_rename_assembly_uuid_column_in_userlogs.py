"""Rename assembly_uuid column in userlogs

Revision ID: 176c26131889
Revises: 2c058b5051e4
Create Date: 2015-02-06 19:35:19.658096

"""

import sqlalchemy as sa
from alembic import op

from solum_db_manage.alembic_migrations import helpers

# revision identifiers, used by Alembic.
revision = "176c26131889"
down_revision = "2c058b5051e4"
branch_labels = None
depends_on = None


def upgrade():
    if helpers.has_column("userlogs", "assembly_uuid"):
        with op.batch_alter_table("userlogs") as batch:
            batch.alter_column(
                "assembly_uuid", new_column_name="resource_uuid",
                existing_type=sa.String(36), existing_nullable=False)
    helpers.add_column("userlogs", sa.Column("resource_type", sa.String(36)))


def downgrade():
    rename = helpers.has_column("userlogs", "resource_uuid")
    drop = helpers.has_column("userlogs", "resource_type")
    if not (rename or drop):
        return
    with op.batch_alter_table("userlogs") as batch:
        if rename:
            batch.alter_column(
                "resource_uuid", new_column_name="assembly_uuid",
                existing_type=sa.String(36), existing_nullable=False)
        if drop:
            batch.drop_column("resource_type")
