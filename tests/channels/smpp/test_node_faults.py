"""Faults against node-smpp: throttling, error statuses, malformed PDUs, unanswered
requests, a killed or absent SMSC, close() — nothing reported sent that was not."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from telcamp.channels.smpp import MessageState, OutboundSms, SmppClient, SmppClosed
from telcamp.channels.smpp import status as st

from .peers import free_port, run
from .test_node_peer import cfg


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
@pytest.mark.parametrize("resubmit_unknown", [True, False])
def test_server_killed_mid_stream_nothing_reported_sent_that_was_not(node_smsc,
                                                                     resubmit_unknown):
    first = node_smsc({"id_base": 100_000})
    port = first.port
    servers = [first]
    n, window = 600, 16

    async def main() -> tuple[list[Any], Any]:
        client = SmppClient(cfg(port, window=window, reconnect_initial=0.05,
                                reconnect_max=0.5, resubmit_unknown=resubmit_unknown))
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
    assert status.reconnects >= 1
    issued = {e["id"]: e["dest"] for s in servers for e in s.of("submit")}
    submitted = [r for r in results if r.state is MessageState.SUBMITTED]
    # every id reported was really issued by one of the SMSCs, for that very message
    for r in submitted:
        assert issued[r.message_ids[0]] == f"7944{r.ref:07d}"
    assert len({r.message_ids[0] for r in submitted}) == len(submitted)
    if resubmit_unknown:  # at-least-once: everything goes, a lost answer may duplicate
        assert len(submitted) == n
    else:  # at-most-once: never twice; what was in flight at the kill is UNKNOWN
        unknown = [r for r in results if r.state is MessageState.UNKNOWN]
        assert len(submitted) + len(unknown) == n and 0 < len(unknown) <= window
        received = [e["dest"] for s in servers for e in s.of("submit")]
        assert len(received) == len(set(received))
        assert all("outcome unknown" in (r.error or "") for r in unknown)


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
    port = free_port()

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

    outcomes = run(main())
    issued = {e["id"]: e["dest"] for e in srv.of("submit")}
    ok = [o for o in outcomes if not isinstance(o, BaseException)]
    assert ok and all(o.ok and o.message_ids[0] in issued for o in ok)
    assert all(isinstance(o, SmppClosed) for o in outcomes if isinstance(o, BaseException))
    assert len(ok) < 5000  # close() refused what was not yet sent
    srv.wait_for(lambda e: e["ev"] == "unbind")


def test_smsc_killed_then_client_closed_every_outcome_is_honest(node_smsc):
    """Resubmitting mode, SMSC gone for good, then close(): what was answered is SUBMITTED,
    what was in flight is UNKNOWN (never silently re-labelled), the rest raises SmppClosed
    and never reached the SMSC."""
    srv = node_smsc()
    n, window = 400, 16

    async def main() -> list[Any]:
        client = SmppClient(cfg(srv.port, window=window, reconnect_initial=0.05,
                                reconnect_max=0.2))
        await client.start()
        tasks = [asyncio.create_task(
            client.submit(OutboundSms(f"7945{i:07d}", f"m{i}", ref=i))) for i in range(n)]
        await srv.await_event(lambda e: e["ev"] == "submit", count=100)
        srv.kill()
        await asyncio.sleep(0.3)
        await client.close(timeout=0.5)
        return await asyncio.gather(*tasks, return_exceptions=True)

    outcomes = run(main())
    received = {e["dest"] for e in srv.of("submit")}
    issued = {e["id"]: e["dest"] for e in srv.of("submit")}
    unknown = 0
    for i, o in enumerate(outcomes):
        dest = f"7945{i:07d}"
        if isinstance(o, SmppClosed):
            assert dest not in received
        else:
            assert not isinstance(o, BaseException), o
            if o.state is MessageState.SUBMITTED:
                assert issued[o.message_ids[0]] == dest
            else:
                assert o.state is MessageState.UNKNOWN and "outcome unknown" in o.error
                unknown += 1
    assert 0 < unknown <= window
