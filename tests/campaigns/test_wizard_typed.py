"""The wizard re-renders what the user typed when a step is rejected (not the saved draft)."""

from __future__ import annotations

from typing import Any

from .conftest import program_in


def _program(login: Any) -> int:
    r = login("admin").post("/api/programs", json=program_in().model_dump(mode="json"))
    return int(r.json()["id"])


BASICS = {"region_code": "K1", "name": "Typed one", "snapshot_id": "1", "offer_code": "DATA5",
          "offer_type": "data_pack", "budget": "500", "priority": "50",
          "start": "2026-11-23", "end": "2026-12-20"}


def test_new_campaign_error_keeps_the_typed_values(world: str, login: Any) -> None:
    pid = _program(login)
    mk = login("marketer", "C1")
    r = mk.post("/campaigns/new", data={**BASICS, "program_id": pid, "budget": "abc",
                                        "offer_code": "KEEP1"})
    assert r.status_code == 422 and "is not a number" in r.text
    assert 'value="Typed one"' in r.text and 'value="KEEP1"' in r.text
    assert 'value="abc"' in r.text and 'value="2026-12-20"' in r.text
    assert f'value="{pid}" selected' in r.text


def test_step_errors_keep_the_typed_values(world: str, login: Any) -> None:
    pid = _program(login)
    mk = login("marketer", "C1")
    r = mk.post("/campaigns/new", data={**BASICS, "program_id": pid}, follow_redirects=False)
    cid = int(r.headers["location"].split("/")[2])
    # basics on an existing draft: the renamed name survives a bad budget
    r = mk.post(f"/campaigns/{cid}/wizard/basics",
                data={**BASICS, "name": "Renamed draft", "budget": "abc"})
    assert r.status_code == 422 and "budget: &#39;abc&#39; is not a number" in r.text
    assert 'value="Renamed draft"' in r.text and 'value="Typed one"' not in r.text
    # cells: the rejected control share and the names stay
    r = mk.post(f"/campaigns/{cid}/wizard/cells", data={
        "cell0_name": "vip", "cell0_tier": "high", "cell0_control": "60",
        "cell0_ch_email": "1", "cell1_name": "others", "cell1_control": "10"})
    assert r.status_code == 422
    assert 'value="vip"' in r.text and 'value="60"' in r.text and 'value="others"' in r.text
    assert '<option value="tier:high" selected>' in r.text
    assert 'name="cell0_ch_email" value="1" checked' in r.text
    assert 'name="cell0_ch_sms" value="1" checked' not in r.text
    mk.post(f"/campaigns/{cid}/wizard/cells", data={
        "cell0_name": "vip", "cell0_tier": "high", "cell0_control": "10", "cell0_ch_sms": "1",
        "cell1_name": "rest", "cell1_control": "10", "cell1_ch_sms": "1"})
    ids = {c["name"]: c["id"] for c in mk.get(f"/api/campaigns/{cid}").json()["cells"]}
    # messages: every textarea keeps its text after one of them is rejected
    r = mk.post(f"/campaigns/{cid}/wizard/messages", data={
        f"msg_{ids['vip']}_sms_en": "Hi {{ nickname }}",
        f"msg_{ids['vip']}_sms_ru": "Привет, предложение",
        f"msg_{ids['rest']}_sms_zh": "给您的优惠"})
    assert r.status_code == 422 and "nickname" in r.text
    assert "Hi {{ nickname }}</textarea>" in r.text
    assert "Привет, предложение</textarea>" in r.text and "给您的优惠</textarea>" in r.text
    # schedule: a bad N keeps the chosen rule
    r = mk.post(f"/campaigns/{cid}/wizard/schedule", data={
        "reparticipation": "every_n_days", "reparticipation_days": "x7"})
    assert r.status_code == 422 and 'value="x7"' in r.text
    assert '<option value="every_n_days" selected>' in r.text
