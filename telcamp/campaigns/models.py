"""Campaign tables: program → campaign → cell / wave → contact, and approvals.

Datetimes are stored timezone-aware (UTC); SQLite drops the offset, so `UTCDateTime`
puts it back on read. Contacts are the big table (tens of millions of rows): narrow
columns, a BIGINT msisdn, and one index shaped for dispatch.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telcamp.core.db import Base, UTCDateTime

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL needs BIGINT for contacts.
BigId = BigInteger().with_variant(Integer, "sqlite")




class Program(Base):
    __tablename__ = "program"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    goal: Mapped[str] = mapped_column(Text, default="")
    kpis: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    budget: Mapped[float] = mapped_column(Numeric(14, 2, asdecimal=False), default=0)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    region_code: Mapped[str] = mapped_column(String(50))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    campaigns: Mapped[list[Campaign]] = relationship(back_populates="program")


# Campaigns that may still read their segments, snapshots and lists: not completed and
# not cancelled (what a segment or list delete must not pull from under them)
LIVE_CAMPAIGN_STATES = ("draft", "submitted", "approved", "scheduled", "running", "paused")


class Campaign(Base):
    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(50))
    segment_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    snapshot_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # A recurring wave takes a fresh snapshot of the segment unless the audience is fixed.
    fixed_audience: Mapped[bool] = mapped_column(Boolean, default=True)
    offer_code: Mapped[str] = mapped_column(String(100), default="")
    offer_type: Mapped[str] = mapped_column(String(50), default="")
    priority: Mapped[int] = mapped_column(Integer, default=50)
    state: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    budget: Mapped[float] = mapped_column(Numeric(14, 2, asdecimal=False), default=0)
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    auto_launch: Mapped[bool] = mapped_column(Boolean, default=True)
    # 'once' = once per campaign; 'every_n_days' = at most once every reparticipation_days.
    reparticipation: Mapped[str] = mapped_column(String(20), default="once")
    reparticipation_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # {"include": [...list names to add], "skip": [...default lists not applied]}
    exclusion_overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rehearsal: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # What the approvers saw at the last submission, to show what changed since then.
    submitted_content: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    is_template: Mapped[bool] = mapped_column(Boolean, default=False)
    cloned_from: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(100))
    submitted_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state_reason: Mapped[str] = mapped_column(Text, default="")

    program: Mapped[Program] = relationship(back_populates="campaigns")
    cells: Mapped[list[Cell]] = relationship(
        back_populates="campaign", order_by="Cell.position", cascade="all, delete-orphan"
    )
    waves: Mapped[list[Wave]] = relationship(
        back_populates="campaign", order_by="Wave.id", cascade="all, delete-orphan"
    )
    approvals: Mapped[list[Approval]] = relationship(
        back_populates="campaign", order_by="Approval.id", cascade="all, delete-orphan"
    )


class Cell(Base):
    __tablename__ = "campaign_cell"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    # A segment rule (segments JSON) or {"value_tier": "high"}; None = the default cell.
    rule: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    control_pct: Mapped[float] = mapped_column(Numeric(5, 2, asdecimal=False), default=0)
    offer_code: Mapped[str] = mapped_column(String(100), default="")
    reward_type: Mapped[str] = mapped_column(String(50), default="")
    reward_size: Mapped[float] = mapped_column(Numeric(12, 2, asdecimal=False), default=0)
    reward_validity_days: Mapped[int] = mapped_column(Integer, default=0)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    # {"sms": {"en": "...", "ru": "..."}, "email": {...}}
    messages: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    schedule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    campaign: Mapped[Campaign] = relationship(back_populates="cells")


class Wave(Base):
    __tablename__ = "campaign_wave"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    cell_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_cell.id"), nullable=True)
    channel: Mapped[str] = mapped_column(String(20))
    # {"kind": "once"|"daily"|"weekly"|"days", "weekdays": [0..6], "days": ["2026-12-01"]}
    schedule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    window_start: Mapped[str] = mapped_column(String(5), default="09:00")
    window_end: Mapped[str] = mapped_column(String(5), default="20:00")
    state: Mapped[str] = mapped_column(String(20), default="planned", index=True)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    snapshot_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    contacts_planned: Mapped[int] = mapped_column(BigInteger, default=0)
    controls: Mapped[int] = mapped_column(BigInteger, default=0)

    campaign: Mapped[Campaign] = relationship(back_populates="waves")
    cell: Mapped[Cell | None] = relationship()


class Contact(Base):
    __tablename__ = "contact"
    __table_args__ = (
        # Dispatch reads "the next due contacts of channel C, by priority". Partial on
        # 'planned' since migration dispatch_0002_claim: a claimed row leaves it without a
        # new index entry (see that migration; dispatch also has ix_contact_sending).
        Index("ix_contact_dispatch", "channel", "priority", "planned_at",
              postgresql_where=text("state = 'planned'"),
              sqlite_where=text("state = 'planned'")),
        # Re-participation and per-wave counts; every index costs ~1 µs a row on 10M inserts,
        # so there is no separate wave index (wave queries also name the campaign).
        Index("ix_contact_campaign_msisdn", "campaign_id", "msisdn"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(Integer)
    wave_id: Mapped[int] = mapped_column(Integer)
    cell_id: Mapped[int] = mapped_column(Integer)
    run: Mapped[int] = mapped_column(Integer, default=1)
    msisdn: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(20))
    priority: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20))
    is_control: Mapped[bool] = mapped_column(Boolean)
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    language: Mapped[str | None] = mapped_column(String(10), nullable=True)
    # The message is rendered at dispatch from the cell's template for this language.
    template_ref: Mapped[str | None] = mapped_column(String(100), nullable=True)


class Approval(Base):
    __tablename__ = "campaign_approval"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    step: Mapped[int] = mapped_column(Integer)
    approver_role: Mapped[str] = mapped_column(String(50))
    approver_region: Mapped[str] = mapped_column(String(50), index=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    # pending | approved | rejected | void
    decision: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    campaign: Mapped[Campaign] = relationship(back_populates="approvals")
