"""The contact policy table: one row per version; the highest version is in force."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from telcamp.core.db import Base, UTCDateTime


class ContactPolicy(Base):
    __tablename__ = "contact_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    # {"24h": 2, "7d": 5, "30d": 12}; a missing or null key = no cap
    caps: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # {"sms": {"24h": 1}, "email": {"7d": 3}}
    channel_caps: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    min_gap_minutes: Mapped[int] = mapped_column(Integer, default=0)
    quiet_start: Mapped[str] = mapped_column(String(5), default="21:00")
    quiet_end: Mapped[str] = mapped_column(String(5), default="08:00")
    # {"P01": ["22:00", "08:00"]}: overrides for a region node and everything below it
    region_quiet: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    default_timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    list_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    arbitration_hours: Mapped[int] = mapped_column(Integer, default=24)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
