"""Special lists: index members by (list_id, added_at) so a list's newest members are read
without sorting the whole list.

Revision ID: lists_0002
Revises: lists_0001
Create Date: 2026-11-22
"""

from alembic import op

revision = "lists_0002"
down_revision = "lists_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_special_list_member_list_added", "special_list_member",
                    ["list_id", "added_at"])


def downgrade() -> None:
    op.drop_index("ix_special_list_member_list_added", "special_list_member")
