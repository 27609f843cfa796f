"""The window and the rate limiter on their own (no network)."""

from __future__ import annotations

import asyncio
import time

from telcamp.channels.smpp.ratelimit import RateLimiter, Window


def test_window_bounds_and_hands_slots_on_even_when_a_waiter_is_cancelled():
    async def main() -> None:
        w = Window(2)
        assert w.try_acquire() and w.try_acquire() and not w.try_acquire()
        order: list[str] = []

        async def wait(name: str) -> None:
            await w.acquire()
            order.append(name)

        a = asyncio.create_task(wait("a"))
        b = asyncio.create_task(wait("b"))
        c = asyncio.create_task(wait("c"))
        await asyncio.sleep(0)
        w.release()  # wakes a
        a.cancel()  # ... who leaves before running: the slot must go to b
        await asyncio.sleep(0.01)
        assert order == ["b"] and b.done() and w.used == 2 and not c.done()
        w.release()
        await asyncio.sleep(0.01)
        assert order == ["b", "c"] and w.used == 2
        w.release()
        w.release()
        assert w.used == 0 and w.try_acquire()

    asyncio.run(main())


def test_rate_limiter_spaces_slots_exactly(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    lim = RateLimiter(1000)
    slots = []
    for k in range(500):
        now[0] = 100.0 + k * 0.0001  # callers arrive 10x faster than the limit
        slots.append(now[0] + lim.reserve())
    assert all(abs(s - (100.0 + k / 1000)) < 1e-9 for k, s in enumerate(slots))
    now[0] = 200.0  # idle for a long time: missed slots are not made up
    assert lim.reserve() == 0 and lim.reserve() > 0
    burst = RateLimiter(100, burst=5)
    assert [burst.reserve() <= 0 for _ in range(6)] == [True] * 5 + [False]
