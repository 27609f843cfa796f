"""The outbox: claim due contacts under a lease, record results, reconcile dead leases.

Exactly-once protocol (docs/dispatch.md): a contact is claimed — state 'sending', a lease
id and lease_until — and the claim is COMMITTED before the channel is called; the
channel's answer is recorded in a second transaction guarded by the lease id. A contact
still 'sending' after its lease expired belonged to a worker that died between the two:
`reconcile` marks it 'unknown' (never resent: at most once), or, with
`resend_unknown=True`, plans it again (at least once).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any, NamedTuple, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from telcamp.campaigns.models import Campaign, Wave
from telcamp.channels.base import SendResult
from telcamp.core import clock
from telcamp.core.db import session_scope
from telcamp.dispatch.tables import (
    CANCELLED,
    FAILED,
    PENDING,
    SENDING,
    SUBMITTED,
    UNKNOWN,
    any_of,
    contact,
    event,
    is_pg,
    message_id,
    send_log,
    state_is,
    unnest,
)
from telcamp.policy import service as policy_service
from telcamp.policy.serialise import lock_subscribers


class Claimed(NamedTuple):
    """One claimed contact, by position and by name. The claim hands out the RETURNING
    rows themselves (SQLAlchemy Rows: the same fields, by position and name, and psycopg
    already gives ints): building an object per contact (a frozen dataclass with int()
    per field) cost ~7 µs a contact, as much as the claim's whole PostgreSQL side."""

    id: int
    msisdn: int
    campaign_id: int
    wave_id: int
    cell_id: int
    priority: int
    language: str | None
    template_ref: str | None


@dataclass
class Batch:
    lease: str
    channel: str
    contacts: list[Claimed]
    policy: dict[str, int]


_BY_ID, _BY_PRIORITY = itemgetter(0), itemgetter(5)  # positions in Claimed


def _rowcount(result: Any) -> int:
    return int(cast("sa.CursorResult[Any]", result).rowcount or 0)


# Built once: the claim runs this every batch (an ORM select built and compiled per call
# cost more client CPU than the rest of a 1,000-row claim).
_OPEN_WAVES = (sa.select(Wave.__table__.c.id, Wave.__table__.c.window_start,
                         Wave.__table__.c.window_end)
               .join(Campaign.__table__, Campaign.__table__.c.id == Wave.__table__.c.campaign_id)
               .where(Campaign.__table__.c.state == "running",
                      Wave.__table__.c.channel == sa.bindparam("channel"),
                      Wave.__table__.c.state != "cancelled"))


def open_waves(session: Session, channel: str, now: datetime) -> list[int]:
    """Waves whose contacts may go out now: campaign running, inside the send window."""
    hm = now.strftime("%H:%M")  # wave windows are UTC, as campaigns' planned_time reads them
    rows = session.connection().execute(_OPEN_WAVES, {"channel": channel}).all()
    return [int(i) for i, start, end in rows
            if (start <= hm < end if start <= end else (hm >= start or hm < end))]


# PostgreSQL's claim as one fixed statement (no statement built per batch). id =
# ANY(ARRAY(...)) is answered by primary-key lookups (`id IN (subquery)` is planned as a
# hash semi-join over the whole contact table); both orderings descending read the partial
# dispatch index backwards with no sort (within one priority any due contact may go
# first); the states are literals so a generic prepared plan still uses the partial
# indexes (tables.state_is).
_PG_CLAIM = sa.text(
    f"UPDATE contact SET state = '{SENDING}', lease_id = :lease, lease_until = :until, "
    "attempts = attempts + 1 "
    "WHERE id = ANY(ARRAY("
    f"SELECT id FROM contact WHERE state = '{PENDING}' AND channel = :channel "
    "AND planned_at <= :now AND wave_id = ANY(:waves) "
    "ORDER BY priority DESC, planned_at DESC LIMIT :limit FOR UPDATE SKIP LOCKED)) "
    f"RETURNING {', '.join(Claimed._fields)}"
).bindparams(sa.bindparam("until", type_=contact.c.lease_until.type),
             sa.bindparam("now", type_=contact.c.planned_at.type),
             sa.bindparam("waves", type_=postgresql.ARRAY(sa.Integer)))


