"""An admin lets ONE campaign ignore a default exclusion list: refused for non-admins,
audited, shown on the campaign and in the approval inbox, honoured by the rehearsal and
by the contact policy at materialisation (other campaigns still suppress the list)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from telcamp.campaigns import approvals, library, schedule
from telcamp.campaigns.models import Campaign
from telcamp.core.db import session_scope

from .conftest import MARKETER, make_campaign, make_program
from .test_contact_split import STOPPED, _optout_list
from .test_schedule import SMS_ONLY, START, _approve


def _audit(action: str) -> list[Any]:
    from telcamp.audit.models import AuditEntry

    with session_scope() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_non_admins_are_refused_and_nothing_is_written(world: str, login: Any) -> None:
    pid = make_program()
    list_id = _optout_list()
    cid = make_campaign(pid, cells=SMS_ONLY)
    mk = login("marketer", "C1")
    skip = {"skip": [{"list_id": list_id, "reason": "service notice"}]}
    r = mk.put(f"/api/campaigns/{cid}/exclusion-overrides", json=skip)
    assert r.status_code == 403
    r = mk.patch(f"/api/campaigns/{cid}", json={"exclusion_overrides": skip})
    assert r.status_code == 403 and "list.override" in r.json()["message"]
    body = mk.get(f"/api/campaigns/{cid}").json()
    r = mk.post("/api/campaigns", json={**{k: body[k] for k in (
        "program_id", "name", "region_code", "snapshot_id")}, "name": "other",
        "exclusion_overrides": skip})
    assert r.status_code == 403
    assert mk.get(f"/api/campaigns/{cid}/exclusion-overrides").json() == []
    assert len(mk.get("/api/campaigns").json()) == 1  # the refused create left nothing


def test_admin_override_is_audited_shown_and_honoured(world: str, login: Any) -> None:
    pid = make_program()
    list_id = _optout_list()
    mine = make_campaign(pid, cells=SMS_ONLY)
    other = make_campaign(pid, cells=SMS_ONLY, name="no override")
    with session_scope() as s:
        approvals.submit(session=s, actor=MARKETER, campaign_id=mine)
    admin = login("admin")
    bad = admin.put(f"/api/campaigns/{mine}/exclusion-overrides",
                    json={"skip": [{"list_id": list_id, "reason": ""}]})
    assert bad.status_code == 422
    r = admin.put(f"/api/campaigns/{mine}/exclusion-overrides",
                  json={"skip": [{"list_id": list_id, "reason": "service notice"}]})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["state"] == "draft"  # a content change: back to draft, approvals void
    assert {a["decision"] for a in out["approvals"]} == {"void"}
    [o] = out["exclusion_overrides"]["skip"]
    assert (o["list_id"], o["type"], o["reason"]) == (list_id, "optout", "service notice")
    [entry] = _audit("campaign.exclusion_override")
    assert entry.before == {"skip": []} and entry.after["skip"][0]["list_id"] == list_id
    assert len(_audit("list.override_add")) == 1
    # shown on the campaign page and in the inbox
    page = login("marketer", "C1").get(f"/campaigns/{mine}").text
    assert f'data-testid="override-{list_id}"' in page and "service notice" in page
    with session_scope() as s:
        approvals.submit(session=s, actor=MARKETER, campaign_id=mine)
        fig = s.get(Campaign, mine).rehearsal  # type: ignore[union-attr]
    assert fig["cells"][0]["suppressed"] == {}  # the rehearsal honours it
    inbox = login("approver", "C1").get("/approvals").text
    assert f'data-testid="override-{list_id}"' in inbox
    r = login("approver", "C1").get("/api/approvals")
    assert r.json()[0]["exclusion_overrides"][0]["reason"] == "service notice"
    # materialisation: the policy suppresses the list for the other campaign only
    with session_scope() as s:
        from .conftest import CITY_HEAD

        approvals.approve(session=s, actor=CITY_HEAD, campaign_id=mine)
    _approve(other)
    schedule.run_due(START + timedelta(minutes=1))
    with session_scope() as s:
        got_mine = library.contact_counts(session=s, actor=MARKETER, campaign_id=mine)
        got_other = library.contact_counts(session=s, actor=MARKETER, campaign_id=other)
    assert got_mine["total"]["suppressed"] == {}
    assert got_mine["total"]["planned"] + got_mine["total"]["control"] == 300
    assert got_other["total"]["suppressed"].get("optout", 0) > 0
    # removing it (page form) is audited too
    r = admin.post(f"/campaigns/{mine}/overrides", data={"remove": str(list_id)})
    assert r.status_code == 409  # running: the audience is already materialised


def test_page_form_adds_and_removes(world: str, login: Any) -> None:
    list_id = _optout_list()
    cid = make_campaign(make_program(), cells=SMS_ONLY)
    admin = login("admin")
    page = admin.get(f"/campaigns/{cid}").text
    assert 'data-testid="override-form"' in page
    assert 'data-testid="override-form"' not in login("marketer", "C1").get(
        f"/campaigns/{cid}").text
    r = admin.post(f"/campaigns/{cid}/overrides", data={"list_id": str(list_id),
                                                        "reason": "regulator notice"},
                   follow_redirects=False)
    assert r.status_code == 303
    assert "regulator notice" in admin.get(f"/campaigns/{cid}").text
    r = admin.post(f"/campaigns/{cid}/overrides", data={"remove": str(list_id)},
                   follow_redirects=False)
    assert r.status_code == 303
    assert admin.get(f"/api/campaigns/{cid}/exclusion-overrides").json() == []
    assert len(_audit("list.override_remove")) == 1


def test_snapshot_is_taken_again_with_the_overridden_list_back_in(world: str,
                                                                  login: Any) -> None:
    from telcamp.core.security import system_principal
    from telcamp.segments import service as segment_service
    from telcamp.segments.schemas import SegmentCreate

    list_id = _optout_list()  # 40 numbers, some of them high-tier
    with session_scope() as s:
        seg = segment_service.create(s, segment_in=SegmentCreate(
            name="high", rule={"field": "value_tier", "op": "=", "value": "high"}),
            principal=system_principal())
        snap = segment_service.take_snapshot(s, segment_id=seg.id,
                                             principal=system_principal())
    cid = make_campaign(make_program(), cells=SMS_ONLY, snapshot_id=snap.id)
    admin = login("admin")
    r = admin.put(f"/api/campaigns/{cid}/exclusion-overrides",
                  json={"skip": [{"list_id": list_id, "reason": "service notice"}]})
    assert r.status_code == 200, r.text
    new = r.json()["snapshot_id"]
    assert new != snap.id
    with session_scope() as s:
        from telcamp.segments.models import SegmentSnapshot

        again = s.get(SegmentSnapshot, new)
        assert again is not None and again.segment_id == seg.id
        high_stopped = sum(1 for m in STOPPED if ((m - 79000000000) // 3) % 3 == 2)
        assert again.count == snap.count + high_stopped


def test_a_copy_does_not_inherit_the_override_nor_its_snapshot(world: str,
                                                               login: Any) -> None:
    list_id = _optout_list()
    cid = make_campaign(make_program(), cells=SMS_ONLY)
    login("admin").put(f"/api/campaigns/{cid}/exclusion-overrides",
                       json={"skip": [{"list_id": list_id, "reason": "service notice"}]})
    r = login("marketer", "C1").post(f"/api/campaigns/{cid}/clone", json={})
    assert r.status_code in (200, 201), r.text
    copy = r.json()
    assert copy["exclusion_overrides"] == {} and copy["snapshot_id"] is None
