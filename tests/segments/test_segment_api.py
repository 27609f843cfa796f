"""The /api/segments routes as real roles: permissions, scoping, errors, whole flow."""

from __future__ import annotations

from typing import Any

HIGH = {"field": "value_tier", "op": "=", "value": "high"}



def test_every_segment_route_declares_a_permission() -> None:
    from telcamp.segments import api as segment_api
    from telcamp.segments import pages as segment_pages

    routes = [*segment_api.router.routes, *segment_pages.router.routes]
    assert len(routes) >= 18
    for route in routes:
        perms = [getattr(d.call, "permission", None) for d in route.dependant.dependencies]
        assert any(p in {"segment.read", "segment.write"} for p in perms), route.path


def test_count_funnel_profile_sample_for_a_marketer(api: Any) -> None:
    client = api("marketer", "C01")
    r = client.post("/api/segments/evaluate", json={"rule": HIGH, "size": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["region_code"] == "C01"
    assert 0 < body["count"] < body["base"] < 2000
    assert body["funnel"]["matched"] == body["count"]
    assert body["profile"]["audience"] == body["funnel"]["final"]
    assert len(body["sample"]) == 5 and all("*" in x["msisdn"] for x in body["sample"])
    only = client.post("/api/segments/count", json={"rule": HIGH}).json()
    assert only["count"] == body["count"] and "funnel" not in only


def test_bad_rule_is_a_422_naming_the_path(api: Any) -> None:
    client = api("analyst", "P01")
    r = client.post("/api/segments/count", json={"rule": {"all": [
        HIGH, {"any": [{"field": "agee", "op": ">", "value": 20}]}]}})
    assert r.status_code == 422
    assert r.json()["message"].startswith("all[1].any[0]: unknown field 'agee'")
    assert r.json()["code"] == "invalid"


def test_a_blank_segment_name_is_refused(api: Any) -> None:
    client = api("marketer", "C01")
    r = client.post("/api/segments", json={"name": "   ", "rule": HIGH})
    assert r.status_code == 422, r.text
    assert client.get("/api/segments").json() == []


def test_catalogue_lists_fields_metrics_and_extra_columns(api: Any) -> None:
    cat = api("analyst", "P01").get("/api/segments/catalogue").json()
    fields = {f["name"]: f for f in cat["fields"]}
    assert fields["value_tier"]["values"] == ["low", "medium", "high"]
    assert fields["age"]["ops"][:2] == ["=", "!="] and fields["age"]["unit"] == "years"
    assert fields["segment_code"]["group"] == "extra"
    assert {m["name"] for m in cat["metrics"]} >= {"data_mb", "active_days", "charge"}
    ru = api("analyst", "P01").get("/api/segments/catalogue?lang=ru").json()
    assert {f["name"]: f["label"] for f in ru["fields"]}["age"] == "возраст"
    groups = {f["group"]: f["group_label"] for f in ru["fields"]}
    assert groups["profile"] == "профиль абонента" and groups["score"] == "оценки"
    assert ru["ops"]["="] == "{f}: {v}" and cat["ops"]["="] == "{f} is {v}"
    assert cat["channels"] == ["sms", "email", "ivr", "call", "push", "mms"]


def test_segment_crud_versions_snapshot_and_roles(api: Any) -> None:
    marketer = api("marketer", "C01")
    r = marketer.post("/api/segments", json={"name": "high", "rule": HIGH})
    assert r.status_code == 201, r.text
    seg = r.json()
    r = marketer.patch(f"/api/segments/{seg['id']}", json={
        "rule": {"all": [HIGH, {"field": "gender", "op": "=", "value": "f"}]}, "note": "f"})
    assert r.json()["current_version"] == 2
    assert marketer.get(f"/api/segments/{seg['id']}/versions/1").json()["rule"] == HIGH
    snap = marketer.post(f"/api/segments/{seg['id']}/snapshots", json={"version": 1})
    assert snap.status_code == 201, snap.text
    assert snap.json()["version"] == 1 and snap.json()["count"] > 0
    members = marketer.get(f"/api/segments/snapshots/{snap.json()['id']}/members?limit=3")
    assert len(members.json()["members"]) == 3
    # an analyst reads but may not write; another city sees nothing of it
    analyst = api("analyst", "C01")
    assert analyst.get(f"/api/segments/{seg['id']}").status_code == 200
    assert analyst.post("/api/segments", json={"name": "x", "rule": HIGH}).status_code == 403
    other = api("marketer", "C02")
    assert other.get(f"/api/segments/{seg['id']}").status_code == 404
    assert other.get(f"/api/segments/snapshots/{snap.json()['id']}").status_code == 404
    r = other.post("/api/segments/count", json={"rule": {"in_segment": seg["id"]}})
    assert r.status_code == 404 and "high" not in r.text
    anon_client = api("marketer", "C01")
    anon_client.headers.pop("Authorization", None)
    anon_client.cookies.clear()
    assert anon_client.post("/api/segments/count", json={"rule": HIGH}).status_code == 401


def test_templates_fill_with_checked_parameters(api: Any) -> None:
    marketer = api("marketer", "C01")
    tpl = {"name": "ARPU above x in region r", "description": "ARPU above {x} in region {r}",
           "params": {"x": {"type": "float", "label": "ARPU"},
                      "r": {"type": "str", "values": ["C01", "C01-01", "C01-02"]}},
           "rule": {"all": [{"field": "arpu_3m", "op": ">", "value": "{x}"},
                            {"field": "region_code", "op": "=", "value": "{r}"}]}}
    r = marketer.post("/api/segments/templates", json=tpl)
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    r = marketer.post(f"/api/segments/templates/{tid}/fill",
                      json={"values": {"x": "50", "r": "C01-01"}, "save_as": "rich 1-1"})
    assert r.status_code == 200, r.text
    assert r.json()["rule"]["all"][0]["value"] == 50.0
    assert r.json()["segment"]["name"] == "rich 1-1"
    for values, message in [({"x": "lots", "r": "C01-01"}, "parameter 'x': 'lots' is not"),
                            ({"x": 5}, "parameter 'r' is missing"),
                            ({"x": 5, "r": "C02-01"}, "is not one of"),
                            ({"x": 5, "r": "C01-01", "y": 1}, "unknown parameter")]:
        r = marketer.post(f"/api/segments/templates/{tid}/fill", json={"values": values})
        assert r.status_code == 422 and message in r.json()["message"], r.text
    bad = dict(tpl, name="bad", params={"x": {"type": "float"}})
    r = marketer.post("/api/segments/templates", json=bad)
    assert r.status_code == 422 and "undeclared parameter(s) ['r']" in r.json()["message"]
