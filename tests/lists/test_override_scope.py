"""A campaign id given with the default exclusions (funnel, exclusions, overrides) must be
a campaign the user can see: another city's campaign, or an id no campaign has, reads
"not found" and changes nothing (trial finding: a Moscow marketer read a Harbin
campaign's exempted blacklist and its reason, and got a funnel without the blacklist;
an admin stored an override for campaign 999 that a later campaign 999 would inherit)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from telcamp.core.db import session_scope
from telcamp.lists.models import ListOverride

from .conftest import NOW, make_campaign


def _overrides() -> int:
    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(ListOverride)) or 0)


@pytest.fixture
def world(db: str, regions: None, frozen: Any, login: Any) -> dict[str, Any]:
    admin = login("admin")
    black = admin.post("/api/lists", json={"name": "complaints", "type": "blacklist"})
    assert black.status_code == 201, black.text
    c02 = make_campaign("C02")
    r = admin.post("/api/lists/overrides", json={
        "campaign_id": c02, "list_id": black.json()["id"], "reason": "service notice"})
    assert r.status_code == 201, r.text
    return {"admin": admin, "c01": login("marketer", "C01"), "c02": login("marketer", "C02"),
            "list": black.json()["id"], "campaign": c02}


def test_another_regions_campaign_reads_like_none(world: dict[str, Any]) -> None:
    c01, c02, campaign = world["c01"], world["c02"], world["campaign"]
    # its own region sees the override and a funnel without the list
    assert [o["reason"] for o in c02.get("/api/lists/overrides",
                                         params={"campaign_id": campaign}).json()] == [
        "service notice"]
    assert [e["list_id"] for e in c02.get("/api/lists/exclusions",
                                          params={"campaign_id": campaign}).json()] == [None]
    for path in ("/api/lists/overrides", "/api/lists/exclusions"):
        for cid in (campaign, 999):
            r = c01.get(path, params={"campaign_id": cid})
            assert r.status_code == 404, (path, cid, r.text)
            assert r.json()["message"] == f"campaign {cid} not found"
            assert r.json()["field"] == "campaign_id"
    # the list page of the blacklist does not name the other city's exempt campaign
    page = c01.get(f"/lists/{world['list']}").text
    assert "service notice" not in page
    assert "service notice" in c02.get(f"/lists/{world['list']}").text


def test_funnel_with_another_regions_campaign_is_not_found(world: dict[str, Any]) -> None:
    from telcamp.core import warehouse
    from telcamp.segments import synthetic

    with warehouse.connect() as con:
        con.execute("DELETE FROM regions")  # the synthetic operator brings its own tree
        synthetic.create(con, subscribers=50)
    r = world["c01"].post("/api/segments/funnel?lang=ru", json={
        "rule": {"all": []}, "campaign_id": world["campaign"]})
    assert r.status_code == 404, r.text
    assert r.json()["field"] == "campaign_id"


def test_override_of_unknown_or_hidden_campaign_is_refused(world: dict[str, Any],
                                                           login: Any) -> None:
    admin, black = world["admin"], world["list"]
    before = _overrides()
    r = admin.post("/api/lists/overrides", json={
        "campaign_id": 999, "list_id": black, "reason": "later"})
    assert r.status_code == 404 and r.json()["message"] == "campaign 999 not found"
    # an admin of one city cannot exempt another city's campaign
    city_admin = login("admin", "C01")
    r = city_admin.post("/api/lists/overrides", json={
        "campaign_id": world["campaign"], "list_id": black, "reason": "x"})
    assert r.status_code == 404
    assert city_admin.delete(
        f"/api/lists/overrides/{world['campaign']}/{black}").status_code == 404
    assert _overrides() == before


def test_an_override_left_by_a_deleted_campaign_can_be_removed(db: str, regions: None,
                                                                frozen: Any) -> None:
    from telcamp.lists import exclusions, service
    from telcamp.lists.schemas import ListCreate

    from .conftest import principal

    admin = principal("admin")
    with session_scope() as s:
        lst = service.create_list(s, principal=admin,
                                  list_in=ListCreate(name="b", type="blacklist"))
        s.add(ListOverride(campaign_id=41, list_id=lst.id, reason="old", created_by="t",
                           created_at=NOW))
        s.flush()
        exclusions.remove_override(s, principal=admin, campaign_id=41, list_id=lst.id)
    assert _overrides() == 0
