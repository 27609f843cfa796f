"""Outcome events → the warehouse `contact_history` (what `contacted` and the
recent-contact exclusion read).

The operational `dispatch_event` table is an outbox: events are written in the same
transaction as the contact's state change, copied to DuckDB in batches after commit, and
deleted from the operational DB once the DuckDB transaction committed. A crash between
the two copies again; the copy skips events already present (same contact, outcome and
time), so the history stays free of duplicates. Each DuckDB write is one short
transaction (DuckDB has one writer; core.warehouse.connect waits for it).

Each row carries the reason of its outcome (suppressed: the policy's code; deferred: why
and `planned_at` moved; failed / unknown / undelivered: the channel's or network's
reason). Events written without one (the outbox records `failed` and `unknown` per batch
with a single outcome) take the contact's reason while the contact is still in that
outcome: those outcomes are final, so it is the reason they were written with.
"""

from __future__ import annotations

import threading

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.orm import Session

from telcamp.core import warehouse
from telcamp.core.db import session_scope
from telcamp.dispatch.tables import FAILED, UNKNOWN, contact, event, ids_in, is_pg
from telcamp.warehouse.schema import ensure_schema

BATCH = 50_000
_SYNC_LOCK = threading.Lock()
# Outcomes the outbox writes without a reason; their contact row has it (see above).
_REASON_ON_CONTACT = (FAILED, UNKNOWN)


def _reason() -> sa.ColumnElement[str | None]:
    """The event's reason, else (failed / unknown only) the contact's. A CASE around a
    scalar subquery: the contact is read by primary key only for those rows, not for the
    bulk of `sent` and `delivered` events."""
    from_contact = (sa.select(contact.c.reason)
                    .where(contact.c.id == event.c.contact_id,
                           contact.c.state == event.c.outcome)
                    .scalar_subquery())
    return sa.case(
        (sa.and_(event.c.reason.is_(None), event.c.outcome.in_(_REASON_ON_CONTACT)),
         from_contact),
        else_=event.c.reason)


def sync(*, batch: int = BATCH) -> int:
    """Copy pending events to the warehouse; returns how many were copied.

    Each batch is one operational transaction that locks its events (FOR UPDATE SKIP
    LOCKED on PostgreSQL) until they are in the warehouse and deleted: workers syncing at
    the same time copy different batches instead of all reading, inserting and deleting
    the same first 50,000 (which made two workers' copy of a 7M wave take twice as long).
    """
    total = 0
    # One sync at a time in a process (a worker per channel syncs from its own thread):
    # SQLite has no row locks to share the events by, and DuckDB refuses two threads
    # registering Arrow tables at once.
    with _SYNC_LOCK:
        while True:
            with session_scope() as s:
                copied = _copy_batch(s, batch)
            total += copied
            if copied < batch:
                return total


def _copy_batch(s: Session, batch: int) -> int:
    query = sa.select(
        event.c.seq, event.c.msisdn, event.c.campaign_id, event.c.wave_id,
        # the plain type: pyarrow takes aware and naive (UTC) values alike, and
        # UTCDateTime's per-row conversion was a fifth of the copy's client CPU
        event.c.contact_id, event.c.channel,
        sa.type_coerce(event.c.at, sa.DateTime(timezone=True)), event.c.outcome,
        _reason(),
    ).order_by(event.c.seq).limit(batch)
    if is_pg(s):  # SQLite has one writer: nothing to skip
        query = query.with_for_update(skip_locked=True, of=event)
    rows = s.execute(query).all()
    if not rows:
        return 0
    cols = list(zip(*rows, strict=True))
    table = pa.table({
        "msisdn": pa.array(cols[1], pa.int64()),
        "campaign_id": pa.array(cols[2], pa.int64()),
        "wave_id": pa.array(cols[3], pa.int64()),
        "contact_id": pa.array(cols[4], pa.int64()),
        "channel": pa.array(cols[5], pa.string()),
        "contacted_at": pa.array(cols[6], pa.timestamp("us", tz="UTC")),
        "outcome": pa.array(cols[7], pa.string()),
        "reason": pa.array(cols[8], pa.string()),
    })
    times = pc.min_max(table["contacted_at"])
    with warehouse.connect() as con:
        ensure_schema(con)  # a fresh warehouse may not have the table yet
        con.register("new_events", table)
        con.execute("BEGIN")
        # A copy already there has the same time: only history rows within the batch's
        # times are compared (zone maps skip the rest, which is most of a history that
        # grows for months; the sync runs every few seconds during a wave).
        con.execute("""
            INSERT INTO contact_history (msisdn, campaign_id, wave_id, contact_id,
                                         channel, contacted_at, outcome, reason)
            SELECT n.msisdn, n.campaign_id, n.wave_id, n.contact_id, n.channel,
                   n.contacted_at, n.outcome, n.reason
            FROM new_events n
            WHERE NOT EXISTS (
              SELECT 1 FROM contact_history h
              WHERE h.contact_id = n.contact_id AND h.outcome = n.outcome
                AND h.contacted_at = n.contacted_at
                AND h.contacted_at BETWEEN $first AND $last)""",
            {"first": times["min"].as_py(), "last": times["max"].as_py()})
        con.execute("COMMIT")
    # After the warehouse commit: a crash before the operational commit copies the batch
    # again, and the check above skips it. One array parameter on PostgreSQL (ids_in):
    # 50,000 IN parameters were most of the copy's client CPU.
    s.execute(sa.delete(event).where(ids_in(event.c.seq, [int(x) for x in cols[0]], s)))
    return len(rows)
