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
