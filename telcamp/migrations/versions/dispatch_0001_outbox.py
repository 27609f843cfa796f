"""Outbox columns on contact (lease, attempts, times, provider id, reason), the
provider-id map for receipts, orphan receipts, the send log the caps read, and the event
log that feeds the warehouse contact history.

Revision ID: dispatch_0001
Revises: 0001
Depends on: campaigns_0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "dispatch_0001"
down_revision = "0001"
branch_labels = None
depends_on = ("campaigns_0001",)

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Nullable / server-default columns: a metadata-only change on PostgreSQL 11+, so a
    # 10M-row contact table is not rewritten.
    with op.batch_alter_table("contact") as b:
        b.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        b.add_column(sa.Column("lease_id", sa.String(40), nullable=True))
        b.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("provider_id", sa.String(80), nullable=True))
        b.add_column(sa.Column("reason", sa.String(200), nullable=True))
    # No lease index: reconciliation finds 'sending' rows through ix_contact_dispatch
    # (state first), and every extra index costs each claim an index insert per row.
    op.create_table(
        "dispatch_message_id",
        sa.Column("provider_id", sa.String(80), primary_key=True),
        sa.Column("channel", sa.String(20), primary_key=True),
        sa.Column("contact_id", sa.BigInteger(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
    )
    op.create_table(
        "dispatch_orphan",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("provider_id", sa.String(80), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    # One row per contact handed to a channel: what the frequency caps and the minimum gap
    # count, across campaigns, without an msisdn index on the big contact table.
    op.create_table(
        "dispatch_send_log",
        sa.Column("contact_id", sa.BigInteger(), primary_key=True),
        sa.Column("msisdn", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_dispatch_send_log_msisdn", "dispatch_send_log", ["msisdn", "sent_at"])
    # Outcome events in commit order; the warehouse sync copies rows above its high-water.
    op.create_table(
        "dispatch_event",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("contact_id", sa.BigInteger(), nullable=False),
        sa.Column("msisdn", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dispatch_event")
    op.drop_table("dispatch_send_log")
    op.drop_table("dispatch_orphan")
    op.drop_table("dispatch_message_id")
    with op.batch_alter_table("contact") as b:
        for col in ("reason", "provider_id", "done_at", "sent_at", "lease_until", "lease_id",
                    "attempts"):
            b.drop_column(col)
