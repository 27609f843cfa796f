"""The SMS channel through the dispatcher against the node-smpp SMSC: receipts to contact
states, per-status failures, a rendering failure, SMSC down at start, bind refused."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.smpp import peers

from telcamp.channels.smpp import BindConfig
from telcamp.channels.sms import SmsChannel
from telcamp.dispatch.worker import Worker

from .world import FIRST, add_contacts, make_campaign, need_peer, setup_warehouse, states


@pytest.fixture
def node() -> None:
    need_peer(*peers.node_available())


def bind(port: int, **kw: Any) -> BindConfig:
    base: dict[str, Any] = {"system_id": "telcamp", "password": "secret",
                            "reconnect_initial": 0.1, "reconnect_max": 0.5}
    base.update(kw)
    return BindConfig("127.0.0.1", port, **base)


async def _until(pred: Any, worker: Worker, timeout: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not pred():
        await worker._housekeeping(force=True)
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


def test_receipts_statuses_and_rendering(db: str, node: None) -> None:
    setup_warehouse(6)
    camp = make_campaign(message="Привет, {{ msisdn }}!")
    broken = make_campaign(message="Hi {{ nope }}")
    add_contacts(camp, range(5))
    add_contacts(broken, [5])
    smsc = peers.NodeSmsc({"dlr": "text", "status_for_dest": {str(FIRST + 4): 0x0B}})
    try:
        worker = Worker(SmsChannel([bind(smsc.port)]), grace_s=0.5)

        async def scenario() -> None:
            channel = worker.channel
            await channel.start(worker._sink)
            while await worker.step():
                pass
            await _until(lambda: sorted(st for st, _ in states(camp[1]).values())
                         == ["delivered"] * 4 + ["failed"], worker)
            await channel.close()

        asyncio.run(asyncio.wait_for(scenario(), 60))
        submits = smsc.of("submit")
    finally:
        smsc.stop()
    got = states(camp[1])
    assert got[4][0] == "failed" and "ESME_RINVDSTADR" in (got[4][1] or "")
    assert states(broken[1])[5][0] == "failed"
    assert "nope" in (states(broken[1])[5][1] or "")
    texts = {int(e["dest"]) - FIRST: e["text"] for e in submits}
    assert texts[0] == f"Привет, {FIRST}!"
    assert 5 not in texts


def test_smsc_down_at_start_then_up(db: str, node: None) -> None:
    setup_warehouse(3)
    camp = make_campaign(message="Hello")
    add_contacts(camp, range(3))
    port = peers.free_port()
    worker = Worker(SmsChannel([bind(port)]), idle_s=0.05)
    smsc: Any = None

    async def scenario() -> None:
        nonlocal smsc
        await worker.channel.start(worker._sink)
        await worker.step()  # nothing bound: the batch goes back
        assert {st for st, _ in states(camp[1]).values()} == {"planned"}
        assert worker.stats.unavailable == 1
        smsc = await asyncio.to_thread(peers.NodeSmsc, {"dlr": None}, port)
        for _ in range(100):
            if await worker.step() == 0 and {st for st, _ in states(camp[1]).values()} == {
                    "submitted"}:
                break
            await asyncio.sleep(0.1)
        await worker.channel.close()

    try:
        asyncio.run(asyncio.wait_for(scenario(), 60))
        assert {st for st, _ in states(camp[1]).values()} == {"submitted"}
        assert len(smsc.of("submit")) == 3
    finally:
        if smsc is not None:
            smsc.stop()


def test_bind_refused_alerts_once_and_keeps_contacts(db: str, node: None) -> None:
    setup_warehouse(2)
    camp = make_campaign(message="Hello")
    add_contacts(camp, range(2))
    smsc = peers.NodeSmsc({"dlr": None})
    try:
        worker = Worker(SmsChannel([bind(smsc.port, password="wrong")]), idle_s=0.05)

        async def scenario() -> None:
            await worker.channel.start(worker._sink)
            for _ in range(5):
                await worker.step()
            await asyncio.sleep(1.0)
            assert worker.channel.status().state == "refused"
            await worker.channel.close()

        asyncio.run(asyncio.wait_for(scenario(), 60))
        binds = smsc.of("bind")
    finally:
        smsc.stop()
    assert len(binds) == 1, "a refused password is not retried"
    got = states(camp[1])
    assert {st for st, _ in got.values()} == {"planned"}
    assert all("unavailable" in (why or "") for _, why in got.values())
