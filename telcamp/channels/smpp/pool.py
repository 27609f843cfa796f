"""Several binds to one SMSC behind one submit()."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Sequence

from telcamp.channels.smpp.client import SmppClient
from telcamp.channels.smpp.errors import SmppClosed, SmppError
from telcamp.channels.smpp.inbound import EventSink, Inbox
from telcamp.channels.smpp.messages import (
    BindConfig,
    BindStatus,
    InboundEvent,
    OutboundSms,
    SubmitResult,
)
from telcamp.channels.smpp.submit import submit_batch, submit_message


class SmppPool:
    """Several binds to one SMSC; each message part goes to the bound bind with the
    fewest outstanding requests. A refused bind leaves the others working."""

    def __init__(self, configs: list[BindConfig], *, on_event: EventSink | None = None):
        if not configs:
            raise ValueError("an SMPP pool needs at least one bind")
        self._inbox = Inbox(on_event)
        self._changed = asyncio.Event()
        self.clients = [SmppClient(c, _inbox=self._inbox, _notify=self._changed.set)
                        for c in configs]
        # receiver binds only take receipts and MO
        self.senders = [c for c in self.clients if c.config.bind_type != "receiver"]
        self._ref = random.randrange(256)  # noqa: S311

    async def start(self) -> None:
        for c in self.clients:
            await c.start()

    async def wait_bound(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._pick(), timeout)

    def _pick_now(self) -> SmppClient | None:
        bound = [c for c in self.senders if c.is_bound]
        if not bound:
            return None
        return min(bound, key=lambda c: c.in_flight) if len(bound) > 1 else bound[0]

    async def _pick(self) -> SmppClient:
        if not self.senders:
            raise SmppError("the SMPP pool has only receiver binds: nothing can submit")
        while True:
            chosen = self._pick_now()
            if chosen is not None:
                return chosen
            if all(c.refused is not None or c.state == "closed" for c in self.senders):
                refused = next((c.refused for c in self.senders if c.refused), None)
                if refused is not None:
                    raise refused
                raise SmppClosed("every bind of the SMPP pool is closed")
            self._changed.clear()
            await self._changed.wait()

    async def submit(self, msg: OutboundSms) -> SubmitResult:
        self._ref = (self._ref + 1) & 0xFF
        config = (self.senders or self.clients)[0].config
        return await submit_message(msg, config, self._pick,
                                    self._inbox.matcher, self._ref, self._pick_now)

    async def submit_many(self, msgs: Sequence[OutboundSms],
                          ) -> list[SubmitResult | SmppError]:
        """Many messages at once, one result (or the SmppError `submit` would have raised)
        per message, in order: submit.submit_batch."""
        config = (self.senders or self.clients)[0].config
        return await submit_batch(msgs, config, self.senders, self._pick,
                                  self._inbox.matcher, self._next_ref, self._pick_now)

    def _next_ref(self) -> int:
        self._ref = (self._ref + 1) & 0xFF
        return self._ref

    async def events(self) -> AsyncIterator[InboundEvent]:
        while True:
            yield await self._inbox.queue.get()

    @property
    def capacity_per_s(self) -> float | None:
        """Sum of the transmitting binds' TPS limits; None when one of them has none."""
        limits = [c.config.tps for c in self.senders]
        if not limits or any(t is None for t in limits):
            return None
        return float(sum(t for t in limits if t is not None))

    @property
    def state(self) -> str:
        """One word for the pool: ready (a sender is bound), refused (every sender refused
        its credentials), closed, or connecting."""
        if any(c.is_bound for c in self.senders):
            return "ready"
        if self.senders and all(c.refused is not None for c in self.senders):
            return "refused"
        if all(c.state == "closed" for c in self.clients):
            return "closed"
        return "connecting"

    def status(self) -> list[BindStatus]:
        return [c.status() for c in self.clients]

    async def close(self, timeout: float = 5.0) -> None:
        await asyncio.gather(*(c.close(timeout) for c in self.clients))
