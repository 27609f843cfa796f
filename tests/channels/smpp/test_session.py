"""The session's framing on its own: PDUs split anywhere across TCP reads, responses matched
to requests, a broken frame answered and reset (no network: a recording transport)."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as s

from telcamp.channels.smpp import pdu as p
from telcamp.channels.smpp import status as st
from telcamp.channels.smpp.errors import SessionLost
from telcamp.channels.smpp.session import Session


class Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.aborted = False
        self.eof = False

    def write(self, data: Any) -> None:
        self.written += data

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        self.aborted = True

    def is_closing(self) -> bool:
        return self.aborted

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof = True

    def pause_reading(self) -> None:
        pass


class Owner:
    def __init__(self) -> None:
        self.inbound: list[p.Pdu] = []
        self.errors: list[str] = []

    def on_inbound(self, session: Session, pdu: p.Pdu) -> None:
        self.inbound.append(pdu)

    def on_protocol_error(self, session: Session, reason: str) -> None:
        self.errors.append(reason)


def _deliver(seq: int, text: bytes) -> bytes:
    body = p.submit_sm_body(source_addr="7900", destination_addr="1234", short_message=text)
    return p.frame(st.DELIVER_SM, seq, body)


@settings(max_examples=100, deadline=None)
@given(n=s.integers(1, 40), cuts=s.lists(s.integers(1, 60), min_size=1, max_size=200),
       data=s.data())
def test_pdus_split_anywhere_are_all_decoded_and_matched(n, cuts, data):
    async def main() -> None:
        owner = Owner()
        session = Session(owner, "t")
        transport = Transport()
        session.connection_made(transport)
        futs = [session.request(st.SUBMIT_SM, b"x") for _ in range(n)]
        stream = bytearray()
        for i in data.draw(s.permutations(range(n))):  # any order, MO interleaved
            stream += p.frame(st.SUBMIT_SM_RESP, i + 1, f"id{i}".encode() + b"\0")
            if data.draw(s.booleans()):
                stream += _deliver(1000 + i, b"mo %d" % i)
        pos = 0
        for cut in cuts * 50:
            if pos >= len(stream):
                break
            session.data_received(bytes(stream[pos : pos + cut]))
            pos += cut
        if pos < len(stream):
            session.data_received(bytes(stream[pos:]))
        assert [f.result()[:2] for f in futs] == [(0, f"id{i}") for i in range(n)]
        assert [x.bytes_param("short_message") for x in owner.inbound] == [
            b"mo %d" % (x.sequence_number - 1000) for x in owner.inbound]
        assert not owner.errors and not session.pending

    asyncio.run(main())


def test_broken_frame_is_nacked_and_fails_what_is_outstanding():
    async def main() -> None:
        owner = Owner()
        session = Session(owner, "t")
        transport = Transport()
        session.connection_made(transport)
        fut = session.request(st.SUBMIT_SM, b"x")
        await asyncio.sleep(0)  # the coalesced write goes out
        transport.written.clear()
        session.data_received(p.HEADER.pack(8, st.SUBMIT_SM_RESP, 0, 1))
        nack = p.decode(bytes(transport.written))
        assert nack.command_id == st.GENERIC_NACK and nack.command_status == st.ESME_RINVCMDLEN
        assert transport.eof and session.closed.done() and owner.errors
        assert isinstance(fut.exception(), SessionLost)
        session.data_received(b"\0" * 64)  # whatever still arrives is ignored
        assert len(owner.errors) == 1

    asyncio.run(main())


def test_peer_requests_are_answered():
    async def main() -> None:
        owner = Owner()
        session = Session(owner, "t")
        transport = Transport()
        session.connection_made(transport)
        session.data_received(p.frame(st.ENQUIRE_LINK, 7) + p.frame(0x00000103, 8, b"??"))
        await asyncio.sleep(0)
        out = bytes(transport.written)
        first, second = p.decode(out[:16]), p.decode(out[16:32])
        assert (first.command_id, first.sequence_number) == (st.ENQUIRE_LINK_RESP, 7)
        assert (second.command_id, second.command_status) == (st.GENERIC_NACK,
                                                              st.ESME_RINVCMDID)

    asyncio.run(main())
