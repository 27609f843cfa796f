"""E-mail bounces: VERP envelope senders and a small SMTP receiver (`telcamp bounce-server`).

Each campaign e-mail goes out with the envelope sender (Return-Path)
`<local>+<token>@<domain>` built from the SMTP setting `return_path` ("bounce@bounces.
example.org"); the token is the contact id and a short HMAC of it with the server's
secret key, so a forged bounce cannot fail someone else's contact. The receiving MTA
sends its delivery status notification (RFC 3464) to that address; the operator routes
the bounce domain's MX (or a transport rule) to the bounce server, which:

- refuses (550) recipients that are not a valid `<local>+<token>` address: nothing is
  accepted that cannot be matched, and the sender keeps it;
- reads the DSN: `Action: failed` with a `5.x.x` status is a hard bounce, with `4.x.x`
  a soft one (the sender gave up for now); `Action: delayed` is only recorded (the
  sender still tries); a bounce without a DSN part counts as soft (some MTAs send plain
  text) unless its text carries a 5.x.x code;
- stores it through telcamp.dispatch.feedback (before answering 250): the contact
  becomes 'undelivered' with the reason; a hard bounce also keeps the address from
  being e-mailed again (the e-mail channel fails such contacts "address bounced before").
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from typing import Any

from telcamp.channels.base import InboundMessage
from telcamp.core.settings import get_settings

log = logging.getLogger(__name__)
_STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")


def _mac(contact_id: int) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"bounce:{contact_id}".encode(), hashlib.sha256).hexdigest()[:12]


def verp_address(return_path: str, contact_id: int) -> str:
    """`bounce@example.org` → `bounce+c42-<mac>@example.org`."""
    local, _, domain = return_path.partition("@")
    return f"{local}+c{contact_id}-{_mac(contact_id)}@{domain}"


def read_verp(address: str) -> int | None:
    """The contact id of a VERP address we issued; None for anything else."""
    local = address.strip().strip("<>").partition("@")[0]
    _, plus, token = local.partition("+")
    m = re.fullmatch(r"c(\d{1,18})-([0-9a-f]{12})", token) if plus else None
    if m is None:
        return None
    cid = int(m.group(1))
    return cid if hmac.compare_digest(_mac(cid), m.group(2)) else None


@dataclass(frozen=True)
class Bounce:
    recipient: str  # the address that bounced ('' when the DSN does not say)
    hard: bool
    status: str  # "5.1.1", "4.2.2", or "" when none was found
    diagnostic: str
    final: bool = True  # False: "Action: delayed" (the sender still tries)


def _parts(msg: Message) -> list[Message]:
    return list(msg.walk()) if msg.is_multipart() else [msg]


def parse_bounce(data: bytes) -> Bounce:
    """Read a DSN (multipart/report; message/delivery-status) tolerantly."""
    msg = message_from_bytes(data, policy=policy.default)
    fields: dict[str, str] = {}
    for part in _parts(msg):
        if part.get_content_type() == "message/delivery-status":
            payload = part.get_payload()
            blocks = payload if isinstance(payload, list) else [part]
            for block in blocks:  # per-message fields, then per-recipient fields
                text = block.as_string() if isinstance(block, Message) else str(block)
                for line in text.splitlines():
                    name, sep, value = line.partition(":")
                    if sep and name.strip().lower() in (
                            "action", "status", "final-recipient", "original-recipient",
                            "diagnostic-code"):
                        fields.setdefault(name.strip().lower(), value.strip())
    recipient = (fields.get("final-recipient") or fields.get("original-recipient") or "")
    recipient = recipient.partition(";")[2].strip() if ";" in recipient else recipient
    status = fields.get("status", "")
    diagnostic = fields.get("diagnostic-code", "")
    if not status:  # no DSN: look for an enhanced status code in the text
        body = msg.get_body(("plain",)) if isinstance(msg, EmailMessage) else None
        text = body.get_content() if body is not None else data.decode("utf-8", "replace")
        found = _STATUS.search(str(text))
        status = found.group(0) if found else ""
        diagnostic = diagnostic or str(text).strip()[:200]
    action = fields.get("action", "").lower()
    hard = status.startswith("5") and action in ("", "failed")
    return Bounce(recipient, hard, status, diagnostic[:200], final=action != "delayed")


class BounceHandler:
    """aiosmtpd handler: VERP recipients only; each bounce stored before 250."""

    def __init__(self) -> None:
        self.stored = 0
        self.refused = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: Any) -> str:
        if read_verp(address) is None:
            self.refused += 1
            return "550 5.1.1 not a bounce address of this server"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import asyncio

        from telcamp.dispatch import feedback

        data = envelope.original_content or envelope.content
        raw = data if isinstance(data, bytes) else str(data).encode()
        b = parse_bounce(raw)
        messages = [InboundMessage(
            channel="email", kind="bounce", source=b.recipient,
            destination=str(rcpt), text=" ".join(x for x in (b.status, b.diagnostic) if x)
            or "bounce", raw=raw[:4000].decode("utf-8", "replace"),
            contact_id=read_verp(str(rcpt)), hard=b.hard, final=b.final)
            for rcpt in envelope.rcpt_tos]
        try:
            await asyncio.to_thread(feedback.store, messages)
        except Exception:  # not stored: the sending MTA keeps it and tries again
            log.exception("bounce not stored")
            return "451 4.3.0 could not store the bounce, try again later"
        self.stored += len(messages)
        return "250 OK bounce recorded"


class BounceServer:
    """The handler on aiosmtpd's Controller thread; stop() ends it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 2526) -> None:
        from aiosmtpd.controller import Controller

        self.handler = BounceHandler()
        self.host, self.port = host, port
        self._controller = Controller(self.handler, hostname=host, port=port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
