"""Inbound feedback: mobile-originated SMS, unreadable delivery receipts and e-mail
bounces, stored and acted on (docs/dispatch.md, "Feedback").

Every `InboundMessage` is written to `dispatch_inbound` (raw payload kept) in one
transaction per call; the channel acknowledges the provider only after that commit, so
nothing acknowledged is lost (an error here makes the SMPP layer answer ESME_RX_T_APPN
and the SMSC delivers it again).

- MO whose whole text is a stop keyword (settings `stop_keywords`, any case, spaces
  ignored): the sender goes on the operator-wide opt-out list 'unsubscribed' (audited as
  `sms-stop`); the policy suppresses them from the next claim on.
- Any other MO: the answer to the latest campaign SMS sent to that number within
  `respond_window_h` (found through the send log's msisdn index): that contact becomes
  'responded' (a progress bucket) with a history event.
- A part of a multi-part MO: stored in `dispatch_mo_part` (telcamp.dispatch.mo_parts);
  the part that completes the message makes it one MO, handled as above.
  `expire_mo_parts` (worker housekeeping) stores the parts of messages that never
  completed as one 'incomplete' reply.
- Unreadable receipt: kept raw, counted, logged; nothing else can be done with it.
- Bounce: the contact it names (VERP) becomes 'undelivered' with the reason; a hard
  bounce also puts the address in `dispatch_bounced_address`, which the e-mail channel
  does not mail again.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from telcamp.channels.base import InboundMessage
from telcamp.core import clock
from telcamp.core.db import session_scope
from telcamp.dispatch import mo_parts
from telcamp.dispatch.config import get_dispatch_settings
from telcamp.dispatch.tables import (
    RESPONDED,
    SENDING,
    SUBMITTED,
    UNKNOWN,
    bounced_address,
    contact,
    event,
    inbound,
    send_log,
)

log = logging.getLogger(__name__)
# Opted-out numbers whose warehouse list copy is still to be made: the copy may wait for a
# busy warehouse, so it runs in the worker's housekeeping, not before the SMSC's answer.
_optouts: list[int] = []
_optouts_lock = threading.Lock()
_store_lock = threading.Lock()
ANSWERABLE = (SUBMITTED, "delivered")  # a reply can only answer what went out
BOUNCEABLE = (SUBMITTED, "delivered", UNKNOWN, SENDING)


def _digits(source: str) -> int | None:
    digits = source.strip().lstrip("+")
    return int(digits) if digits.isdigit() and len(digits) <= 18 else None


def _keyword(text: str) -> str:
    return "".join(text.split()).casefold()


def is_stop(text: str, keywords: list[str] | None = None) -> bool:
    words = get_dispatch_settings().stop_keywords if keywords is None else keywords
    return _keyword(text) in {_keyword(k) for k in words if k.strip()}


def _event(s: Session, contact_id: int, outcome: str, now: datetime) -> None:
    """The history event of a move just made: the contact's new reason goes with it."""
    s.execute(sa.insert(event).from_select(
        ["contact_id", "msisdn", "campaign_id", "wave_id", "channel", "at", "outcome",
         "reason"],
        sa.select(contact.c.id, contact.c.msisdn, contact.c.campaign_id, contact.c.wave_id,
                  contact.c.channel, sa.literal(now, contact.c.done_at.type),
                  sa.literal(outcome), contact.c.reason).where(contact.c.id == contact_id)))


def _move(s: Session, contact_id: int, states: tuple[str, ...], state: str, reason: str | None,
          now: datetime) -> bool:
    result = cast("sa.CursorResult[Any]", s.execute(
        sa.update(contact).where(contact.c.id == contact_id, contact.c.state.in_(states))
        .values(state=state, reason=reason, done_at=now)))
    if result.rowcount:
        _event(s, contact_id, state, now)
        return True
    return False


def _answered(s: Session, msisdn: int, channel: str, now: datetime) -> int | None:
    hours = get_dispatch_settings().respond_window_h
    if hours <= 0:
        return None
    # Newest first within the window: the send log's (msisdn, sent_at) index.
    for (cid,) in s.execute(
            sa.select(send_log.c.contact_id)
            .where(send_log.c.msisdn == msisdn, send_log.c.channel == channel,
                   send_log.c.sent_at >= now - timedelta(hours=hours))
            .order_by(send_log.c.sent_at.desc()).limit(5)):
        if _move(s, int(cid), ANSWERABLE, RESPONDED, "replied", now):
            return int(cid)
    return None


def _handle(s: Session, m: InboundMessage,
            now: datetime) -> tuple[int | None, int | None, str | None]:
    """(msisdn, contact id, action) for one message, its effects flushed."""
    if m.kind == "mo":
        msisdn = _digits(m.source)
        if msisdn is None:
            return None, None, None
        if is_stop(m.text):
            from telcamp.channels.unsubscribe import add_to_optout

            add_to_optout(s, msisdn=str(msisdn), username="sms-stop",
                          reason=f"SMS reply {m.text.strip()[:40]!r} to {m.destination}")
            return msisdn, None, "optout"
        cid = _answered(s, msisdn, m.channel, now)
        return msisdn, cid, "responded" if cid is not None else None
    if m.kind == "bounce":
        if not m.final:  # "delayed": kept for the record, the contact stays as it is
            return None, m.contact_id, "delayed"
        action = "hard_bounce" if m.hard else "soft_bounce"
        if m.hard and m.source:
            address = m.source.strip().lower()[:320]
            s.execute(sa.delete(bounced_address).where(bounced_address.c.address == address))
            s.execute(sa.insert(bounced_address).values(
                address=address, reason=(m.text or "hard bounce")[:200],
                contact_id=m.contact_id, bounced_at=now))
        if m.contact_id is not None:
            why = f"bounced ({'hard' if m.hard else 'soft'}): {m.text}"[:200]
            _move(s, m.contact_id, BOUNCEABLE, "undelivered", why, now)
        return None, m.contact_id, action
    return _digits(m.source), None, None  # raw_receipt: kept, counted


