"""The reason of each outcome event (suppressed, deferred, failed, …) so the warehouse
contact history keeps it; and the parts of multi-part SMS replies (MO) until the whole
message is there.

Why a table for MO parts: the SMSC gets each part's deliver_sm_resp as it arrives, so a
part held only in a worker's memory is lost when the worker restarts, and parts received
on two binds (or by two workers) were never joined. Parts wait here until the last one
arrives (then the joined text is processed and the parts deleted) or until they are
older than TELCAMP_DISPATCH_MO_PARTS_EXPIRE_S (then the parts are processed one by one and
a warning is logged).

Revision ID: dispatch_0003_reason_mo
Revises: dispatch_inbound_0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "dispatch_0003_reason_mo"
down_revision = "dispatch_inbound_0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Nullable: a metadata-only change on PostgreSQL, whatever the backlog of events.
    with op.batch_alter_table("dispatch_event") as b:
        b.add_column(sa.Column("reason", sa.String(200), nullable=True))
    op.create_table(
        "dispatch_mo_part",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("source", sa.String(320), nullable=False),
        sa.Column("destination", sa.String(320), nullable=False),
        sa.Column("ref", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("bind", sa.String(120), nullable=False, server_default=""),
        sa.Column("text", sa.Text(), nullable=False, server_default=""),
        sa.Column("raw", sa.Text(), nullable=False, server_default=""),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        # A part the SMSC sent twice (its resp was lost) is stored once.
        sa.UniqueConstraint("channel", "source", "destination", "ref", "total", "seq",
                            name="uq_dispatch_mo_part"),
    )
    op.create_index("ix_dispatch_mo_part_received", "dispatch_mo_part", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_dispatch_mo_part_received", "dispatch_mo_part")
    op.drop_table("dispatch_mo_part")
    with op.batch_alter_table("dispatch_event") as b:
        b.drop_column("reason")