def claim(*, channel: str, limit: int, lease_s: float = 60.0, now: datetime | None = None,
          apply_policy: bool = True) -> Batch:
    """Claim up to `limit` due contacts of `channel`, highest priority first, and commit.

    On PostgreSQL several processes may call this at once (FOR UPDATE SKIP LOCKED); on
    SQLite the database's single writer serialises them."""
    now = now or clock.now()
    lease = uuid.uuid4().hex
    with session_scope() as s:
        waves = open_waves(s, channel, now)
        if not waves:
            return Batch(lease, channel, [], {})
        cols = tuple(contact.c[f] for f in Claimed._fields)  # rows are Claimed by name
        until = now + timedelta(seconds=lease_s)
        if is_pg(s):
            rows: Sequence[Any] = s.connection().execute(_PG_CLAIM, {
                "lease": lease, "until": until, "channel": channel, "now": now,
                "waves": waves, "limit": limit}).all()
        else:  # SQLite: one writer, no row locks to skip
            due = (sa.select(contact.c.id)
                   .where(state_is(PENDING), contact.c.channel == channel,
                          contact.c.planned_at <= now, contact.c.wave_id.in_(waves))
                   .order_by(contact.c.priority.desc(), contact.c.planned_at.desc())
                   .limit(limit))
            rows = s.execute(sa.update(contact).where(contact.c.id.in_(due.scalar_subquery()))
                             .values(state=SENDING, lease_id=lease, lease_until=until,
                                     attempts=contact.c.attempts + 1)
                             .returning(*cols)
                             .execution_options(synchronize_session=False)).all()
        counts: dict[str, int] = {}
        if apply_policy and rows:
            # Caps race-free between workers: see telcamp/policy/serialise.py.
            lock_subscribers(s, (int(r[1]) for r in rows), policy_service.current(s))
            counts = policy_service.apply_to_batch(
                session=s, ids=[int(r[0]) for r in rows], state=SENDING, now=now)
            if counts:  # some were suppressed or deferred: read what is still ours
                rows = s.execute(sa.select(*cols).where(
                    contact.c.lease_id == lease, state_is(SENDING))).all()
        # highest priority first, then by id: two sorts with C-level keys (stable, also
        # with reverse=True), not a Python key function per row
        rows = list(rows)
        rows.sort(key=_BY_ID)
        rows.sort(key=_BY_PRIORITY, reverse=True)
        claimed = cast("list[Claimed]", rows)
        if claimed and apply_policy:
            # The caps of every other worker count this contact from now on.
            if is_pg(s):
                s.execute(sa.insert(send_log).from_select(
                    ["contact_id", "msisdn", "channel", "sent_at"],
                    unnest(contact_id=([c.id for c in claimed], sa.BigInteger()),
                            msisdn=([c.msisdn for c in claimed], sa.BigInteger()))
                    .add_columns(sa.literal(channel, sa.String(20)),
                                 sa.literal(now, send_log.c.sent_at.type))))
            else:
                s.execute(sa.insert(send_log), [
                    {"contact_id": c.id, "msisdn": c.msisdn, "channel": channel,
                     "sent_at": now} for c in claimed])
    return Batch(lease, channel, claimed, counts)


def renew(*, lease: str, lease_s: float = 60.0) -> None:
    with session_scope() as s:
        s.execute(sa.update(contact).where(contact.c.lease_id == lease, state_is(SENDING))
                  .values(lease_until=clock.now() + timedelta(seconds=lease_s)))


