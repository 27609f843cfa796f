"""Inbound deliver_sm: what each one is (receipt, MO, raw) and where it goes."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import time
from collections.abc import Awaitable, Callable

from telcamp.channels.smpp import pdu as p
from telcamp.channels.smpp.messages import InboundEvent, MoEvent, RawEvent, ReceiptEvent
from telcamp.channels.smpp.receipts import ReceiptMatcher, is_receipt_pdu, parse_receipt
from telcamp.channels.smpp.split import ESM_UDHI, decode_text, parse_concat_udh

EventSink = Callable[[InboundEvent], Awaitable[None] | None]


class Inbox:
    """Where inbound events go: the caller's callback, else a queue read by `events()`."""

    def __init__(self, sink: EventSink | None) -> None:
        self.sink = sink
        self.queue: asyncio.Queue[InboundEvent] = asyncio.Queue()
        self.matcher = ReceiptMatcher()

    async def put(self, event: InboundEvent) -> None:
        if self.sink is None:
            self.queue.put_nowait(event)
            return
        result = self.sink(event)
        if result is not None:
            await result


def event_of(pdu: p.Pdu, matcher: ReceiptMatcher, counters: collections.Counter[str],
             bind: str) -> InboundEvent:
    """What one deliver_sm is: a receipt (matched or orphan), an MO, or raw."""
    esm = pdu.int_param("esm_class")
    dc = pdu.int_param("data_coding")
    sm = pdu.bytes_param("short_message") or pdu.tlv(p.TLV_MESSAGE_PAYLOAD) or b""
    text = decode_text(sm, dc, udhi=bool(esm & ESM_UDHI))
    src, dst = pdu.str_param("source_addr"), pdu.str_param("destination_addr")
    has_receipt_tlv = pdu.tlv(p.TLV_RECEIPTED_MESSAGE_ID) is not None
    if is_receipt_pdu(esm) or has_receipt_tlv:
        receipt = parse_receipt(esm_class=esm, text=text, tlvs=pdu.tlvs)
        if receipt is None:
            counters["raw"] += 1
            return RawEvent("unreadable delivery receipt", src, dst, esm, text, sm,
                            tuple(pdu.tlvs), bind)
        hit = matcher.match(receipt.message_id)
        counters["receipts"] += 1
        return ReceiptEvent(receipt, hit[0] if hit else None, hit[1] if hit else None,
                            hit is None, bind)
    counters["mo"] += 1
    concat = parse_concat_udh(sm) if esm & ESM_UDHI else None
    if concat is None and pdu.tlv(p.TLV_SAR_MSG_REF_NUM) is not None:
        concat = (p.tlv_int(pdu.tlv(p.TLV_SAR_MSG_REF_NUM) or b""),
                  p.tlv_int(pdu.tlv(p.TLV_SAR_TOTAL_SEGMENTS) or b""),
                  p.tlv_int(pdu.tlv(p.TLV_SAR_SEGMENT_SEQNUM) or b""))
    return MoEvent(src, dst, text, dc, sm, concat, bind)



class MoAssembler:
    """Joins the parts of a concatenated MO (UDH or sar_*) into one MoEvent.

    In memory only: the parts were already acknowledged to the SMSC, so a caller that needs
    them to survive a restart stores each part and joins from its store. Incomplete
    messages older than `max_age` s are given back as they are by `expire()`.
    """

    def __init__(self, max_age: float = 300.0) -> None:
        self.max_age = max_age
        self._parts: dict[tuple[str, str, int, int], dict[int, MoEvent]] = {}
        self._first_seen: dict[tuple[str, str, int, int], float] = {}

    def feed(self, event: MoEvent, now: float | None = None) -> MoEvent | None:
        """The whole message once its last part arrived (a single-part MO at once)."""
        if event.concat is None or event.concat[1] <= 1:
            return event
        ref, total, seq = event.concat
        key = (event.source, event.destination, ref, total)
        self._first_seen.setdefault(key, time.monotonic() if now is None else now)
        parts = self._parts.setdefault(key, {})
        parts[seq] = event
        if len(parts) < total:
            return None
        del self._parts[key], self._first_seen[key]
        ordered = [parts[k] for k in sorted(parts)]
        return dataclasses.replace(
            ordered[0], text="".join(p.text for p in ordered),
            short_message=b"".join(p.short_message for p in ordered), concat=None)

    def expire(self, now: float | None = None) -> list[MoEvent]:
        """Parts of messages still incomplete after max_age, oldest first, then forgotten."""
        now = time.monotonic() if now is None else now
        out: list[MoEvent] = []
        for key, seen in sorted(self._first_seen.items(), key=lambda kv: kv[1]):
            if now - seen >= self.max_age:
                out += [self._parts[key][k] for k in sorted(self._parts[key])]
                del self._parts[key], self._first_seen[key]
        return out
