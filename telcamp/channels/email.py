"""The e-mail channel: SMTP through a pool of aiosmtplib connections.

- A batch's messages go out concurrently over at most `pool_size` open connections, which
  are kept between batches (connecting costs more than a message on loopback).
- Each e-mail has a text part and an HTML part, a List-Unsubscribe header with a mailto
  and an https link carrying a signed token (telcamp.channels.unsubscribe), and
  List-Unsubscribe-Post for one-click unsubscribe (RFC 8058).
- The address is the message's `address`, else the subscriber's `email` in the warehouse
  profile (one read per batch); none → that contact fails "no e-mail address".
- The subject is the template's first line when it reads "Subject: ...", else the
  configured default.

SMTP answers → SendResult: 250 → "submitted" (provider id = Message-ID); 4xx → "retry"
(certainly not accepted; the outbox plans it again); 5xx → "failed" with code and text;
the connection lost after DATA began → "unknown" (the server may have taken it). No
connection can be opened at all → ChannelUnavailable (the batch goes back untouched).
With `return_path` set the envelope sender is a VERP address naming the contact, and an
address that hard-bounced before is not mailed again (telcamp.channels.bounces).
"""

from __future__ import annotations

import asyncio
import html
import logging
import secrets
import time
from base64 import b64encode
from collections.abc import Sequence
from email.utils import formatdate

import aiosmtplib
import duckdb

from telcamp.channels.base import (
    ChannelStatus,
    ChannelUnavailable,
    OutboundMessage,
    ResultSink,
    SendResult,
)
from telcamp.channels.bounces import verp_address
from telcamp.channels.settings import SmtpConfig
from telcamp.channels.unsubscribe import make_token
from telcamp.core import warehouse
from telcamp.dispatch.feedback import bounced

log = logging.getLogger(__name__)


def split_subject(body: str, default: str) -> tuple[str, str]:
    """(subject, text): a first line 'Subject: ...' is the subject."""
    first, _, rest = body.partition("\n")
    if first.lower().startswith("subject:"):
        return first[8:].strip() or default, rest.lstrip("\n")
    return default, body


def text_to_html(text: str) -> str:
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def lookup_addresses(msisdns: list[int]) -> dict[int, str]:
    """msisdn → e-mail from the warehouse profile (one query per batch)."""
    if not msisdns:
        return {}
    try:
        with warehouse.connect(read_only=True) as con:
            rows = con.execute(
                "SELECT msisdn, email FROM profile WHERE email IS NOT NULL AND email <> '' "
                "AND msisdn IN (SELECT UNNEST(CAST(? AS BIGINT[])))", [msisdns]).fetchall()
    except duckdb.CatalogException:
        return {}
    return {int(m): str(e) for m, e in rows}


def _header(value: str) -> str:
    # No header injection through a name or address taken from data.
    return value.replace("\r", " ").replace("\n", " ")


def _encode_word(value: str) -> str:
    """RFC 2047 for non-ASCII subjects, in pieces that keep lines under 78 characters."""
    value = _header(value)
    if value.isascii():
        return value
    raw = value.encode("utf-8")
    words, i = [], 0
    while i < len(raw):
        j = min(len(raw), i + 45)
        while j < len(raw) and (raw[j] & 0xC0) == 0x80:  # never split a character
            j -= 1
        words.append(f"=?utf-8?b?{b64encode(raw[i:j]).decode()}?=")
        i = j
    return "\r\n ".join(words)


def _b64(text: str) -> str:
    data = b64encode(text.encode("utf-8")).decode()
    return "".join(data[i:i + 76] + "\r\n" for i in range(0, len(data), 76))


class _Retry(Exception):
    """4xx or a connection refused before anything was sent."""