def record(*, batch: Batch, results: list[SendResult], now: datetime | None = None) -> None:
    """Write the channel's answers for a claimed batch (one transaction)."""
    now = now or clock.now()
    by_id = {c.id: c for c in batch.contacts}
    groups: dict[str, list[SendResult]] = defaultdict(list)
    for r in results:
        if r.contact_id in by_id:
            groups[r.outcome].append(r)
    # Only this lease's rows, still 'sending' or already marked 'unknown' by a reconciler
    # that thought us dead: a late real answer is better than "unknown".
    ours = sa.and_(contact.c.id == sa.bindparam("cid"), contact.c.lease_id == batch.lease,
                   sa.or_(contact.c.state == SENDING, contact.c.state == UNKNOWN))
    with session_scope() as s:
        if groups["submitted"] or groups["delivered"]:
            done = groups["submitted"] + groups["delivered"]
            _record_sent(s, batch, done, ours, now)
            _events(s, [by_id[r.contact_id] for r in done], batch.channel, "sent", now)
        for outcome, state in (("failed", FAILED), ("unknown", UNKNOWN)):
            if groups[outcome]:
                s.execute(sa.update(contact).where(ours).values(
                    state=state, reason=sa.bindparam("why"), done_at=now, lease_until=None,
                ).execution_options(synchronize_session=False),
                    [{"cid": r.contact_id, "why": (r.reason or outcome)[:200]}
                     for r in groups[outcome]])
        for outcome in ("failed", "unknown"):  # failures before the provider too (render,
            if groups[outcome]:                 # no address): the history has every outcome
                _events(s, [by_id[r.contact_id] for r in groups[outcome]], batch.channel,
                        outcome, now)
        back = groups["retry"]
        if back:
            _retry_later(s, batch, back, ours, now)
        not_sent = [r.contact_id for r in groups["failed"] + back]
        if not_sent:  # the caps count only what went out
            s.execute(sa.delete(send_log).where(send_log.c.contact_id.in_(not_sent)))


def _record_sent(s: Session, batch: Batch, done: list[SendResult],
                 ours: sa.ColumnElement[bool], now: datetime) -> None:
    """Submitted/delivered answers: the contacts' state and provider id, and the
    provider-id map receipts are matched through."""
    rows: list[dict[str, Any]] = [
        {"cid": r.contact_id, "pid": r.provider_ids[0] if r.provider_ids else None,
         "st": SUBMITTED if r.outcome == "submitted" else "delivered"} for r in done]
    ids: list[dict[str, Any]] = [
        {"provider_id": pid, "channel": batch.channel, "contact_id": r.contact_id, "part": i}
        for r in done for i, pid in enumerate(r.provider_ids) if pid]
    if not is_pg(s):
        s.execute(sa.update(contact).where(ours).values(
            state=sa.bindparam("st"), sent_at=now, provider_id=sa.bindparam("pid"),
            lease_until=None, reason=None).execution_options(synchronize_session=False), rows)
        if ids:
            # An SMSC that restarts may hand out an id again: the newest message owns it.
            s.execute(sa.delete(message_id).where(
                message_id.c.channel == batch.channel,
                message_id.c.provider_id.in_([r["provider_id"] for r in ids])))
            s.execute(sa.insert(message_id), ids)
        return
    # PostgreSQL: one statement each instead of an executemany per row (same guard).
    # psycopg prepares a statement from its 6th run, and PostgreSQL's generic plan guesses
    # 10 rows for unnest(): a nested loop with a sequential scan of contact per row (20x
    # slower after the 10th batch). Custom plans see the arrays' real length.
    s.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))
    # No nested loop for the UPDATE … FROM unnest() join: once the lease_id column has
    # statistics, PostgreSQL estimates one contact row for (ids, lease), puts it outside a
    # nested loop and recomputes the 1,000-row unnest for every contact row: a million
    # join-filter checks, ~600 ms a batch (EXPLAIN ANALYZE at 60k contacts), which is why
    # the database's CPU per contact grew with the wave (0.05 ms at 20k, 0.3-0.5 ms at
    # 200k). A hash join computes the arrays once. The record statements have no other
    # join.
    s.execute(sa.text("SET LOCAL enable_nestloop = off"))
    v = unnest(cid=([r["cid"] for r in rows], sa.BigInteger()),
                pid=([r["pid"] for r in rows], sa.String(80)),
                st=([r["st"] for r in rows], sa.String(20))).subquery("v")
    # `id = ANY(:ids)` besides the join: primary-key lookups whatever the statistics say
    # (joined on v alone, a small or freshly analysed table got a sequential scan).
    s.execute(sa.update(contact).where(
        any_of(contact.c.id, [r.contact_id for r in done], sa.BigInteger()),
        contact.c.id == v.c.cid,
        contact.c.lease_id == batch.lease,
        sa.or_(state_is(SENDING), state_is(UNKNOWN))).values(
        state=v.c.st, sent_at=now, provider_id=v.c.pid, lease_until=None, reason=None)
        .execution_options(synchronize_session=False))
    if ids:
        pids = [r["provider_id"] for r in ids]
        s.execute(sa.delete(message_id).where(
            message_id.c.channel == batch.channel,
            any_of(message_id.c.provider_id, pids, sa.String(80))))
        s.execute(sa.insert(message_id).from_select(
            ["provider_id", "contact_id", "part", "channel"],
            unnest(provider_id=(pids, sa.String(80)),
                    contact_id=([r["contact_id"] for r in ids], sa.BigInteger()),
                    part=([r["part"] for r in ids], sa.Integer()))
            .add_columns(sa.literal(batch.channel, sa.String(20)))))


