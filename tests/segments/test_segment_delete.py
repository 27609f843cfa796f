"""Deleting segments and criteria templates: guards naming who still uses a segment,
soft delete keeping versions and snapshots readable, region scope, audit, API/CLI/page."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from telcamp.core.db import session_scope
from telcamp.segments.synthetic import NOW

HIGH = {"field": "value_tier", "op": "=", "value": "high"}



def _segment(client: Any, name: str, rule: dict[str, Any]) -> int:
    r = client.post("/api/segments", json={"name": name, "rule": rule})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _campaign(state: str, *, snapshot_id: int | None = None, segment_id: int | None = None,
              cell_rule: dict[str, Any] | None = None, region: str = "C01") -> int:
    from telcamp.campaigns.models import Campaign, Cell, Program

    with session_scope() as s:
        prog = Program(name="p", start_date=date(2026, 1, 1), end_date=date(2027, 1, 1),
                       region_code="P01", created_by="t", created_at=NOW)
        s.add(prog)
        s.flush()
        c = Campaign(program_id=prog.id, name=f"Winter {state}", region_code=region,
                     snapshot_id=snapshot_id, segment_id=segment_id, state=state,
                     created_by="t", created_at=NOW, updated_at=NOW)
        s.add(c)
        s.flush()
        if cell_rule is not None:
            s.add(Cell(campaign_id=c.id, position=1, name="by segment", rule=cell_rule,
                       channels=["sms"], messages={}))
        return int(c.id)


def test_unused_segment_is_soft_deleted_and_stays_readable(api: Any) -> None:
    client = api("marketer", "C01")
    seg = _segment(client, "Heavy", HIGH)
    client.patch(f"/api/segments/{seg}", json={"rule": {"not": HIGH}})
    snap = client.post(f"/api/segments/{seg}/snapshots").json()["id"]
    r = client.delete(f"/api/segments/{seg}")
    assert r.status_code == 200, r.text
    assert r.json()["deleted_by"] == client.principal.username
    assert r.json()["name"] == f"Heavy (deleted #{seg})"
    assert seg not in [x["id"] for x in client.get("/api/segments").json()]
    # readable for audit: the segment, both versions, its snapshot
    assert client.get(f"/api/segments/{seg}").json()["deleted_at"] is not None
    assert [v["version"] for v in client.get(f"/api/segments/{seg}/versions").json()] == [1, 2]
    assert client.get(f"/api/segments/snapshots/{snap}").status_code == 200
    # but no longer usable
    again = client.patch(f"/api/segments/{seg}", json={"rule": HIGH})
    assert again.status_code == 409 and "was deleted" in again.json()["message"]
    assert client.post(f"/api/segments/{seg}/snapshots").status_code == 409
    ref = client.post("/api/segments/count", json={"rule": {"in_segment": seg}})
    assert ref.status_code == 422 and "was deleted" in ref.json()["message"]
    # the name is free again
    assert _segment(client, "Heavy", HIGH) != seg
    from telcamp.audit.models import AuditEntry

    with session_scope() as s:
        row = s.scalars(select(AuditEntry).where(AuditEntry.action == "segment.delete")).one()
        assert row.object_id == str(seg)


def test_segment_in_use_is_refused_naming_its_users(api: Any) -> None:
    client = api("marketer", "C01")
    seg = _segment(client, "Heavy", HIGH)
    other = _segment(client, "Heavy and more", {"all": [{"in_segment": seg}, HIGH]})
    snap = client.post(f"/api/segments/{seg}/snapshots").json()["id"]
    running = _campaign("running", snapshot_id=snap)
    cell = _campaign("draft", cell_rule={"in_segment": "Heavy"})
    _campaign("completed", snapshot_id=snap)  # a finished campaign does not hold it
    elsewhere = _campaign("scheduled", segment_id=seg, region="C02")
    r = client.delete(f"/api/segments/{seg}")
    assert r.status_code == 409, r.text
    msg = r.json()["message"]
    assert f"campaign {running} 'Winter running' (running; snapshot #{snap})" in msg
    assert f"campaign {cell} 'Winter draft' (draft; cell 'by segment')" in msg
    assert f"segment {other} 'Heavy and more' (in_segment)" in msg
    assert "1 more in other regions" in msg and str(elsewhere) not in msg
    assert "Winter completed" not in msg
    assert client.get(f"/api/segments/{seg}").json()["deleted_at"] is None  # nothing changed
    # the CLI says the same and exits non-zero
    from typer.testing import CliRunner

    from telcamp.cli import app

    out = CliRunner().invoke(app, ["segment", "delete", str(seg), "--yes"])
    assert out.exit_code != 0 and "is still used" in str(out.exception)


def test_scope_and_permissions(api: Any) -> None:
    mine = _segment(api("marketer", "C01"), "Mine", HIGH)
    assert api("marketer", "C02").delete(f"/api/segments/{mine}").status_code == 404
    assert api("analyst", "C01").delete(f"/api/segments/{mine}").status_code == 403


def test_templates_delete_in_their_own_region_only(api: Any) -> None:
    province = api("marketer", "P01")
    body = {"name": "ARPU above", "params": {"x": {"type": "float"}},
            "rule": {"field": "arpu_3m", "op": ">", "value": "{x}"}}
    tpl = province.post("/api/segments/templates", json=body).json()["id"]
    city = api("marketer", "C01")
    r = city.delete(f"/api/segments/templates/{tpl}")
    assert r.status_code == 403 and "only that region" in r.json()["message"]
    assert province.delete(f"/api/segments/templates/{tpl}").status_code == 200
    assert tpl not in [t["id"] for t in city.get("/api/segments/templates").json()]
    assert city.post(f"/api/segments/templates/{tpl}/fill",
                     json={"values": {"x": 1}}).status_code == 404
    assert province.post("/api/segments/templates", json=body).status_code == 201


def test_page_delete_button_and_refusal(api: Any) -> None:
    client = api("marketer", "C01")
    seg = _segment(client, "Heavy", HIGH)
    used = _segment(client, "Used", HIGH)
    _segment(client, "User", {"in_segment": used})
    page = client.get("/segments")
    assert f'data-testid="delete-segment-{seg}"' in page.text and "confirm(" in page.text
    r = client.post(f"/segments/{used}/delete", follow_redirects=True)
    assert r.status_code == 409 and "is still used" in r.text and "User" in r.text
    r = client.post(f"/segments/{seg}/delete", follow_redirects=True)
    assert r.status_code == 200 and 'data-testid="notice"' in r.text
    assert f'delete-segment-{seg}"' not in r.text
    ro = api("analyst", "C01").get("/segments")
    assert "delete-segment-" not in ro.text
