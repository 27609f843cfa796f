"""Input errors say the field's label and a plain reason, all at once, in the reader's
language; never pydantic's wording or its documentation links."""

from __future__ import annotations

from typing import Any

from .test_wizard_typed import BASICS, _program


def test_basics_shows_every_error_at_once_next_to_its_field(world: str, login: Any) -> None:
    pid = _program(login)
    mk = login("marketer", "C1")
    r = mk.post("/campaigns/new", data={**BASICS, "program_id": pid, "priority": "999",
                                        "budget": "abc", "snapshot_id": "abc"})
    assert r.status_code == 422, r.text[:3000]
    assert "pydantic" not in r.text and "String should" not in r.text
    assert 'data-testid="field-error-priority">Priority: must be at most 100<' in r.text
    assert "budget: &#39;abc&#39; is not a number" in r.text
    assert 'data-testid="field-error-snapshot_id">snapshot_id: &#39;abc&#39; is not a ' \
        "snapshot number" in r.text
    r = mk.post("/campaigns/new", data={**BASICS, "program_id": pid}, follow_redirects=False)
    cid = int(r.headers["location"].split("/")[2])
    r = mk.post(f"/campaigns/{cid}/wizard/basics?lang=ru", data={**BASICS, "priority": "-1"})
    assert r.status_code == 422 and "Приоритет: " in r.text


def test_schedule_window_errors_of_every_wave(world: str, login: Any) -> None:
    pid = _program(login)
    mk = login("marketer", "C1")
    r = mk.post("/campaigns/new", data={**BASICS, "program_id": pid}, follow_redirects=False)
    cid = int(r.headers["location"].split("/")[2])
    mk.post(f"/campaigns/{cid}/wizard/cells", data={
        "cell0_name": "all", "cell0_control": "10", "cell0_ch_sms": "1", "cell0_ch_email": "1"})
    waves = mk.get(f"/api/campaigns/{cid}").json()["waves"]
    assert len(waves) == 2
    r = mk.post(f"/campaigns/{cid}/wizard/schedule", data={
        f"wave{waves[0]['id']}_from": "25:00", f"wave{waves[1]['id']}_to": "9am",
        "reparticipation": "once"})
    assert r.status_code == 422 and "pydantic" not in r.text
    assert ('data-testid="field-error-waves.0.window_start">waves[0] · Send window start: '
            "write a time as HH:MM, from 00:00 to 23:59<") in r.text
    assert 'data-testid="field-error-waves.1.window_end">waves[1] · Send window end' in r.text


def test_api_says_every_error_with_its_label(world: str, login: Any) -> None:
    pid = _program(login)
    mk = login("marketer", "C1")
    r = mk.post("/api/campaigns?lang=ru", json={"program_id": pid, "name": "x",
                                                "priority": 999, "budget": -1})
    assert r.status_code == 422
    body = r.json()
    assert "pydantic" not in r.text
    assert {e["field"] for e in body["errors"]} == {"priority", "budget"}
    assert "Приоритет: " in body["message"]


def test_a_snapshot_that_does_not_exist_or_is_of_another_region_is_refused(
        world: str, login: Any) -> None:
    from .conftest import register_snapshot

    register_snapshot(7, region_code="C2")  # another city's snapshot
    pid = _program(login)
    mk = login("marketer", "C1")
    for typed in ("999", "7"):
        r = mk.post("/campaigns/new", data={**BASICS, "program_id": pid, "snapshot_id": typed})
        assert r.status_code == 422
        assert (f"snapshot_id: there is no audience snapshot {typed} in your region"
                in r.text)
    r = mk.post("/campaigns/new", data={**BASICS, "program_id": pid}, follow_redirects=False)
    cid = int(r.headers["location"].split("/")[2])
    r = mk.post(f"/campaigns/{cid}/wizard/basics?lang=ru", data={**BASICS, "snapshot_id": "999"})
    assert r.status_code == 422 and "в вашем регионе нет среза аудитории 999" in r.text
    r = mk.patch(f"/api/campaigns/{cid}", json={"snapshot_id": 7})
    assert r.status_code == 422 and r.json()["field"] == "snapshot_id"
