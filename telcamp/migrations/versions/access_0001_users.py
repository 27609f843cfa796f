"""Access: users, console sessions, API tokens, login attempts.

Revision ID: access_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "access_0001"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "access_user",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("region_code", sa.String(32), nullable=True),
        sa.Column("region_name", sa.String(200), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("password_changed_at", TS, nullable=False),
        sa.UniqueConstraint("username", name="uq_access_user_username"),
    )
    op.create_table(
        "access_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column(
            "user_id", sa.Integer(),
            sa.ForeignKey("access_user.id", name="fk_access_session_user_id_access_user"),
            nullable=False,
        ),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_access_session_token_hash"),
    )
    op.create_index("ix_access_session_user_id", "access_session", ["user_id"])
    op.create_table(
        "access_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("region_code", sa.String(32), nullable=True),
        sa.Column("region_name", sa.String(200), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("last_used_at", TS, nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_access_token_token_hash"),
    )
    op.create_table(
        "access_login_attempt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_access_login_attempt_username", "access_login_attempt", ["username"])
    op.create_index("ix_access_login_attempt_ip", "access_login_attempt", ["ip"])
    op.create_index("ix_access_login_attempt_at", "access_login_attempt", ["at"])


def downgrade() -> None:
    op.drop_table("access_login_attempt")
    op.drop_table("access_token")
    op.drop_table("access_session")
    op.drop_table("access_user")
