"""Inbound feedback (MO SMS, unreadable receipts, e-mail bounces) and the e-mail
addresses that hard-bounced.

Revision ID: dispatch_inbound_0002
Revises: dispatch_0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "dispatch_inbound_0002"
down_revision = "dispatch_0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Everything a subscriber or a provider sent us that is not the answer to a send:
    # kept raw (never dropped), shown on the subscriber lookup page.
    op.create_table(
        "dispatch_inbound",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),  # mo | raw_receipt | bounce
        sa.Column("bind", sa.String(120), nullable=False, server_default=""),
        sa.Column("msisdn", sa.BigInteger(), nullable=True),
        sa.Column("source", sa.String(320), nullable=False, server_default=""),
        sa.Column("destination", sa.String(320), nullable=False, server_default=""),
        sa.Column("text", sa.Text(), nullable=False, server_default=""),
        sa.Column("raw", sa.Text(), nullable=False, server_default=""),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(40), nullable=True),
    )
    op.create_index("ix_dispatch_inbound_msisdn", "dispatch_inbound", ["msisdn", "received_at"])
    op.create_table(
        "dispatch_bounced_address",
        sa.Column("address", sa.String(320), primary_key=True),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=True),
        sa.Column("bounced_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dispatch_bounced_address")
    op.drop_index("ix_dispatch_inbound_msisdn", "dispatch_inbound")
    op.drop_table("dispatch_inbound")
