"""A TPS limit per bind: a token bucket in its GCRA form (one theoretical arrival time).

Each caller reserves the next slot and sleeps until it; slots are spaced exactly
1/rate apart on the monotonic clock, so sleep jitter does not accumulate and the long-run
rate is the set rate (within one message over any window).
"""

from __future__ import annotations

import asyncio
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
