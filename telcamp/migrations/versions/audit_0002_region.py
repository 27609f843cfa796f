"""Audit: the owning region of each entry's object, so a regional admin reads only the
audit trail of their subtree.

Revision ID: audit_0002
Revises: audit_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "audit_0002"
down_revision = "audit_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Adding a column is allowed by the append-only triggers (they guard rows, not DDL).
    with op.batch_alter_table("audit_entry") as batch:
        batch.add_column(sa.Column("region_code", sa.String(32), nullable=True))
    op.create_index("ix_audit_entry_region_code", "audit_entry", ["region_code"])


def downgrade() -> None:
    op.drop_index("ix_audit_entry_region_code", "audit_entry")
    with op.batch_alter_table("audit_entry") as batch:
        batch.drop_column("region_code")
