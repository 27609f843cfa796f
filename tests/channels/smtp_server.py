"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the e-mail channel's tests and bench.

Recipients whose local part starts with 'busy' get 450 (try later), 'bad' get 550, and
'dataerr' are refused at DATA with 451. Every accepted message is kept with the
connection (peer port) it came on, so tests can see the pool reuse connections.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    peer: Any
    mail_from: str
    rcpt: list[str]
    message: EmailMessage


@dataclass
class Handler:
    keep: bool = True
    received: list[Received] = field(default_factory=list)
    count: int = 0
    peers: set[Any] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: Any) -> str:
        local = address.split("@")[0]
        if local.startswith("busy"):
            return "450 mailbox busy, try later"
        if local.startswith("bad"):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if any(a.startswith("dataerr") for a in envelope.rcpt_tos):
            return "451 local error in processing"
        with self.lock:
            self.count += 1
            self.peers.add(session.peer)
            if self.keep:
                msg = message_from_bytes(envelope.original_content or envelope.content,
                                         policy=policy.default)
                assert isinstance(msg, EmailMessage)
                self.received.append(Received(session.peer, envelope.mail_from,
                                              list(envelope.rcpt_tos), msg))
        return "250 queued"


class SmtpServer:
    def __init__(self, *, keep: bool = True) -> None:
        self.handler = Handler(keep=keep)
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
