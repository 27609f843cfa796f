"""Special lists: metadata, members, per-campaign overrides of default exclusions.

Revision ID: lists_0001
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "lists_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "special_list",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("region_code", sa.String(32), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("default_excluded", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("region_code", "name", name="uq_special_list_region_name"),
    )
    op.create_index("ix_special_list_region_code", "special_list", ["region_code"])
    op.create_table(
        "special_list_member",
        sa.Column(
            "list_id", sa.Integer(),
            sa.ForeignKey("special_list.id", ondelete="CASCADE",
                          name="fk_special_list_member_list_id_special_list"),
            primary_key=True,
        ),
        sa.Column("msisdn", sa.BigInteger(), primary_key=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_special_list_member_msisdn", "special_list_member", ["msisdn"])
    op.create_table(
        "special_list_override",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "list_id", sa.Integer(),
            sa.ForeignKey("special_list.id", ondelete="CASCADE",
                          name="fk_special_list_override_list_id_special_list"),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("campaign_id", "list_id",
                            name="uq_special_list_override_campaign_list"),
    )
    op.create_index(
        "ix_special_list_override_campaign_id", "special_list_override", ["campaign_id"]
    )


def downgrade() -> None:
    op.drop_table("special_list_override")
    op.drop_table("special_list_member")
    op.drop_table("special_list")
