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
"""

from __future__ import annotations

import asyncio
import html
import logging
import time
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
import duckdb

from telcamp.channels.base import (
    ChannelStatus,
    ChannelUnavailable,
    OutboundMessage,
    ResultSink,
    SendResult,
)
from telcamp.channels.settings import SmtpConfig
from telcamp.channels.unsubscribe import make_token
from telcamp.core import warehouse

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

    def build(self, m: OutboundMessage, address: str) -> EmailMessage:
        subject, text = split_subject(m.body, m.subject or self.config.subject)
        token = make_token(msisdn=m.msisdn, contact_id=m.contact_id, channel=self.name)
        link = f"{self.public_url}/api/channels/unsubscribe/{token}"
        msg = EmailMessage()
        msg["From"] = self.config.sender
        msg["To"] = address
        msg["Subject"] = subject
        msg["Message-ID"] = make_msgid(idstring=f"c{m.contact_id}", domain="telcamp")
        msg["List-Unsubscribe"] = (f"<mailto:{self.unsubscribe_mailto}?subject=unsubscribe%20"
                                   f"{token}>, <{link}>")
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg["X-Telcamp-Contact"] = str(m.contact_id)
        msg.set_content(f"{text}\n\n--\nUnsubscribe: {link}\n")
        body_html = m.html or text_to_html(text)
        msg.add_alternative(
            f"<html><body>{body_html}<hr><p><a href=\"{html.escape(link)}\">Unsubscribe</a>"
            f"</p></body></html>", subtype="html")
        return msg

    async def _one(self, m: OutboundMessage, address: str) -> SendResult:
        msg = self.build(m, address)
        async with self._slots:
            self._in_use += 1
            try:
                return await self._send_on_pool(m, msg)
            finally:
                self._in_use -= 1

    async def _send_on_pool(self, m: OutboundMessage, msg: EmailMessage) -> SendResult:
        smtp: aiosmtplib.SMTP | None = None
        try:
            smtp = await self._acquire()
        except (OSError, aiosmtplib.SMTPException) as exc:
            raise _Retry(f"connect: {exc}") from exc
        try:
            errors, _ = await smtp.send_message(msg)
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
        self._window.append(time.monotonic())
        return SendResult(m.contact_id, "submitted", provider_ids=(str(msg["Message-ID"]),))

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
            self.retried += 1
            return SendResult(m.contact_id, "retry", reason=reason)
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
