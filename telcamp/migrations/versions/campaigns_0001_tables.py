"""Campaigns: program, campaign, cells, waves, contacts, approvals.

Revision ID: campaigns_0001
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "campaigns_0001"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
MONEY = sa.Numeric(14, 2)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "program",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("kpis", sa.JSON(), nullable=False),
        sa.Column("budget", MONEY, nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("region_code", sa.String(50), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("program_id", sa.Integer(), sa.ForeignKey("program.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("region_code", sa.String(50), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=True),
        sa.Column("snapshot_id", sa.BigInteger(), nullable=True),
        sa.Column("fixed_audience", sa.Boolean(), nullable=False),
        sa.Column("offer_code", sa.String(100), nullable=False),
        sa.Column("offer_type", sa.String(50), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("budget", MONEY, nullable=False),
        sa.Column("start_at", TS, nullable=True),
        sa.Column("end_at", TS, nullable=True),
        sa.Column("auto_launch", sa.Boolean(), nullable=False),
        sa.Column("reparticipation", sa.String(20), nullable=False),
        sa.Column("reparticipation_days", sa.Integer(), nullable=True),
        sa.Column("exclusion_overrides", sa.JSON(), nullable=False),
        sa.Column("rehearsal", sa.JSON(), nullable=True),
        sa.Column("submitted_content", sa.JSON(), nullable=True),
        sa.Column("is_template", sa.Boolean(), nullable=False),
        sa.Column("cloned_from", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("submitted_by", sa.String(100), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=False),
    )
    op.create_index("ix_campaign_program_id", "campaign", ["program_id"])
    op.create_index("ix_campaign_state", "campaign", ["state"])
    op.create_table(
        "campaign_cell",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaign.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=True),
        sa.Column("control_pct", sa.Numeric(5, 2), nullable=False),
        sa.Column("offer_code", sa.String(100), nullable=False),
        sa.Column("reward_type", sa.String(50), nullable=False),
        sa.Column("reward_size", sa.Numeric(12, 2), nullable=False),
        sa.Column("reward_validity_days", sa.Integer(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("messages", sa.JSON(), nullable=False),
        sa.Column("schedule", sa.JSON(), nullable=False),
    )
    op.create_index("ix_campaign_cell_campaign_id", "campaign_cell", ["campaign_id"])
    op.create_table(
        "campaign_wave",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaign.id"), nullable=False),
        sa.Column("cell_id", sa.Integer(), sa.ForeignKey("campaign_cell.id"), nullable=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("schedule", sa.JSON(), nullable=False),
        sa.Column("window_start", sa.String(5), nullable=False),
        sa.Column("window_end", sa.String(5), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("next_run_at", TS, nullable=True),
        sa.Column("last_run_at", TS, nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.BigInteger(), nullable=True),
        sa.Column("contacts_planned", sa.BigInteger(), nullable=False),
        sa.Column("controls", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_campaign_wave_campaign_id", "campaign_wave", ["campaign_id"])
    op.create_index("ix_campaign_wave_state", "campaign_wave", ["state"])
    op.create_table(
        "contact",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("cell_id", sa.Integer(), nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("msisdn", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("is_control", sa.Boolean(), nullable=False),
        sa.Column("planned_at", TS, nullable=False),
        sa.Column("language", sa.String(10), nullable=True),
        sa.Column("template_ref", sa.String(100), nullable=True),
    )
    op.create_index(
        "ix_contact_dispatch", "contact", ["state", "channel", "priority", "planned_at"]
    )
    op.create_index("ix_contact_campaign_msisdn", "contact", ["campaign_id", "msisdn"])
    op.create_table(
        "campaign_approval",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaign.id"), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("approver_role", sa.String(50), nullable=False),
        sa.Column("approver_region", sa.String(50), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("decided_at", TS, nullable=True),
    )
    op.create_index("ix_campaign_approval_campaign_id", "campaign_approval", ["campaign_id"])
    op.create_index(
        "ix_campaign_approval_approver_region", "campaign_approval", ["approver_region"]
    )
    op.create_index("ix_campaign_approval_decision", "campaign_approval", ["decision"])


def downgrade() -> None:
    for table in ("campaign_approval", "contact", "campaign_wave", "campaign_cell",
                  "campaign", "program"):
        op.drop_table(table)