def _retry_later(s: Session, batch: Batch, back: list[SendResult],
                 ours: sa.ColumnElement[bool], now: datetime) -> None:
    """'retry' answers: planned again after an exponential back-off (planned_at is the
    not-before the claim already reads through its index, so claiming costs nothing more),
    or failed once `retry_max_attempts` claims were spent (`attempts` counts claims)."""
    from telcamp.dispatch.config import get_dispatch_settings

    cfg = get_dispatch_settings()
    tried = {int(i): int(n or 0) for i, n in s.execute(
        sa.select(contact.c.id, contact.c.attempts)
        .where(contact.c.id.in_([r.contact_id for r in back])))}
    again, give_up = [], []
    for r in back:
        n = int(tried.get(r.contact_id) or 1)
        why = r.reason or "retry"
        if n >= cfg.retry_max_attempts:
            give_up.append({"cid": r.contact_id,
                            "why": f"{why} (gave up after {n} attempts)"[:200]})
        else:
            wait = min(cfg.retry_backoff_max_s, cfg.retry_backoff_s * 2 ** (n - 1))
            again.append({"cid": r.contact_id, "at": now + timedelta(seconds=wait),
                          "why": f"deferred:retry {n}/{cfg.retry_max_attempts}: {why}"[:200]})
    if again:
        s.execute(sa.update(contact).where(ours).values(
            state=PENDING, planned_at=sa.bindparam("at"), reason=sa.bindparam("why"),
            lease_id=None, lease_until=None).execution_options(synchronize_session=False),
            again)
    if give_up:
        s.execute(sa.update(contact).where(ours).values(
            state=FAILED, reason=sa.bindparam("why"), done_at=now, lease_until=None,
        ).execution_options(synchronize_session=False), give_up)
        by_id = {c.id: c for c in batch.contacts}
        _events(s, [by_id[g["cid"]] for g in give_up if g["cid"] in by_id], batch.channel,
                "failed", now)


def release(*, batch: Batch, reason: str) -> None:
    """Put a whole claimed batch back (nothing of it reached the channel)."""
    with session_scope() as s:
        s.execute(sa.update(contact).where(contact.c.lease_id == batch.lease,
                                           state_is(SENDING))
                  .values(state=PENDING, reason=reason[:200], lease_id=None, lease_until=None))
        s.execute(sa.delete(send_log).where(
            send_log.c.contact_id.in_([c.id for c in batch.contacts])))


