"""Contact policy: one versioned row per change; the newest active row is the policy.

Revision ID: policy_0001
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "policy_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_policy",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False, unique=True),
        sa.Column("caps", sa.JSON(), nullable=False),
        sa.Column("channel_caps", sa.JSON(), nullable=False),
        sa.Column("min_gap_minutes", sa.Integer(), nullable=False),
        sa.Column("quiet_start", sa.String(5), nullable=False),
        sa.Column("quiet_end", sa.String(5), nullable=False),
        sa.Column("region_quiet", sa.JSON(), nullable=False),
        sa.Column("default_timezone", sa.String(64), nullable=False),
        sa.Column("list_types", sa.JSON(), nullable=False),
        sa.Column("arbitration_hours", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("contact_policy")
