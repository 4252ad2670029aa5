"""empty message

Revision ID: a271b35952be
Revises: 272e7cd352f9
Create Date: 2016-02-03 15:46:27.641527

Adds app.scale_config.
"""

import sqlalchemy as sa

from solum_db_manage import coltypes
from solum_db_manage.alembic_migrations import helpers

# revision identifiers, used by Alembic.
revision = "a271b35952be"
down_revision = "272e7cd352f9"
branch_labels = None
depends_on = None


def upgrade():
    helpers.add_column("app", sa.Column("scale_config", coltypes.text(1024)))


def downgrade():
    helpers.drop_columns("app", "scale_config")
