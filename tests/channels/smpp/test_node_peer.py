"""The client against node-smpp (npm `smpp`) on 127.0.0.1: binds, submits, receipts, MO,
keep-alive, throttling, malformed PDUs and a killed server."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Coroutine
from typing import Any

import pytest

from telcamp.channels.smpp import (
    BindConfig,
    BindRefused,
    MessageState,
    MoEvent,
    OutboundSms,
    RawEvent,
    ReceiptEvent,
    SmppClient,
    SmppPool,
)
from telcamp.channels.smpp import status as st

TEXTS = {
    "gsm-short": "Hello {friend}! Your bonus: €5 [today] ~ ok",
    "gsm-long": ("Dear customer, top up 100 and get 50 bonus {minutes} | valid 30 days € "
                 * 5).strip(),
    "ru": "Здравствуйте! Подключите тариф «Весна» и получите 10 ГБ в подарок. " * 3,
    "zh": "尊敬的客户：充值一百元即送五十元话费，活动有效期三十天。" * 4,
    "emoji": "Gift 🎁 for you 😀👍 " * 8,
}


def run(coro: Coroutine[Any, Any, Any], timeout: float = 60) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


def cfg(port: int, **kw: Any) -> BindConfig:
    base: dict[str, Any] = {"system_id": "telcamp", "password": "secret", "source_addr": "Telcamp",
                            "source_addr_ton": 5, "reconnect_initial": 0.1}
    base.update(kw)
    return BindConfig("127.0.0.1", port, **base)


def _reassembled(submits: list[dict[str, Any]]) -> dict[str, str]:
    """dest -> text as node-smpp itself decoded the parts (UDH or sar order)."""
    parts: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for e in submits:
        seq = 1
        if e["udh"]:
            seq = bytes.fromhex(e["udh"])[-1]
        elif e["sar"]:
            seq = e["sar"][2]
        parts[e["dest"]].append((seq, e["text"]))
    return {d: "".join(t for _, t in sorted(ps)) for d, ps in parts.items()}


@pytest.mark.parametrize("method", ["udh", "sar"])
def test_submit_gsm7_and_ucs2_short_and_long_with_receipts(node_smsc, method):
    srv = node_smsc({"dlr": "text"})
    events: list[Any] = []

    async def main() -> list[Any]:
        client = SmppClient(cfg(srv.port, split_method=method), on_event=events.append)
        await client.start()
        await client.wait_bound(10)
        results = await asyncio.gather(*(
            client.submit(OutboundSms(f"7900000000{i}", text, ref=name))
            for i, (name, text) in enumerate(TEXTS.items())))
        n_parts = sum(r.parts for r in results)
        while sum(isinstance(e, ReceiptEvent) for e in events) < n_parts:
            await asyncio.sleep(0.02)
        await client.close()
        return results

    results = run(main())
    assert all(r.state is MessageState.SUBMITTED for r in results), results
    by_ref = {r.ref: r for r in results}
    assert by_ref["gsm-short"].parts == 1 and by_ref["gsm-short"].data_coding == 0
    assert by_ref["gsm-long"].parts > 1 and by_ref["gsm-long"].data_coding == 0
    for name in ("ru", "zh", "emoji"):
        assert by_ref[name].data_coding == 8 and by_ref[name].parts > 1
    submits = srv.of("submit")
    got = _reassembled(submits)
    for i, text in enumerate(TEXTS.values()):
        assert got[f"7900000000{i}"] == text  # read back by node-smpp's own decoders
    for e in submits:
        multipart = len([x for x in submits if x["dest"] == e["dest"]]) > 1
        if method == "udh":
            assert bool(e["esm_class"] & 0x40) == multipart and (e["udh"] is not None) == multipart
        else:
            assert e["udh"] is None and (e["sar"] is not None) == multipart
        assert e["src"] == "Telcamp" and e["registered_delivery"] == 1
    # every part's receipt came back matched to its message and part
    receipts = [e for e in events if isinstance(e, ReceiptEvent)]
    assert not any(e.orphan for e in receipts)
    matched = {(e.ref, e.part) for e in receipts}
    assert matched == {(r.ref, k) for r in results for k in range(1, r.parts + 1)}
    assert all(e.receipt.state is MessageState.DELIVERED for e in receipts)
    ids = {e["id"] for e in submits}
    assert {m for r in results for m in r.message_ids} == ids


def test_bad_password_alerts_once_and_does_not_retry(node_smsc):
    srv = node_smsc()

    async def main() -> tuple[SmppClient, Exception, Exception]:
        client = SmppClient(cfg(srv.port, password="wrong", reconnect_initial=0.05))
        await client.start()
        with pytest.raises(BindRefused) as waited:
            await client.wait_bound(10)
        with pytest.raises(BindRefused) as submitted:
            await client.submit(OutboundSms("79000000001", "hi"))
        await asyncio.sleep(1.0)  # a retry storm would show many binds by now
        await client.close()
        return client, waited.value, submitted.value

    client, waited, submitted = run(main())
    assert len(srv.of("bind")) == 1 and srv.of("bind")[0]["ok"] is False
    assert waited.command_status == st.ESME_RINVPASWD
    assert "ESME_RINVPASWD" in str(waited) and "'telcamp'" in str(waited)
    assert submitted is waited
    status = client.status()
    assert status.state == "closed" and len(status.alerts) == 1


@pytest.mark.parametrize(("dlr", "id_format"), [("text_other_radix", "hex"),
                                                ("text_other_radix", "dec"), ("tlv", "dec")])
def test_receipt_variants_are_matched(node_smsc, dlr, id_format):
    srv = node_smsc({"dlr": dlr, "id_format": id_format, "dlr_stat": "UNDELIV"})
    events: list[Any] = []

    async def main() -> list[Any]:
        client = SmppClient(cfg(srv.port), on_event=events.append)
        await client.start()
        results = [await client.submit(OutboundSms(f"7911000000{i}", "promo", ref=i))
                   for i in range(5)]
        while len(events) < 5:
            await asyncio.sleep(0.02)
        await client.close()
        return results

    results = run(main())
    assert all(r.ok for r in results)
    assert sorted(e.ref for e in events if isinstance(e, ReceiptEvent) and not e.orphan) \
        == list(range(5))
    assert all(e.receipt.state is MessageState.UNDELIVERED for e in events)


def test_unknown_receipts_and_formats_are_acknowledged_and_handed_on(node_smsc):
    srv = node_smsc({"dlr": "garbage"})
    events: list[Any] = []

    async def main() -> None:
        client = SmppClient(cfg(srv.port), on_event=events.append)
        await client.start()
        assert (await client.submit(OutboundSms("79120000001", "x", ref="a"))).ok
        srv.command(cmd="deliver_raw", esm_class=4,
                    text="id:99999999 sub:001 dlvrd:001 stat:DELIVRD err:000")
        srv.command(cmd="deliver_raw", esm_class=4, text="",
                    receipted_message_id="424242", message_state=2)
        while len(events) < 3:
            await asyncio.sleep(0.02)
        await srv.await_event(lambda e: e["ev"] == "deliver_sm_resp", count=3)
        await client.close()

    run(main())
    raw = [e for e in events if isinstance(e, RawEvent)]
    orphans = [e for e in events if isinstance(e, ReceiptEvent) and e.orphan]
    assert len(raw) == 1 and "status report" in raw[0].text
    assert sorted(e.receipt.message_id for e in orphans) == ["424242", "99999999"]
    assert [e["status"] for e in srv.of("deliver_sm_resp")] == [0, 0, 0]


def test_mo_messages_reach_the_callback(node_smsc):
    srv = node_smsc()

    async def main() -> list[Any]:
        client = SmppClient(cfg(srv.port))
        await client.start()
        await client.wait_bound(10)
        srv.command(cmd="mo", source="79001112233", destination="1234", text="STOP")
        srv.command(cmd="mo", source="79001112233", destination="1234", text="Да, хочу 😀",
                    data_coding=8)
        got = []
        async for ev in client.events():
            got.append(ev)
            if len(got) == 2:
                break
        await client.close()
        return got

    got = run(main())
    assert all(isinstance(e, MoEvent) for e in got)
    assert [e.text for e in got] == ["STOP", "Да, хочу 😀"]
    assert got[0].source == "79001112233" and got[0].destination == "1234"


def test_enquire_link_both_ways(node_smsc):
    srv = node_smsc()

    async def main() -> None:
        client = SmppClient(cfg(srv.port, enquire_link_interval=0.2))
        await client.start()
        await client.wait_bound(10)
        await srv.await_event(lambda e: e["ev"] == "enquire_link", count=3, timeout=5)
        srv.command(cmd="enquire_link")
        await srv.await_event(lambda e: e["ev"] == "enquire_link_resp", timeout=5)
        assert client.status().state == "bound"
        await client.close()
        await srv.await_event(lambda e: e["ev"] == "unbind", timeout=5)

    run(main())


@pytest.mark.parametrize("status", [st.ESME_RTHROTTLED, st.ESME_RMSGQFUL])
def test_throttling_backs_off_and_resubmits(node_smsc, status):
    srv = node_smsc({"throttle_every": 4, "throttle_status": status})

    async def main() -> tuple[list[Any], Any]:
        client = SmppClient(cfg(srv.port, throttle_initial=0.05, window=8))
        await client.start()
        results = await asyncio.gather(*(
            client.submit(OutboundSms(f"7922{i:07d}", f"msg {i}")) for i in range(40)))
        status = client.status()
        await client.close()
        return results, status

    status_code = status
    results, status = run(main())
    assert all(r.ok for r in results)
    assert status.throttled == len(srv.of("throttled")) > 0
    assert status.errors.get(st.status_name(status_code)) == status.throttled
    # each message accepted exactly once, the throttled attempts resubmitted
    assert sorted(e["dest"] for e in srv.of("submit")) == sorted(f"7922{i:07d}" for i in range(40))


@pytest.mark.parametrize("fault", ["malformed_at", "bad_resp_at"])
def test_malformed_pdu_from_the_peer_resets_and_retries(node_smsc, fault):
    srv = node_smsc({fault: 5})

    async def main() -> tuple[list[Any], Any]:
        client = SmppClient(cfg(srv.port, window=4))
        await client.start()
        results = await asyncio.gather(*(
            client.submit(OutboundSms(f"7933{i:07d}", f"msg {i}")) for i in range(20)))
        status = client.status()
        await client.close()
        return results, status

    results, status = run(main())
    assert all(r.ok for r in results)
    assert status.reconnects >= 1 and status.errors.get("protocol", 0) >= 1
    if fault == "malformed_at":
        nack = srv.wait_for(lambda e: e["ev"] == "generic_nack")
        assert nack["status"] == st.ESME_RINVCMDLEN
    # every message ends with exactly one accepted id the client reports
    accepted = {e["id"]: e["dest"] for e in srv.of("submit")}
    assert sorted(accepted[r.message_ids[0]] for r in results) == \
        sorted(f"7933{i:07d}" for i in range(20))


@pytest.mark.slow
def test_server_killed_mid_stream_nothing_reported_sent_that_was_not(node_smsc):
    first = node_smsc({"id_base": 100_000})
    port = first.port
    servers = [first]
    n = 600

    async def main() -> tuple[list[Any], Any]:
        client = SmppClient(cfg(port, window=16, reconnect_initial=0.05, reconnect_max=0.5))
        await client.start()
        tasks = [asyncio.create_task(
            client.submit(OutboundSms(f"7944{i:07d}", f"m{i}", ref=i))) for i in range(n)]
        await first.await_event(lambda e: e["ev"] == "submit", count=150)
        first.kill()
        await asyncio.sleep(0.3)  # SMSC down for a while: the client must wait, not fail
        assert not all(t.done() for t in tasks)
        servers.append(await asyncio.to_thread(node_smsc, {"id_base": 900_000}, port))
        results = await asyncio.gather(*tasks)
        status = client.status()
        await client.close()
        return results, status

    results, status = run(main(), timeout=120)
    assert all(r.ok for r in results)
    assert status.reconnects >= 1
    issued = {e["id"]: e["dest"] for s in servers for e in s.of("submit")}
    # every id reported was really issued by one of the SMSCs, for that very message
    for r in results:
        assert issued[r.message_ids[0]] == f"7944{r.ref:07d}"
    assert len(results) == n and len({r.message_ids[0] for r in results}) == n


def test_pool_spreads_over_binds_and_survives_a_refused_bind(node_smsc):
    srv = node_smsc()

    async def main() -> tuple[list[Any], list[Any]]:
        pool = SmppPool([cfg(srv.port, name="a"), cfg(srv.port, name="b"),
                         cfg(srv.port, name="bad", password="nope")])
        await pool.start()
        await pool.wait_bound(10)
        await asyncio.sleep(0.2)
        results = await asyncio.gather(*(
            pool.submit(OutboundSms(f"7955{i:07d}", f"m{i}")) for i in range(200)))
        status = pool.status()
        await pool.close()
        return results, status

    results, status = run(main())
    assert all(r.ok for r in results)
    used = {r.bind for r in results}
    assert used == {"a", "b"}
    by_name = {s.name: s for s in status}
    assert by_name["bad"].state in ("refused", "closed") and by_name["bad"].alerts
    assert by_name["a"].submitted + by_name["b"].submitted == 200


def test_tps_limit_paces_submissions(node_smsc):
    srv = node_smsc({"quiet": True})

    async def main() -> float:
        client = SmppClient(cfg(srv.port, tps=100))
        await client.start()
        await client.wait_bound(10)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await asyncio.gather(*(client.submit(OutboundSms("79660000000", "x"))
                               for _ in range(201)))
        elapsed = loop.time() - t0
        rate = client.status().rate
        await client.close()
        return elapsed, rate

    elapsed, rate = run(main())
    assert 1.9 <= elapsed <= 2.6  # 201 at 100/s: the first is free, 200 intervals of 10 ms
    assert 60 <= rate <= 120  # the status page's rate sees the limit


def test_unanswered_submit_times_out_resets_and_is_resubmitted(node_smsc):
    srv = node_smsc({"silent_at": 3})

    async def main() -> tuple[list[Any], Any]:
        client = SmppClient(cfg(srv.port, response_timeout=0.5, window=2))
        await client.start()
        results = await asyncio.gather(*(
            client.submit(OutboundSms(f"7999{i:07d}", f"m{i}", ref=i)) for i in range(6)))
        status = client.status()
        await client.close()
        return results, status

    results, status = run(main())
    assert all(r.ok for r in results)
    silent = srv.wait_for(lambda e: e["ev"] == "silent")
    assert status.reconnects >= 1 and status.errors.get("protocol", 0) >= 1
    accepted = {e["id"]: e["dest"] for e in srv.of("submit")}
    assert silent["dest"] in {accepted[r.message_ids[0]] for r in results}


def test_per_status_handling_fail_and_retry(node_smsc):
    srv = node_smsc({"status_for_dest": {"79770000001": st.ESME_RINVDSTADR,
                                         "79770000002": st.ESME_RSYSERR}})

    async def main() -> list[Any]:
        client = SmppClient(cfg(srv.port, max_attempts=3))
        await client.start()
        results = [await client.submit(OutboundSms(d, "x", ref=d))
                   for d in ("79770000001", "79770000002", "79770000003")]
        await client.close()
        return results

    bad_dest, sys_err, fine = run(main())
    assert bad_dest.state is MessageState.REJECTED and bad_dest.attempts == 1
    assert bad_dest.command_status == st.ESME_RINVDSTADR and "ESME_RINVDSTADR" in bad_dest.error
    assert sys_err.state is MessageState.REJECTED and sys_err.attempts == 3
    assert sys_err.message_ids == [None]
    assert fine.ok
    refused = srv.of("refused")
    assert [e["dest"] for e in refused].count("79770000001") == 1
    assert [e["dest"] for e in refused].count("79770000002") == 3


def test_smsc_down_at_start_then_up(node_smsc):
    port = _free_port()

    async def main() -> Any:
        client = SmppClient(cfg(port, reconnect_initial=0.05, reconnect_max=0.2))
        await client.start()
        task = asyncio.create_task(client.submit(OutboundSms("79880000001", "wait for me")))
        await asyncio.sleep(0.5)
        assert not task.done() and client.status().state in ("backoff", "connecting")
        assert "connect" in (client.status().last_error or "")
        srv = await asyncio.to_thread(node_smsc, None, port)
        result = await task
        await client.close()
        return result, srv

    result, srv = run(main())
    assert result.ok and srv.of("submit")[0]["id"] == result.message_ids[0]


def test_bad_message_is_rejected_alone(node_smsc):
    srv = node_smsc()

    async def main() -> list[Any]:
        client = SmppClient(cfg(srv.port))
        await client.start()
        out = [await client.submit(OutboundSms("79880000002", "Привет", encoding="gsm7")),
               await client.submit(OutboundSms("7" * 30, "too long a number")),
               await client.submit(OutboundSms("79880000003", "fine"))]
        await client.close()
        return out

    forced, long_dest, fine = run(main())
    assert forced.state is MessageState.REJECTED and "GSM 03.38" in forced.error
    assert long_dest.state is MessageState.REJECTED and "destination_addr" in long_dest.error
    assert fine.ok and len(srv.of("submit")) == 1


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_close_finishes_what_is_in_flight_and_refuses_the_rest(node_smsc):
    srv = node_smsc()

    async def main() -> list[Any]:
        client = SmppClient(cfg(srv.port, window=8))
        await client.start()
        await client.wait_bound(10)
        tasks = [asyncio.create_task(client.submit(OutboundSms(f"7988{i:07d}", f"m{i}")))
                 for i in range(5000)]
        await srv.await_event(lambda e: e["ev"] == "submit", count=20)
        await client.close()
        return await asyncio.gather(*tasks, return_exceptions=True)

    from telcamp.channels.smpp import SmppClosed

    outcomes = run(main())
    issued = {e["id"]: e["dest"] for e in srv.of("submit")}
    ok = [o for o in outcomes if not isinstance(o, BaseException)]
    assert ok and all(o.ok and o.message_ids[0] in issued for o in ok)
    assert all(isinstance(o, SmppClosed) for o in outcomes if isinstance(o, BaseException))
    assert len(ok) < 5000  # close() refused what was not yet sent
    srv.wait_for(lambda e: e["ev"] == "unbind")
