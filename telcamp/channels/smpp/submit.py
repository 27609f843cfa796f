"""The submit policy: one message -> parts -> submit_sm each, with the status table.

Shared by a single bind and a pool: `pick()` returns the bind to use now (waiting for one
to be bound). Per part: throttling answers pause the bind and resubmit; transient errors
retry up to max_attempts; a part never written waits for a bound session; a part whose
answer was lost is resubmitted (resubmit_unknown, at-least-once) or ends the message as
UNKNOWN (at-most-once), see docs/smpp.md; anything else rejects.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from telcamp.channels.smpp import pdu as p
from telcamp.channels.smpp import status as st
from telcamp.channels.smpp.errors import (
    BindRefused,
    MessageTooLong,
    NotSent,
    PduError,
    SessionLost,
    SmppClosed,
)
from telcamp.channels.smpp.messages import BindConfig, OutboundSms, SubmitResult
from telcamp.channels.smpp.receipts import MessageState, ReceiptMatcher
from telcamp.channels.smpp.split import ESM_UDHI, EncodedMessage, encode_message

if TYPE_CHECKING:
    from telcamp.channels.smpp.client import SmppClient

Pick = Callable[[], Awaitable["SmppClient"]]
PickNow = Callable[[], "SmppClient | None"]
SHORT_MESSAGE_MAX = 140


def build_bodies(msg: OutboundSms, cfg: BindConfig, enc: EncodedMessage) -> list[bytes]:
    rd = cfg.registered_delivery if msg.registered_delivery is None else msg.registered_delivery
    source = cfg.source_addr if msg.source is None else msg.source
    bodies = []
    for seg in enc.segments:
        esm = 0
        tlvs: list[tuple[int, bytes]] = []
        short = seg.short_message
        if enc.concatenated and enc.method == "udh":
            esm = ESM_UDHI
        elif enc.concatenated and enc.method == "sar":
            tlvs = [
                (p.TLV_SAR_MSG_REF_NUM, enc.ref.to_bytes(2, "big")),
                (p.TLV_SAR_TOTAL_SEGMENTS, bytes((seg.total,))),
                (p.TLV_SAR_SEGMENT_SEQNUM, bytes((seg.seq,))),
            ]
        elif enc.method == "payload" and len(short) > SHORT_MESSAGE_MAX:
            tlvs = [(p.TLV_MESSAGE_PAYLOAD, short)]
            short = b""
        if msg.user_message_reference is not None:
            tlvs.append((p.TLV_USER_MESSAGE_REFERENCE,
                         msg.user_message_reference.to_bytes(2, "big")))
        bodies.append(p.submit_sm_body(
            source_addr=source, destination_addr=msg.destination, short_message=short,
            data_coding=enc.data_coding, esm_class=esm, registered_delivery=1 if rd else 0,
            source_addr_ton=cfg.source_addr_ton, source_addr_npi=cfg.source_addr_npi,
            dest_addr_ton=cfg.dest_addr_ton, dest_addr_npi=cfg.dest_addr_npi,
            service_type=cfg.service_type, validity_period=msg.validity_period, tlvs=tlvs,
        ))
    return bodies


async def submit_message(msg: OutboundSms, cfg: BindConfig, pick: Pick,
                         matcher: ReceiptMatcher, ref: int,
                         pick_now: PickNow | None = None) -> SubmitResult:
    try:
        enc = encode_message(msg.text, encoding=msg.encoding, method=cfg.split_method,
                             ref=ref, gsm7_packed=cfg.gsm7_packed)
        bodies = build_bodies(msg, cfg, enc)
    except (ValueError, MessageTooLong, PduError) as e:
        # bad input for this one message: it fails with the reason, the caller goes on
        return SubmitResult(msg.ref, MessageState.REJECTED, [], 0, error=str(e))
    rd = cfg.registered_delivery if msg.registered_delivery is None else msg.registered_delivery
    ids: list[str | None] = []
    attempts = 0
    bind = ""
    for index, body in enumerate(bodies, start=1):
        try:
            mid, status, error, sent, bind, unknown = await _submit_part(body, cfg, pick,
                                                                         pick_now)
        except (SmppClosed, BindRefused) as e:
            if index == 1:
                raise  # nothing of this message was written: the caller may send it later
            # earlier parts were accepted, the rest will not go: the handset may show a part
            ids += [None] * (len(bodies) - len(ids))
            return SubmitResult(msg.ref, MessageState.UNKNOWN, ids, len(bodies),
                                enc.data_coding, 0, f"stopped after {index - 1} of "
                                f"{len(bodies)} parts: {e.message}", attempts, bind)
        attempts += sent
        if mid is None:
            ids += [None] * (len(bodies) - len(ids))
            state = MessageState.UNKNOWN if unknown else MessageState.REJECTED
            return SubmitResult(msg.ref, state, ids, len(bodies), enc.data_coding, status,
                                error, attempts, bind)
        ids.append(mid)
        if rd:
            matcher.register(mid, msg.ref, index)
    return SubmitResult(msg.ref, MessageState.SUBMITTED, ids, len(bodies), enc.data_coding,
                        0, None, attempts, bind)


PartOutcome = tuple[str | None, int, str | None, int, str, bool]


async def _submit_part(body: bytes, cfg: BindConfig, pick: Pick,
                       pick_now: PickNow | None) -> PartOutcome:
    """(message_id or None, status, error, submit_sm sent, bind, outcome unknown)."""
    retries = backoffs = sent = 0
    lost: SessionLost | None = None  # an earlier attempt's answer was lost
    while True:
        try:
            # the synchronous check first: a coroutine per part is measurable at 10k+/s
            client = (pick_now() if pick_now is not None else None) or await pick()
            status, mid = await client.send_submit(body)
        except (SmppClosed, BindRefused) as e:
            if lost is None:
                raise
            # the client ends while a resubmission was pending: the first try may have gone
            return None, 0, f"outcome unknown: {lost.message}; then {e.message}", sent, \
                "", True
        except NotSent:
            await asyncio.sleep(0)  # certainly not written: wait for a bound session
            continue
        except SessionLost as e:
            sent += 1
            lost = e
            if not cfg.resubmit_unknown:
                return None, 0, f"outcome unknown: {e.message}", sent, client.name, True
            client.counters["resubmitted"] += 1  # at-least-once: see docs/smpp.md
            await asyncio.sleep(0)
            continue
        sent += 1
        action = st.action_for(status)
        if action is st.Action.OK:
            return mid, 0, None, sent, client.name, False
        name = st.status_name(status)
        if action is st.Action.BACKOFF:
            client.throttled()
            backoffs += 1
            if backoffs <= cfg.max_backoffs:
                continue
            return (None, status, f"{name}: still throttled after {backoffs} tries", sent,
                    client.name, False)
        if action in (st.Action.RETRY, st.Action.REBIND):
            retries += 1
            if retries >= cfg.max_attempts:
                return None, status, f"{name} after {retries} attempts", sent, client.name, False
            if action is st.Action.REBIND:
                client.reset_session(f"submit_sm answered {name}")
            await asyncio.sleep(min(0.05 * 2**retries, 5.0))
            continue
        return None, status, f"rejected by the SMSC: {name}", sent, client.name, False
