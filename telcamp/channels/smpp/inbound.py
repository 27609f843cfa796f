"""Inbound deliver_sm: what each one is (receipt, MO, raw) and where it goes."""

from __future__ import annotations

import asyncio
import collections
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

