"""Multi-part replies (MO) are joined from the database: parts that arrive out of order,
twice, on two binds or across a worker restart make one message, which is then acted on
(STOP, answer); a message that never completes is stored as 'incomplete' after the
configured time. The store on SQLite and PostgreSQL, and end to end against node-smpp."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from channels.smpp import peers

from telcamp.channels.base import InboundMessage
from telcamp.channels.smpp import BindConfig
from telcamp.channels.sms import SmsChannel
from telcamp.core import clock
from telcamp.core.db import session_scope
from telcamp.dispatch import feedback, mo_parts
from telcamp.dispatch.tables import inbound
from telcamp.dispatch.worker import Worker
from telcamp.lists.models import ListMember, SpecialList

from .world import FIRST, add_contacts, make_campaign, need_peer, setup_warehouse, states


def _part(source: int, text: str, ref: int, total: int, seq: int,
          bind: str = "b1") -> InboundMessage:
    return InboundMessage(channel="sms", kind="mo", source=str(source), destination="5555",
                          text=text, raw=text.encode().hex(), bind=bind,
                          part=(ref, total, seq))


def _inbound() -> list[dict[str, Any]]:
    with session_scope() as s:
        return [dict(r._mapping) for r in s.execute(sa.select(inbound).order_by(inbound.c.id))]


def _optouts() -> set[int]:
    with session_scope() as s:
        return {int(m) for m in s.scalars(
            sa.select(ListMember.msisdn).join(SpecialList, SpecialList.id == ListMember.list_id)
            .where(SpecialList.type == "optout"))}


def _waiting() -> dict[Any, list[int]]:
    with session_scope() as s:
        return mo_parts.waiting(s)


def test_parts_join_in_any_order_once_and_expire(db: str, caplog: Any) -> None:
    setup_warehouse(3)
    # a STOP in two parts, last part first, the first part delivered twice
    assert feedback.store([_part(FIRST, "OP", 7, 2, 2, bind="b2")]) == {"mo_part": 1}
    assert _inbound() == [] and _optouts() == set(), "half a STOP does nothing"
    feedback.store([_part(FIRST, "ST", 7, 2, 1)])
    # the same reference from another sender is another message
    feedback.store([_part(FIRST + 1, "Hello ", 7, 3, 1)])
    feedback.store([_part(FIRST + 1, "Hello ", 7, 3, 1)])  # the SMSC sent it again
    rows = _inbound()
    assert [(r["msisdn"] - FIRST, r["text"], r["action"]) for r in rows] == [
        (0, "STOP", "optout")]
    assert rows[0]["bind"] == "b1,b2"
    assert _optouts() == {FIRST}
    assert list(_waiting().values()) == [[1]], "the duplicate stored once"
    # not yet expired
    assert feedback.expire_mo_parts() == 0
    clock.freeze(clock.now() + timedelta(hours=25))
    with caplog.at_level(logging.WARNING, logger="telcamp.dispatch.mo_parts"):
        assert feedback.expire_mo_parts() == 1
    assert "incomplete" in caplog.text and "parts [1] of 3" in caplog.text
    last = _inbound()[-1]
    assert (last["msisdn"], last["text"], last["action"]) == (FIRST + 1, "Hello ",
                                                              "incomplete")
    assert _waiting() == {}


@pytest.fixture
def node() -> None:
    need_peer(*peers.node_available())


def _bind(port: int, name: str) -> BindConfig:
    return BindConfig("127.0.0.1", port, system_id="telcamp", password="secret",
                      reconnect_initial=0.1, reconnect_max=0.5, receipt_grace=0.1, name=name)


async def _until(pred: Any, worker: Worker, timeout: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not pred():
        await worker._housekeeping(force=True)
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_node_smpp_parts_across_binds_and_a_restart(db: str, node: None) -> None:
    setup_warehouse(4)
    camp = make_campaign(message="Offer for you")
    add_contacts(camp, [2])
    smsc = peers.NodeSmsc({"dlr": None})
    try:
        async def scenario() -> None:
            # two binds: part 1 arrives on one, part 2 on the other
            first = Worker(SmsChannel([_bind(smsc.port, "a"), _bind(smsc.port, "b")]), grace_s=0.2)
            await first.channel.start(first._sink)
            while await first.step():
                pass
            assert states(camp[1])[2][0] == "submitted"
            await _until(lambda: _two_bound(first), first)
            smsc.command(cmd="mo_parts", source=str(FIRST), destination="5555",
                         ref=41, parts=["ST", "OP"], spread=True)
            # a reply whose first part reaches this worker (on both binds: a duplicate),
            # the rest its successor
            smsc.command(cmd="mo_parts", source=str(FIRST + 2), destination="5555",
                         ref=42, parts=["Yes, I ", "want ", "it"], send=[1], data_coding=8)
            await _until(lambda: len(smsc.of("deliver_sm_resp")) == 4, first)
            await first.channel.close()  # the worker restarts
            second = Worker(SmsChannel([_bind(smsc.port, "c")]), grace_s=0.2)
            await second.channel.start(second._sink)
            smsc.command(cmd="mo_parts", source=str(FIRST + 2), destination="5555",
                         ref=42, parts=["Yes, I ", "want ", "it"], send=[3, 2],
                         data_coding=8)
            await _until(lambda: len(smsc.of("deliver_sm_resp")) == 6, second)
            await second._housekeeping(force=True)
            await second.channel.close()

        asyncio.run(asyncio.wait_for(scenario(), 60))
        acks = smsc.of("deliver_sm_resp")
    finally:
        smsc.stop()
    assert [a["status"] for a in acks] == [0] * 6, "every part acknowledged OK"
    mo = {r["msisdn"] - FIRST: r for r in _inbound()}
    assert (mo[0]["text"], mo[0]["action"]) == ("STOP", "optout")
    assert mo[0]["bind"] == "a,b", "its parts came on two binds"
    assert (mo[2]["text"], mo[2]["action"]) == ("Yes, I want it", "responded")
    assert _optouts() == {FIRST}
    assert states(camp[1])[2][0] == "responded"
    assert _waiting() == {}


def _two_bound(worker: Worker) -> bool:
    channel = worker.channel
    assert isinstance(channel, SmsChannel) and channel.pool is not None
    return sum(s.state == "bound" for s in channel.pool.status()) == 2
