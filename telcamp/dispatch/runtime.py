"""The dispatch loop inside `telcamp serve` (embedded default), like the campaign
scheduler: one Worker per configured channel, started with the app, stopped with it.
`TELCAMP_DISPATCH_INTERVAL_S=0` turns it off (then run `telcamp dispatch run`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telcamp.channels.base import ChannelStatus
from telcamp.dispatch import registry
from telcamp.dispatch.config import get_dispatch_settings
from telcamp.dispatch.worker import Worker

log = logging.getLogger(__name__)
WORKERS: dict[str, Worker] = {}


def channel_status() -> list[ChannelStatus]:
    return [w.channel.status() for w in WORKERS.values()]


@asynccontextmanager
async def dispatch_lifespan(_app: Any) -> AsyncIterator[None]:
    settings = get_dispatch_settings()
    if settings.interval_s <= 0:
        yield
        return
    tasks: list[asyncio.Task[Any]] = []
    for name in settings.channels:
        try:
            channel = registry.build(name, settings)
        except KeyError as exc:
            log.error("dispatch: %s", exc)
            continue
        if channel is None:
            log.info("dispatch: channel %s is not configured; not started", name)
            continue
        worker = Worker(channel, batch_max=settings.batch_max, lease_s=settings.lease_s,
                        resend_unknown=settings.resend_unknown, idle_s=settings.interval_s,
                        grace_s=settings.receipt_grace_s,
                        history_every_s=settings.history_every_s)
        WORKERS[name] = worker

        async def guarded(w: Worker = worker) -> None:
            while not w.stop.is_set():
                try:
                    await w.run()
                except Exception:  # a failed loop must not stop dispatching for good
                    log.exception("dispatch worker %s failed; restarting", w.channel.name)
                    await asyncio.sleep(5)

        tasks.append(asyncio.create_task(guarded()))
    try:
        yield
    finally:
        for w in WORKERS.values():
            w.stop.set()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(t, 10)
        WORKERS.clear()
