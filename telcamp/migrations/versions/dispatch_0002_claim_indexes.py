"""Narrower outbox indexes for the claim: the dispatch index holds only 'planned'
contacts, and a small partial index finds the 'sending' ones (leases).

Why: a claim turns 'planned' into 'sending'. With `state` as the first column of a
full index every claimed row got a new entry in it (PostgreSQL cannot do a HOT update
when an indexed column changes). Partial on state = 'planned', the index gets no entry
for the claimed row and stays the size of the backlog: about a quarter less backend CPU
per row for the UPDATE alone, 10–20 % for the whole claim (docs/performance.md,
Dispatch). Reconciliation, lease renewal and release read 'sending' rows through
ix_contact_sending, which only ever holds the batches in flight.

Queries must name the state as a literal ('planned' / 'sending') for the planner to
prove the predicate: telcamp.dispatch.tables.state_is() does that.

Revision ID: dispatch_0002_claim
Revises: dispatch_0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "dispatch_0002_claim"
down_revision = "dispatch_0001"
branch_labels = None
depends_on = None

PLANNED = sa.text("state = 'planned'")
SENDING = sa.text("state = 'sending'")


def upgrade() -> None:
    op.drop_index("ix_contact_dispatch", table_name="contact")
    op.create_index("ix_contact_dispatch", "contact", ["channel", "priority", "planned_at"],
                    postgresql_where=PLANNED, sqlite_where=PLANNED)
    op.create_index("ix_contact_sending", "contact", ["lease_until"],
                    postgresql_where=SENDING, sqlite_where=SENDING)


def downgrade() -> None:
    op.drop_index("ix_contact_sending", table_name="contact")
    op.drop_index("ix_contact_dispatch", table_name="contact")
    op.create_index("ix_contact_dispatch", "contact",
                    ["state", "channel", "priority", "planned_at"])
