"""The asyncio ESME: one bind (`SmppClient`; several binds: pool.SmppPool).

A bind connects, binds, keeps the link alive with enquire_link, and reconnects with
exponential back-off (jittered) when the session ends. A bind refused for its credentials
raises one alert and stops: it is not retried automatically. Each submit_sm passes the
bind's TPS limit, any throttle pause, then the window of outstanding requests; the status
table (status.py) decides what an error answer means. Requests outstanding when a session
ends have an unknown outcome and are resubmitted once a bind is up (see docs/smpp.md).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from telcamp.channels.smpp import pdu as p
from telcamp.channels.smpp import status as st
from telcamp.channels.smpp.errors import (
    BindRefused,
    NotSent,
    SessionLost,
    SmppClosed,
    SmppError,
)
from telcamp.channels.smpp.inbound import EventSink, Inbox, event_of
from telcamp.channels.smpp.messages import (
    BindConfig,
    BindStatus,
    InboundEvent,
    OutboundSms,
    ReceiptEvent,
    SubmitResult,
)
from telcamp.channels.smpp.ratelimit import RateLimiter, Window
from telcamp.channels.smpp.session import Session
from telcamp.channels.smpp.submit import submit_message

log = logging.getLogger(__name__)

BIND_COMMANDS = {
    "transceiver": st.BIND_TRANSCEIVER,
    "transmitter": st.BIND_TRANSMITTER,
    "receiver": st.BIND_RECEIVER,
}


class SmppClient:
    """One bind. `await start()`, `await submit(msg)`, `await close()`."""

    def __init__(self, config: BindConfig, *, on_event: EventSink | None = None,
                 _inbox: Inbox | None = None, _notify: Callable[[], None] | None = None):
        self.config = config
        self.name = config.name
        self._inbox = _inbox or Inbox(on_event)
        self._notify = _notify
        self.state = "new"
        self.session: Session | None = None
        self.window = Window(config.window)
        self.limiter = RateLimiter(config.tps, config.tps_burst) if config.tps else None
        self.refused: BindRefused | None = None
        self._closing = False
        self._closing_evt = asyncio.Event()
        self._bound_evt = asyncio.Event()
        self._run_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._paused_until = 0.0
        self._throttle_delay = config.throttle_initial
        self._samples: collections.deque[tuple[float, int]] = collections.deque(maxlen=21)
        self.counters = collections.Counter[str]()
        self.submitted = 0  # a plain int: it is counted once per message
        self.errors = collections.Counter[str]()
        self.last_error: str | None = None
        self.alerts: list[str] = []
        self._ref = random.randrange(256)  # noqa: S311 - concatenation reference, not security

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        if self._run_task is None:
            self._run_task = asyncio.create_task(self._run(), name=f"smpp {self.name}")

    async def wait_bound(self, timeout: float | None = None) -> None:
        """Until bound; raises BindRefused / SmppClosed when that cannot happen."""
        await asyncio.wait_for(self._pick(), timeout)

    async def close(self, timeout: float = 5.0) -> None:
        """Stop taking work, let outstanding requests finish (up to `timeout`), unbind."""
        self._closing = True
        self._closing_evt.set()
        session = self.session
        if session is not None and not session.closed.done():
            deadline = time.monotonic() + timeout
            while session.pending and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            with contextlib.suppress(TimeoutError, SessionLost):
                await asyncio.wait_for(session.request(st.UNBIND), min(2.0, timeout))
            session.close()
        if self._run_task is not None:
            self._run_task.cancel()
            await asyncio.gather(self._run_task, return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        self._set_state("closed")

    async def _run(self) -> None:
        cfg = self.config
        delay = cfg.reconnect_initial
        bound_before = False
        while not self._closing:
            self._set_state("connecting")
            session = await self._connect_and_bind()
            if session is None:
                if self.refused is not None:
                    return
                self._set_state("backoff")
                await self._pause(delay * random.uniform(0.8, 1.2))  # noqa: S311
                delay = min(delay * 2, cfg.reconnect_max)
                continue
            delay = cfg.reconnect_initial
            if bound_before:
                self.counters["reconnects"] += 1
            bound_before = True
            self.session = session
            self._set_state("bound")
            keeper = asyncio.create_task(self._keepalive(session))
            reason = await session.closed
            keeper.cancel()
            self.session = None
            if not self._closing:
                self._record_error(f"session ended: {reason}")
                self._set_state("disconnected")
                await self._pause(cfg.reconnect_initial * random.uniform(0.5, 1.0))  # noqa: S311

    async def _connect_and_bind(self) -> Session | None:
        cfg = self.config
        loop = asyncio.get_running_loop()
        try:
            _, session = await asyncio.wait_for(
                loop.create_connection(lambda: Session(self, self.name), cfg.host, cfg.port),
                cfg.connect_timeout,
            )
        except (OSError, TimeoutError) as e:
            self._record_error(f"connect to {cfg.host}:{cfg.port} failed: {e or 'timeout'}")
            return None
        bind = p.bind_pdu(BIND_COMMANDS[cfg.bind_type], system_id=cfg.system_id,
                          password=cfg.password, system_type=cfg.system_type,
                          addr_ton=cfg.addr_ton, addr_npi=cfg.addr_npi,
                          address_range=cfg.address_range)
        try:
            status, _, _ = await asyncio.wait_for(
                session.request(bind.command_id, p.encode_body(bind)), cfg.response_timeout)
        except (TimeoutError, SessionLost) as e:
            self._record_error(f"bind: no answer ({e or 'timeout'})")
            session.close()
            return None
        except asyncio.CancelledError:  # close() while binding: do not leak the socket
            session.close()
            raise
        if status == st.ESME_ROK:
            return session
        session.close()
        name = st.status_name(status)
        if st.action_for(status) is st.Action.BIND_FATAL:
            message = (
                f"SMSC {cfg.host}:{cfg.port} refused the {cfg.bind_type} bind of system_id "
                f"{cfg.system_id!r}: {name}. Check the system_id/password/system_type; "
                "this bind is not retried automatically."
            )
            log.error("SMPP ALERT %s: %s", self.name, message)
            self.alerts.append(message)
            self.refused = BindRefused(message, command_status=status)
            self._set_state("refused")
            return None
        self._record_error(f"bind refused: {name}")
        return None

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing_evt.wait(), seconds)

    async def _keepalive(self, session: Session) -> None:
        cfg = self.config
        tick = max(0.05, min(0.5, cfg.enquire_link_interval / 2, cfg.response_timeout / 2))
        next_enquire = time.monotonic() + cfg.enquire_link_interval
        while not session.closed.done():
            await asyncio.sleep(tick)
            now = time.monotonic()
            self._samples.append((now, self.submitted))
            if session.expire(cfg.response_timeout):
                return
            if now >= next_enquire:
                next_enquire = now + cfg.enquire_link_interval
                session.request(st.ENQUIRE_LINK).add_done_callback(_quiet)

    def _set_state(self, state: str) -> None:
        self.state = state
        if state == "bound":
            self._bound_evt.set()
        else:
            self._bound_evt.clear()
        if state in ("refused", "closed"):
            self._bound_evt.set()  # wake waiters so they see the end
        if self._notify is not None:
            self._notify()

    def _record_error(self, text: str) -> None:
        self.last_error = text
        log.info("%s: %s", self.name, text)

    # -- sending -------------------------------------------------------------------------
    @property
    def is_bound(self) -> bool:
        session = self.session
        return (self.state == "bound" and not self._closing and session is not None
                and not session.closed.done())

    @property
    def in_flight(self) -> int:
        return self.window.used

    async def _pick(self) -> SmppClient:
        if self.config.bind_type == "receiver":
            raise SmppError(f"SMPP bind {self.name} is a receiver bind: it cannot submit")
        while True:
            if self.refused is not None:
                raise self.refused
            if self._closing or self.state == "closed":
                raise SmppClosed(f"SMPP bind {self.name} is closed")
            if self.is_bound:
                return self
            if self.state == "bound":
                await asyncio.sleep(0.005)  # the session just ended; _run is about to notice
            else:
                await self._bound_evt.wait()

    async def send_submit(self, body: bytes) -> tuple[int, str]:
        """One submit_sm through limit, throttle pause and window. Raises NotSent when no
        session could take it, SessionLost when the session ended before the answer (the
        outcome is unknown)."""
        if self.limiter is not None:
            await self.limiter.acquire()
        if self._paused_until:  # throttled recently (0.0 once the pause is over)
            wait = self._paused_until - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            else:
                self._paused_until = 0.0
        window = self.window
        if not window.try_acquire():
            await window.acquire()
        try:
            if self._paused_until:  # throttled while we waited for a window slot
                wait = self._paused_until - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            if self._closing:  # close() lets outstanding requests finish, sends no more
                raise SmppClosed(f"SMPP bind {self.name} is closing; not sent")
            session = self.session
            if session is None or self.state != "bound":
                raise NotSent(f"{self.name}: not bound")
            status, mid, _ = await session.request(st.SUBMIT_SM, body)
        finally:
            window.release()
        self.count_answer(status)
        return status, mid

    def count_answer(self, status: int) -> None:
        """A submit_sm_resp arrived (counters; an accepted one ends the throttle back-off)."""
        if status == 0:
            self.submitted += 1
            if self._throttle_delay != self.config.throttle_initial:
                self._throttle_delay = self.config.throttle_initial
        else:
            self.errors[st.status_name(status)] += 1

    def can_take_now(self) -> bool:
        """Bound, no TPS limit and no throttle pause: a submit_sm may be written at once
        (the batch path of submit.submit_batch; the others go through send_submit)."""
        return (self.limiter is None and not self._paused_until and self.is_bound
                and self.config.bind_type != "receiver")

    def throttled(self) -> None:
        """ESME_RTHROTTLED/RMSGQFUL: pause this bind; escalate only once a pause has ended
        (all answers to one burst must not multiply the pause)."""
        now = time.monotonic()
        self.counters["throttled"] += 1
        if now >= self._paused_until:
            self._paused_until = now + self._throttle_delay
            self._throttle_delay = min(self._throttle_delay * 2, self.config.throttle_max)

    def reset_session(self, reason: str) -> None:
        if self.session is not None:
            self.session.abort(reason)

    def next_ref(self) -> int:
        self._ref = (self._ref + 1) & 0xFF
        return self._ref

    def _pick_now(self) -> SmppClient | None:
        return self if self.is_bound else None

    async def submit(self, msg: OutboundSms) -> SubmitResult:
        return await submit_message(msg, self.config, self._pick, self._inbox.matcher,
                                    self.next_ref(), self._pick_now)

    # -- inbound -------------------------------------------------------------------------
    def on_protocol_error(self, session: Session, reason: str) -> None:
        self.errors["protocol"] += 1
        self._record_error(reason)

    def on_inbound(self, session: Session, pdu: p.Pdu) -> None:
        if pdu.command_id != st.DELIVER_SM:
            session.send(p.frame(st.GENERIC_NACK, pdu.sequence_number,
                                 status=st.ESME_RINVCMDID))
            return
        task = asyncio.create_task(self._deliver(session, pdu))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, session: Session, pdu: p.Pdu) -> None:
        status = st.ESME_ROK
        event = event_of(pdu, self._inbox.matcher, self.counters, self.name)
        if isinstance(event, ReceiptEvent) and event.orphan:
            event = await self._rematch(event)
        try:
            await self._inbox.put(event)
        except Exception:  # the caller's handler failed: the SMSC redelivers later
            log.exception("%s: inbound handler failed; answering ESME_RX_T_APPN", self.name)
            status = st.ESME_RX_T_APPN
        session.send(p.frame(st.DELIVER_SM_RESP, pdu.sequence_number, b"\x00", status))

    async def _rematch(self, event: ReceiptEvent) -> ReceiptEvent:
        """A receipt may overtake its own submit_sm_resp (fast SMSCs, or the resp still in
        our buffer): look again for `receipt_grace` s before calling it an orphan."""
        deadline = time.monotonic() + self.config.receipt_grace
        while time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            hit = self._inbox.matcher.match(event.receipt.message_id)
            if hit is not None:
                return ReceiptEvent(event.receipt, hit[0], hit[1], False, event.bind)
        self.counters["orphans"] += 1
        return event

    async def events(self) -> AsyncIterator[InboundEvent]:
        while True:
            yield await self._inbox.queue.get()

    # -- status --------------------------------------------------------------------------
    def status(self) -> BindStatus:
        rate = 0.0
        if len(self._samples) >= 2:
            (t0, n0), (t1, n1) = self._samples[0], self._samples[-1]
            rate = (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0
        c = self.counters
        return BindStatus(
            name=self.name, state=self.state, window_in_use=self.in_flight,
            window_size=self.config.window, tps_limit=self.config.tps, rate=round(rate, 1),
            submitted=self.submitted, resubmitted=c["resubmitted"], throttled=c["throttled"],
            reconnects=c["reconnects"], receipts=c["receipts"], orphans=c["orphans"],
            mo=c["mo"], raw=c["raw"], errors=dict(self.errors), last_error=self.last_error,
            alerts=list(self.alerts),
        )


def _quiet(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()
