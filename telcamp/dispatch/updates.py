"""Later outcomes (delivery receipts, bounces) applied to contacts; orphans kept.

A receipt can arrive before the submit result that names its provider id is committed
(the SMSC answers fast); an unmatched update therefore waits `grace_s` and is tried again
before it is stored as an orphan.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from telcamp.channels.base import DeliveryUpdate
from telcamp.core import clock
from telcamp.core.db import session_scope
from telcamp.dispatch.tables import (
    RESPONDED,
    SENDING,
    SUBMITTED,
    UNKNOWN,
    contact,
    event,
    message_id,
    orphan,
)

# A final state is final: only these may still change on a receipt.
OPEN_STATES = (SUBMITTED, SENDING, UNKNOWN)


@dataclass
class Pending:
    update: DeliveryUpdate
    first_seen: float = field(default_factory=time.monotonic)


def apply(updates: list[Pending], *, grace_s: float = 5.0,
          now: datetime | None = None) -> tuple[list[Pending], int]:
    """Apply what matches; returns (still waiting, orphans stored)."""
    now = now or clock.now()
    if not updates:
        return [], 0
    waiting: list[Pending] = []
    orphans = 0
    with session_scope() as s:
        pids = {(p.update.channel, p.update.provider_id) for p in updates
                if p.update.contact_id is None and p.update.provider_id}
        known: dict[tuple[str, str], int] = {}
        for ch in {c for c, _ in pids}:
            ids = [pid for c, pid in pids if c == ch and pid]
            for pid, cid in s.execute(sa.select(message_id.c.provider_id, message_id.c.contact_id)
                                      .where(message_id.c.channel == ch,
                                             message_id.c.provider_id.in_(ids))):
                known[(ch, pid)] = int(cid)
        rows = []
        for p in updates:
            u = p.update
            cid = u.contact_id
            if cid is None and u.provider_id:
                cid = known.get((u.channel, u.provider_id))
            if cid is None:
                if time.monotonic() - p.first_seen < grace_s:
                    waiting.append(p)
                else:
                    s.execute(sa.insert(orphan).values(
                        channel=u.channel, provider_id=u.provider_id, state=u.state,
                        raw=u.raw[:2000], received_at=now))
                    orphans += 1
                continue
            rows.append({"cid": cid, "st": u.state, "at": now,
                         "why": (u.reason or None)})
        if rows:
            # The subscriber answering (call result, webhook) may follow a delivery.
            for group, open_states in (
                    ([r for r in rows if r["st"] != RESPONDED], OPEN_STATES),
                    ([r for r in rows if r["st"] == RESPONDED], (*OPEN_STATES, "delivered"))):
                if group:
                    s.execute(
                        sa.update(contact).where(contact.c.id == sa.bindparam("cid"),
                                                 sa.or_(*(contact.c.state == st
                                                          for st in open_states)))
                        .values(state=sa.bindparam("st"), done_at=sa.bindparam("at"),
                                reason=sa.bindparam("why"))
                        .execution_options(synchronize_session=False), group)
            s.execute(sa.insert(event).from_select(
                ["contact_id", "msisdn", "campaign_id", "wave_id", "channel", "at", "outcome",
                 "reason"],
                sa.select(contact.c.id, contact.c.msisdn, contact.c.campaign_id,
                          contact.c.wave_id, contact.c.channel, contact.c.done_at,
                          contact.c.state, contact.c.reason)
                .where(contact.c.id.in_([r["cid"] for r in rows]),
                       contact.c.done_at == now)))
    return waiting, orphans
