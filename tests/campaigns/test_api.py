"""REST: /api/programs, /api/campaigns, /api/approvals, through the real app and login."""

from __future__ import annotations

from typing import Any

from .conftest import campaign_in, program_in


def _json(model: Any) -> dict[str, Any]:
    return model.model_dump(mode="json")  # type: ignore[no-any-return]


def test_draft_to_launched_over_rest(world: str, login: Any) -> None:
    admin = login("admin")
    marketer = login("marketer", "C1")
    head = login("approver", "C1")
    r = admin.post("/api/programs", json=_json(program_in()))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]

    body = _json(campaign_in(pid))
    r = marketer.post("/api/campaigns", json=body)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    assert r.json()["state"] == "draft" and len(r.json()["cells"]) == 3

    # bad input: a clear error naming the field
    bad = dict(body, cells=[dict(body["cells"][0], control_pct=75)])
    r = marketer.post("/api/campaigns", json=bad)
    assert r.status_code == 422 and "control" in r.json()["message"]

    r = marketer.post(f"/api/campaigns/{cid}/rehearse")
    assert r.status_code == 200 and r.json()["members"] == 300

    r = marketer.post(f"/api/campaigns/{cid}/preview",
                      json={"msisdn": "79000000001", "cell_name": "high", "channel": "email"})
    assert r.status_code == 200, r.text
    assert r.json()["text"] == "Dear 79000000001, 5 GB"
    # no number: a random member the cell gets, rendered masked for the marketer (no
    # pii.read), and only ever someone that cell gets (first matching cell wins)
    # drawn only among members in the marketer's own region (the snapshot spans several):
    # every draw answers
    for _ in range(8):
        r = marketer.post(f"/api/campaigns/{cid}/preview", json={"cell_name": "high",
                                                                 "channel": "email"})
        assert r.status_code == 200, r.text
    shown = r.json()["msisdn"]
    assert r.json()["random"] is True and "*" in shown
    assert r.json()["text"] == f"Dear {shown}, 5 GB"
    drawn = {admin.post(f"/api/campaigns/{cid}/preview",
                        json={"cell_name": "rest"}).json()["msisdn"] for _ in range(6)}
    from telcamp.core import warehouse
    with warehouse.connect(read_only=True) as con:
        tiers = {t for (t,) in con.execute(
            "SELECT value_tier FROM profile WHERE msisdn IN (SELECT unnest(?::BIGINT[]))",
            [sorted(int(m) for m in drawn)]).fetchall()}
    assert tiers == {"low"} and len(drawn) > 1  # random, and never a high/medium member

    assert marketer.post(f"/api/campaigns/{cid}/submit").json()["state"] == "submitted"
    # the marketer cannot approve (no permission), the approver sees it in the inbox
    assert marketer.post(f"/api/campaigns/{cid}/approve", json={}).status_code == 403
    inbox = head.get("/api/approvals").json()
    assert [i["campaign_id"] for i in inbox] == [cid]
    assert inbox[0]["rehearsal"]["members"] == 300
    r = head.post(f"/api/campaigns/{cid}/approve", json={"comment": "go"})
    assert r.status_code == 200 and r.json()["state"] == "scheduled"

    r = marketer.post(f"/api/campaigns/{cid}/launch")
    assert r.status_code == 200, r.text
    assert r.json()["campaign"]["state"] == "running"
    assert sum(m["contacts"] + m["controls"] for m in r.json()["materialised"]) == 300
    counts = marketer.get(f"/api/campaigns/{cid}/contacts").json()
    assert sum(counts["by_state"].values()) == 300 and counts["by_state"]["control"] > 0

    assert marketer.post(f"/api/campaigns/{cid}/pause", json={"reason": "x"}).json()[
        "state"] == "paused"
    r = marketer.post(f"/api/campaigns/{cid}/pause")
    assert r.status_code == 409 and "paused" in r.json()["message"]
    assert marketer.post(f"/api/campaigns/{cid}/resume").json()["state"] == "running"

    lib = marketer.get("/api/campaigns/library", params={"channel": "sms", "offer": "data"})
    assert [c["id"] for c in lib.json()] == [cid]
    assert lib.json()[0]["results"]["targeted"] > 0

    r = marketer.post(f"/api/campaigns/{cid}/clone", json={"name": "again"})
    assert r.status_code == 201 and r.json()["state"] == "draft"
    assert r.json()["cloned_from"] == cid and len(r.json()["cells"]) == 3

    r = marketer.post(f"/api/campaigns/{cid}/clone", json={"name": "tpl", "as_template": True})
    assert r.status_code == 201 and r.json()["is_template"] and r.json()["budget"] == 0
    tpls = marketer.get("/api/campaigns/library", params={"templates": "true"}).json()
    assert [t["name"] for t in tpls] == ["tpl"]

    assert marketer.post(f"/api/campaigns/{cid}/cancel").json()["state"] == "cancelled"


def test_other_region_sees_nothing(world: str, login: Any) -> None:
    admin = login("admin")
    pid = admin.post("/api/programs", json=_json(program_in())).json()["id"]
    cid = login("marketer", "C1").post("/api/campaigns", json=_json(campaign_in(pid))).json()["id"]
    other = login("marketer", "C2")
    assert other.get(f"/api/campaigns/{cid}").status_code == 404
    assert other.get("/api/campaigns").json() == []


def test_sms_counter(world: str, login: Any) -> None:
    r = login("marketer", "C1").post("/api/campaigns/sms-info", json={"text": "Привет" * 12})
    assert r.json() == {"encoding": "UCS-2", "length": 72, "parts": 2, "per_part": 67}
