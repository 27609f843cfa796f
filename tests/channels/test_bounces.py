"""E-mail bounces through the VERP return path and `telcamp bounce-server` (aiosmtpd),
end to end: campaign e-mail goes out with a VERP envelope sender, DSNs sent back to
the bounce server mark the contact undelivered, a hard bounce stops e-mail to that
address, forged bounce addresses are refused."""

from __future__ import annotations

import asyncio
import smtplib
from typing import Any

import pytest
import sqlalchemy as sa

from telcamp.channels.bounces import BounceServer, parse_bounce, read_verp, verp_address
from telcamp.channels.email import EmailChannel
from telcamp.channels.settings import SmtpConfig
from telcamp.core import warehouse
from telcamp.core.db import session_scope
from telcamp.dispatch.tables import bounced_address, inbound
from telcamp.dispatch.worker import Worker

from .smtp_server import SmtpServer, free_port

RETURN_PATH = "bounce@bounces.telcamp.test"


def dsn(to: str, recipient: str, *, action: str, status: str, diag: str) -> bytes:
    return (
        f"From: MAILER-DAEMON@mx.example.test\r\nTo: {to}\r\n"
        "Subject: Delivery Status Notification\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.test\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; {diag}\r\n"
        "--b1--\r\n").encode()


def _channel(port: int) -> EmailChannel:
    return EmailChannel(SmtpConfig(host="127.0.0.1", port=port, sender="offers@telcamp.test",
                                   return_path=RETURN_PATH))


def test_verp_tokens_are_signed() -> None:
    address = verp_address(RETURN_PATH, 42)
    assert address.startswith("bounce+c42-") and address.endswith("@bounces.telcamp.test")
    assert read_verp(address) == 42 and read_verp(f"<{address}>") == 42
    forged = address.replace("c42-", "c43-")
    assert read_verp(forged) is None and read_verp("bounce@bounces.telcamp.test") is None
    assert read_verp("bounce+c42-zz@x") is None


def test_dsn_parsing_hard_soft_delayed_and_plain() -> None:
    hard = parse_bounce(dsn("x", "a@b.test", action="failed", status="5.1.1",
                            diag="550 5.1.1 user unknown"))
    assert (hard.recipient, hard.hard, hard.status, hard.final) == ("a@b.test", True,
                                                                    "5.1.1", True)
    soft = parse_bounce(dsn("x", "a@b.test", action="failed", status="4.2.2", diag="full"))
    assert not soft.hard and soft.final
    delayed = parse_bounce(dsn("x", "a@b.test", action="delayed", status="4.4.1", diag="t"))
    assert not delayed.final and not delayed.hard
    plain = parse_bounce(b"Subject: failure\r\n\r\nRemote said: 550 5.7.1 rejected\r\n")
    assert plain.hard and plain.status == "5.7.1" and plain.recipient == ""
    junk = parse_bounce(b"\x00\xffnot mail at all")
    assert not junk.hard and junk.status == ""


def test_bounces_end_to_end(db: str) -> None:
    from dispatch.world import FIRST, add_contacts, make_campaign, setup_warehouse, states

    setup_warehouse(3)
    with warehouse.connect() as con:
        con.execute("CREATE TABLE profile AS SELECT msisdn, 'u' || msisdn || '@example.test' "
                    "AS email FROM subscribers")
    camp = make_campaign(channel="email", message="Subject: Deal\nHi")
    ids = add_contacts(camp, range(3), channel="email")
    with SmtpServer() as mta:
        asyncio.run(Worker(_channel(mta.port), idle_s=0.05).run(once=True))
        senders = {r.rcpt[0]: r.mail_from for r in mta.handler.received}
    assert {st for st, _ in states(camp[1]).values()} == {"submitted"}
    verp = {i: senders[f"u{FIRST + i}@example.test"] for i in range(3)}
    assert [read_verp(verp[i]) for i in range(3)] == ids

    server = BounceServer("127.0.0.1", free_port())
    server.start()
    try:
        with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as smtp:
            smtp.sendmail("", [verp[0]], dsn(verp[0], f"u{FIRST}@example.test",
                                             action="failed", status="5.1.1",
                                             diag="550 5.1.1 user unknown"))
            smtp.sendmail("", [verp[1]], dsn(verp[1], f"u{FIRST + 1}@example.test",
                                             action="delayed", status="4.4.1",
                                             diag="still trying"))
            forged = verp[2].replace(f"c{ids[2]}-", f"c{ids[1]}-")
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                smtp.sendmail("", [forged], dsn(forged, "x@example.test", action="failed",
                                                status="5.1.1", diag="x"))
    finally:
        server.stop()
    st = states(camp[1])
    assert st[0][0] == "undelivered" and "bounced (hard): 5.1.1" in (st[0][1] or "")
    assert st[1][0] == st[2][0] == "submitted", "a delayed DSN and a forged one change nothing"
    with session_scope() as s:
        rows = s.execute(sa.select(inbound.c.kind, inbound.c.source, inbound.c.action,
                                   inbound.c.contact_id).order_by(inbound.c.id)).all()
        gone = list(s.scalars(sa.select(bounced_address.c.address)))
    assert [tuple(r) for r in rows] == [
        ("bounce", f"u{FIRST}@example.test", "hard_bounce", ids[0]),
        ("bounce", f"u{FIRST + 1}@example.test", "delayed", ids[1])]
    assert gone == [f"u{FIRST}@example.test"]

    # the next campaign does not mail the hard-bounced address again
    again = make_campaign(channel="email", message="Subject: More\nHi")
    add_contacts(again, [0, 1], channel="email")
    with SmtpServer() as mta:
        asyncio.run(Worker(_channel(mta.port), idle_s=0.05).run(once=True))
        to: list[Any] = [r.rcpt[0] for r in mta.handler.received]
    assert to == [f"u{FIRST + 1}@example.test"]
    assert states(again[1])[0] == ("failed", "address bounced before (hard)")
    with warehouse.connect(read_only=True) as con:
        outcomes = con.execute("SELECT contact_id, outcome FROM contact_history "
                               "WHERE outcome <> 'sent' ORDER BY contact_id").fetchall()
    assert (ids[0], "undelivered") in outcomes
