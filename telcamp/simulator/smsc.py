"""A small SMSC simulator for the demo and local trials, on PyPI smpp34's SMPP server.

It accepts binds, answers every submit_sm with a fresh message id and, when the message
asked for a receipt (registered_delivery), sends a delivery receipt after `receipt_delay`
seconds: DELIVRD for a `delivery_rate` share, UNDELIV for the rest. It is not an SMSC: it
delivers nothing to handsets, keeps nothing across restarts, and smpp34's server API does
not see the bind's password, so credentials are not checked (a bind whose system_id differs
from the expected one is logged, not refused).
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

from telcamp.core import clock

log = logging.getLogger(__name__)

DEFAULT_PORT = 2775


@dataclass
class SimStats:
    binds: int = 0
    submits: int = 0
    delivered: int = 0
    undelivered: int = 0
    receipts_lost: int = 0  # the ESME had no bound session left to take the receipt


@dataclass
class SmscSimulator:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    system_id: str = "demo"
    delivery_rate: float = 0.95
    receipt_delay: float = 1.0
    seed: int | None = None
    stats: SimStats = field(default_factory=SimStats)

    def __post_init__(self) -> None:
        if not 0.0 <= self.delivery_rate <= 1.0:
            raise ValueError(f"delivery_rate must be within 0..1, got {self.delivery_rate}")
        # Not security: only picks which receipts say UNDELIV.
        self._rng = random.Random(self.seed)  # noqa: S311
        self._sessions: dict[str, Any] = {}  # session_id → smpp34.Esme
        self._system_of: dict[str, str] = {}  # session_id → system_id
        self._counter = 0
        self._server: Any = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._serve_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        import smpp34

        self._server = smpp34.Server(host=self.host, port=self.port, system_id="telcamp-sim")
        await self._server.start()
        self._serve_task = asyncio.create_task(self._serve())
        log.info("SMSC simulator listening on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        for task in [*self._tasks, *([self._serve_task] if self._serve_task else [])]:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.stop()
            self._server = None

    async def serve_forever(self) -> None:
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    async def _serve(self) -> None:
        import smpp34

        while True:
            ev = await self._server.next()
            if isinstance(ev, smpp34.Esme):
                self._sessions[ev.session_id] = ev
                self._system_of[ev.session_id] = ev.system_id
                self.stats.binds += 1
                if ev.system_id != self.system_id:
                    log.warning("SMSC simulator: bind as %r (expected %r) accepted anyway",
                                ev.system_id, self.system_id)
            elif isinstance(ev, smpp34.Unbound):
                self._sessions.pop(ev.session_id, None)
            elif isinstance(ev, smpp34.SubmitSmEvent):
                self._counter += 1
                mid = f"{self._counter:08x}"
                ev.accept(message_id=mid)
                self.stats.submits += 1
                if ev.registered_delivery & 1:
                    task = asyncio.create_task(self._receipt(ev, mid, clock.now()))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)

    def _receiver(self, session_id: str) -> Any:
        """The session that sent the message, else another bound one of the same system_id
        (a reconnected client still gets its receipts)."""
        esme = self._sessions.get(session_id)
        if esme is not None and esme.can_receive:
            return esme
        system = self._system_of.get(session_id)
        for other in self._sessions.values():
            if other.system_id == system and other.can_receive:
                return other
        return None

    async def _receipt(self, ev: Any, mid: str, submitted: Any) -> None:
        # The delay also keeps the receipt behind its submit_sm_resp.
        await asyncio.sleep(self.receipt_delay)
        delivered = self._rng.random() < self.delivery_rate
        stat, err, dlvrd = ("DELIVRD", "000", "001") if delivered else ("UNDELIV", "001", "000")
        text = (f"id:{mid} sub:001 dlvrd:{dlvrd} submit date:{submitted:%y%m%d%H%M} "
                f"done date:{clock.now():%y%m%d%H%M} stat:{stat} err:{err} text:")
        esme = self._receiver(ev.session_id)
        if esme is None:
            self.stats.receipts_lost += 1
            return
        try:
            await esme.deliver_sm(ev.source_addr or "", text.encode(), esm_class=0x04,
                                  source_addr=ev.destination_addr)
        except Exception as exc:  # the session ended meanwhile: a simulator may drop it
            self.stats.receipts_lost += 1
            log.info("SMSC simulator: receipt %s not delivered: %s", mid, exc)
            return
        if delivered:
            self.stats.delivered += 1
        else:
            self.stats.undelivered += 1


def pick_port(host: str = "127.0.0.1", preferred: int = DEFAULT_PORT) -> int:
    """`preferred` when it is free, else any free port."""
    for port in (preferred, 0):
        with socket.socket() as s:
            # As the servers do: a port left in TIME_WAIT by a previous run is usable.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise OSError(f"no free port on {host}")


class BackgroundSmsc:
    """The simulator on its own event loop in a daemon thread (dies with the process)."""

    def __init__(self, sim: SmscSimulator) -> None:
        self.sim = sim
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="smsc-sim", daemon=True)

    def start(self, timeout: float = 10.0) -> BackgroundSmsc:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("SMSC simulator did not start in time")
        if self._error is not None:
            raise RuntimeError(f"SMSC simulator failed to start: {self._error}")
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.sim.start())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self.sim.stop())
        self._loop.close()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
