"""Call lists: export a wave per agent group (policy checked again, masked per role,
stable groups), import outcomes with a rejected-rows report and nothing half-applied
(SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from dispatch.world import FIRST, add_contacts, make_campaign, setup_warehouse, states

from telcamp.campaigns.models import Campaign
from telcamp.channels.settings import get_channel_settings
from telcamp.core.db import session_scope
from telcamp.core.security import system_principal
from telcamp.lists import service as list_service
from telcamp.lists.schemas import ListCreate


@pytest.fixture
def groups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("TELCAMP_CHANNELS_CALL_GROUPS", '["north", "south"]')
    get_channel_settings.cache_clear()
    yield ["north", "south"]
    get_channel_settings.cache_clear()


def _csv(client: Any, wave: int, group: str) -> list[list[str]]:
    r = client.get(f"/api/channels/calllists/waves/{wave}/groups/{group}.csv")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    return [line.split(",") for line in r.text.strip().splitlines()]


def _upload(client: Any, text: str, name: str = "outcomes.csv") -> Any:
    return client.post("/api/channels/calllists/outcomes",
                       files={"file": (name, text.encode(), "text/csv")})


def test_export_and_import(db: str, login: Any, groups: list[str]) -> None:
    setup_warehouse(7, west=(5,))  # offset 5 lives in Los Angeles: 02:00 there, quiet
    with session_scope() as s:
        lst = list_service.create_list(s, principal=system_principal(), list_in=ListCreate(
            name="stop", type="optout", region_code=None))
        list_service.add_member(s, principal=system_principal(), list_id=lst.id,
                                msisdn=str(FIRST + 4))
    camp = make_campaign(channel="call",
                         message="Offer 5 GB to {{ msisdn }} code {{ offer_code }}")
    with session_scope() as s:  # offer fields render in the script as in dispatch
        c = s.get(Campaign, camp[0])
        assert c is not None
        c.offer_code = "CALL5"
    ids = add_contacts(camp, range(7), channel="call")
    wave = camp[1]
    marketer, admin = login("marketer", "P01"), login("admin")

    r = marketer.post(f"/api/channels/calllists/waves/{wave}/export")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["exported"] == 5 and sum(body["groups"].values()) == 5
    assert set(body["groups"]) == {"north", "south"}
    assert body["policy"].get("optout") == 1
    st = states(wave)
    assert st[4][0] == "suppressed" and st[5][0] == "planned"  # deferred to the morning
    assert sum(1 for s_, _ in st.values() if s_ == "submitted") == 5

    masked = _csv(marketer, wave, "north") + _csv(marketer, wave, "south")[1:]
    full = _csv(admin, wave, "north") + _csv(admin, wave, "south")[1:]
    assert masked[0][:2] == ["contact_id", "msisdn"] and len(full) == 6
    assert {row[0] for row in full[1:]} == {str(ids[i]) for i in (0, 1, 2, 3, 6)}
    assert all("*" in row[1] and row[1] in row[4] and str(FIRST)[:7] not in row[4]
               for row in masked[1:])
    assert {row[1] for row in full[1:]} == {str(FIRST + i) for i in (0, 1, 2, 3, 6)}
    assert f"Offer 5 GB to {FIRST} code CALL5" in {row[4] for row in full[1:]}
    assert all(row[5] == "north" for row in _csv(admin, wave, "north")[1:])
    assert _csv(admin, wave, "north") == _csv(admin, wave, "north")  # a download is stable

    # a bad file: every problem named, nothing applied
    bad = (f"contact_id,outcome,reason\n{ids[0]},responded,yes\n{ids[0]},failed,\n"
           f"x1,failed,\n{ids[1]},maybe,\n{ids[4]},failed,\n999999,failed,\n")
    r = _upload(marketer, bad)
    assert r.status_code == 422
    msg = r.json()["message"]
    for where in ("outcomes.csv:3 [contact_id]", "outcomes.csv:4 [contact_id]",
                  "outcomes.csv:5 [outcome]", "outcomes.csv:6 [contact_id]",
                  "outcomes.csv:7 [contact_id]"):
        assert where in msg, msg
    assert states(wave)[0][0] == "submitted"
    assert _upload(marketer, "contact_id,result\n1,x\n").status_code == 422
    assert _upload(marketer, "contact_id,outcome\n1,failed\n".encode("utf-16").decode(
        "latin-1")).status_code == 422

    good = (f"contact_id,outcome,reason\n{ids[0]},responded,wants the bundle\n"
            f"{ids[1]},failed,no answer\n{ids[2]},delivered,\n")
    r = _upload(marketer, good)
    assert r.status_code == 200, r.text
    assert r.json() == {"file": "outcomes.csv", "rows": 3, "applied": 3, "unchanged": 0}
    st = states(wave)
    assert st[0] == ("responded", "wants the bundle")
    assert st[1] == ("failed", "no answer")
    assert st[2][0] == "delivered" and st[3][0] == "submitted"
    assert _upload(marketer, good).json()["unchanged"] == 3  # the same file again
    r = _upload(marketer, f"contact_id,outcome\n{ids[0]},failed\n")
    assert r.status_code == 422 and "already responded" in r.json()["message"]
    # the exported rows now show their outcome; exporting again finds nothing new due
    assert "responded" in {row[6] for row in full[1:]} | {
        row[6] for g in groups for row in _csv(admin, wave, g)[1:]}
    assert marketer.post(f"/api/channels/calllists/waves/{wave}/export").json()[
        "exported"] == 0
    # another region's marketer sees no such wave
    assert login("marketer", "P02").post(
        f"/api/channels/calllists/waves/{wave}/export").status_code == 404


def test_only_call_waves_of_running_campaigns(db: str, login: Any, groups: list[str]) -> None:
    setup_warehouse(2)
    sms = make_campaign(channel="sms")
    paused = make_campaign(channel="call", state="paused")
    admin = login("admin")
    r = admin.post(f"/api/channels/calllists/waves/{sms[1]}/export")
    assert r.status_code == 409 and "sms" in r.json()["message"]
    assert admin.post(f"/api/channels/calllists/waves/{paused[1]}/export").status_code == 409
    assert admin.get(f"/api/channels/calllists/waves/{paused[1]}/groups/east.csv"
                     ).status_code == 404
