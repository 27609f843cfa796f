"""The e-mail channel against a real SMTP server (aiosmtpd on 127.0.0.1): multipart body,
List-Unsubscribe headers with a working signed link, pool reuse, 4xx → retry, 5xx →
failed, server down → the batch goes back; and through the dispatcher on both databases."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
import sqlalchemy as sa

from telcamp.channels.base import ChannelUnavailable, DeliveryUpdate, OutboundMessage
from telcamp.channels.email import EmailChannel, split_subject
from telcamp.channels.settings import SmtpConfig
from telcamp.channels.unsubscribe import read_token
from telcamp.core import warehouse
from telcamp.core.db import session_scope
from telcamp.core.errors import ValidationFailed
from telcamp.dispatch.worker import Worker

from .smtp_server import SmtpServer, free_port


async def _sink(_u: DeliveryUpdate) -> None:
    return None


def _msg(i: int, address: str, body: str = "Subject: Your offer\nHello {i}\n\nBye") -> (
        OutboundMessage):
    return OutboundMessage(contact_id=i, msisdn=str(79000000000 + i), channel="email",
                           body=body.replace("{i}", str(i)), address=address)


def _channel(port: int, **kw: Any) -> EmailChannel:
    return EmailChannel(SmtpConfig(host="127.0.0.1", port=port, sender="offers@telcamp.test",
                                   **kw), public_url="https://telcamp.example")


def _run(channel: EmailChannel, batches: list[list[OutboundMessage]]) -> list[list[Any]]:
    async def go() -> list[list[Any]]:
        await channel.start(_sink)
        try:
            return [await channel.send_batch(b) for b in batches]
        finally:
            await channel.close()
    return asyncio.run(go())


def test_multipart_headers_and_signed_unsubscribe_link() -> None:
    with SmtpServer() as server:
        [results] = _run(_channel(server.port), [[_msg(1, "ann@example.test")]])
        assert results[0].outcome == "submitted"
        assert results[0].provider_ids and "c1" in results[0].provider_ids[0]
        [got] = server.handler.received
    msg = got.message
    assert got.rcpt == ["ann@example.test"] and got.mail_from == "offers@telcamp.test"
    assert msg["Subject"] == "Your offer"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    assert "Hello 1" in text.get_content() and "Subject:" not in text.get_content()
    assert "<p>Hello 1</p>" in html.get_content()
    lu = msg["List-Unsubscribe"]
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    mailto, https = re.findall(r"<([^>]+)>", lu)
    assert mailto.startswith("mailto:unsubscribe@")
    assert https.startswith("https://telcamp.example/api/channels/unsubscribe/")
    token = https.rsplit("/", 1)[1]
    assert token in mailto and token in html.get_content() and token in text.get_content()
    assert read_token(token)["m"] == "79000000001"
    with pytest.raises(ValidationFailed):  # a forged token names someone else
        read_token(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))


def test_pool_reuses_connections_across_batches() -> None:
    with SmtpServer() as server:
        channel = _channel(server.port, pool_size=3)
        batches = [[_msg(b * 100 + i, f"u{b}{i}@example.test") for i in range(20)]
                   for b in range(3)]
        out = _run(channel, batches)
        assert all(r.outcome == "submitted" for rs in out for r in rs)
        assert server.handler.count == 60
        assert channel.connections_opened == 3
        assert len(server.handler.peers) == 3  # every message rode one of three connections


def test_4xx_retry_5xx_failed_and_the_rest_still_go() -> None:
    with SmtpServer() as server:
        batch = [_msg(1, "ok@example.test"), _msg(2, "busy@example.test"),
                 _msg(3, "bad@example.test"), _msg(4, "dataerr@example.test"),
                 _msg(5, "ok2@example.test"),
                 OutboundMessage(contact_id=6, msisdn="1", channel="email", body="x")]
        channel = _channel(server.port, pool_size=1)
        [results] = _run(channel, [batch])
        by = {r.contact_id: r for r in results}
        assert [r.contact_id for r in results] == [1, 2, 3, 4, 5, 6]
        assert by[1].outcome == by[5].outcome == "submitted"
        assert by[2].outcome == "retry" and "450" in (by[2].reason or "")
        assert by[3].outcome == "failed" and "550" in (by[3].reason or "")
        assert by[4].outcome == "retry" and "451" in (by[4].reason or "")
        assert by[6].outcome == "failed" and by[6].reason == "no e-mail address"
        assert server.handler.count == 2
        assert channel.connections_opened == 1  # a refusal does not cost the connection


def test_server_down_puts_the_batch_back() -> None:
    channel = _channel(free_port(), timeout_s=2)

    async def go() -> None:
        await channel.start(_sink)
        with pytest.raises(ChannelUnavailable):
            await channel.send_batch([_msg(1, "a@example.test")])
        assert channel.status().last_error
        await channel.close()
    asyncio.run(go())


def test_split_subject() -> None:
    assert split_subject("Subject: Hi\n\nBody", "D") == ("Hi", "Body")
    assert split_subject("Body only", "D") == ("D", "Body only")


def test_through_the_dispatcher_and_unsubscribe(db: str) -> None:
    from dispatch.world import FIRST, add_contacts, make_campaign, setup_warehouse, states
    from fastapi.testclient import TestClient

    from telcamp.app import create_app
    from telcamp.lists.models import ListMember, SpecialList

    setup_warehouse(4)
    with warehouse.connect() as con:  # the profile the channel reads the addresses from
        con.execute("CREATE TABLE profile AS SELECT msisdn, CASE WHEN msisdn = ? THEN "
                    "'bad@example.test' WHEN msisdn = ? THEN NULL ELSE 'u' || msisdn || "
                    "'@example.test' END AS email FROM subscribers", [FIRST + 1, FIRST + 2])
    camp = make_campaign(channel="email", message="Subject: Deal\nHi {{ msisdn }}")
    add_contacts(camp, range(4), channel="email")
    with SmtpServer() as server:
        worker = Worker(_channel(server.port), idle_s=0.05)
        asyncio.run(worker.run(once=True))
        got = {r.rcpt[0]: r.message for r in server.handler.received}
    st = states(camp[1])
    assert st[0][0] == st[3][0] == "submitted"
    assert st[1] == ("failed", "smtp 550: no such user")
    assert st[2] == ("failed", "no e-mail address")
    msg = got[f"u{FIRST}@example.test"]
    body = msg.get_body(("plain",))
    assert body is not None and f"Hi {FIRST}" in body.get_content()
    link = re.findall(r"<(https?://[^>]+)>", msg["List-Unsubscribe"])[0]
    path = link.split("://", 1)[1].split("/", 1)[1]
    with TestClient(create_app()) as client:
        page = client.get("/" + path)
        assert page.status_code == 200 and "form" in page.text  # a scanner's GET changes nothing
        with session_scope() as s:
            assert s.scalar(sa.select(sa.func.count()).select_from(ListMember)) == 0
        r = client.post("/" + path, data={"List-Unsubscribe": "One-Click"})
        assert r.status_code == 200, r.text
        assert client.post("/" + path + "x").status_code == 422  # forged: refused
    with session_scope() as s:
        lst = s.scalars(sa.select(SpecialList)).one()
        assert lst.type == "optout" and lst.region_code is None
        assert [m.msisdn for m in s.scalars(sa.select(ListMember))] == [FIRST]


def test_non_ascii_subject_and_body_arrive_intact() -> None:
    subject = "Ваш бонус 5 ГБ ждёт вас — 您的流量包已到账，请查收 " * 2
    with SmtpServer() as server:
        [results] = _run(_channel(server.port), [[
            _msg(7, "li@example.test", body=f"Subject: {subject}\nПривет, 你好 <b>&\n")]])
        assert results[0].outcome == "submitted"
        msg = server.handler.received[0].message
    assert msg["Subject"] == subject.strip()
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and "Привет, 你好 <b>&" in text.get_content()
    assert html is not None and "Привет, 你好 &lt;b&gt;&amp;" in html.get_content()


def test_a_mailbox_that_keeps_answering_4xx_fails_after_the_soft_retries() -> None:
    with SmtpServer() as server:
        channel = _channel(server.port, soft_retries=2)
        out = _run(channel, [[_msg(1, "busy@example.test")]] * 3)
    assert [rs[0].outcome for rs in out] == ["retry", "retry", "failed"]
    assert "450" in (out[2][0].reason or "") and "3 attempts" in (out[2][0].reason or "")