def _events(s: Session, contacts: list[Claimed], channel: str, outcome: str,
            now: datetime) -> None:
    if contacts and is_pg(s):
        s.execute(sa.insert(event).from_select(
            ["contact_id", "msisdn", "campaign_id", "wave_id", "channel", "at", "outcome"],
            unnest(contact_id=([c.id for c in contacts], sa.BigInteger()),
                    msisdn=([c.msisdn for c in contacts], sa.BigInteger()),
                    campaign_id=([c.campaign_id for c in contacts], sa.Integer()),
                    wave_id=([c.wave_id for c in contacts], sa.Integer()))
            .add_columns(sa.literal(channel, sa.String(20)),
                         sa.literal(now, event.c.at.type),
                         sa.literal(outcome, sa.String(20)))))
    elif contacts:
        s.execute(sa.insert(event), [
            {"contact_id": c.id, "msisdn": c.msisdn, "campaign_id": c.campaign_id,
             "wave_id": c.wave_id, "channel": channel, "at": now, "outcome": outcome}
            for c in contacts])


def reconcile(*, channel: str | None = None, resend_unknown: bool = False,
              now: datetime | None = None) -> int:
    """Contacts whose lease expired while 'sending': their worker died between the claim
    and the record. Their outcome is unknown; see docs/dispatch.md for the choice."""
    now = now or clock.now()
    where = sa.and_(state_is(SENDING), contact.c.lease_until < now)
    if channel is not None:
        where = sa.and_(where, contact.c.channel == channel)
    with session_scope() as s:
        if resend_unknown:
            s.execute(sa.delete(send_log).where(send_log.c.contact_id.in_(
                sa.select(contact.c.id).where(where))))
            return _rowcount(s.execute(sa.update(contact).where(where).values(
                state=PENDING, reason="resent after lost lease", lease_id=None,
                lease_until=None)))
        s.execute(sa.insert(event).from_select(
            ["contact_id", "msisdn", "campaign_id", "wave_id", "channel", "at", "outcome"],
            sa.select(contact.c.id, contact.c.msisdn, contact.c.campaign_id,
                      contact.c.wave_id, contact.c.channel,
                      sa.literal(now, contact.c.done_at.type), sa.literal("unknown"))
            .where(where)))
        return _rowcount(s.execute(sa.update(contact).where(where).values(
            state=UNKNOWN, reason="worker lost before the channel's answer was recorded",
            done_at=now)))


def withdraw(s: Session, where: sa.ColumnElement[bool], *, reason: str, now: datetime) -> int:
    """Contacts `where` selects will never go: `cancelled` with a history event each (the
    subscriber lookup and the history then say why nothing came), control members left
    as they are (they were never to be contacted)."""
    where = sa.and_(where, contact.c.state == PENDING, contact.c.is_control.is_(False))
    s.execute(sa.insert(event).from_select(
        ["contact_id", "msisdn", "campaign_id", "wave_id", "channel", "at", "outcome",
         "reason"],
        sa.select(contact.c.id, contact.c.msisdn, contact.c.campaign_id, contact.c.wave_id,
                  contact.c.channel, sa.literal(now, contact.c.done_at.type),
                  sa.literal(CANCELLED), sa.literal(reason)).where(where)))
    return _rowcount(s.execute(sa.update(contact).where(where).values(
        state=CANCELLED, reason=reason, done_at=now)))


def cancel_stopped(*, now: datetime | None = None) -> int:
    """Pending contacts of cancelled or completed campaigns will never go: say so."""
    now = now or clock.now()
    with session_scope() as s:
        total = 0
        for state in ("cancelled", "completed"):
            stopped = [int(i) for i in s.scalars(sa.select(Campaign.id).where(
                Campaign.state == state))]
            if stopped:
                total += withdraw(s, contact.c.campaign_id.in_(stopped),
                                  reason=f"campaign {state}", now=now)
        return total


def prune_send_log(*, keep_days: int = 31, now: datetime | None = None) -> int:
    """The caps look back 30 days at most; older send-log rows only cost space."""
    now = now or clock.now()
    with session_scope() as s:
        return _rowcount(s.execute(sa.delete(send_log).where(
            send_log.c.sent_at < now - timedelta(days=keep_days))))

