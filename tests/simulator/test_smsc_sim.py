"""The demo's SMSC simulator against the project's own SMPP client, and `telcamp demo`'s
SMS configuration pointing the dispatch registry at it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from telcamp.channels.smpp import BindConfig, MessageState, OutboundSms, ReceiptEvent, SmppClient
from telcamp.simulator import demo
from telcamp.simulator.smsc import SmscSimulator, pick_port


async def _send(bind: BindConfig, n: int, timeout: float = 20) -> tuple[list[Any], list[Any]]:
    """Submit n messages on one bind, wait for n receipts."""
    events: list[Any] = []
    client = SmppClient(bind, on_event=events.append)
    await client.start()
    try:
        await client.wait_bound(10)
        results = await asyncio.gather(*(
            client.submit(OutboundSms(f"7900000{i:04d}", f"offer {i}", ref=i))
            for i in range(n)))

        async def receipts() -> None:
            while sum(isinstance(e, ReceiptEvent) for e in events) < n:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(receipts(), timeout)
    finally:
        await client.close()
    return results, [e for e in events if isinstance(e, ReceiptEvent)]


@pytest.mark.parametrize(("rate", "expected"), [(1.0, MessageState.DELIVERED),
                                                (0.0, MessageState.UNDELIVERED)])
def test_submit_gets_an_id_and_a_receipt(rate, expected):
    async def main() -> tuple[list[Any], list[Any], Any]:
        sim = SmscSimulator(port=pick_port(preferred=0), delivery_rate=rate,
                            receipt_delay=0.05)
        await sim.start()
        try:
            out = await _send(BindConfig("127.0.0.1", sim.port, "demo", "demo"), 5)
        finally:
            await sim.stop()
        return *out, sim.stats

    results, receipts, stats = asyncio.run(main())
    assert all(r.state is MessageState.SUBMITTED for r in results)
    ids = {r.message_ids[0] for r in results}
    assert len(ids) == 5 and None not in ids
    # every receipt matched its own message (id known to the client), none orphaned
    assert sorted(e.ref for e in receipts) == [0, 1, 2, 3, 4]
    assert not any(e.orphan for e in receipts)
    assert {e.receipt.message_id for e in receipts} == ids
    assert {e.receipt.state for e in receipts} == {expected}
    assert stats.submits == 5 and stats.binds == 1
    assert (stats.delivered, stats.undelivered) == ((5, 0) if rate == 1.0 else (0, 5))


def test_mixed_rate_gives_both_outcomes():
    async def main() -> list[Any]:
        sim = SmscSimulator(port=pick_port(preferred=0), delivery_rate=0.5,
                            receipt_delay=0.0, seed=7)
        await sim.start()
        try:
            _, receipts = await _send(BindConfig("127.0.0.1", sim.port, "demo", "demo"), 40)
        finally:
            await sim.stop()
        return receipts

    states = [e.receipt.state for e in asyncio.run(main())]
    assert 5 <= states.count(MessageState.UNDELIVERED) <= 35
    assert states.count(MessageState.DELIVERED) + states.count(MessageState.UNDELIVERED) == 40


def test_bad_rate_is_refused():
    with pytest.raises(ValueError, match="delivery_rate"):
        SmscSimulator(delivery_rate=1.5)


def test_demo_starts_the_simulator_and_configures_dispatch(monkeypatch):
    from telcamp.dispatch import registry
    from telcamp.dispatch.config import get_dispatch_settings

    for name in (demo.BINDS_ENV, demo.SOURCE_ENV):  # set+del: restored after the test
        monkeypatch.setenv(name, "x")
        monkeypatch.delenv(name)
    get_dispatch_settings.cache_clear()
    assert demo.sms_already_configured() is None
    assert get_dispatch_settings().smpp_binds == []  # cached before the demo configures

    running = demo.start_demo_smsc(receipt_delay=0.05)
    try:
        port = running.sim.port
        assert json.loads(demo.os.environ[demo.BINDS_ENV])[0]["port"] == port
        settings = get_dispatch_settings()  # the cache was reset
        assert settings.smpp_binds[0]["host"] == "127.0.0.1"
        assert settings.smpp_binds[0]["port"] == port
        assert settings.sms_source == "Telcamp"
        assert demo.sms_already_configured() == f"{demo.BINDS_ENV} is set"
        channel = registry.build("sms", settings)
        assert channel is not None
        bind = channel.binds[0]  # type: ignore[attr-defined]
        results, receipts = asyncio.run(_send(bind, 3))
    finally:
        running.stop()
        get_dispatch_settings.cache_clear()
    assert all(r.state is MessageState.SUBMITTED for r in results)
    assert {e.receipt.state for e in receipts} <= {MessageState.DELIVERED,
                                                   MessageState.UNDELIVERED}
    assert len(receipts) == 3 and running.sim.stats.submits == 3


def test_pick_port_falls_back_when_taken():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        taken = s.getsockname()[1]
        assert pick_port(preferred=taken) != taken


def test_client_works_on_uvloop():
    """`telcamp serve` (uvicorn[standard]) runs the dispatch loop on uvloop, whose
    transports are not asyncio.Transport subclasses; the demo's SMS must work there."""
    import uvloop

    async def main() -> list[Any]:
        sim = SmscSimulator(port=pick_port(preferred=0), delivery_rate=1.0, receipt_delay=0.0)
        await sim.start()
        try:
            results, _ = await _send(BindConfig("127.0.0.1", sim.port, "demo", "demo"), 2)
        finally:
            await sim.stop()
        return results

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        results = runner.run(main())
    assert [r.state for r in results] == [MessageState.SUBMITTED] * 2


def test_mail_sink_moves_to_a_free_port_when_its_own_is_taken():
    import smtplib
    import socket

    from telcamp.simulator.smtp import SmtpSink

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        taken = s.getsockname()[1]
        sink = SmtpSink(port=taken).start()
        try:
            assert sink.port != taken
            with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as c:
                c.sendmail("a@demo.test", ["b@demo.test"], "Subject: x\r\n\r\nbody")
        finally:
            sink.stop()
    assert sink.handler.accepted == 1 and sink.handler.last_to == ["b@demo.test"]
