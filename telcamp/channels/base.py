"""The channel interface: what the dispatcher hands a channel and what it gets back.

A channel (SMS over SMPP, email, webhook, call list, the in-tree fake) is an object with
a `name`, a `capacity_per_s`, `start(sink)`, `send_batch(messages)`, `status()` and
`close()`. The dispatcher:

1. claims due contacts and marks them 'sending' (committed) — see docs/dispatch.md;
2. renders each message (a rendering failure fails that contact; the channel never sees it);
3. calls `await channel.send_batch(messages)` and records one `SendResult` per message;
4. receives later outcomes (delivery receipts, bounces, call outcomes) through the
   `ResultSink` given to `start()`; an update whose provider id matches no contact is
   stored as an orphan and counted.

Rules for implementers (H11's email/webhook/call-list channels follow the same ones):
- `send_batch` returns exactly one result per message, in any order, keyed by
  `contact_id`; it never raises for one bad message (return outcome "failed" with reason).
- It raises `ChannelUnavailable` only when nothing of the batch was handed to the
  provider (e.g. the SMSC is down at start): the dispatcher then puts the batch back.
- outcome "submitted" means the provider accepted it (provider ids known); "failed" means
  it certainly did not go out and will not be retried; "retry" means it certainly did not
  go out and may be sent later; "unknown" means it may or may not have gone out (the
  dispatcher never resends those; see docs/dispatch.md).
- Keep `status()` cheap: the channel page polls it every second.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

SendOutcome = Literal["submitted", "delivered", "failed", "retry", "unknown"]
# Final states a later update (receipt) may move a submitted contact to. Webhook and
# call-list results (H11) also report "failed" and "responded" (the subscriber answered).
UpdateState = Literal["delivered", "undelivered", "expired", "rejected", "failed",
                      "responded"]


class ChannelUnavailable(Exception):
    """Nothing of the batch reached the provider; the dispatcher will try again later."""


@dataclass(frozen=True)
class OutboundMessage:
    contact_id: int
    msisdn: str  # digits, country code first
    channel: str
    body: str  # rendered text (SMS text, email text part, webhook message)
    campaign_id: int = 0
    wave_id: int = 0
    priority: int = 0
    language: str | None = None
    subject: str | None = None  # email
    html: str | None = None  # email
    address: str | None = None  # email address when the channel is not the phone
    attempt: str = ""  # the claim's lease id: an idempotency key for providers that take one
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    contact_id: int
    outcome: SendOutcome
    provider_ids: tuple[str, ...] = ()
    reason: str | None = None  # short code or text, stored on the contact
    parts: int = 1


@dataclass(frozen=True)
class DeliveryUpdate:
    """A later outcome from the provider (delivery receipt, bounce, call result)."""

    channel: str
    provider_id: str | None
    state: UpdateState
    contact_id: int | None = None  # when the channel knows it; else matched by provider_id
    reason: str | None = None
    at: datetime | None = None
    raw: str = ""


@dataclass(frozen=True)
class InboundMessage:
    """What reached us that is not the outcome of a send: a mobile-originated SMS, a
    delivery receipt we could not read, an e-mail bounce. The dispatcher stores every one
    (telcamp.dispatch.feedback) before the channel acknowledges it to the provider."""

    channel: str
    kind: Literal["mo", "raw_receipt", "bounce"]
    source: str  # the sender: msisdn digits (SMS) or an address (e-mail)
    destination: str = ""
    text: str = ""
    raw: str = ""  # the undecoded payload (hex for SMPP) or the reason it was unreadable
    bind: str = ""
    contact_id: int | None = None  # when the provider names the contact (VERP bounce)
    hard: bool = False  # a permanent bounce: the address is not e-mailed again
    final: bool = True  # False for a "delayed" DSN: the provider still tries
    # (reference, total, number) of one part of a multi-part SMS: the dispatcher stores
    # parts and handles the joined text once all arrived (telcamp.dispatch.mo_parts)
    part: tuple[int, int, int] | None = None


ResultSink = Callable[[DeliveryUpdate | InboundMessage], Awaitable[None]]


@dataclass
class ChannelStatus:
    name: str
    state: str  # ready | connecting | down | refused | closed
    capacity_per_s: float | None
    sent: int = 0
    failed: int = 0
    detail: list[dict[str, Any]] = field(default_factory=list)  # e.g. one row per bind
    last_error: str | None = None


@runtime_checkable
class Channel(Protocol):
    name: str
    capacity_per_s: float | None  # messages per second the channel may take; None = no limit

    async def start(self, sink: ResultSink) -> None: ...

    async def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]: ...

    def status(self) -> ChannelStatus: ...

    async def close(self) -> None: ...
