"""API shapes of the subscriber lookup."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class ContactRow(BaseModel):
    contact_id: int
    time: datetime | None  # when it went out, else when it ended, else when it was planned
    planned_at: datetime | None
    sent_at: datetime | None
    done_at: datetime | None
    campaign_id: int
    campaign: str
    campaign_state: str
    cell: str | None
    wave_id: int
    channel: str
    message: str | None
    outcome: str  # the contact's state: submitted, delivered, suppressed, ...
    reason: str | None  # suppression / deferral / failure reason, or the network's code
    explanation: str  # the outcome and reason in a sentence
    # for people (msgids, pages translate them): the network code said in words
    reason_text: str | None = None
    # why the subscriber was in this campaign: the cell's value tier, the segment
    tier: str | None = None
    segment: str | None = None


class HistoryRow(BaseModel):
    """One row of the warehouse contact history: an outcome with its time and reason
    (a delivered SMS has a `sent` and a `delivered` row; a deferred one a `deferred` row
    saying why it went out later)."""

    time: datetime
    contact_id: int | None
    campaign_id: int | None
    campaign: str | None
    wave_id: int | None
    channel: str
    outcome: str  # sent, delivered, deferred, suppressed, failed, ...
    reason: str | None  # the policy's code, the channel's or the network's reason
    explanation: str  # the outcome and reason in a sentence


class ListRow(BaseModel):
    list_name: str
    list_type: str
    reason: str | None
    expired: bool


class ReplyRow(BaseModel):
    """What the subscriber (or their provider) sent back: an SMS reply, a bounce."""

    time: datetime
    channel: str
    kind: str  # mo | raw_receipt | bounce
    text: str
    action: str | None  # optout | responded | hard_bounce | soft_bounce
    contact_id: int | None  # the contact it answered, when known


class SubscriberRead(BaseModel):
    msisdn: str
    found: bool  # in the warehouse profile
    region_code: str | None = None
    email: str | None = None
    language: str | None = None
    lists: list[ListRow]
    contacts: list[ContactRow]
    replies: list[ReplyRow] = []
    # the warehouse contact history, newest first (what `contacted` and the recency
    # exclusion read); empty when the warehouse has none for this number
    history: list[HistoryRow] = []
    opted_out: bool = False  # on an opt-out list now (not expired)


class OptOutIn(BaseModel):
    reason: str = ""  # what the subscriber said; the audit row names the agent
