"""A TPS limit per bind: a token bucket in its GCRA form (one theoretical arrival time).

Each caller reserves the next slot and sleeps until it; slots are spaced exactly
1/rate apart on the monotonic clock, so sleep jitter does not accumulate and the long-run
rate is the set rate (within one message over any window).
"""

from __future__ import annotations

import asyncio
import collections
import time


class RateLimiter:
    def __init__(self, rate: float, burst: int = 1) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.interval = 1.0 / rate
        # tolerance: how far ahead of the steady schedule a burst may go
        self.tau = max(0, burst - 1) * self.interval
        self._tat = 0.0

    def reserve(self) -> float:
        """Reserve a slot; returns how long to wait before using it."""
        now = time.monotonic()
        tat = self._tat if self._tat > now else now
        self._tat = tat + self.interval
        return tat - self.tau - now

    async def acquire(self) -> None:
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)


class Window:
    """The bound on outstanding requests. Like asyncio.Semaphore, but its uncontended
    path is a plain call (the semaphore costs three coroutines per message)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.used = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    def try_acquire(self) -> bool:
        if self.used < self.size and not self._waiters:
            self.used += 1
            return True
        return False

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        while self.used >= self.size:
            fut: asyncio.Future[None] = loop.create_future()
            self._waiters.append(fut)
            try:
                await fut
            except asyncio.CancelledError:
                if fut.done() and not fut.cancelled():
                    self._wake_next()  # we were woken but leave: pass the slot on
                else:
                    self._waiters.remove(fut)
                raise
        self.used += 1

    def release(self) -> None:
        self.used -= 1
        self._wake_next()

    def _wake_next(self) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return
