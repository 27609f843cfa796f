"""Segments: saved segments, versions, snapshots, criteria templates.

Revision ID: segments_0001
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "segments_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "segment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("region_code", sa.String(32), nullable=True),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.UniqueConstraint("region_code", "name", name="uq_segment_region_name"),
    )
    op.create_index("ix_segment_region_code", "segment", ["region_code"])
    op.create_table(
        "segment_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("segment_id", sa.Integer(),
                  sa.ForeignKey("segment.id", ondelete="CASCADE",
                                name="fk_segment_version_segment_id_segment"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _ts("created_at"),
        sa.UniqueConstraint("segment_id", "version", name="uq_segment_version_segment_id"),
    )
    op.create_index("ix_segment_version_segment_id", "segment_version", ["segment_id"])
    op.create_table(
        "segment_snapshot",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("segment_id", sa.Integer(),
                  sa.ForeignKey("segment.id", ondelete="CASCADE",
                                name="fk_segment_snapshot_segment_id_segment"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _ts("taken_at"),
        sa.Column("taken_by", sa.String(64), nullable=False),
        sa.Column("matched", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("funnel", sa.JSON(), nullable=False),
        sa.Column("as_of_date", sa.Date(), nullable=True),
        sa.Column("region_code", sa.String(32), nullable=True),
    )
    op.create_index("ix_segment_snapshot_segment_id", "segment_snapshot", ["segment_id"])
    op.create_table(
        "segment_template",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("region_code", sa.String(32), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _ts("created_at"),
        sa.UniqueConstraint("region_code", "name", name="uq_segment_template_region_name"),
    )
    op.create_index("ix_segment_template_region_code", "segment_template", ["region_code"])


def downgrade() -> None:
    op.drop_table("segment_template")
    op.drop_table("segment_snapshot")
    op.drop_table("segment_version")
    op.drop_table("segment")
