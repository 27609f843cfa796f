"""Special lists in the operational database: metadata, members and per-campaign overrides.

The operational DB is the source of truth for members too (one transaction with the audit
row, works the same on SQLite and PostgreSQL); the warehouse table `list_members` is a
projection of it, kept in step by telcamp.lists.sync using `SpecialList.version`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from telcamp.core.db import Base, UTCDateTime

LIST_TYPES: tuple[str, ...] = ("blacklist", "greylist", "optout", "test", "custom")
# Types excluded from every campaign unless an admin overrides one list for one campaign,
# in the order the exclusion funnel applies them.
DEFAULT_EXCLUDED_TYPES: tuple[str, ...] = ("blacklist", "greylist", "optout")


# The shared aware-UTC column type, under the name this domain has always used.
ListDateTime = UTCDateTime


class SpecialList(Base):
    __tablename__ = "special_list"
    __table_args__ = (UniqueConstraint("region_code", "name", name="uq_special_list_region_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(20))
    # Owning region node; None = operator-wide (created by operator IT). Names are unique per
    # owner; the service also checks the None owner, which SQL UNIQUE treats as distinct.
    region_code: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    default_excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped by every change of the members; the warehouse copy records the version it holds.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(ListDateTime())
    updated_at: Mapped[datetime] = mapped_column(ListDateTime())


class ListMember(Base):
    __tablename__ = "special_list_member"
    # The newest members of a list are shown first; without it a big list is sorted whole.
    __table_args__ = (Index("ix_special_list_member_list_added", "list_id", "added_at"),)

    list_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("special_list.id", ondelete="CASCADE"), primary_key=True
    )
    # BIGINT as in the warehouse; digit strings only at the edges.
    msisdn: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(ListDateTime(), nullable=True)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(ListDateTime())


class ListOverride(Base):
    """An admin lets one campaign ignore one default-excluded list."""

    __tablename__ = "special_list_override"
    __table_args__ = (
        UniqueConstraint("campaign_id", "list_id", name="uq_special_list_override_campaign_list"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigInteger, index=True)
    list_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("special_list.id", ondelete="CASCADE")
    )
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(ListDateTime())