def store(messages: list[InboundMessage], *, now: datetime | None = None) -> Counter[str]:
    """Store and act on `messages` (one transaction); counts by kind and action."""
    now = now or clock.now()
    counts: Counter[str] = Counter()
    optouts: list[int] = []
    # One store at a time in this process: the SMPP layer hands over several deliver_sm
    # at once, and two first STOPs must not each create the opt-out list (on SQLite no
    # lock can say so; on PostgreSQL add_to_optout also takes an advisory lock).
    with _store_lock, session_scope() as s:
        for m in messages:
            if m.kind == "mo" and m.part is not None and m.part[1] > 1:
                whole = mo_parts.add(s, m, now)
                counts["mo_part"] += 1
                if whole is None:  # stored; the part that completes it joins them
                    continue
                m = whole
            msisdn, cid, action = _handle(s, m, now)
            s.execute(sa.insert(inbound).values(
                channel=m.channel, kind=m.kind, bind=m.bind[:120], msisdn=msisdn,
                source=m.source[:320], destination=m.destination[:320], text=m.text,
                raw=m.raw, received_at=now, contact_id=cid, action=action))
            counts[m.kind] += 1
            if action:
                counts[action] += 1
            if action == "optout" and msisdn is not None:
                optouts.append(msisdn)
            if m.kind == "raw_receipt":
                log.warning("%s: unreadable delivery receipt kept (bind %s): %r",
                            m.channel, m.bind, m.raw[:200])
            else:
                log.info("%s: inbound %s stored (action %s)", m.channel, m.kind, action)
    if optouts:
        with _optouts_lock:
            _optouts.extend(optouts)
    return counts


def expire_mo_parts(*, now: datetime | None = None) -> int:
    """Multi-part MO still incomplete after `mo_parts_expire_s`: stored as one reply with
    the action 'incomplete' (shown on the lookup page, not acted on: half a message is
    neither a STOP nor an answer). Returns how many messages."""
    now = now or clock.now()
    with _store_lock, session_scope() as s:
        gone = mo_parts.expired(s, older_than_s=get_dispatch_settings().mo_parts_expire_s,
                                now=now)
        for m in gone:
            s.execute(sa.insert(inbound).values(
                channel=m.channel, kind="mo", bind=m.bind[:120], msisdn=_digits(m.source),
                source=m.source[:320], destination=m.destination[:320], text=m.text,
                raw=m.raw, received_at=now, contact_id=None, action=mo_parts.INCOMPLETE))
    return len(gone)


def optouts_waiting() -> bool:
    return bool(_optouts)


def sync_optouts() -> None:
    """The warehouse copy of the opt-out list (segments read it); the policy reads the
    operational list, so a busy warehouse only delays the copy (and `ensure_synced`
    repairs a copy lost with the process)."""
    from telcamp.channels.unsubscribe import LIST_NAME
    from telcamp.lists.models import SpecialList
    from telcamp.lists.sync import sync_member

    with _optouts_lock:
        msisdns, _optouts[:] = list(_optouts), []
    if not msisdns:
        return
    with session_scope() as s:
        list_id = s.scalar(sa.select(SpecialList.id).where(
            SpecialList.name == LIST_NAME, SpecialList.region_code.is_(None)))
    if list_id is None:
        return
    for m in msisdns:
        try:
            sync_member(int(list_id), m)
        except Exception as exc:  # the next list sync copies it
            log.info("opt-out list copy to the warehouse postponed: %s", exc)
            return


def bounced(addresses: list[str]) -> set[str]:
    """Which of `addresses` hard-bounced before (lower-cased)."""
    wanted = sorted({a.strip().lower() for a in addresses if a})
    if not wanted:
        return set()
    try:
        with session_scope() as s:
            return {str(a) for a in s.scalars(sa.select(bounced_address.c.address).where(
                bounced_address.c.address.in_(wanted)))}
    except SQLAlchemyError as exc:  # not migrated (a bare channel in a tool): none known
        log.info("bounced addresses not read: %s", exc.__class__.__name__)
        return set()


def for_subscriber(session: Session, msisdn: int, *, limit: int = 100) -> list[dict[str, Any]]:
    """What this subscriber sent us, newest first (the subscriber lookup page)."""
    rows = session.execute(
        sa.select(inbound.c.received_at, inbound.c.channel, inbound.c.kind, inbound.c.text,
                  inbound.c.contact_id, inbound.c.action, inbound.c.bind)
        .where(inbound.c.msisdn == msisdn)
        .order_by(inbound.c.received_at.desc(), inbound.c.id.desc()).limit(limit))
    return [dict(r._mapping) for r in rows]
