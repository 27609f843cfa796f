"""The submit policy: one message -> parts -> submit_sm each, with the status table.

Shared by a single bind and a pool: `pick()` returns the bind to use now (waiting for one
to be bound). Per part: throttling answers pause the bind and resubmit; transient errors
retry up to max_attempts; a part never written waits for a bound session; a part whose
answer was lost is resubmitted (resubmit_unknown, at-least-once) or ends the message as
UNKNOWN (at-most-once), see docs/smpp.md; anything else rejects.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

from telcamp.channels.smpp import pdu as p
from telcamp.channels.smpp import status as st
from telcamp.channels.smpp.errors import (
    BindRefused,
    MessageTooLong,
    NotSent,
    PduError,
    SessionLost,
    SmppClosed,
    SmppError,
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
                       pick_now: PickNow | None, *, retries: int = 0, backoffs: int = 0,
                       sent: int = 0, lost: SessionLost | None = None) -> PartOutcome:
    """(message_id or None, status, error, submit_sm sent, bind, outcome unknown).
    The keywords carry on from tries already made (submit_batch's first one)."""
    # lost: an earlier attempt's answer was lost
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
        if st.action_for(status) is st.Action.OK:
            return mid, 0, None, sent, client.name, False
        error, retries, backoffs, delay = _verdict(status, client, cfg, retries, backoffs)
        if error is not None:
            return None, status, error, sent, client.name, False
        if delay:
            await asyncio.sleep(delay)


def _verdict(status: int, client: SmppClient, cfg: BindConfig, retries: int, backoffs: int,
             ) -> tuple[str | None, int, int, float]:
    """What a submit_sm_resp other than ESME_ROK means for the message: (the error that
    ends it, or None to try again; the tries counted so far; the pause before the next).
    Throttling pauses the bind and resubmits (max_backoffs), transient errors retry
    (max_attempts in all), a REBIND error resets the session first, anything else
    rejects. One table for submit_message and the batch path."""
    action = st.action_for(status)
    name = st.status_name(status)
    if action is st.Action.BACKOFF:
        client.throttled()
        backoffs += 1
        if backoffs <= cfg.max_backoffs:
            return None, retries, backoffs, 0.0
        return f"{name}: still throttled after {backoffs} tries", retries, backoffs, 0.0
    if action in (st.Action.RETRY, st.Action.REBIND):
        retries += 1
        if retries >= cfg.max_attempts:
            return f"{name} after {retries} attempts", retries, backoffs, 0.0
        if action is st.Action.REBIND:
            client.reset_session(f"submit_sm answered {name}")
        return None, retries, backoffs, min(0.05 * 2**retries, 5.0)
    return f"rejected by the SMSC: {name}", retries, backoffs, 0.0


async def submit_batch(msgs: Sequence[OutboundSms], cfg: BindConfig,
                       senders: Sequence[SmppClient], pick: Pick, matcher: ReceiptMatcher,
                       next_ref: Callable[[], int], pick_now: PickNow | None = None,
                       ) -> list[SubmitResult | SmppError]:
    """Many messages from one coroutine, each as `submit_message` would send it.

    The common case — a one-part message and a bound bind with no TPS limit and no
    throttle pause — is written at once when the bind's window has a slot (else this one
    coroutine waits for a slot), and its answer is handled by a callback on the
    request's future: no task and no coroutine per message (those cost about half of the
    SMS channel's CPU per message at 10k+/s). Everything else goes through
    `submit_message` in a task of its own, with its whole policy: multi-part messages,
    binds with a TPS limit or paused by throttling, no bound bind; and an answer other
    than ESME_ROK is judged by the same table (`_verdict`) and, unless that ends the
    message, carries on in `_submit_part` with the try counted. A lost answer ends the
    message UNKNOWN, or with resubmit_unknown resubmits it, exactly as for one message.

    Returns, in the order of `msgs`, a SubmitResult or the SmppError (SmppClosed,
    BindRefused) `submit_message` raised when nothing of that message was written."""
    loop = asyncio.get_running_loop()
    results: list[SubmitResult | SmppError | None] = [None] * len(msgs)
    slow: list[asyncio.Task[None]] = []
    outstanding = 0
    drained: asyncio.Future[None] = loop.create_future()
    looping = True

    async def one(i: int, msg: OutboundSms) -> None:
        try:
            results[i] = await submit_message(msg, cfg, pick, matcher, next_ref(), pick_now)
        except SmppError as e:  # SmppClosed / BindRefused: nothing of it was written
            results[i] = e

    def fallback(i: int, msg: OutboundSms) -> None:
        slow.append(loop.create_task(one(i, msg)))

    async def resume(i: int, msg: OutboundSms, body: bytes, coding: int, rd: bool,
                     delay: float, **tried: Any) -> None:
        """The one-message policy, carrying on after the batch path's first try."""
        if delay:
            await asyncio.sleep(delay)
        try:
            mid, status, error, sent, bind, unknown = await _submit_part(
                body, cfg, pick, pick_now, sent=1, **tried)
        except SmppError as e:  # SmppClosed / BindRefused: not written again
            results[i] = e
            return
        if mid is None:
            results[i] = SubmitResult(msg.ref, MessageState.UNKNOWN if unknown else
                                      MessageState.REJECTED, [None], 1, coding, status,
                                      error, sent, bind)
            return
        if rd:
            matcher.register(mid, msg.ref, 1)
        results[i] = SubmitResult(msg.ref, MessageState.SUBMITTED, [mid], 1, coding, 0, None,
                                  sent, bind)

    def carry_on(i: int, msg: OutboundSms, body: bytes, coding: int, rd: bool,
                 delay: float = 0.0, **tried: Any) -> None:
        slow.append(loop.create_task(resume(i, msg, body, coding, rd, delay, **tried)))

    def answered(fut: asyncio.Future[tuple[int, str, p.Pdu | None]], i: int,
                 msg: OutboundSms, client: SmppClient, body: bytes, coding: int,
                 rd: bool) -> None:
        nonlocal outstanding
        client.window.release()
        outstanding -= 1
        try:
            status, mid, _ = fut.result()
        except NotSent:  # certainly not written: the whole policy, from the start
            fallback(i, msg)
        except SessionLost as e:
            if cfg.resubmit_unknown:
                client.counters["resubmitted"] += 1  # at-least-once: see docs/smpp.md
                carry_on(i, msg, body, coding, rd, lost=e)
            else:
                results[i] = SubmitResult(msg.ref, MessageState.UNKNOWN, [None], 1, coding, 0,
                                          f"outcome unknown: {e.message}", 1, client.name)
        else:
            client.count_answer(status)
            if st.action_for(status) is st.Action.OK:
                if rd:
                    matcher.register(mid, msg.ref, 1)
                results[i] = SubmitResult(msg.ref, MessageState.SUBMITTED, [mid], 1, coding,
                                          0, None, 1, client.name)
            else:
                error, retries, backoffs, delay = _verdict(status, client, cfg, 0, 0)
                if error is None:
                    carry_on(i, msg, body, coding, rd, delay=delay, retries=retries,
                             backoffs=backoffs)
                else:
                    results[i] = SubmitResult(msg.ref, MessageState.REJECTED, [None], 1,
                                              coding, status, error, 1, client.name)
        if not outstanding and not looping and not drained.done():
            drained.set_result(None)

    for i, msg in enumerate(msgs):
        try:
            enc = encode_message(msg.text, encoding=msg.encoding, method=cfg.split_method,
                                 ref=next_ref(), gsm7_packed=cfg.gsm7_packed)
            bodies = build_bodies(msg, cfg, enc)
        except (ValueError, MessageTooLong, PduError) as e:
            results[i] = SubmitResult(msg.ref, MessageState.REJECTED, [], 0, error=str(e))
            continue
        if len(bodies) != 1:
            fallback(i, msg)
            continue
        ready = [c for c in senders if c.can_take_now()]
        client = min(ready, key=_in_flight) if len(ready) > 1 else (ready[0] if ready else None)
        if client is None:
            fallback(i, msg)
            continue
        if not client.window.try_acquire():
            await client.window.acquire()
            if not client.can_take_now():  # the session ended (or throttled) meanwhile
                client.window.release()
                fallback(i, msg)
                continue
        session = client.session
        assert session is not None  # can_take_now: bound
        rd = cfg.registered_delivery if msg.registered_delivery is None \
            else msg.registered_delivery
        fut = session.request(st.SUBMIT_SM, bodies[0])
        outstanding += 1
        fut.add_done_callback(functools.partial(answered, i=i, msg=msg, client=client,
                                                body=bodies[0], coding=enc.data_coding,
                                                rd=rd))
    looping = False
    if outstanding:
        await drained
    if slow:
        await asyncio.gather(*slow)
    assert all(r is not None for r in results)
    return cast("list[SubmitResult | SmppError]", results)


def _in_flight(client: SmppClient) -> int:
    return client.window.used
