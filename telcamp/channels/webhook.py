"""The webhook channel: signed JSON batches to an HTTP endpoint (IVR, outbound call centre,
MMS/WAP push gateways, any other system), results back on a callback endpoint.

One POST carries up to `batch_size` contacts:

    {"channel": "ivr", "batch_id": "<key>", "sent_at": "<ISO 8601>",
     "callback_url": "<public url>/api/channels/ivr/results",
     "contacts": [{"contact_id": 7, "idempotency_key": "ivr:7", "msisdn": "7900...",
                   "message": "...", "campaign_id": 1, "wave_id": 2, "priority": 50,
                   "language": "en"}, ...]}

Headers: `X-Telcamp-Timestamp` (unix seconds), `X-Telcamp-Signature: sha256=<hex>` =
HMAC-SHA256(secret, "<timestamp>." + body) — the receiver recomputes it and rejects old
timestamps, so a captured request cannot be replayed later — and `Idempotency-Key` (the
batch id: the same contacts under the same claim give the same key, so a retried POST is
recognisable; each contact's own key is "<channel>:<contact id>").

Answers: 2xx → the contacts are "submitted" (provider id = their idempotency key), except
those the endpoint lists in `{"rejected": [{"contact_id": .., "reason": ..}]}` → failed.
Timeouts, connection errors, 5xx and 429 → retried with exponential back-off
(backoff_s, 2×, 4×, ... up to backoff_max_s), then failed with the last reason. Any other
4xx → failed at once (the request is wrong; retrying will not help). An endpoint that
refused every connection never received anything: the contacts go back to the outbox
(ChannelUnavailable for the whole batch).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Sequence
from typing import Any

import httpx

from telcamp.channels.base import (
    ChannelStatus,
    ChannelUnavailable,
    OutboundMessage,
    ResultSink,
    SendResult,
)
from telcamp.channels.settings import WebhookConfig
from telcamp.core import clock

log = logging.getLogger(__name__)
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *,
           max_age_s: float = 300.0, now: float | None = None) -> bool:
    """For receivers (and tests): signature matches and the timestamp is recent."""
    try:
        age = abs((now if now is not None else time.time()) - float(timestamp))
    except ValueError:
        return False
    return age <= max_age_s and hmac.compare_digest(sign(secret, timestamp, body), signature)


def contact_key(channel: str, contact_id: int) -> str:
    return f"{channel}:{contact_id}"


def batch_key(channel: str, attempt: str, contact_ids: Sequence[int]) -> str:
    raw = f"{channel}|{attempt}|{','.join(str(i) for i in sorted(contact_ids))}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


class _Unreached(Exception):
    """Every attempt failed to connect: the endpoint received nothing."""


class WebhookChannel:
    def __init__(self, name: str, config: WebhookConfig, *,
                 public_url: str = "http://127.0.0.1:8000") -> None:
        self.name = name
        self.config = config
        self.capacity_per_s: float | None = config.tps
        self.callback_url = f"{public_url.rstrip('/')}/api/channels/{name}/results"
        self._client: httpx.AsyncClient | None = None
        self._sink: ResultSink | None = None
        self.sent = 0
        self.failed = 0
        self.posts = 0
        self.retries = 0
        self.last_error: str | None = None
        self._window: list[float] = []

    async def start(self, sink: ResultSink) -> None:
        self._sink = sink
        self._client = httpx.AsyncClient(timeout=self.config.timeout_s)

    def _payload(self, chunk: Sequence[OutboundMessage], key: str) -> bytes:
        return json.dumps({
            "channel": self.name, "batch_id": key, "sent_at": clock.now().isoformat(),
            "callback_url": self.callback_url,
            "contacts": [{"contact_id": m.contact_id,
                          "idempotency_key": contact_key(self.name, m.contact_id),
                          "msisdn": m.msisdn, "message": m.body, "campaign_id": m.campaign_id,
                          "wave_id": m.wave_id, "priority": m.priority,
                          "language": m.language, **({"extra": m.extra} if m.extra else {})}
                         for m in chunk],
        }, ensure_ascii=False, separators=(",", ":")).encode()

    async def _post(self, body: bytes, key: str) -> httpx.Response | str:
        """The endpoint's final answer, or the reason the last attempt failed."""
        assert self._client is not None
        c = self.config
        reached = False
        reason = ""
        for attempt in range(c.retries + 1):
            if attempt:
                self.retries += 1
                await asyncio.sleep(min(c.backoff_max_s, c.backoff_s * 2 ** (attempt - 1)))
            ts = str(int(time.time()))
            headers = {"Content-Type": "application/json", "X-Telcamp-Timestamp": ts,
                       "X-Telcamp-Signature": sign(c.secret, ts, body),
                       "Idempotency-Key": key, "User-Agent": "telcamp-webhook"}
            self.posts += 1
            try:
                r = await self._client.post(c.url, content=body, headers=headers)
            except httpx.ConnectError as exc:
                reason = f"connect: {exc}"
                continue
            except httpx.TimeoutException:
                reached = True
                reason = f"timed out after {c.timeout_s:g} s"
                continue
            except httpx.HTTPError as exc:
                reached = True
                reason = f"http error: {exc}"
                continue
            reached = True
            if r.status_code in RETRY_STATUS:
                reason = f"http {r.status_code}: {r.text[:100]}"
                continue
            return r
        tries = f"{c.retries + 1} attempt{'s' if c.retries else ''}"
        self.last_error = f"{reason} ({tries})"[:200]
        if not reached:
            raise _Unreached(self.last_error)
        return self.last_error

    async def _chunk(self, chunk: Sequence[OutboundMessage]) -> list[SendResult]:
        key = batch_key(self.name, chunk[0].attempt, [m.contact_id for m in chunk])
        answer = await self._post(self._payload(chunk, key), key)
        if isinstance(answer, str):
            self.failed += len(chunk)
            return [SendResult(m.contact_id, "failed", reason=f"webhook: {answer}"[:200])
                    for m in chunk]
        if not answer.is_success:
            reason = f"webhook: http {answer.status_code}: {answer.text[:100]}"[:200]
            self.last_error = reason
            self.failed += len(chunk)
            return [SendResult(m.contact_id, "failed", reason=reason) for m in chunk]
        rejected: dict[int, str] = {}
        try:
            data: Any = answer.json()
            for item in (data.get("rejected") or []) if isinstance(data, dict) else []:
                rejected[int(item["contact_id"])] = str(item.get("reason") or "rejected")
        except (ValueError, KeyError, TypeError, AttributeError):
            pass  # an empty or non-JSON 2xx accepts the whole batch
        out = []
        now = time.monotonic()
        for m in chunk:
            if m.contact_id in rejected:
                self.failed += 1
                out.append(SendResult(m.contact_id, "failed",
                                      reason=f"webhook: {rejected[m.contact_id]}"[:200]))
            else:
                self.sent += 1
                self._window.append(now)
                out.append(SendResult(m.contact_id, "submitted",
                                      provider_ids=(contact_key(self.name, m.contact_id),)))
        return out

    async def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        if self._client is None:
            raise ChannelUnavailable(f"the {self.name} webhook channel was not started")
        size = self.config.batch_size
        chunks = [messages[i:i + size] for i in range(0, len(messages), size)]
        answers = await asyncio.gather(*(self._chunk(c) for c in chunks),
                                       return_exceptions=True)
        if answers and all(isinstance(a, _Unreached) for a in answers):
            raise ChannelUnavailable(str(answers[0]))
        results: list[SendResult] = []
        for chunk, answer in zip(chunks, answers, strict=True):
            if isinstance(answer, _Unreached):  # this chunk never arrived: plan it again
                results += [SendResult(m.contact_id, "retry", reason=str(answer)[:200])
                            for m in chunk]
            elif isinstance(answer, BaseException):
                log.error("webhook %s: %r", self.name, answer)
                results += [SendResult(m.contact_id, "unknown", reason=f"send error: {answer}"
                                       [:200]) for m in chunk]
            else:
                results += answer
        return results

    def status(self) -> ChannelStatus:
        now = time.monotonic()
        self._window = [t for t in self._window if now - t < 1.0]
        return ChannelStatus(
            name=self.name, state="ready" if self._client is not None else "closed",
            capacity_per_s=self.capacity_per_s, sent=self.sent, failed=self.failed,
            last_error=self.last_error,
            detail=[{"url": self.config.url, "posts": self.posts, "retries": self.retries,
                     "rate_per_s": len(self._window)}])

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        self._client = None
        self._sink = None
