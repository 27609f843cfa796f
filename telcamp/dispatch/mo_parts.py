"""Multi-part mobile-originated SMS, joined from the operational database.

The SMSC is answered for each part as it arrives (feedback.store commits first), so a part
kept in a worker's memory was lost when the worker restarted, and parts that came in on
two binds (or to two workers) were never joined. Each part is therefore stored in
`dispatch_mo_part` in the transaction that stores inbound messages; the part that
completes a message takes all of them out, and the joined text is handled as one MO (STOP,
answer to a campaign). Parts still incomplete after `mo_parts_expire_s` are stored as one
MO marked 'incomplete' (kept on the lookup page, not acted on) with a warning in the log.

A message is identified by (channel, sender, recipient, reference, total parts); the part
number makes a part unique, so a part the SMSC delivers twice (its deliver_sm_resp was
lost) is stored once. On PostgreSQL two workers storing the last two parts at the same
moment would each miss the other's uncommitted part: a transaction-level advisory lock per
message makes the second wait for the first's commit. SQLite has one writer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from telcamp.channels.base import InboundMessage
from telcamp.dispatch.tables import is_pg, mo_part

log = logging.getLogger(__name__)
NAMESPACE = 0x4D4F  # first key of pg_advisory_xact_lock(int, int): "MO" parts
INCOMPLETE = "incomplete"  # the action of an expired message's row in dispatch_inbound
Key = tuple[str, str, str, int, int]


def _key(m: InboundMessage) -> Key:
    assert m.part is not None
    ref, total, _seq = m.part
    return (m.channel, m.source, m.destination, int(ref), int(total))


def _where(key: Key) -> sa.ColumnElement[bool]:
    channel, source, destination, ref, total = key
    return sa.and_(mo_part.c.channel == channel, mo_part.c.source == source,
                   mo_part.c.destination == destination, mo_part.c.ref == ref,
                   mo_part.c.total == total)


def _lock(s: Session, key: Key) -> None:
    if not is_pg(s):
        return
    digest = hashlib.blake2b(repr(key).encode(), digest_size=4).digest()
    s.execute(sa.text("SELECT pg_advisory_xact_lock(:ns, :k)"),
              {"ns": NAMESPACE, "k": int.from_bytes(digest, "big", signed=True)})


def _joined(parts: list[Any], **changes: Any) -> InboundMessage:
    first = parts[0]
    return InboundMessage(
        channel=str(first.channel), kind="mo", source=str(first.source),
        destination=str(first.destination), text="".join(str(p.text) for p in parts),
        raw=" ".join(str(p.raw) for p in parts), bind=str(first.bind), **changes)


def add(s: Session, m: InboundMessage, now: datetime) -> InboundMessage | None:
    """Store one part; the whole message once this part completed it (its parts deleted),
    else None. Flushes only: the caller's transaction commits the part before the SMSC
    is answered."""
    key = _key(m)
    assert m.part is not None
    seq = int(m.part[2])
    _lock(s, key)
    seen = s.scalar(sa.select(mo_part.c.id).where(_where(key), mo_part.c.seq == seq))
    if seen is None:
        s.execute(sa.insert(mo_part).values(
            channel=key[0], source=key[1], destination=key[2], ref=key[3], total=key[4],
            seq=seq, bind=m.bind[:120], text=m.text, raw=m.raw, received_at=now))
    parts = s.execute(sa.select(mo_part).where(_where(key)).order_by(mo_part.c.seq)).all()
    if len({p.seq for p in parts}) < key[4]:
        log.info("%s: MO part %d/%d from %s stored, waiting for the rest", m.channel, seq,
                 key[4], m.source)
        return None
    s.execute(sa.delete(mo_part).where(_where(key)))
    binds = sorted({str(p.bind) for p in parts})
    whole = _joined(list(parts))
    return dataclasses.replace(whole, bind=",".join(binds)[:120])


def expired(s: Session, *, older_than_s: float, now: datetime) -> list[InboundMessage]:
    """Messages whose first part is older than `older_than_s`, taken out of the table:
    the parts received, joined in order, for the caller to store as 'incomplete'."""
    cutoff = now - timedelta(seconds=older_than_s)
    keys = s.execute(
        sa.select(mo_part.c.channel, mo_part.c.source, mo_part.c.destination, mo_part.c.ref,
                  mo_part.c.total)
        .group_by(mo_part.c.channel, mo_part.c.source, mo_part.c.destination, mo_part.c.ref,
                  mo_part.c.total)
        .having(sa.func.min(mo_part.c.received_at) < cutoff)).all()
    out: list[InboundMessage] = []
    for row in keys:
        key: Key = (str(row[0]), str(row[1]), str(row[2]), int(row[3]), int(row[4]))
        _lock(s, key)
        parts = s.execute(sa.select(mo_part).where(_where(key)).order_by(mo_part.c.seq)
                          ).all()
        if not parts:  # another worker completed or expired it meanwhile
            continue
        s.execute(sa.delete(mo_part).where(_where(key)))
        have = [int(p.seq) for p in parts]
        log.warning("%s: multi-part MO from %s to %s (ref %d) incomplete after %.0f s: "
                    "parts %s of %d received; stored as incomplete, not acted on",
                    key[0], key[1], key[2], key[3], older_than_s, have, key[4])
        out.append(_joined(list(parts)))
    return out


def waiting(s: Session) -> dict[Key, list[int]]:
    """Messages with parts still waiting: key → part numbers received."""
    got: dict[Key, list[int]] = defaultdict(list)
    for r in s.execute(sa.select(mo_part.c.channel, mo_part.c.source, mo_part.c.destination,
                                 mo_part.c.ref, mo_part.c.total, mo_part.c.seq)
                       .order_by(mo_part.c.id)):
        got[(str(r[0]), str(r[1]), str(r[2]), int(r[3]), int(r[4]))].append(int(r[5]))
    return dict(got)
