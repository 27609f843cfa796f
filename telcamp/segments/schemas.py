"""API shapes of segments, versions, snapshots, templates and audience figures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ParamType = Literal["str", "int", "float", "date", "bool"]


class RuleRequest(BaseModel):
    """A rule to count, with options for the profile and sample."""

    rule: dict[str, Any]
    field: str | None = Field(None, description="an extra profile dimension")
    size: int = Field(20, ge=1, le=200, description="sample size")
    campaign_id: int | None = Field(None, description="apply this campaign's list overrides")
    segment_id: int | None = Field(None, description="the rule is this saved segment's: count "
                                   "it in the segment's region, as its snapshots are")


class SegmentCreate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)  # a blank name is no name

    name: str = Field(min_length=1, max_length=120)
    description: str = ""
    rule: dict[str, Any]


class SegmentUpdate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)  # a blank name is no name

    name: str | None = Field(None, min_length=1, max_length=120)
    description: str | None = None
    rule: dict[str, Any] | None = None
    note: str = ""


class SegmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    region_code: str | None
    current_version: int
    rule: dict[str, Any]
    created_by: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None  # soft-deleted: readable, no longer usable
    deleted_by: str | None = None


class VersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    segment_id: int
    version: int
    rule: dict[str, Any]
    note: str
    created_by: str
    created_at: datetime


class SnapshotCreate(BaseModel):
    version: int | None = None
    campaign_id: int | None = None


class SnapshotRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    segment_id: int
    version: int
    taken_at: datetime
    taken_by: str
    matched: int
    count: int
    funnel: list[dict[str, Any]]
    as_of_date: date | None
    region_code: str | None


class ParamSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: ParamType
    label: str = ""
    values: list[str | int | float] | None = None
    default: str | int | float | bool | None = None


class TemplateCreate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)  # a blank name is no name

    name: str = Field(min_length=1, max_length=120)
    description: str = Field("", description='e.g. "ARPU above {x} in region {r}"')
    params: dict[str, ParamSpec]
    rule: dict[str, Any] = Field(description='a rule whose values may be "{param}"')


class TemplateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    region_code: str | None
    params: dict[str, Any]
    rule: dict[str, Any]
    created_by: str
    created_at: datetime
    deleted_at: datetime | None = None
    deleted_by: str | None = None


class TemplateFill(BaseModel):
    values: dict[str, Any] = Field(default_factory=dict)
    save_as: str | None = Field(None, description="also save the filled rule as a segment")
