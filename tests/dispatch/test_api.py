"""REST and console: campaign progress (region-scoped), the policy settings page."""

from __future__ import annotations

import asyncio
from typing import Any

from telcamp.channels.fake import FakeChannel
from telcamp.dispatch.worker import Worker

from .world import add_contacts, make_campaign, setup_warehouse


def test_progress_api_and_fragment(db: str, login: Any) -> None:
    setup_warehouse(5)
    camp = make_campaign()
    add_contacts(camp, range(5))
    asyncio.run(Worker(FakeChannel("sms", fail={"79000000004": "ESME_RINVDSTADR"})
                       ).run(once=True))
    marketer = login("marketer", "P01")
    rows = marketer.get(f"/api/dispatch/campaigns/{camp[0]}/progress").json()
    assert len(rows) == 1
    assert rows[0]["sent"] == 4 and rows[0]["failed"] == 1 and rows[0]["queued"] == 0
    html = marketer.get(f"/dispatch/campaigns/{camp[0]}/progress").text
    assert 'data-testid="progress"' in html
    assert f'data-testid="progress-{camp[1]}-sent">4<' in html
    other = login("marketer", "P02")
    assert other.get(f"/api/dispatch/campaigns/{camp[0]}/progress").status_code == 404


def test_policy_api_and_page(db: str, login: Any) -> None:
    setup_warehouse(1)
    admin = login("admin")
    assert admin.get("/api/policy").json()["version"] == 0
    r = admin.put("/api/policy", json={"caps": {"24h": 2}, "quiet_start": "22:00"})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 1
    bad = admin.put("/api/policy", json={"caps": {"1h": 2}})
    assert bad.status_code == 422 and "unknown window" in bad.text
    page = admin.get("/policy")
    assert page.status_code == 200 and 'data-testid="version">1<' in page.text
    saved = admin.post("/policy", data={"cap_24h": "3", "quiet_start": "21:30",
                                        "quiet_end": "08:00", "list_types": "optout",
                                        "arbitration_hours": "24", "min_gap_minutes": "0"},
                       follow_redirects=False)
    assert saved.status_code == 303
    assert admin.get("/api/policy").json()["caps"] == {"24h": 3}
    wrong = admin.post("/policy", data={"quiet_start": "9pm"})
    assert wrong.status_code == 422 and "HH:MM" in wrong.text
    marketer = login("marketer", "P01")
    assert marketer.get("/policy").status_code == 403
    assert marketer.put("/api/policy", json={}).status_code == 403


def test_every_dispatch_setting_is_documented() -> None:
    from pathlib import Path

    from telcamp.dispatch.config import DispatchSettings

    text = (Path(__file__).parents[2] / "docs" / "settings.md").read_text(encoding="utf-8")
    missing = [n for n, f in DispatchSettings.model_fields.items()
               if f"`TELCAMP_DISPATCH_{n.upper()}`" not in text or not f.description]
    assert not missing, missing


def test_the_server_runs_the_dispatch_loop(db: str, login: Any, monkeypatch: Any) -> None:
    import time

    from telcamp.dispatch.config import get_dispatch_settings

    setup_warehouse(3)
    camp = make_campaign(channel="fake")
    add_contacts(camp, range(3), channel="fake")
    monkeypatch.setenv("TELCAMP_DISPATCH_CHANNELS", '["fake"]')
    monkeypatch.setenv("TELCAMP_DISPATCH_INTERVAL_S", "0.1")
    get_dispatch_settings.cache_clear()
    try:
        admin = login("admin")
        status = admin.get("/api/dispatch/channels").json()
        assert [s["name"] for s in status] == ["fake"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            rows = admin.get(f"/api/dispatch/campaigns/{camp[0]}/progress").json()
            if rows and rows[0]["sent"] == 3:
                break
            time.sleep(0.2)
        assert rows[0]["sent"] == 3
    finally:
        get_dispatch_settings.cache_clear()
