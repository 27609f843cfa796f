"""What the SMSC sends us besides answers, end to end against node-smpp: a receipt for an
id it never issued (an orphan, counted), mobile-originated replies (stored, STOP keywords
opt the sender out, other replies make the contact 'responded'), unreadable receipts
(kept raw, counted)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from channels.smpp import peers

from telcamp.channels.smpp import BindConfig
from telcamp.channels.sms import SmsChannel
from telcamp.core.db import session_scope
from telcamp.dispatch import feedback
from telcamp.dispatch.progress import campaign_progress
from telcamp.dispatch.tables import inbound, orphan
from telcamp.dispatch.worker import Worker
from telcamp.lists.models import ListMember, SpecialList

from .world import FIRST, add_contacts, make_campaign, need_peer, setup_warehouse, states


@pytest.fixture
def node() -> None:
    need_peer(*peers.node_available())


def bind(port: int) -> BindConfig:
    return BindConfig("127.0.0.1", port, system_id="telcamp", password="secret",
                      reconnect_initial=0.1, reconnect_max=0.5, receipt_grace=0.1)


async def _until(pred: Any, worker: Worker, timeout: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not pred():
        await worker._housekeeping(force=True)
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def _inbound() -> list[dict[str, Any]]:
    with session_scope() as s:
        return [dict(r._mapping) for r in s.execute(sa.select(inbound).order_by(inbound.c.id))]


def _optouts() -> set[int]:
    with session_scope() as s:
        lists = s.scalars(sa.select(SpecialList.name).where(SpecialList.type == "optout"))
        assert list(lists) == ["unsubscribed"], "one opt-out list, created once"
        return {int(m) for m in s.scalars(
            sa.select(ListMember.msisdn).join(SpecialList, SpecialList.id == ListMember.list_id)
            .where(SpecialList.type == "optout"))}


def test_orphan_receipt_mo_replies_and_unreadable_receipts(db: str, node: None) -> None:
    setup_warehouse(4)
    camp = make_campaign(message="Offer for you")
    add_contacts(camp, range(4))
    smsc = peers.NodeSmsc({"dlr": None})
    try:
        worker = Worker(SmsChannel([bind(smsc.port)]), grace_s=0.2)

        async def scenario() -> None:
            await worker.channel.start(worker._sink)
            while await worker.step():
                pass
            assert {st for st, _ in states(camp[1]).values()} == {"submitted"}
            # 1. a receipt for an id node-smpp never issued
            smsc.command(cmd="receipt", id="999999999", stat="DELIVRD")
            await _until(lambda: worker.stats.orphans == 1, worker)
            # 2. replies: a keyword in three scripts and cases, and a plain answer
            smsc.command(cmd="mo", source=str(FIRST + 1), destination="5555", text=" stop ")
            smsc.command(cmd="mo", source=str(FIRST + 2), destination="5555", text="СТОП",
                         data_coding=8)
            smsc.command(cmd="mo", source=str(FIRST + 3), destination="5555", text="退订",
                         data_coding=8)
            smsc.command(cmd="mo", source=str(FIRST), destination="5555", text="Yes, I want it")
            # 3. a receipt nobody can read
            smsc.command(cmd="deliver_raw", source=str(FIRST), destination="5555",
                         esm_class=4, text="status report ?? not a receipt")
            # stored first, then acknowledged: wait for all six answers
            await _until(lambda: len(smsc.of("deliver_sm_resp")) == 6, worker)
            await worker._housekeeping(force=True)  # as the worker's loop does
            await worker.channel.close()

        asyncio.run(asyncio.wait_for(scenario(), 60))
        acks = smsc.of("deliver_sm_resp")
    finally:
        smsc.stop()
    assert [a["status"] for a in acks] == [0] * 6, "every deliver_sm acknowledged OK"
    with session_scope() as s:
        orphans = s.execute(sa.select(orphan.c.provider_id, orphan.c.state)).all()
    assert [tuple(o) for o in orphans] == [("999999999", "delivered")]
    rows = _inbound()
    mo = {r["msisdn"] - FIRST: r for r in rows if r["kind"] == "mo"}
    assert {k: r["action"] for k, r in mo.items()} == {
        0: "responded", 1: "optout", 2: "optout", 3: "optout"}
    assert mo[2]["text"] == "СТОП" and mo[3]["text"] == "退订"
    assert mo[0]["contact_id"] is not None and mo[0]["bind"]
    raw = [r for r in rows if r["kind"] == "raw_receipt"]
    assert len(raw) == 1 and raw[0]["text"] == "status report ?? not a receipt"
    assert "esm_class=0x04" in raw[0]["raw"] and "6e6f74206120" in raw[0]["raw"]
    assert worker.stats.inbound == {"mo": 4, "optout": 3, "responded": 1, "raw_receipt": 1}
    assert _optouts() == {FIRST + 1, FIRST + 2, FIRST + 3}
    from telcamp.core import warehouse

    with warehouse.connect(read_only=True) as con:  # copied by the worker's housekeeping
        copied = {int(m) for (m,) in con.execute("SELECT msisdn FROM list_members").fetchall()}
    assert copied == {FIRST + 1, FIRST + 2, FIRST + 3}
    assert states(camp[1])[0][0] == "responded"
    with session_scope() as s:
        progress = campaign_progress(s, campaign_id=camp[0])
        from telcamp.audit.models import AuditEntry

        actors = set(s.scalars(sa.select(AuditEntry.actor).where(
            AuditEntry.action == "list.member_add")))
    assert progress[0]["responded"] == 1 and progress[0]["sent"] == 3
    assert actors == {"sms-stop"}


def test_stop_keywords_are_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    from telcamp.dispatch.config import get_dispatch_settings

    assert feedback.is_stop(" Stop\n") and feedback.is_stop("стоп") and feedback.is_stop("退 订")
    assert not feedback.is_stop("stop it") and not feedback.is_stop("")
    monkeypatch.setenv("TELCAMP_DISPATCH_STOP_KEYWORDS", '["UNSUB"]')
    get_dispatch_settings.cache_clear()
    assert feedback.is_stop("unsub") and not feedback.is_stop("STOP")


def test_a_result_responded_may_follow_a_delivery_and_is_a_progress_bucket(db: str) -> None:
    from telcamp.channels.base import DeliveryUpdate
    from telcamp.channels.fake import FakeChannel
    from telcamp.dispatch import updates

    setup_warehouse(2)
    camp = make_campaign(channel="ivr")
    add_contacts(camp, range(2), channel="ivr")
    channel = FakeChannel("ivr")
    asyncio.run(Worker(channel).run(once=True))
    first, second = list(channel.provider_ids)

    def apply(pid: str, state: Any) -> None:
        updates.apply([updates.Pending(DeliveryUpdate("ivr", pid, state))], grace_s=0)

    apply(first, "delivered")
    apply(first, "responded")  # the subscriber pressed 1 after the call was delivered
    apply(second, "failed")
    apply(second, "responded")  # a failed contact cannot have answered
    got = states(camp[1])
    assert got[0][0] == "responded" and got[1][0] == "failed"
    with session_scope() as s:
        row = campaign_progress(s, campaign_id=camp[0])[0]
    assert (row["responded"], row["failed"], row["delivered"]) == (1, 1, 0)
