"""Access: users carry an e-mail address (approval notifications go to it).

Revision ID: access_0002
Revises: access_0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "access_0002"
down_revision = "access_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite cannot ALTER a table in place beyond adding columns
    with op.batch_alter_table("access_user") as batch:
        batch.add_column(sa.Column("email", sa.String(254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("access_user") as batch:
        batch.drop_column("email")
