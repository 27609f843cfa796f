"""A channel worker: claim → render → send → record, with receipts, reconciliation and
the history sync in between. Several workers (processes) may share a channel on
PostgreSQL; on SQLite run one.

Pause/resume/cancel: a batch holds about one second of the channel's capacity, and each
claim only takes contacts of running campaigns inside their wave's window, so a pause or
cancel stops new sends within about a second; contacts already handed to the channel
finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from telcamp.channels.base import (
    Channel,
    ChannelUnavailable,
    DeliveryUpdate,
    InboundMessage,
    OutboundMessage,
    SendResult,
)
from telcamp.core.errors import StoreBusy
from telcamp.dispatch import feedback, history, outbox, updates
from telcamp.dispatch.render import render_batch

log = logging.getLogger(__name__)


@dataclass
class Stats:
    batches: int = 0
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    unknown: int = 0
    policy: dict[str, int] = field(default_factory=dict)
    unavailable: int = 0
    orphans: int = 0
    reconciled: int = 0
    history: int = 0
    inbound: dict[str, int] = field(default_factory=dict)  # by kind and action


class Worker:
    def __init__(self, channel: Channel, *, batch_max: int = 1000, lease_s: float = 60.0,
                 resend_unknown: bool = False, idle_s: float = 0.5, grace_s: float = 5.0,
                 history_every_s: float = 2.0, concurrency: int = 2) -> None:
        self.channel = channel
        self.concurrency = max(1, concurrency)
        self.batch_max = batch_max
        self.lease_s = lease_s
        self.resend_unknown = resend_unknown
        self.idle_s = idle_s
        self.grace_s = grace_s
        self.history_every_s = history_every_s
        self.stats = Stats()
        self.stop = asyncio.Event()
        self._pending: list[updates.Pending] = []
        self._last_history = 0.0
        self._last_housekeeping = 0.0
        self._last_prune = 0.0

    async def _sink(self, update: DeliveryUpdate | InboundMessage) -> None:
        if isinstance(update, InboundMessage):  # stored before the provider is answered
            counts = await asyncio.to_thread(feedback.store, [update])
            for k, v in counts.items():
                self.stats.inbound[k] = self.stats.inbound.get(k, 0) + v
            return
        self._pending.append(updates.Pending(update))

    def _batch_size(self) -> int:
        cap = self.channel.capacity_per_s
        # about one second of the channel's capacity across the batches in flight, so a
        # pause takes effect within about a second
        return self.batch_max if not cap else max(
            1, min(self.batch_max, int(cap / self._concurrency())))

    async def _housekeeping(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if self._pending:
            todo, self._pending = self._pending, []
            waiting, orphans = await asyncio.to_thread(updates.apply, todo, grace_s=self.grace_s)
            self._pending = waiting + self._pending
            self.stats.orphans += orphans
        if feedback.optouts_waiting():  # after the SMSC got its answer, not before
            await asyncio.to_thread(feedback.sync_optouts)
        if force or now - self._last_housekeeping >= 5.0:
            self._last_housekeeping = now
            self.stats.reconciled += await asyncio.to_thread(
                outbox.reconcile, channel=self.channel.name, resend_unknown=self.resend_unknown)
            await asyncio.to_thread(outbox.cancel_stopped)
            await asyncio.to_thread(feedback.expire_mo_parts)
        if now - self._last_prune >= 3600.0:  # a scan of the send log: once an hour
            self._last_prune = now
            await asyncio.to_thread(outbox.prune_send_log)
        if force or now - self._last_history >= self.history_every_s:
            self._last_history = now
            try:
                self.stats.history += await asyncio.to_thread(history.sync)
            except StoreBusy as exc:  # a load holds the warehouse; the events wait
                log.info("contact history sync postponed: %s", exc.message)

    async def _send(self, batch: outbox.Batch,
                    messages: list[OutboundMessage]) -> list[SendResult]:
        async def renew() -> None:
            while True:
                await asyncio.sleep(self.lease_s / 3)
                await asyncio.to_thread(outbox.renew, lease=batch.lease, lease_s=self.lease_s)

        keeper = asyncio.create_task(renew())
        try:
            return await self.channel.send_batch(messages)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper

    def _claim_and_render(self, limit: int) -> tuple[
            outbox.Batch, list[OutboundMessage], list[SendResult]]:
        # one thread hand-off for both (each hand-off between the event loop and a worker
        # thread costs a GIL round trip; the loop is busy with the batch on the wire)
        batch = outbox.claim(channel=self.channel.name, limit=limit, lease_s=self.lease_s)
        if not batch.contacts:
            return batch, [], []
        try:
            messages, failed = render_batch(batch)
        except Exception as exc:  # e.g. the warehouse busy (StoreBusy): nothing was sent
            outbox.release(batch=batch, reason=f"render postponed: {exc}")
            raise
        return batch, messages, failed

    async def step(self) -> int:
        """One batch; returns how many contacts were claimed (0 = nothing due)."""
        try:
            batch, messages, failed = await asyncio.to_thread(self._claim_and_render,
                                                              self._batch_size())
        except StoreBusy as exc:  # the policy could not read time zones: nothing claimed
            log.info("claim postponed: %s", exc.message)
            await asyncio.sleep(self.idle_s)
            return 0
        for k, v in batch.policy.items():
            self.stats.policy[k] = self.stats.policy.get(k, 0) + v
        if not batch.contacts:
            return 0
        self.stats.batches += 1
        self.stats.claimed += len(batch.contacts)
        started = time.monotonic()
        results: list[SendResult] = []
        if messages:
            try:
                results = await self._send(batch, messages)
            except ChannelUnavailable as exc:
                self.stats.unavailable += 1
                log.warning("%s unavailable, batch put back: %s", self.channel.name, exc)
                await asyncio.to_thread(outbox.record, batch=batch, results=failed)
                await asyncio.to_thread(outbox.release, batch=batch, reason=f"unavailable: {exc}")
                await asyncio.sleep(min(5.0, self.idle_s * 4))
                return len(batch.contacts)
            except Exception as exc:  # what went out is not known: never resend blindly
                log.exception("%s send_batch failed; outcome unknown", self.channel.name)
                results = [SendResult(m.contact_id, "unknown", reason=f"send error: {exc}"[:200])
                           for m in messages]
        await asyncio.to_thread(outbox.record, batch=batch, results=failed + results)
        for r in failed + results:
            if r.outcome in ("submitted", "delivered"):
                self.stats.sent += 1
            elif r.outcome == "unknown":
                self.stats.unknown += 1
            elif r.outcome == "failed":
                self.stats.failed += 1
        cap = self.channel.capacity_per_s
        if cap and not getattr(self.channel, "self_paced", False):
            rest = len(messages) / cap - (time.monotonic() - started)
            if rest > 0:
                await asyncio.sleep(rest)
        return len(batch.contacts)

    def _concurrency(self) -> int:
        # A self-paced channel (SMPP holds its own TPS) gets the next batch claimed and
        # rendered while the current one is on the wire; others are paced per batch.
        return self.concurrency if getattr(self.channel, "self_paced", False) else 1

    async def run(self, *, once: bool = False) -> Stats:
        await self.channel.start(self._sink)
        try:
            await self._housekeeping(force=True)
            running: set[asyncio.Task[int]] = set()
            while not self.stop.is_set():
                while len(running) < self._concurrency():
                    running.add(asyncio.create_task(self.step()))
                done, running = await asyncio.wait(running,
                                                   return_when=asyncio.FIRST_COMPLETED)
                empty = any(t.result() == 0 for t in done)  # re-raises a step's error
                await self._housekeeping()
                if empty:
                    for t in done | running:  # let the batches in flight finish first
                        await t
                    running = set()
                    if once:
                        break
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.stop.wait(), self.idle_s)
            for t in running:
                await t
            await self._housekeeping(force=True)
        finally:
            await self.channel.close()
        return self.stats
