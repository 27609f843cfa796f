"""The SMS channel: the Channel interface on top of the SMPP client layer (SmppPool).

- Each message goes out as one `OutboundSms` with `ref = contact_id`, so receipts come
  back with the contact id; the first part's message id is the contact's provider id.
- Binds run with `resubmit_unknown=False` unless configured otherwise: a part whose
  submit_sm_resp was lost ends the message as UNKNOWN (never resent) — the dispatcher's
  at-most-once default (docs/dispatch.md).
- The SMPP layer paces itself (TPS per bind), so the worker does not add its own pacing.
- No bound bind when a batch starts (SMSC down, still connecting): `ChannelUnavailable`,
  the batch goes back to the outbox untouched. Credentials refused: the same, with the
  alert as reason, and the bind is not retried (docs/smpp.md).

submit result → SendResult: SUBMITTED → "submitted" (message ids); REJECTED → "failed"
with the status name; UNKNOWN → "unknown". Receipts: delivered / undelivered / expired /
rejected become DeliveryUpdates; intermediate ones (ENROUTE, ACCEPTD) are ignored;
orphans (no message id matched) go on with contact_id None and are stored as orphans.
Mobile-originated SMS and receipts that cannot be read go to the sink as InboundMessages
(telcamp.dispatch.feedback stores them before the deliver_sm is acknowledged); each part
of a multi-part MO goes on its own with its (ref, total, number), and the dispatcher
joins the parts from the database (telcamp.dispatch.mo_parts).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from telcamp.channels.base import (
    ChannelStatus,
    ChannelUnavailable,
    DeliveryUpdate,
    InboundMessage,
    OutboundMessage,
    ResultSink,
    SendResult,
)
from telcamp.channels.smpp import (
    BindConfig,
    BindRefused,
    InboundEvent,
    MoEvent,
    OutboundSms,
    RawEvent,
    SmppError,
    SmppPool,
    SubmitResult,
)

log = logging.getLogger(__name__)
FINAL = {"delivered", "undelivered", "expired", "rejected"}


class SmsChannel:
    self_paced = True  # the SMPP binds hold the TPS limit

    def __init__(self, binds: list[BindConfig], *, source: str = "", name: str = "sms",
                 at_most_once: bool = True) -> None:
        if at_most_once:
            binds = [dataclasses.replace(b, resubmit_unknown=False) for b in binds]
        self.name = name
        self.binds = binds
        self.source = source or None
        tps = [b.tps for b in binds]
        self.capacity_per_s: float | None = (
            None if any(t is None for t in tps) else float(sum(t or 0 for t in tps)))
        self.pool: SmppPool | None = None
        self._sink: ResultSink | None = None
        self.sent = 0
        self.failed = 0

    async def start(self, sink: ResultSink) -> None:
        self._sink = sink
        self.pool = SmppPool(self.binds, on_event=self._on_event)
        await self.pool.start()
        try:  # give a reachable SMSC a moment; a down one is handled per batch
            await self.pool.wait_bound(timeout=2.0)
        except (TimeoutError, SmppError) as exc:
            log.warning("SMS channel not bound yet: %s", exc)

    async def _on_event(self, ev: InboundEvent) -> None:
        if self._sink is None:
            return
        if isinstance(ev, MoEvent):
            # The sink stores it before the SMSC gets its answer; a part of a long MO is
            # stored as a part and joined there (across restarts and binds).
            part = ev.concat if ev.concat is not None and ev.concat[1] > 1 else None
            await self._sink(InboundMessage(
                channel=self.name, kind="mo", source=ev.source, destination=ev.destination,
                text=ev.text, raw=ev.short_message.hex(), bind=ev.bind, part=part))
            return
        if isinstance(ev, RawEvent):  # unreadable receipt: kept raw, never dropped
            tlvs = ",".join(f"{tag:04x}={val.hex()}" for tag, val in ev.tlvs)
            await self._sink(InboundMessage(
                channel=self.name, kind="raw_receipt", source=ev.source,
                destination=ev.destination, text=ev.text, bind=ev.bind,
                raw=f"{ev.reason}; esm_class=0x{ev.esm_class:02x}; "
                    f"sm={ev.short_message.hex()}; tlvs={tlvs}"))
            return
        state = str(ev.receipt.state.value)
        if ev.receipt.intermediate or state not in FINAL:
            return
        contact_id = None if ev.orphan or ev.ref is None else int(str(ev.ref))
        await self._sink(DeliveryUpdate(
            channel=self.name, provider_id=ev.receipt.message_id, state=state,  # type: ignore[arg-type]
            contact_id=contact_id, reason=ev.receipt.stat if state != "delivered" else None,
            raw=ev.receipt.text or ev.receipt.stat))

    def _bound(self) -> bool:
        return self.pool is not None and any(s.state == "bound" for s in self.pool.status())

    async def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        if self.pool is None:
            raise ChannelUnavailable("the SMS channel was not started")
        if not self._bound():
            alerts = [a for s in self.pool.status() for a in s.alerts]
            raise ChannelUnavailable(alerts[-1] if alerts else "no SMPP bind is bound")
        # One coroutine for the batch (SmppPool.submit_many), not a task per message.
        source = self.source
        answers = await self.pool.submit_many(
            [OutboundSms(m.msisdn, m.body, source=source, ref=m.contact_id) for m in messages])
        return [self._result(m, r) for m, r in zip(messages, answers, strict=True)]

    def _result(self, m: OutboundMessage, r: SubmitResult | SmppError) -> SendResult:
        if isinstance(r, BindRefused):
            return SendResult(m.contact_id, "unknown", reason=f"bind refused: {r.message}")
        if isinstance(r, SmppError):  # closed mid-way: the SMSC may have it
            return SendResult(m.contact_id, "unknown", reason=r.message[:200])
        state = r.state.value
        if state == "submitted":
            self.sent += 1
            return SendResult(m.contact_id, "submitted", parts=r.parts,
                              provider_ids=tuple(i for i in r.message_ids if i))
        if state == "unknown":
            return SendResult(m.contact_id, "unknown", parts=r.parts,
                              reason=(r.error or "outcome unknown")[:200])
        self.failed += 1
        return SendResult(m.contact_id, "failed", parts=r.parts,
                          reason=(r.error or "rejected by the SMSC")[:200])

    def status(self) -> ChannelStatus:
        binds = self.pool.status() if self.pool else []
        state = ("ready" if self._bound() else
                 "refused" if any(b.state == "refused" for b in binds) else
                 "down" if self.pool else "closed")
        return ChannelStatus(
            name=self.name, state=state, capacity_per_s=self.capacity_per_s, sent=self.sent,
            failed=self.failed, detail=[dataclasses.asdict(b) for b in binds],
            last_error=next((b.last_error for b in binds if b.last_error), None))

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
        self._sink = None
