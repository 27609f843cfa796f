"""API shapes of the contact policy."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

WINDOWS = ("24h", "7d", "30d")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _check_caps(caps: dict[str, int | None], where: str) -> dict[str, int | None]:
    for key, value in caps.items():
        if key not in WINDOWS:
            raise ValueError(f"{where}: unknown window {key!r} (use {', '.join(WINDOWS)})")
        if value is not None and value < 0:
            raise ValueError(f"{where}.{key}: a cap cannot be negative")
    return caps


def _check_hhmm(value: str, where: str) -> str:
    if not _HHMM.match(value):
        raise ValueError(f"{where}: {value!r} is not a time HH:MM")
    return value


class PolicyUpdate(BaseModel):
    """A new version of the policy (every field is the whole new value)."""

    model_config = ConfigDict(extra="forbid")

    caps: dict[str, int | None] = Field(
        default_factory=dict, description="Contacts per subscriber over every channel, per "
        "rolling window: keys 24h, 7d, 30d; null or absent = no cap.")
    channel_caps: dict[str, dict[str, int | None]] = Field(
        default_factory=dict,
        description="The same caps per channel, e.g. {\"sms\": {\"24h\": 1}}.")
    min_gap_minutes: int = Field(0, ge=0, le=60 * 24 * 30,
                                 description="Minimum time between two contacts of a subscriber.")
    quiet_start: str = Field("21:00", description="Quiet hours start, subscriber's local time.")
    quiet_end: str = Field("08:00", description="Quiet hours end (the next send window opens).")
    region_quiet: dict[str, list[str]] = Field(
        default_factory=dict, description="Per region node: [start, end]; applies to the node "
        "and every region below it; the nearest node wins.")
    default_timezone: str = Field("UTC", description="Time zone when the region has none.")
    list_types: list[str] = Field(
        default_factory=lambda: ["optout", "blacklist"],
        description="Special-list types whose members are never contacted (opt-out/DND).")
    arbitration_hours: int = Field(
        24, ge=0, le=24 * 30, description="Two campaigns planned for one subscriber within "
        "this many hours collide; the higher priority wins, ties by expected value.")
    note: str = Field("", max_length=2000, description="Why this version was made.")

    @field_validator("caps")
    @classmethod
    def _caps(cls, v: dict[str, int | None]) -> dict[str, int | None]:
        return _check_caps(v, "caps")

    @field_validator("channel_caps")
    @classmethod
    def _channel_caps(cls, v: dict[str, dict[str, int | None]]
                      ) -> dict[str, dict[str, int | None]]:
        for channel, caps in v.items():
            _check_caps(caps, f"channel_caps.{channel}")
        return v

    @field_validator("quiet_start", "quiet_end")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        return _check_hhmm(v, "quiet hours")

    @field_validator("region_quiet")
    @classmethod
    def _region_quiet(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for region, pair in v.items():
            if len(pair) != 2:
                raise ValueError(f"region_quiet.{region}: give [start, end]")
            for t in pair:
                _check_hhmm(t, f"region_quiet.{region}")
        return v

    @field_validator("default_timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v


class PolicyRead(PolicyUpdate):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    version: int = 0  # 0 = the built-in default (no version saved yet)
    created_by: str = "system"
    created_at: datetime | None = None
