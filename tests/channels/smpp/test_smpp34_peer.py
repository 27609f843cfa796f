"""The client against the second, independent peer: the SMPP server of PyPI smpp34 (Rust)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import pytest

from telcamp.channels.smpp import (
    BindConfig,
    MessageState,
    MoEvent,
    OutboundSms,
    ReceiptEvent,
    SmppClient,
)
from telcamp.channels.smpp.split import decode_text, parse_concat_udh

from .conftest import need
from .peers import Smpp34Smsc, free_port, run
from .test_node_peer import TEXTS


@pytest.fixture
def smpp34_port() -> int:
    try:
        import smpp34  # noqa: F401
    except ImportError:
        need(False, "PyPI smpp34 is not installed")
    return free_port()


def test_submit_all_codings_and_receipts_against_smpp34(smpp34_port):
    events: list[Any] = []

    async def main() -> tuple[list[Any], list[Any], list[str]]:
        srv = Smpp34Smsc(smpp34_port)
        await srv.start()
        client = SmppClient(BindConfig("127.0.0.1", smpp34_port, "telcamp", "secret",
                                       source_addr="Telcamp"), on_event=events.append)
        await client.start()
        await client.wait_bound(10)
        results = await asyncio.gather(*(
            client.submit(OutboundSms(f"7977000000{i}", text, ref=name))
            for i, (name, text) in enumerate(TEXTS.items())))
        parts = sum(r.parts for r in results)
        while sum(isinstance(e, ReceiptEvent) for e in events) < parts:
            await asyncio.sleep(0.02)
        await client.close()
        submits = list(srv.submits)
        binds = list(srv.binds)
        await srv.stop()
        return results, submits, binds

    results, submits, binds = run(main())
    assert binds == ["telcamp"]
    assert all(r.state is MessageState.SUBMITTED for r in results)
    parts: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for _mid, ev in submits:
        udhi = bool(ev.esm_class & 0x40)
        concat = parse_concat_udh(ev.short_message) if udhi else None
        parts[ev.destination_addr].append(
            (concat[2] if concat else 1, decode_text(ev.short_message, ev.data_coding,
                                                     udhi=udhi)))
        assert ev.source_addr == "Telcamp"
    for i, text in enumerate(TEXTS.values()):
        assert "".join(t for _, t in sorted(parts[f"7977000000{i}"])) == text
    receipts = [e for e in events if isinstance(e, ReceiptEvent)]
    assert {(e.ref, e.part) for e in receipts} == {
        (r.ref, k) for r in results for k in range(1, r.parts + 1)}
    assert {m for r in results for m in r.message_ids} == {m for m, _ in submits}


def test_mo_from_smpp34(smpp34_port):
    async def main() -> MoEvent:
        srv = Smpp34Smsc(smpp34_port)
        await srv.start()
        client = SmppClient(BindConfig("127.0.0.1", smpp34_port, "telcamp", "secret"))
        await client.start()
        await client.wait_bound(10)
        while not srv.sessions:
            await asyncio.sleep(0.01)
        esme = next(iter(srv.sessions.values()))
        await esme.deliver_sm("1234", "Хочу бонус".encode("utf-16-be"), source_addr="79005556677",
                              data_coding=8)
        event = await anext(client.events())
        await client.close()
        await srv.stop()
        assert isinstance(event, MoEvent)
        return event

    event = run(main())
    assert (event.text, event.source, event.destination) == ("Хочу бонус", "79005556677", "1234")


@pytest.mark.slow
def test_throughput_and_window_against_smpp34(smpp34_port):
    async def main() -> tuple[list[Any], int]:
        srv = Smpp34Smsc(smpp34_port, receipts=False)
        await srv.start()
        client = SmppClient(BindConfig("127.0.0.1", smpp34_port, "telcamp", "secret",
                                       window=64, registered_delivery=False))
        await client.start()
        await client.wait_bound(10)
        peak = 0

        async def watch() -> None:
            nonlocal peak
            while True:
                if client.session is not None:
                    peak = max(peak, len(client.session.pending))
                await asyncio.sleep(0)

        watcher = asyncio.create_task(watch())
        results = await asyncio.gather(*(client.submit(OutboundSms("79880000000", f"m{i}"))
                                         for i in range(3000)))
        watcher.cancel()
        await client.close()
        await srv.stop()
        return results, peak

    results, peak = run(main(), timeout=120)
    assert all(r.ok for r in results) and len({r.message_ids[0] for r in results}) == 3000
    assert peak == 64  # the window fills, and bounds what is outstanding on the wire
