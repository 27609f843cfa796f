"""Channel settings page: SMPP binds, SMTP and webhooks saved (audited), secrets never
shown back and kept when left blank, bad input refused whole; the live status fragment;
the campaign page's test-send button (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from telcamp.audit.models import AuditEntry
from telcamp.channels import config_store
from telcamp.channels.fake import FakeChannel
from telcamp.core.db import session_scope
from telcamp.dispatch import registry, runtime
from telcamp.dispatch.config import DispatchSettings
from telcamp.dispatch.worker import Worker


def _stored() -> dict[str, Any]:
    with session_scope() as s:
        return config_store.load(s)


def test_settings_round_trip_without_showing_secrets(db: str, login: Any) -> None:
    admin = login("admin")
    assert login("marketer").get("/channels").status_code == 403
    page = admin.get("/channels")
    assert page.status_code == 200 and 'data-testid="no-channels"' in page.text

    r = admin.post("/channels", data={
        "section": "smtp", "smtp_on": "1", "host": "mail.example.test", "port": "2525",
        "username": "u", "password": "pw-1", "sender": "offers@example.test",
        "pool_size": "4"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert _stored()["smtp"]["password"] == "pw-1"
    page = admin.get("/channels").text
    assert "mail.example.test" in page and "pw-1" not in page
    admin.post("/channels", data={"section": "smtp", "smtp_on": "1", "host": "mail2.test",
                                  "port": "25", "password": ""})
    assert _stored()["smtp"]["host"] == "mail2.test"
    assert _stored()["smtp"]["password"] == "pw-1"  # blank keeps the secret
    email = registry.build("email", DispatchSettings())
    assert email is not None and email.name == "email"

    r = admin.post("/channels", data={
        "section": "smpp_binds", "bind0_host": "smsc.test", "bind0_port": "2775",
        "bind0_system_id": "tc", "bind0_password": "smpp-pw", "bind0_tps": "100",
        "bind0_window": "32"}, follow_redirects=False)
    assert r.status_code == 303
    page = admin.get("/channels").text
    assert "smsc.test" in page and "smpp-pw" not in page
    sms = registry.build("sms", DispatchSettings())
    assert sms is not None and sms.capacity_per_s == 100.0  # the stored bind, not the env's
    r = admin.post("/channels", data={"section": "smpp_binds", "bind0_host": "x",
                                      "bind0_system_id": "", "bind0_password": ""})
    assert r.status_code == 422 and "system_id and password" in r.text
    assert _stored()["smpp_binds"][0]["host"] == "smsc.test"  # nothing half-applied

    hooks = {"ivr": {"url": "http://127.0.0.1:9/ivr", "secret": "hook-secret"}}
    r = admin.post("/channels", data={"section": "webhooks", "webhooks": json.dumps(hooks)},
                   follow_redirects=False)
    assert r.status_code == 303
    shown = admin.get("/channels").text
    assert "hook-secret" not in shown and "127.0.0.1:9/ivr" in shown
    hooks["ivr"]["secret"] = ""
    hooks["ivr"]["retries"] = 2  # type: ignore[assignment]
    admin.post("/channels", data={"section": "webhooks", "webhooks": json.dumps(hooks)})
    assert _stored()["webhooks"]["ivr"] == {"url": "http://127.0.0.1:9/ivr",
                                            "secret": "hook-secret", "retries": 2}
    assert registry.build("ivr", DispatchSettings()) is not None
    wap = {**hooks, "wap": {"url": "http://127.0.0.1:9/wap", "secret": "w"}}
    admin.post("/channels", data={"section": "webhooks", "webhooks": json.dumps(wap)})
    assert registry.build("wap", DispatchSettings()) is not None  # a new name is known
    bad = admin.post("/channels", data={"section": "webhooks", "webhooks": "{not json"})
    assert bad.status_code == 422
    with session_scope() as s:
        audits = s.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "channels.configure")).all()
        assert len(audits) == 6
        assert all("pw-1" not in json.dumps(a.after) and "hook-secret" not in
                   json.dumps(a.after) for a in audits)


def test_live_status_fragment(db: str, login: Any) -> None:
    admin = login("admin")
    fake = FakeChannel("fake", capacity_per_s=50)
    runtime.WORKERS["fake"] = Worker(fake)
    try:
        r = admin.get("/channels/status")
        assert r.status_code == 200 and 'data-testid="status-fake"' in r.text
        fake.down = True
        assert "down" in admin.get("/channels/status").text
    finally:
        runtime.WORKERS.pop("fake", None)


def test_campaign_page_has_the_test_send_button(db: str, login: Any) -> None:
    from dispatch.world import make_campaign, setup_warehouse

    setup_warehouse(1)
    camp = make_campaign(channel="sms")
    marketer = login("marketer", "P01")
    page = marketer.get(f"/campaigns/{camp[0]}")
    assert page.status_code == 200
    assert f'data-testid="test-send-{camp[1]}"' in page.text
    r = marketer.post(f"/channels/waves/{camp[1]}/test-send")
    assert r.status_code == 200 and 'data-testid="test-send-error"' in r.text
    assert "test list" in r.text
    assert f'test-send-{camp[1]}' not in login("approver", "P01").get(
        f"/campaigns/{camp[0]}").text
