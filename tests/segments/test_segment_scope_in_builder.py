"""A saved segment's rule is counted in the segment's region wherever it is shown: the
builder sends `segment_id` with the rule it evaluates, so an operator or province user
editing a city's segment sees the audience its snapshot will hold (trial finding: the
builder said 6,941 for a Harbin segment whose snapshot then held 762)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

HIGH = {"field": "value_tier", "op": "=", "value": "high"}



def test_a_city_segment_is_counted_in_its_city_for_an_admin(api: Any) -> None:
    city, admin, other = api("marketer", "C01"), api("admin"), api("marketer", "C02")
    seg = city.post("/api/segments", json={"name": "High", "rule": HIGH}).json()
    in_city = city.post("/api/segments/evaluate", json={"rule": HIGH}).json()
    everyone = admin.post("/api/segments/evaluate", json={"rule": HIGH}).json()
    assert everyone["count"] > in_city["count"] > 0  # the rule alone: the admin's scope

    shown = admin.post("/api/segments/evaluate",
                       json={"rule": HIGH, "segment_id": seg["id"]}).json()
    assert shown["region_code"] == "C01"
    assert shown["count"] == in_city["count"]
    assert shown["base"] == in_city["base"]
    assert shown["funnel"] == in_city["funnel"]
    snap = admin.post(f"/api/segments/{seg['id']}/snapshots", json={}).json()
    assert (snap["matched"], snap["count"]) == (shown["funnel"]["matched"],
                                                shown["funnel"]["final"])
    # another city cannot count in (or learn of) this segment
    r = other.post("/api/segments/count", json={"rule": HIGH, "segment_id": seg["id"]})
    assert r.status_code == 404 and r.json()["field"] == "segment_id"


def test_the_builder_sends_the_segment_it_edits() -> None:
    script = (Path(__file__).parents[2] / "telcamp/web/static/segments.js").read_text()
    call = script[script.index('api("POST", "/api/segments/evaluate"'):]
    assert "segment_id: segment ? segment.id : null" in call[:300]
