"""Copying outcome events to the warehouse history: many batches, a copy interrupted
between the warehouse commit and the outbox delete (copied again without duplicates),
and a repeated outcome at another time kept. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from telcamp.core import warehouse
from telcamp.core.db import session_scope
from telcamp.dispatch import history
from telcamp.dispatch.tables import event

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _add(rows: list[tuple[int, str, datetime]]) -> None:
    with session_scope() as s:
        s.execute(sa.insert(event), [
            {"contact_id": cid, "msisdn": 79000000000 + cid, "campaign_id": 1, "wave_id": 1,
             "channel": "sms", "at": at, "outcome": outcome} for cid, outcome, at in rows])


def _history() -> list[tuple[int, str, datetime]]:
    with warehouse.connect(read_only=True) as con:
        rows = con.execute("SELECT contact_id, outcome, contacted_at FROM contact_history "
                           "ORDER BY contact_id, contacted_at").fetchall()
    return [(int(c), str(o), t.astimezone(UTC)) for c, o, t in rows]


def _pending() -> int:
    with session_scope() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(event)) or 0)


def test_events_copy_in_batches_once_each(db: str) -> None:
    _add([(i, "sent", T0 + timedelta(seconds=i)) for i in range(250)])
    assert history.sync(batch=100) == 250
    got = _history()
    assert [c for c, _, _ in got] == list(range(250))
    assert got[7] == (7, "sent", T0 + timedelta(seconds=7))
    assert _pending() == 0 and history.sync() == 0


def test_a_copy_interrupted_before_the_delete_is_not_duplicated(db: str) -> None:
    rows = [(i, "sent", T0 + timedelta(minutes=i)) for i in range(5)]
    _add(rows)
    history.sync()
    _add(rows)  # as if the outbox delete never happened: the same events again
    # ... beside a later resend of contact 1 (same outcome, another time) and a receipt
    _add([(1, "sent", T0 + timedelta(hours=5)), (2, "delivered", T0 + timedelta(minutes=3))])
    assert history.sync() == 7  # read and cleared from the outbox ...
    got = _history()  # ... but only the new outcomes were added
    assert len(got) == 7, got
    assert (1, "sent", T0 + timedelta(hours=5)) in got
    assert (2, "delivered", T0 + timedelta(minutes=3)) in got
    assert _pending() == 0


def test_syncs_at_once_copy_each_event_once(db: str) -> None:
    """Two workers of one process syncing at the same moment (a worker per channel): one
    waits for the other, and every event is copied once."""
    from concurrent.futures import ThreadPoolExecutor

    from telcamp.warehouse.schema import ensure_schema

    with warehouse.connect() as con:  # the warehouse exists (threads would race to make it)
        ensure_schema(con)
    _add([(i, "sent", T0 + timedelta(seconds=i)) for i in range(1200)])
    with ThreadPoolExecutor(2) as pool:
        counts = list(pool.map(lambda _: history.sync(batch=100), range(2)))
    assert sum(counts) == 1200, counts
    got = _history()
    assert len(got) == 1200 and len(set(got)) == 1200
    assert _pending() == 0


def _sync_in_process(start: Any, out: Any) -> None:
    start.wait()  # imported and connected: both begin together
    out.put(history.sync(batch=100))


def test_worker_processes_share_the_copy(db: str) -> None:
    """Worker processes syncing at once (PostgreSQL): each takes batches the others have
    not locked (SKIP LOCKED), so they copy disjoint events, every one once."""
    import multiprocessing as mp

    if not db.startswith("postgresql"):
        return  # SQLite runs one dispatch process (several are refused)
    from telcamp.warehouse.schema import ensure_schema

    with warehouse.connect() as con:
        ensure_schema(con)
    _add([(i, "sent", T0 + timedelta(seconds=i)) for i in range(3000)])
    ctx = mp.get_context("spawn")
    start, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_sync_in_process, args=(start, out)) for _ in range(2)]
    for p in procs:
        p.start()
    counts = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert sum(counts) == 3000, counts  # read by one of them only
    assert all(c > 0 for c in counts), counts  # both took a share
    got = _history()
    assert len(got) == 3000 and len(set(got)) == 3000
