"""Segments and criteria templates can be deleted: soft delete (deleted_at, deleted_by).

A deleted segment keeps its row, versions and snapshots, so what a past campaign or an
audit entry refers to stays readable; it leaves the lists, cannot be edited, snapshotted
or referenced by in_segment any more. docs/segments.md ("Deleting").

Revision ID: segments_0002
Revises: segments_0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "segments_0002"
down_revision = "segments_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("segment", "segment_template"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True),
                                       nullable=True))
            batch.add_column(sa.Column("deleted_by", sa.String(64), nullable=True))


def downgrade() -> None:
    for table in ("segment", "segment_template"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("deleted_by")
            batch.drop_column("deleted_at")
