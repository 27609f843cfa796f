"""Test sends: a wave's rendered messages go to the test lists' numbers through the real
channel (a webhook endpoint here) and the real contacts are not touched."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from dispatch.world import FIRST, add_contacts, make_campaign, setup_warehouse, states

from telcamp.channels.settings import get_channel_settings
from telcamp.core.db import session_scope
from telcamp.core.security import system_principal
from telcamp.dispatch.tables import event, send_log
from telcamp.lists import service as list_service
from telcamp.lists.schemas import ListCreate

from .test_webhook import SECRET, Endpoint


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Any:
    ep = Endpoint()
    monkeypatch.setenv("TELCAMP_CHANNELS_WEBHOOKS",
                       json.dumps({"ivr": {"url": ep.url, "secret": SECRET}}))
    get_channel_settings.cache_clear()
    yield ep
    ep.close()
    get_channel_settings.cache_clear()


def test_wave_to_the_test_numbers_only(db: str, login: Any, hook: Endpoint) -> None:
    setup_warehouse(3)
    camp = make_campaign(channel="ivr", message="Test offer for {{ msisdn }}", state="draft")
    add_contacts(camp, range(3), channel="ivr")
    marketer = login("marketer", "P01")
    r = marketer.post("/api/channels/test-send", json={"wave_id": camp[1]})
    assert r.status_code == 409 and "test list" in r.json()["message"]
    with session_scope() as s:
        lst = list_service.create_list(s, principal=system_principal(), list_in=ListCreate(
            name="qa phones", type="test", region_code=None))
        for n in ("79990000001", "79990000002"):
            list_service.add_member(s, principal=system_principal(), list_id=lst.id, msisdn=n)
    r = marketer.post("/api/channels/test-send", json={"wave_id": camp[1]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["numbers"] == 2 and body["results"] == {"submitted": 2}
    assert all("*" in d["msisdn"] for d in body["details"])  # marketers lack pii.read
    [req] = hook.requests
    assert req["signed"]
    sent = req["json"]["contacts"]
    assert {c["msisdn"] for c in sent} == {"79990000001", "79990000002"}
    assert {c["message"] for c in sent} == {"Test offer for 79990000001",
                                            "Test offer for 79990000002"}
    assert all(c["contact_id"] < 0 and c["extra"] == {"test": True} for c in sent)
    # the real audience is untouched: still planned, no events, nothing counted by caps
    assert {st for st, _ in states(camp[1]).values()} == {"planned"}
    with session_scope() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(event)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(send_log)) == 0
    assert FIRST not in {int(c["msisdn"]) for c in sent}
    other = login("marketer", "P02")
    assert other.post("/api/channels/test-send",
                      json={"wave_id": camp[1]}).status_code == 404
    assert marketer.post("/api/channels/test-send", json={
        "wave_id": camp[1], "list_ids": [lst.id + 100]}).status_code == 404


def test_unconfigured_channel_says_so(db: str, login: Any) -> None:
    setup_warehouse(1)
    camp = make_campaign(channel="push", message="Hi")
    with session_scope() as s:
        lst = list_service.create_list(s, principal=system_principal(), list_in=ListCreate(
            name="qa", type="test", region_code=None))
        list_service.add_member(s, principal=system_principal(), list_id=lst.id,
                                msisdn="79990000001")
    r = login("admin").post("/api/channels/test-send", json={"wave_id": camp[1]})
    assert r.status_code == 409 and "push channel is not configured" in r.json()["message"]


def test_offer_fields_render_and_the_summary_counts_messages(
        db: str, login: Any, hook: Endpoint) -> None:
    """A template using {{ offer_code }} renders for test numbers as at dispatch; two cells
    and two numbers are four messages, and the summary says so (not "failed 2, sent 2")."""
    from telcamp.campaigns.models import Campaign, Cell

    setup_warehouse(1)
    camp = make_campaign(channel="ivr", message="Code {{ offer_code }} for {{ msisdn }}",
                         state="draft")
    with session_scope() as s:
        c = s.get(Campaign, camp[0])
        assert c is not None
        c.offer_code = "WINTER5"
        s.add(Cell(campaign_id=camp[0], position=1, name="second", rule=None, reward_size=50,
                   channels=["ivr"], messages={"ivr": {"en": "{{ reward_size }} MB, "
                                                             "{{ campaign_name }}"}}))
        lst = list_service.create_list(s, principal=system_principal(), list_in=ListCreate(
            name="qa phones", type="test", region_code=None))
        for n in ("79990000001", "79990000002"):
            list_service.add_member(s, principal=system_principal(), list_id=lst.id, msisdn=n)
    marketer = login("marketer", "P01")
    r = marketer.post("/api/channels/test-send", json={"wave_id": camp[1]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["results"] == {"submitted": 4}, body
    assert (body["numbers"], body["cells"], body["messages"]) == (2, 2, 4)
    assert sorted(d["cell"] for d in body["details"]) == ["all", "all", "second", "second"]
    assert {c["message"] for c in hook.requests[0]["json"]["contacts"]} == {
        "Code WINTER5 for 79990000001", "Code WINTER5 for 79990000002", "50 MB, c"}
    page = marketer.post(f"/channels/waves/{camp[1]}/test-send")
    assert page.status_code == 200
    assert "2 test numbers × 2 cells = 4 messages — submitted 4" in page.text
    ru = marketer.post(f"/channels/waves/{camp[1]}/test-send", params={"lang": "ru"})
    assert "сообщений: 4" in ru.text
