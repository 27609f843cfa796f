"""Saved segments, their versions, snapshots and criteria templates (operational DB).

A segment's rule never changes in place: each edit adds a `segment_version`, so a
snapshot or a campaign that used version 3 can always show what version 3 said. Snapshot
members live in the warehouse table `segment_snapshot_members` (set-based, millions of
rows); the row here carries the counts, the funnel and the as-of date they came from.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from telcamp.core.db import Base, UTCDateTime

# The shared aware-UTC column type, under the name this domain has always used.
AwareDateTime = UTCDateTime


class Segment(Base):
    __tablename__ = "segment"
    __table_args__ = (UniqueConstraint("region_code", "name", name="uq_segment_region_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    # owning region node; None = operator-wide (created by an unrestricted user)
    region_code: Mapped[str | None] = mapped_column(String(32), index=True)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    updated_at: Mapped[datetime] = mapped_column(AwareDateTime())
    # Soft delete: the row, its versions and snapshots stay readable (audit, campaigns)
    deleted_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class SegmentVersion(Base):
    __tablename__ = "segment_version"
    __table_args__ = (UniqueConstraint("segment_id", "version",
                                       name="uq_segment_version_segment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segment.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())


class SegmentSnapshot(Base):
    __tablename__ = "segment_snapshot"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segment.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime] = mapped_column(AwareDateTime())
    taken_by: Mapped[str] = mapped_column(String(64))
    matched: Mapped[int] = mapped_column(BigInteger)  # before exclusions
    count: Mapped[int] = mapped_column(BigInteger)  # members stored (after exclusions)
    funnel: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    as_of_date: Mapped[date | None] = mapped_column(Date)
    region_code: Mapped[str | None] = mapped_column(String(32))  # scope it was taken in


class SegmentTemplate(Base):
    __tablename__ = "segment_template"
    __table_args__ = (UniqueConstraint("region_code", "name",
                                       name="uq_segment_template_region_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    region_code: Mapped[str | None] = mapped_column(String(32), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
