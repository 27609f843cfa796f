"""API shapes of the channels domain: results reported back by channel systems."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

ResultState = Literal["delivered", "undelivered", "failed", "responded", "expired", "rejected"]


class ResultIn(BaseModel):
    contact_id: int | None = Field(None, description="The contact id sent in the batch.")
    id: str | None = Field(None, max_length=80,
                           description="Or the contact's idempotency key ('ivr:7').")
    state: ResultState
    reason: str | None = Field(None, max_length=200)
    at: datetime | None = Field(None, description="When it happened (ISO 8601 with offset).")

    @model_validator(mode="after")
    def _one_id(self) -> ResultIn:
        if self.contact_id is None and not self.id:
            raise ValueError("give contact_id or id")
        return self


class ResultsIn(BaseModel):
    results: list[ResultIn] = Field(min_length=1, max_length=10000)


class ResultsRead(BaseModel):
    received: int
    applied: int
    unknown: int = Field(description="Results naming no contact sent on this channel; "
                                     "stored as orphans.")


class TestSendIn(BaseModel):
    wave_id: int
    list_ids: list[int] | None = Field(
        None, description="Test lists to use (default: every test list the user sees).")


class TestSendRead(BaseModel):
    wave_id: int
    channel: str
    numbers: int
    # one message per test number and cell: the results count messages, not numbers
    cells: int = 1
    messages: int = 0
    results: dict[str, int]
    details: list[dict[str, str | None]]  # msisdn (masked per role), cell, outcome, reason
