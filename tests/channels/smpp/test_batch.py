"""SmppPool.submit_many (the SMS channel's batch path: one coroutine, callbacks instead of a
task per message) against node-smpp: the same outcome per message as submit() — throttling
backs off and resubmits, retryable errors retry, others reject, multi-part and unencodable
messages take the one-message path, a lost answer is UNKNOWN (never sent twice) — and the
results in the order of the messages."""

from __future__ import annotations

import collections
import time
from typing import Any

from telcamp.channels.smpp import MessageState, OutboundSms, SmppPool, SubmitResult
from telcamp.channels.smpp import status as st

from .peers import run
from .test_node_peer import cfg

LONG = "A long offer " * 20  # 260 GSM-7 characters: two parts


def _pool(port: int, binds: int = 2, **kw: Any) -> SmppPool:
    return SmppPool([cfg(port, name=f"b{i}", **kw) for i in range(binds)])


def test_batch_outcomes_as_one_by_one(node_smsc: Any) -> None:
    srv = node_smsc({"throttle_every": 7, "status_for_dest": {
        "79110000005": st.ESME_RINVDSTADR, "79110000006": st.ESME_RSYSERR}})
    dests = [f"791100{i:05d}" for i in range(300)]
    msgs = [OutboundSms(d, LONG if i == 10 else "Привет" if i == 11 else f"msg {i}",
                        ref=i, encoding="gsm7" if i == 11 else "auto")
            for i, d in enumerate(dests)]

    async def main() -> tuple[list[Any], list[Any]]:
        pool = _pool(srv.port, throttle_initial=0.02, max_attempts=3, window=16)
        await pool.start()
        await pool.wait_bound(10)
        out = await pool.submit_many(msgs)
        status = pool.status()
        await pool.close()
        return out, status

    out, status = run(main())
    assert [r.ref for r in out] == list(range(300)), "one result per message, in order"
    by = {r.ref: r for r in out if isinstance(r, SubmitResult)}
    assert len(by) == 300
    assert by[5].state is MessageState.REJECTED and by[5].attempts == 1
    assert by[5].command_status == st.ESME_RINVDSTADR
    assert by[6].state is MessageState.REJECTED and by[6].message_ids == [None]
    assert by[11].state is MessageState.REJECTED and "GSM 03.38" in (by[11].error or "")
    assert by[10].ok and by[10].parts == 2 and all(by[10].message_ids)
    ok = [r for r in by.values() if r.ok]
    assert len(ok) == 297
    # every accepted part was accepted exactly once, under the id reported for it
    accepted = {e["id"]: e["dest"] for e in srv.of("submit")}
    assert len(accepted) == len(srv.of("submit")) == 296 + 2
    for r in ok:
        assert all(accepted[m] == dests[r.ref] for m in r.message_ids if m)  # type: ignore[index]
    refused = [e["dest"] for e in srv.of("refused")]
    assert refused.count("79110000005") == 1
    assert refused.count("79110000006") == 3  # first try on the batch path, then 2 retries
    throttled = sum(s.throttled for s in status)
    assert throttled == len(srv.of("throttled")) > 0
    assert sum(s.submitted for s in status) == 298


def test_lost_answers_are_unknown_and_never_resent(node_smsc: Any) -> None:
    srv = node_smsc({"silent_at": 20})
    dests = [f"792200{i:05d}" for i in range(200)]

    async def main() -> list[Any]:
        pool = _pool(srv.port, binds=1, response_timeout=0.5, resubmit_unknown=False,
                     window=32, reconnect_initial=0.05)
        await pool.start()
        await pool.wait_bound(10)
        out = await pool.submit_many([OutboundSms(d, "x", ref=i) for i, d in enumerate(dests)])
        await pool.close()
        return out

    out = run(main(), timeout=60)
    states = collections.Counter(r.state for r in out)
    assert states[MessageState.UNKNOWN] >= 1, states  # the silent one at least
    assert set(states) <= {MessageState.SUBMITTED, MessageState.UNKNOWN}
    sent = collections.Counter(e["dest"] for e in srv.of("submit"))
    assert max(sent.values()) == 1, "a message was written twice"
    for r in out:
        if r.ok:
            assert sent[dests[r.ref]] == 1


def test_tps_limited_binds_keep_their_rate(node_smsc: Any) -> None:
    srv = node_smsc()

    async def main() -> tuple[list[Any], float]:
        pool = _pool(srv.port, binds=2, tps=100)
        await pool.start()
        await pool.wait_bound(10)
        started = time.monotonic()
        out = await pool.submit_many([OutboundSms(f"7933{i:07d}", "x", ref=i)
                                      for i in range(100)])
        took = time.monotonic() - started
        await pool.close()
        return out, took

    out, took = run(main())
    assert all(r.ok for r in out) and [r.ref for r in out] == list(range(100))
    assert took >= 0.45, f"100 messages over 2 binds at 100/s each took {took:.2f} s"
