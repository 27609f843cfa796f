"""FakeChannel: an in-memory channel for fast unit tests of the dispatcher.

It records every message it "sent" (`sent`), can fail chosen numbers, be down, or raise
mid-batch, and lets a test push delivery updates through the sink as a provider would.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from telcamp.channels.base import (
    ChannelStatus,
    ChannelUnavailable,
    DeliveryUpdate,
    OutboundMessage,
    ResultSink,
    SendResult,
    UpdateState,
)


class FakeChannel:
    def __init__(self, name: str = "sms", *, capacity_per_s: float | None = None,
                 fail: dict[str, str] | None = None) -> None:
        self.name = name
        self.capacity_per_s = capacity_per_s
        self.fail = dict(fail or {})  # msisdn -> reason: answered "failed"
        self.retry: dict[str, str] = {}  # msisdn -> reason: answered "retry"
        self.down = False  # raise ChannelUnavailable for every batch
        self.sent: list[OutboundMessage] = []
        self.batches = 0
        self._ids = itertools.count(1)
        self._sink: ResultSink | None = None
        self.provider_ids: dict[str, int] = {}  # provider id -> contact id

    async def start(self, sink: ResultSink) -> None:
        self._sink = sink

    async def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        if self.down:
            raise ChannelUnavailable(f"{self.name} is down")
        self.batches += 1
        out: list[SendResult] = []
        for m in messages:
            if m.msisdn in self.fail:
                out.append(SendResult(m.contact_id, "failed", reason=self.fail[m.msisdn]))
                continue
            if m.msisdn in self.retry:
                out.append(SendResult(m.contact_id, "retry", reason=self.retry[m.msisdn]))
                continue
            self.sent.append(m)
            pid = f"F{next(self._ids)}"
            self.provider_ids[pid] = m.contact_id
            out.append(SendResult(m.contact_id, "submitted", provider_ids=(pid,)))
        return out

    async def deliver(self, provider_id: str, state: UpdateState = "delivered") -> None:
        """Push a receipt as the provider would (unknown ids make orphans)."""
        assert self._sink is not None, "start() the channel first"
        await self._sink(DeliveryUpdate(channel=self.name, provider_id=provider_id,
                                        state=state))

    def status(self) -> ChannelStatus:
        return ChannelStatus(name=self.name, state="down" if self.down else "ready",
                             capacity_per_s=self.capacity_per_s, sent=len(self.sent))

    async def close(self) -> None:
        self._sink = None