class EmailChannel:
    def __init__(self, config: SmtpConfig, *, name: str = "email",
                 public_url: str = "http://127.0.0.1:8000",
                 unsubscribe_mailto: str = "unsubscribe@localhost") -> None:
        self.name = name
        self.config = config
        self.capacity_per_s: float | None = config.tps
        self.public_url = public_url.rstrip("/")
        self.unsubscribe_mailto = unsubscribe_mailto
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(config.pool_size)
        self._sink: ResultSink | None = None
        self.connections_opened = 0
        self.sent = 0
        self.failed = 0
        self.retried = 0
        self.last_error: str | None = None
        self._window: list[float] = []  # send times in the last second, for the status rate
        self._started = False
        self._in_use = 0
        self._soft: dict[int, int] = {}  # contact id -> 4xx answers so far

    async def start(self, sink: ResultSink) -> None:
        self._sink = sink
        self._started = True

    # -- the pool ---------------------------------------------------------------------

    async def _connect(self) -> aiosmtplib.SMTP:
        c = self.config
        smtp = aiosmtplib.SMTP(hostname=c.host, port=c.port, timeout=c.timeout_s,
                               use_tls=c.use_tls, start_tls=c.start_tls or None,
                               validate_certs=False)
        await smtp.connect()
        if c.username:
            await smtp.login(c.username, c.password or "")
        self.connections_opened += 1
        return smtp

    async def _acquire(self) -> aiosmtplib.SMTP:
        while self._idle:
            smtp = self._idle.pop()
            if smtp.is_connected:
                return smtp
        return await self._connect()

    def _release(self, smtp: aiosmtplib.SMTP | None) -> None:
        if smtp is not None and smtp.is_connected:
            self._idle.append(smtp)

    # -- building and sending -------------------------------------------------------------

    def build(self, m: OutboundMessage, address: str) -> tuple[str, bytes]:
        """(Message-ID, the RFC 5322 bytes). Written by hand: the stdlib's EmailMessage
        costs ~3 ms a message, which alone would cap the channel near 300 e-mails/s."""
        subject, text = split_subject(m.body, m.subject or self.config.subject)
        token = make_token(msisdn=m.msisdn, contact_id=m.contact_id, channel=self.name)
        link = f"{self.public_url}/api/channels/unsubscribe/{token}"
        msgid = f"<c{m.contact_id}.{secrets.token_hex(6)}@telcamp>"
        boundary = f"=_telcamp_{secrets.token_hex(8)}"
        body_html = m.html or text_to_html(text)
        html_doc = (f"<html><body>{body_html}<hr><p><a href=\"{html.escape(link)}\">"
                    f"Unsubscribe</a></p></body></html>")
        head = (
            f"From: {_header(self.config.sender)}\r\nTo: {_header(address)}\r\n"
            f"Subject: {_encode_word(subject)}\r\nDate: {formatdate(usegmt=True)}\r\n"
            f"Message-ID: {msgid}\r\nMIME-Version: 1.0\r\n"
            f"List-Unsubscribe: <mailto:{self.unsubscribe_mailto}?subject=unsubscribe%20"
            f"{token}>, <{link}>\r\n"
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
            f"X-Telcamp-Contact: {m.contact_id}\r\n"
            f"Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n")
        parts = "".join(
            f"--{boundary}\r\nContent-Type: text/{kind}; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{_b64(content)}"
            for kind, content in (("plain", f"{text}\n\n--\nUnsubscribe: {link}\n"),
                                  ("html", html_doc)))
        return msgid, (head + parts + f"--{boundary}--\r\n").encode("ascii")

    async def _one(self, m: OutboundMessage, address: str) -> SendResult:
        if "\r" in address or "\n" in address or "@" not in address:
            self.failed += 1
            return SendResult(m.contact_id, "failed", reason=f"bad e-mail address {address!r}"
                              [:200])
        msg = self.build(m, address)
        async with self._slots:
            self._in_use += 1
            try:
                return await self._send_on_pool(m, msg, address)
            finally:
                self._in_use -= 1

    async def _send_on_pool(self, m: OutboundMessage, msg: tuple[str, bytes],
                            address: str) -> SendResult:
        smtp: aiosmtplib.SMTP | None = None
        try:
            smtp = await self._acquire()
        except (OSError, aiosmtplib.SMTPException) as exc:
            raise _Retry(f"connect: {exc}") from exc
        try:
            errors, _ = await smtp.sendmail(self._envelope_from(m), [address], msg[1])
        except aiosmtplib.SMTPRecipientsRefused as exc:
            await self._reset(smtp)
            return self._refused(m, exc.recipients[0].code, exc.recipients[0].message)
        except aiosmtplib.SMTPResponseException as exc:
            await self._reset(smtp)
            return self._refused(m, exc.code, exc.message)
        except (OSError, aiosmtplib.SMTPException) as exc:
            self.last_error = str(exc)[:200]
            return SendResult(m.contact_id, "unknown", reason=f"smtp: {exc}"[:200])
        self._release(smtp)
        if errors:  # a single recipient: refused ones raise above; keep it honest
            code, text = next(iter(errors.values()))
            return self._refused(m, code, text)
        self.sent += 1
        self._soft.pop(m.contact_id, None)
        self._window.append(time.monotonic())
        return SendResult(m.contact_id, "submitted", provider_ids=(msg[0],))

    def _envelope_from(self, m: OutboundMessage) -> str:
        """VERP: the bounce names its contact (telcamp.channels.bounces)."""
        if self.config.return_path and m.contact_id > 0:
            return verp_address(self.config.return_path, m.contact_id)
        return self.config.sender

    async def _reset(self, smtp: aiosmtplib.SMTP) -> None:
        try:
            await smtp.rset()
            self._release(smtp)
        except (OSError, aiosmtplib.SMTPException):
            smtp.close()

    def _refused(self, m: OutboundMessage, code: int, text: str) -> SendResult:
        reason = f"smtp {code}: {text}"[:200]
        self.last_error = reason
        if 400 <= code < 500:
            # A mailbox that keeps answering 4xx must not be retried forever: the outbox
            # plans a "retry" again at once, so the count lives here.
            n = self._soft[m.contact_id] = self._soft.get(m.contact_id, 0) + 1
            if n <= self.config.soft_retries:
                self.retried += 1
                return SendResult(m.contact_id, "retry", reason=reason)
            self._soft.pop(m.contact_id, None)
            reason = f"{reason} ({n} attempts)"[:200]
        self.failed += 1
        return SendResult(m.contact_id, "failed", reason=reason)

    async def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        if not self._started:
            raise ChannelUnavailable("the e-mail channel was not started")
        need = [int(m.msisdn) for m in messages if not m.address and m.msisdn.isdigit()]
        found = await asyncio.to_thread(lookup_addresses, need) if need else {}
        results: dict[int, SendResult] = {}
        todo: list[tuple[OutboundMessage, str]] = []
        for m in messages:
            address = m.address or found.get(int(m.msisdn) if m.msisdn.isdigit() else -1)
            if not address:
                self.failed += 1
                results[m.contact_id] = SendResult(m.contact_id, "failed",
                                                   reason="no e-mail address")
            else:
                todo.append((m, address))
        if todo:  # a hard bounce stops e-mail to that address for good
            gone = await asyncio.to_thread(bounced, [a for _, a in todo])
            for m in [m for m, a in todo if a.strip().lower() in gone]:
                self.failed += 1
                results[m.contact_id] = SendResult(m.contact_id, "failed",
                                                   reason="address bounced before (hard)")
            todo = [(m, a) for m, a in todo if a.strip().lower() not in gone]
        outcomes = await asyncio.gather(*(self._one(m, a) for m, a in todo),
                                        return_exceptions=True)
        retried = 0
        for (m, _a), out in zip(todo, outcomes, strict=True):
            if isinstance(out, SendResult):
                results[m.contact_id] = out
            elif isinstance(out, _Retry):
                retried += 1
                self.last_error = str(out)[:200]
                results[m.contact_id] = SendResult(m.contact_id, "retry", reason=str(out)[:200])
            else:
                log.error("e-mail send error for contact %s: %r", m.contact_id, out)
                results[m.contact_id] = SendResult(m.contact_id, "unknown",
                                                   reason=f"send error: {out}"[:200])
        if todo and retried == len(todo):  # no connection at all: nothing was handed over
            raise ChannelUnavailable(self.last_error or "SMTP server unreachable")
        return [results[m.contact_id] for m in messages]

    def status(self) -> ChannelStatus:
        now = time.monotonic()
        self._window = [t for t in self._window if now - t < 1.0]
        state = "ready" if self._started and (self._idle or not self.last_error) else (
            "down" if self._started else "closed")
        return ChannelStatus(
            name=self.name, state=state, capacity_per_s=self.capacity_per_s, sent=self.sent,
            failed=self.failed, last_error=self.last_error,
            detail=[{"host": self.config.host, "port": self.config.port,
                     "pool_size": self.config.pool_size, "open": len(self._idle),
                     "in_use": self._in_use,
                     "rate_per_s": len(self._window), "retried": self.retried}])

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for smtp in idle:
            try:
                await smtp.quit()
            except (OSError, aiosmtplib.SMTPException):
                smtp.close()
        self._started = False
        self._sink = None
