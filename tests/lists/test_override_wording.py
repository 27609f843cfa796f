"""Override and list-owner refusals in the reader's language on the API and the list
page (trial finding: a Chinese admin read 'campaign 1 already overrides list 1' on the
list page, and 'region C01 not found' from the API)."""

from __future__ import annotations

import html
from typing import Any

from .conftest import make_campaign


def test_override_refusals_are_said_in_the_readers_language(db: str, regions: None,
                                                            frozen: Any, login: Any) -> None:
    admin = login("admin", "P01")
    grey = admin.post("/api/lists", json={"name": "gov", "type": "greylist"}).json()["id"]
    vip = admin.post("/api/lists", json={"name": "vip", "type": "custom"}).json()["id"]
    cid = make_campaign("P01")
    body = {"campaign_id": cid, "list_id": grey, "reason": "gov"}
    assert admin.post("/api/lists/overrides", json=body).status_code == 201
    r = admin.post("/api/lists/overrides?lang=zh", json=body)
    assert r.status_code == 409
    assert r.json()["message"] == f"营销活动 {cid} 已不再排除名单 {grey}"
    page = admin.post(f"/lists/{grey}/overrides?lang=zh",
                      data={"campaign_id": str(cid), "reason": "gov"})
    assert f"营销活动 {cid} 已不再排除名单 {grey}" in html.unescape(page.text)
    r = admin.post("/api/lists/overrides?lang=ru", json={**body, "list_id": vip})
    assert r.json()["message"] == ("список 'vip' (custom) не исключается по умолчанию; "
                                   "отменять нечего")
    r = admin.post("/api/lists/overrides?lang=zh", json={**body, "reason": "  "})
    assert r.json()["message"] == "取消排除需要填写原因"
    other = make_campaign("P01")
    r = admin.delete(f"/api/lists/overrides/{other}/{grey}?lang=ru")
    assert r.json()["message"] == f"для кампании {other} исключение списка {grey} не отменялось"
    # the English stays for the CLI and the stable code
    assert admin.post("/api/lists/overrides?lang=en", json=body).json()["message"] == (
        f"campaign {cid} already overrides list {grey}")


def test_a_region_outside_the_users_is_not_found_in_their_language(
        db: str, regions: None, frozen: Any, login: Any) -> None:
    marketer = login("marketer", "C01")
    r = marketer.post("/api/lists?lang=zh", json={"name": "x", "type": "custom",
                                                  "region_code": "C02"})
    assert r.status_code == 404 and r.json()["message"] == "未找到区域 C02"
