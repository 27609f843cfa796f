"""The warehouse contact history keeps each outcome's reason (suppressed, deferred, failed,
undelivered), warehouses made before the column get it, and the subscriber lookup (API
and page) shows it. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import sqlalchemy as sa

from telcamp.channels.base import DeliveryUpdate
from telcamp.channels.fake import FakeChannel
from telcamp.core import clock, warehouse
from telcamp.core.db import session_scope
from telcamp.core.security import system_principal
from telcamp.dispatch import history
from telcamp.dispatch.tables import contact
from telcamp.dispatch.worker import Worker
from telcamp.lists.models import ListMember, SpecialList
from telcamp.policy import service as policy
from telcamp.policy.schemas import PolicyUpdate
from telcamp.subscribers import service as lookup

from .world import FIRST, add_contacts, make_campaign, setup_warehouse

OLD_DDL = """CREATE TABLE contact_history(
  msisdn BIGINT NOT NULL, campaign_id BIGINT, wave_id BIGINT, contact_id BIGINT,
  channel VARCHAR NOT NULL, contacted_at TIMESTAMPTZ NOT NULL, outcome VARCHAR NOT NULL)"""


def _history() -> dict[tuple[int, str], str | None]:
    """(msisdn offset, outcome) → reason, from the warehouse."""
    with warehouse.connect(read_only=True) as con:
        rows = con.execute("SELECT msisdn, outcome, reason FROM contact_history").fetchall()
    out: dict[tuple[int, str], str | None] = {}
    for m, outcome, reason in rows:
        assert (int(m) - FIRST, outcome) not in out, "one row per outcome"
        out[(int(m) - FIRST, str(outcome))] = reason
    return out


def _world(*, old_warehouse: bool = False) -> dict[str, Any]:
    """Offsets: 0 opted out; 1 in two campaigns at once (the second deferred by the gap);
    2 refused by the SMSC; 3 undelivered; 4 fails to render; 5 delivered."""
    if old_warehouse:  # a warehouse from before `reason`, with one outcome in it
        with warehouse.connect() as con:
            con.execute(OLD_DDL)
            con.execute("INSERT INTO contact_history VALUES (?, 9, 9, 9, 'sms', ?, 'sent')",
                        [FIRST + 99, clock.now()])
    setup_warehouse(6)
    with session_scope() as s:
        policy.update(session=s, actor=system_principal(), policy_in=PolicyUpdate(
            list_types=["optout"], min_gap_minutes=60, quiet_start="00:00",
            quiet_end="00:00"))
        now = clock.now()
        lst = SpecialList(name="stop", type="optout", region_code=None, description="",
                          default_excluded=True, version=1, created_by="t", created_at=now,
                          updated_at=now)
        s.add(lst)
        s.flush()
        s.add(ListMember(list_id=lst.id, msisdn=FIRST, added_by="t", added_at=now))
    main = make_campaign(priority=80)
    later = make_campaign(priority=20)
    broken = make_campaign(message="Hi {{ no_such_field }}")
    add_contacts(main, [0, 1, 2, 3, 5], priority=80)
    add_contacts(later, [1], priority=20)
    add_contacts(broken, [4])
    channel = FakeChannel("sms", fail={str(FIRST + 2): "ESME_RINVDSTADR"})
    worker = Worker(channel, grace_s=0)

    async def scenario() -> None:
        await worker.run(once=True)
        await channel.start(worker._sink)
        ids = {int(m.msisdn) - FIRST: pid for pid, m in zip(
            channel.provider_ids, channel.sent, strict=False)}
        await channel.deliver(ids[5], "delivered")
        await worker._sink(DeliveryUpdate(channel="sms", provider_id=ids[3],
                                          state="undelivered", reason="UNDELIV"))
        await worker._housekeeping(force=True)

    asyncio.run(scenario())
    history.sync()
    return {"main": main, "later": later}


def test_every_outcome_lands_with_its_reason(db: str) -> None:
    _world()
    got = _history()
    assert got[(0, "suppressed")] == "optout"
    assert got[(1, "deferred")] == "deferred:min_gap"
    assert got[(1, "sent")] is None
    assert got[(2, "failed")] == "ESME_RINVDSTADR"
    assert got[(3, "undelivered")] == "UNDELIV"
    assert (got[(4, "failed")] or "").startswith("render:")
    assert got[(5, "delivered")] is None
    # the deferred contact is still planned: its row no longer says why it waited
    with session_scope() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(contact).where(
            contact.c.msisdn == FIRST + 1, contact.c.state == "planned")) == 1


def test_a_warehouse_from_before_the_column_gets_it(db: str) -> None:
    _world(old_warehouse=True)
    with warehouse.connect(read_only=True) as con:
        names = [r[0] for r in con.execute("DESCRIBE contact_history").fetchall()]
        old = con.execute("SELECT reason FROM contact_history WHERE campaign_id = 9"
                          ).fetchall()
    assert names[-1] == "reason"
    assert old == [(None,)]
    got = _history()
    assert got[(0, "suppressed")] == "optout" and got[(99, "sent")] is None


def test_lookup_shows_the_history_with_reasons(db: str, login: Any) -> None:
    _world()
    with session_scope() as s:
        r = lookup.lookup(s, principal=system_principal(), msisdn=str(FIRST + 1))
    rows = {(h.outcome, h.reason) for h in r.history}
    assert rows == {("deferred", "deferred:min_gap"), ("sent", None)}
    deferred = next(h for h in r.history if h.outcome == "deferred")
    assert deferred.campaign == "c" and "contact policy" in deferred.explanation
    agent = login("agent")
    api = agent.get(f"/api/subscribers/{FIRST}/contacts")
    assert api.status_code == 200, api.text
    assert [(h["outcome"], h["reason"]) for h in api.json()["history"]] == [
        ("suppressed", "optout")]
    page = agent.get(f"/subscribers?msisdn={FIRST + 2}")
    assert page.status_code == 200
    assert 'data-testid="history-failed"' in page.text and "ESME_RINVDSTADR" in page.text


def test_cli_lookup_shows_the_history_with_reasons(db: str) -> None:
    from typer.testing import CliRunner

    from telcamp.cli import app

    _world()
    runner = CliRunner()
    r = runner.invoke(app, ["subscriber", "lookup", str(FIRST + 1)])
    assert r.exit_code == 0, r.output
    history = r.output.split("History (2):")[1]
    assert "deferred  deferred:min_gap" in history and "sent" in history
    as_json = runner.invoke(app, ["subscriber", "lookup", f"+{FIRST}", "--json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert [(h["outcome"], h["reason"]) for h in data["history"]] == [
        ("suppressed", "optout")]
    bad = runner.invoke(app, ["subscriber", "lookup", "12ab"])
    assert bad.exit_code != 0 and "msisdn" in bad.output.lower()
