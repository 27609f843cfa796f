"""The claim's indexes and set-based record (migration dispatch_0002_claim, H-dispperf):
concurrent claimers never take a contact twice, the claim reads the partial dispatch
index, and a claimed contact leaves it."""

from __future__ import annotations

import re
import threading
from typing import Any

import sqlalchemy as sa

from telcamp.channels.base import SendResult
from telcamp.core import clock
from telcamp.core.db import get_engine, session_scope
from telcamp.dispatch import outbox
from telcamp.dispatch.tables import contact, event, message_id, send_log, state_is

from .world import add_contacts, make_campaign, setup_warehouse


def test_concurrent_claimers_never_take_a_contact_twice(db: str) -> None:
    """Four threads (four PostgreSQL sessions: SKIP LOCKED at work) claim 100 at a time
    until the outbox is empty; on SQLite the single writer serialises them."""
    setup_warehouse(10)
    camp = make_campaign()
    ids = add_contacts(camp, range(2400))
    got: list[list[int]] = [[] for _ in range(4)]
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def claimer(k: int) -> None:
        try:
            start.wait()
            while True:
                batch = outbox.claim(channel="sms", limit=100, apply_policy=False)
                if not batch.contacts:
                    return
                got[k].extend(c.id for c in batch.contacts)
        except BaseException as exc:  # reported below; a thread cannot fail the test
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    claimed = [i for g in got for i in g]
    assert len(claimed) == len(set(claimed)) == len(ids)
    assert set(claimed) == set(ids)
    if get_engine().dialect.name == "postgresql":
        assert sum(1 for g in got if g) >= 2  # the work was shared, not run one by one
    with session_scope() as s:
        assert s.scalar(sa.select(sa.func.max(contact.c.attempts))) == 1


def test_claim_reads_the_partial_index_and_leaves_it(db: str) -> None:
    """The state is inlined, so the planner can prove the partial index's predicate —
    also in a prepared statement's generic plan (PostgreSQL) and on SQLite."""
    setup_warehouse(10)
    camp = make_campaign()
    add_contacts(camp, range(300))
    due = (sa.select(contact.c.id).where(
        state_is("planned"), contact.c.channel == "sms",
        contact.c.planned_at <= clock.now(), contact.c.wave_id.in_([camp[1]]))
        .order_by(contact.c.priority.desc(), contact.c.planned_at.desc()).limit(10))
    with get_engine().connect() as conn:
        if conn.dialect.name == "postgresql":
            plan = _generic_plan(conn, due.with_for_update(skip_locked=True))
            pred = conn.exec_driver_sql(
                "SELECT pg_get_expr(indpred, indrelid) FROM pg_index "
                "WHERE indexrelid = 'ix_contact_dispatch'::regclass").scalar()
        else:
            compiled = due.compile(dialect=conn.dialect,
                                   compile_kwargs={"render_postcompile": True})
            params = tuple(str(compiled.params[k]) for k in compiled.positiontup or ())
            plan = "\n".join(str(r[-1]) for r in conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled}", params))
            pred = conn.exec_driver_sql("SELECT sql FROM sqlite_master "
                                        "WHERE name = 'ix_contact_dispatch'").scalar()
    assert "ix_contact_dispatch" in plan, plan
    assert "planned" in str(pred)  # a claimed ('sending') row has no entry in it
    batch = outbox.claim(channel="sms", limit=120, apply_policy=False)
    assert len(batch.contacts) == 120
    with session_scope() as s:
        by_state = dict(s.execute(sa.select(contact.c.state, sa.func.count())
                                  .group_by(contact.c.state)).all())
    assert by_state == {"planned": 180, "sending": 120}


def test_set_based_record_writes_each_answer_to_its_own_contact(db: str) -> None:
    """submitted / delivered answers with their own provider ids (on PostgreSQL one
    UPDATE … FROM unnest per batch), over more batches than psycopg's prepare threshold;
    an answer naming a contact of another lease is ignored."""
    setup_warehouse(10)
    camp = make_campaign()
    add_contacts(camp, range(80))
    other = outbox.claim(channel="sms", limit=10, apply_policy=True)
    want_ids: set[tuple[str, int, int]] = set()
    want_state: dict[int, tuple[str, str]] = {}
    for _ in range(7):
        batch = outbox.claim(channel="sms", limit=10, apply_policy=True)
        results = [SendResult(c.id, "submitted" if k % 2 else "delivered",
                              provider_ids=(f"p{c.id}", f"q{c.id}") if k % 3 == 0
                              else (f"p{c.id}",))
                   for k, c in enumerate(batch.contacts)]
        results.append(SendResult(other.contacts[0].id, "submitted", provider_ids=("x",)))
        outbox.record(batch=batch, results=results)
        for k, c in enumerate(batch.contacts):
            want_state[c.id] = ("delivered" if k % 2 == 0 else "submitted", f"p{c.id}")
            want_ids.add((f"p{c.id}", c.id, 0))
            if k % 3 == 0:
                want_ids.add((f"q{c.id}", c.id, 1))
    with session_scope() as s:
        rows = {int(i): (st, pid) for i, st, pid in s.execute(
            sa.select(contact.c.id, contact.c.state, contact.c.provider_id))}
        assert {i: rows[i] for i in want_state} == want_state
        assert {rows[c.id] for c in other.contacts} == {("sending", None)}
        ids = {(p, int(c), int(part)) for p, c, part in s.execute(
            sa.select(message_id.c.provider_id, message_id.c.contact_id, message_id.c.part))}
        assert ids == want_ids
        sent = sorted(int(i) for i in s.scalars(
            sa.select(event.c.contact_id).where(event.c.outcome == "sent")))
        assert sent == sorted(want_state)  # one 'sent' event per recorded contact
        assert s.scalar(sa.select(sa.func.count()).select_from(send_log)) == 80


def _generic_plan(conn: sa.Connection, stmt: sa.Select[Any]) -> str:
    """EXPLAIN of `stmt` as a server-side prepared statement under its generic plan —
    what psycopg's prepared statements get after a few runs, where a bound state value
    would not prove a partial index's predicate."""
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    names: list[str] = []

    def placeholder(m: re.Match[str]) -> str:
        names.append(m.group(1))
        return f"${len(names)}"

    sql = re.sub(r"%\((\w+)\)s", placeholder, str(compiled))
    conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
    conn.exec_driver_sql("SET enable_seqscan = off")  # a tiny table: use an index if it can
    conn.exec_driver_sql(f"PREPARE claim_probe AS {sql}")
    args = ", ".join(f"'{compiled.params[n]}'" for n in names)  # test constants only
    try:
        return "\n".join(r[0] for r in conn.exec_driver_sql(
            f"EXPLAIN EXECUTE claim_probe({args})"))
    finally:
        conn.exec_driver_sql("DEALLOCATE claim_probe")

