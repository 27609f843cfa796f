"""API shapes of programs, campaigns, cells, waves and approvals (pydantic v2)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Channel = Literal["sms", "email", "ivr", "call", "push", "mms"]
CHANNELS: tuple[str, ...] = ("sms", "email", "ivr", "call", "push", "mms")
ScheduleKind = Literal["once", "daily", "weekly", "days"]


class ProgramCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    goal: str = ""
    kpis: dict[str, Any] = Field(default_factory=dict)
    budget: float = Field(ge=0)
    start_date: date
    end_date: date
    region_code: str = Field(min_length=1)


class ProgramUpdate(BaseModel):
    """Any subset of a program's fields; the owning region does not change."""

    name: str | None = Field(None, min_length=1, max_length=200)
    goal: str | None = None
    kpis: dict[str, Any] | None = None
    budget: float | None = Field(None, ge=0)
    start_date: date | None = None
    end_date: date | None = None


class ProgramRead(ProgramCreate):
    model_config = ConfigDict(from_attributes=True)
    id: int
    created_by: str
    created_at: datetime


class CellIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    rule: dict[str, Any] | None = None
    control_pct: float = 0
    offer_code: str = ""
    reward_type: str = ""
    reward_size: float = Field(0, ge=0)
    reward_validity_days: int = Field(0, ge=0)
    channels: list[Channel] = Field(default_factory=lambda: list[Channel](["sms"]))
    messages: dict[str, dict[str, str]] = Field(default_factory=dict)
    schedule: dict[str, Any] = Field(default_factory=dict)


class CellRead(CellIn):
    model_config = ConfigDict(from_attributes=True)
    id: int
    position: int


class WaveSchedule(BaseModel):
    kind: ScheduleKind = "once"
    weekdays: list[int] = Field(default_factory=list)  # 0 = Monday
    days: list[date] = Field(default_factory=list)

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, v: list[int]) -> list[int]:
        bad = [d for d in v if not 0 <= d <= 6]
        if bad:
            raise ValueError(f"weekdays are 0 (Monday) to 6 (Sunday), got {bad}")
        return v

    @model_validator(mode="after")
    def _weekly_has_days(self) -> WaveSchedule:
        # without a day the scheduler would have to guess one (it used to run Mondays)
        if self.kind == "weekly" and not self.weekdays:
            raise ValueError("a weekly wave needs at least one weekday")
        return self


class WaveIn(BaseModel):
    channel: Channel
    cell_name: str | None = None
    schedule: WaveSchedule = Field(default_factory=WaveSchedule)
    window_start: str = Field("09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    window_end: str = Field("20:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class WaveRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    cell_id: int | None
    channel: str
    schedule: dict[str, Any]
    window_start: str
    window_end: str
    state: str
    next_run_at: datetime | None
    last_run_at: datetime | None
    runs: int
    contacts_planned: int
    controls: int


class CampaignCreate(BaseModel):
    program_id: int
    name: str = Field(min_length=1, max_length=200)
    region_code: str | None = None  # default: the program's region
    segment_id: int | None = None
    snapshot_id: int | None = None
    fixed_audience: bool = True
    offer_code: str = ""
    offer_type: str = ""
    priority: int = Field(50, ge=0, le=100)
    budget: float = Field(0, ge=0)
    start_at: datetime | None = None
    end_at: datetime | None = None
    auto_launch: bool = True
    reparticipation: Literal["once", "every_n_days"] = "once"
    reparticipation_days: int | None = Field(None, ge=1)
    exclusion_overrides: dict[str, Any] = Field(default_factory=dict)
    cells: list[CellIn] = Field(default_factory=list)
    waves: list[WaveIn] = Field(default_factory=list)


class CampaignUpdate(BaseModel):
    """Any subset of the campaign's content; cells and waves replace the whole list."""

    name: str | None = Field(None, min_length=1, max_length=200)
    segment_id: int | None = None
    snapshot_id: int | None = None
    fixed_audience: bool | None = None
    offer_code: str | None = None
    offer_type: str | None = None
    priority: int | None = Field(None, ge=0, le=100)
    budget: float | None = Field(None, ge=0)
    start_at: datetime | None = None
    end_at: datetime | None = None
    auto_launch: bool | None = None
    reparticipation: Literal["once", "every_n_days"] | None = None
    reparticipation_days: int | None = Field(None, ge=1)
    exclusion_overrides: dict[str, Any] | None = None
    cells: list[CellIn] | None = None
    waves: list[WaveIn] | None = None


class ApprovalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    campaign_id: int
    round: int
    step: int
    approver_role: str
    approver_region: str
    reason: str
    decision: str
    decided_by: str | None
    comment: str
    created_at: datetime
    decided_at: datetime | None


class CampaignRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    program_id: int
    name: str
    region_code: str
    segment_id: int | None
    snapshot_id: int | None
    fixed_audience: bool
    offer_code: str
    offer_type: str
    priority: int
    state: str
    state_reason: str
    budget: float
    start_at: datetime | None
    end_at: datetime | None
    auto_launch: bool
    reparticipation: str
    reparticipation_days: int | None
    exclusion_overrides: dict[str, Any]
    rehearsal: dict[str, Any] | None
    is_template: bool
    cloned_from: int | None
    created_by: str
    submitted_by: str | None
    created_at: datetime
    updated_at: datetime
    cells: list[CellRead]
    waves: list[WaveRead]
    approvals: list[ApprovalRead]


class Decision(BaseModel):
    comment: str = ""


class Reason(BaseModel):
    reason: str = ""


class PreviewIn(BaseModel):
    # None: a random member of the cell, from the campaign's audience snapshot
    msisdn: str | None = Field(default=None, pattern=r"^\d{8,15}$")
    cell_name: str | None = None
    channel: Channel = "sms"
    language: str | None = None
    text: str | None = None  # preview this text instead of the stored template
    texts: dict[str, str] = Field(default_factory=dict)  # unsaved texts by language
