"""A mail sink for the demo's e-mail channel: aiosmtpd on 127.0.0.1 accepting every
message (and counting it); nothing is relayed or stored."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class MailSink:
    """aiosmtpd handler: 250 for every message."""

    accepted: int = 0
    recipients: int = 0
    last_to: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.accepted += 1
            self.recipients += len(envelope.rcpt_tos)
            self.last_to = list(envelope.rcpt_tos)
        return "250 OK (demo sink: not delivered anywhere)"


class SmtpSink:
    """The sink on its own thread (aiosmtpd's Controller); stop() ends it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 2525) -> None:
        """`port` when free, else any free one (aiosmtpd cannot listen on port 0)."""
        from aiosmtpd.controller import Controller

        from telcamp.simulator.smsc import pick_port

        self.handler = MailSink()
        self.host = host
        self.port = pick_port(host, port)
        self._controller = Controller(self.handler, hostname=host, port=self.port)

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
