"""One SMPP TCP session: framing, sequence numbers, outstanding requests, coalesced writes.

The session knows nothing about binds, retries or messages: it turns bytes into PDUs,
resolves each response to the request's future, hands inbound requests to its owner, and
on any framing error answers generic_nack and resets (every outstanding request then fails
with SessionLost, so the layer above resubmits it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol, cast

from telcamp.channels.smpp import pdu as p
from telcamp.channels.smpp import status as st
from telcamp.channels.smpp.errors import NotSent, PduError, SessionLost

log = logging.getLogger(__name__)

Response = tuple[int, str, p.Pdu | None]  # command_status, message_id, full PDU if decoded


class SessionOwner(Protocol):
    def on_inbound(self, session: Session, pdu: p.Pdu) -> None: ...
    def on_protocol_error(self, session: Session, reason: str) -> None: ...


class Session(asyncio.Protocol):
    def __init__(self, owner: SessionOwner, name: str) -> None:
        self.owner = owner
        self.name = name
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.pending: dict[int, tuple[asyncio.Future[Response], float]] = {}
        self.closed: asyncio.Future[str] = self.loop.create_future()
        self.last_rx = time.monotonic()
        self._buf = bytearray()
        self._seq = 0
        self._out: list[bytes] = []
        self._flush_scheduled = False

    # -- transport callbacks -------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A cast, not an isinstance check: uvloop's TCPTransport (the server's loop under
        # uvicorn) is not an asyncio.Transport subclass but has the same methods.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail_pending(f"connection lost ({exc or 'closed by peer'})")
        if not self.closed.done():
            self.closed.set_result(str(exc or "closed"))

    def data_received(self, data: bytes) -> None:
        if self.transport is None:
            return  # reset: whatever still arrives belongs to a broken stream
        self.last_rx = time.monotonic()
        buf = self._buf
        buf += data
        n = len(buf)
        pos = 0
        unpack = p.HEADER.unpack_from
        pending = self.pending
        try:
            while n - pos >= p.HEADER_LEN:
                length, cid, status, seq = unpack(buf, pos)
                if length < p.HEADER_LEN or length > p.MAX_PDU_LENGTH:
                    self._framing_error(seq, f"command_length {length} from the peer")
                    return
                if n - pos < length:
                    break
                if cid == st.SUBMIT_SM_RESP:  # the hot path: no PDU object
                    entry = pending.pop(seq, None)
                    mid = ""
                    if length > p.HEADER_LEN:
                        end = buf.find(0, pos + p.HEADER_LEN, pos + length)
                        if end < 0:
                            if entry is not None:
                                pending[seq] = entry  # fails with the reset below
                            self._reset(f"submit_sm_resp seq {seq}: message_id has no NUL")
                            return
                        mid = buf[pos + p.HEADER_LEN : end].decode("latin-1")
                    if entry is not None and not entry[0].done():
                        entry[0].set_result((status, mid, None))
                else:
                    self._dispatch(bytes(buf[pos : pos + length]))
                    if self.closed.done() or self.transport is None:
                        return
                pos += length
        finally:
            if pos:
                del buf[:pos]

    def _dispatch(self, raw: bytes) -> None:
        try:
            pdu = p.decode(raw)
        except PduError as e:
            _, cid, _, seq = p.HEADER.unpack_from(raw, 0)
            if cid & st.RESPONSE_BIT:
                # a response we cannot read: its request's outcome is unknown -> reset, resubmit
                self._reset(f"malformed {st.command_name(cid)}: {e.message}")
            else:
                self.send(p.frame(st.GENERIC_NACK, seq, status=st.ESME_RINVMSGLEN))
                self.owner.on_protocol_error(self, f"malformed {st.command_name(cid)}: {e}")
            return
        if pdu.is_response:
            entry = self.pending.pop(pdu.sequence_number, None)
            if entry is not None and not entry[0].done():
                entry[0].set_result((pdu.command_status, pdu.str_param("message_id"), pdu))
            elif pdu.command_id == st.GENERIC_NACK:
                self.owner.on_protocol_error(
                    self, f"generic_nack {st.status_name(pdu.command_status)} "
                    f"for seq {pdu.sequence_number}")
            return
        if pdu.command_id == st.ENQUIRE_LINK:
            self.send(p.frame(st.ENQUIRE_LINK_RESP, pdu.sequence_number))
        elif pdu.command_id == st.UNBIND:
            self.send(p.frame(st.UNBIND_RESP, pdu.sequence_number))
            self.loop.call_soon(self.close)
        elif pdu.command_id in p.BODIES:
            self.owner.on_inbound(self, pdu)
        else:
            self.send(p.frame(st.GENERIC_NACK, pdu.sequence_number, status=st.ESME_RINVCMDID))

    # -- sending -------------------------------------------------------------------------
    def next_sequence(self) -> int:
        self._seq = self._seq + 1 if self._seq < 0x7FFFFFFF else 1
        return self._seq

    def send(self, data: bytes) -> None:
        """Queue bytes; one write per loop iteration (fewer syscalls under load)."""
        if self.transport is None:
            return
        self._out.append(data)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._out and self.transport is not None and not self.transport.is_closing():
            data = b"".join(self._out) if len(self._out) > 1 else self._out[0]
            self.transport.write(data)
        self._out.clear()

    def request(self, command_id: int, body: bytes = b"") -> asyncio.Future[Response]:
        fut: asyncio.Future[Response] = self.loop.create_future()
        if self.transport is None or self.closed.done():
            fut.set_exception(NotSent(f"{self.name}: session is closed"))
            return fut
        seq = self.next_sequence()
        self.pending[seq] = (fut, time.monotonic())
        self.send(p.frame(command_id, seq, body))
        return fut

    # -- ending --------------------------------------------------------------------------
    def expire(self, timeout: float) -> int:
        """Fail requests unanswered for `timeout` s; reset the session if any (a peer that
        stopped answering cannot be trusted with the rest of the window either)."""
        limit = time.monotonic() - timeout
        if any(sent < limit for _, sent in self.pending.values()):
            self._reset(f"no response within {timeout:g} s")
            return 1
        return 0

    def _framing_error(self, seq: int, reason: str) -> None:
        # tell the peer why (generic_nack), then half-close so the nack is not lost to a
        # TCP reset; the stream cannot be resynchronised, so nothing more is read from it
        self.send(p.frame(st.GENERIC_NACK, seq, status=st.ESME_RINVCMDLEN))
        self._flush()
        self._reset(reason, graceful=True)

    def _reset(self, reason: str, *, graceful: bool = False) -> None:
        log.warning("%s: resetting session: %s", self.name, reason)
        self.owner.on_protocol_error(self, reason)
        self._fail_pending(f"session reset: {reason}")
        transport = self.transport
        self.transport = None
        if transport is not None:
            if graceful and transport.can_write_eof():
                transport.pause_reading()
                transport.write_eof()
                self.loop.call_later(1.0, transport.abort)
            else:
                transport.abort()
        if not self.closed.done():
            self.closed.set_result(reason)

    def _fail_pending(self, reason: str) -> None:
        pending, self.pending = self.pending, {}
        for fut, _ in pending.values():
            if not fut.done():
                fut.set_exception(SessionLost(f"{self.name}: {reason}"))
                fut.exception()  # marked retrieved: waiters may already be gone

    def close(self) -> None:
        self._flush()
        if self.transport is not None:
            self.transport.close()

    def abort(self, reason: str) -> None:
        self._reset(reason)
