"""The window and the rate limiter on their own (no network)."""

from __future__ import annotations

import asyncio
import itertools
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


def test_reconnect_backs_off_exponentially():
    """A peer that accepts and hangs up at once: attempts spread out, no storm."""
    from telcamp.channels.smpp import BindConfig, SmppClient

    async def main() -> list[float]:
        seen: list[float] = []

        async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.append(time.monotonic())
            writer.close()

        server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = SmppClient(BindConfig("127.0.0.1", port, "telcamp", "secret",
                                       reconnect_initial=0.05, reconnect_max=0.4))
        await client.start()
        await asyncio.sleep(2.0)
        state = client.status()
        await client.close()
        server.close()
        assert state.state in ("backoff", "connecting") and state.last_error
        return seen

    seen = asyncio.run(main())
    gaps = [b - a for a, b in itertools.pairwise(seen)]
    assert 4 <= len(seen) <= 12  # 0.05, 0.1, 0.2, 0.4, 0.4, ... (±20 %) in 2 s
    assert gaps[0] < 0.2 and max(gaps) >= 0.3 and max(gaps) <= 0.4 * 1.2 + 0.2
