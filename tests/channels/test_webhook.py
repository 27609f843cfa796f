"""The webhook channel against a real HTTP server on 127.0.0.1 (http.server in a thread):
signatures, batches, idempotency keys, back-off on 500 and timeouts then failed with the
reason, and the authenticated callback moving contacts (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from telcamp.channels.base import ChannelUnavailable, DeliveryUpdate, OutboundMessage
from telcamp.channels.settings import WebhookConfig
from telcamp.channels.webhook import WebhookChannel, batch_key, verify
from telcamp.dispatch.worker import Worker

from .smtp_server import free_port

SECRET = "s3cret"


class Endpoint:
    """`mode`: 'ok' | '500' | 'slow' | '400'; `fail_first` 500s before answering 200."""

    def __init__(self, mode: str = "ok", *, fail_first: int = 0,
                 reject: tuple[int, ...] = ()) -> None:
        self.mode = mode
        self.fail_first = fail_first
        self.reject = reject
        self.requests: list[dict[str, Any]] = []  # every POST with its arrival time
        self.accepted: dict[str, list[int]] = {}  # Idempotency-Key -> contact ids (dedup)
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                return None

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = verify(SECRET, self.headers["X-Telcamp-Timestamp"], body,
                            self.headers["X-Telcamp-Signature"])
                outer.requests.append({"at": time.monotonic(), "signed": ok,
                                       "key": self.headers["Idempotency-Key"],
                                       "json": json.loads(body)})
                if not ok:
                    return self._answer(401, {"error": "bad signature"})
                if outer.mode == "slow":
                    time.sleep(1.0)
                    return self._answer(200, {})
                if outer.mode == "400":
                    return self._answer(400, {"error": "bad batch"})
                if outer.mode == "500" or len(outer.requests) <= outer.fail_first:
                    return self._answer(500, {"error": "boom"})
                data = json.loads(body)
                key = self.headers["Idempotency-Key"]
                outer.accepted.setdefault(key, [c["contact_id"] for c in data["contacts"]])
                return self._answer(200, {"rejected": [
                    {"contact_id": c["contact_id"], "reason": "no IVR line"}
                    for c in data["contacts"] if c["contact_id"] in outer.reject]})

            def _answer(self, code: int, payload: dict[str, Any]) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[Any]:
    made: list[Endpoint] = []

    def factory(*a: Any, **kw: Any) -> Endpoint:
        made.append(Endpoint(*a, **kw))
        return made[-1]

    yield factory
    for e in made:
        e.close()


async def _sink(_u: DeliveryUpdate) -> None:
    return None


def _msgs(n: int, attempt: str = "lease-1") -> list[OutboundMessage]:
    return [OutboundMessage(contact_id=i, msisdn=f"7900000000{i}", channel="ivr",
                            body=f"Call {i}", attempt=attempt) for i in range(1, n + 1)]


def _send(url: str, messages: list[OutboundMessage], **kw: Any) -> Any:
    cfg = {"url": url, "secret": SECRET, "backoff_s": 0.05, "timeout_s": 0.3, **kw}
    channel = WebhookChannel("ivr", WebhookConfig(**cfg))

    async def go() -> Any:
        await channel.start(_sink)
        try:
            return await channel.send_batch(messages)
        finally:
            await channel.close()
    return asyncio.run(go()), channel


def test_signed_batches_with_idempotency_keys(endpoint: Any) -> None:
    ep = endpoint(reject=(3,))
    results, _ = _send(ep.url, _msgs(5), batch_size=2)
    assert len(ep.requests) == 3 and all(r["signed"] for r in ep.requests)
    sent = sorted(c["contact_id"] for r in ep.requests for c in r["json"]["contacts"])
    assert sent == [1, 2, 3, 4, 5]
    first = ep.requests[0]["json"]
    assert first["callback_url"].endswith("/api/channels/ivr/results")
    assert {c["idempotency_key"] for r in ep.requests for c in r["json"]["contacts"]} == {
        f"ivr:{i}" for i in range(1, 6)}
    assert all(r["key"] == r["json"]["batch_id"] for r in ep.requests)
    by = {r.contact_id: r for r in results}
    assert by[3].outcome == "failed" and by[3].reason == "webhook: no IVR line"
    assert [by[i].outcome for i in (1, 2, 4, 5)] == ["submitted"] * 4
    assert by[1].provider_ids == ("ivr:1",)


def test_a_wrong_secret_is_refused_by_the_receiver(endpoint: Any) -> None:
    ep = endpoint()
    results, _ = _send(ep.url, _msgs(1), secret="wrong")
    assert ep.requests[0]["signed"] is False
    assert results[0].outcome == "failed" and "401" in (results[0].reason or "")


def test_500_retries_with_exponential_back_off_then_failed(endpoint: Any) -> None:
    ep = endpoint("500")
    results, channel = _send(ep.url, _msgs(2), retries=3)
    assert len(ep.requests) == 4
    gaps = [b["at"] - a["at"] for a, b in zip(ep.requests, ep.requests[1:], strict=False)]
    assert gaps[0] >= 0.04 and gaps[1] >= 0.09 and gaps[2] >= 0.19  # 0.05, 0.1, 0.2 s
    assert gaps[2] > gaps[0] * 2
    assert {r.outcome for r in results} == {"failed"}
    assert "http 500" in (results[0].reason or "") and "4 attempts" in (results[0].reason or "")
    assert channel.status().last_error


def test_timeout_retries_then_failed_with_reason(endpoint: Any) -> None:
    ep = endpoint("slow")
    results, _ = _send(ep.url, _msgs(1), retries=1, timeout_s=0.2)
    assert len(ep.requests) == 2
    assert results[0].outcome == "failed" and "timed out" in (results[0].reason or "")


def test_a_retried_batch_keeps_its_idempotency_key(endpoint: Any) -> None:
    ep = endpoint(fail_first=2)
    results, _ = _send(ep.url, _msgs(3), retries=3)
    assert {r.outcome for r in results} == {"submitted"}
    assert len({r["key"] for r in ep.requests}) == 1 and len(ep.requests) == 3
    assert list(ep.accepted.values()) == [[1, 2, 3]]
    # the same contacts under another claim are another batch
    assert batch_key("ivr", "lease-1", [1, 2, 3]) == batch_key("ivr", "lease-1", [3, 2, 1])
    assert batch_key("ivr", "lease-1", [1, 2, 3]) != batch_key("ivr", "lease-2", [1, 2, 3])


def test_client_error_fails_at_once(endpoint: Any) -> None:
    ep = endpoint("400")
    results, _ = _send(ep.url, _msgs(2), retries=3)
    assert len(ep.requests) == 1
    assert {r.outcome for r in results} == {"failed"} and "http 400" in (results[0].reason or "")


def test_endpoint_down_puts_the_batch_back() -> None:
    with pytest.raises(ChannelUnavailable):
        _send(f"http://127.0.0.1:{free_port()}/hook", _msgs(2), retries=1)


def test_through_the_dispatcher_and_the_callback(db: str, endpoint: Any, login: Any) -> None:
    from dispatch.world import FIRST, add_contacts, make_campaign, setup_warehouse, states

    setup_warehouse(5)
    camp = make_campaign(channel="ivr", message="Offer for {{ msisdn }}")
    ids = add_contacts(camp, range(5), channel="ivr")
    ep = endpoint()
    worker = Worker(WebhookChannel("ivr", WebhookConfig(url=ep.url, secret=SECRET)),
                    idle_s=0.05)
    asyncio.run(worker.run(once=True))
    assert {s for s, _ in states(camp[1]).values()} == {"submitted"}
    assert ep.requests[0]["json"]["contacts"][0]["message"] == f"Offer for {FIRST}"

    channel = login("channel", via="token")
    marketer = login("marketer", "P01")
    results = {"results": [
        {"contact_id": ids[0], "state": "delivered"},
        {"id": f"ivr:{ids[1]}", "state": "responded", "reason": "pressed 1"},
        {"contact_id": ids[2], "state": "failed", "reason": "no answer"},
        {"contact_id": 999999, "state": "delivered"},
        {"id": "sms:1", "state": "delivered"},  # another channel's contact: not ours
    ]}
    assert marketer.post("/api/channels/ivr/results", json=results).status_code == 403
    r = channel.post("/api/channels/ivr/results", json=results)
    assert r.status_code == 200, r.text
    assert r.json() == {"received": 5, "applied": 3, "unknown": 2}
    st = states(camp[1])
    assert st[0] == ("delivered", None)
    assert st[1] == ("responded", "pressed 1")
    assert st[2] == ("failed", "no answer")
    assert st[3][0] == st[4][0] == "submitted"
    # reporting again changes nothing (final states stay)
    again = channel.post("/api/channels/ivr/results", json={"results": [
        {"contact_id": ids[0], "state": "failed"}]})
    assert again.status_code == 200 and states(camp[1])[0] == ("delivered", None)
    bad = channel.post("/api/channels/ivr/results", json={"results": [{"state": "delivered"}]})
    assert bad.status_code == 422
    assert channel.post("/api/channels/nope/results", json=results).status_code == 404
