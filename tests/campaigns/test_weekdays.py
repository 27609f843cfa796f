"""Weekly waves: weekdays typed as names (en/ru/zh) or ticked, never silently dropped."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from telcamp.campaigns import forms
from telcamp.campaigns.schemas import WaveSchedule
from telcamp.core.errors import ValidationFailed

from .test_wizard_typed import BASICS, _program


@pytest.mark.parametrize("raw", ["Mon, Wed", "monday wednesday", "пн, ср", "Понедельник Среда",
                                 "周一、周三", "星期一 星期三", "0,2", "Wed, mon, 2"])
def test_weekday_names_and_numbers(raw: str) -> None:
    assert forms.weekdays(raw, "waves[0]") == [0, 2]


def test_a_word_that_is_not_a_weekday_is_refused_by_name() -> None:
    with pytest.raises(ValidationFailed) as err:
        forms.weekdays("Mon, Wedn", "waves[1]")
    assert err.value.message.startswith("waves[1]: 'wedn' is not a weekday")


def test_weekly_without_a_weekday_is_refused_by_the_schema_too() -> None:
    with pytest.raises(ValidationError, match="needs at least one weekday"):
        WaveSchedule(kind="weekly", weekdays=[])


def test_schedule_step_checkboxes_and_names(world: str, login: Any) -> None:
    pid = _program(login)
    mk = login("marketer", "C1")
    r = mk.post("/campaigns/new", data={**BASICS, "program_id": pid}, follow_redirects=False)
    cid = int(r.headers["location"].split("/")[2])
    mk.post(f"/campaigns/{cid}/wizard/cells", data={
        "cell0_name": "all", "cell0_control": "10", "cell0_ch_sms": "1"})
    wid = mk.get(f"/api/campaigns/{cid}").json()["waves"][0]["id"]
    # weekly with nothing ticked: refused, said plainly, in Russian for a Russian reader
    r = mk.post(f"/campaigns/{cid}/wizard/schedule?lang=ru", data={
        f"wave{wid}_kind": "weekly", "reparticipation": "once"})
    assert r.status_code == 422
    assert "waves[0]: для еженедельной волны выберите хотя бы один день недели" in r.text
    r = mk.post(f"/campaigns/{cid}/wizard/schedule", data={
        f"wave{wid}_kind": "weekly", f"wave{wid}_wd0": "1", f"wave{wid}_wd2": "1",
        "reparticipation": "once"}, follow_redirects=False)
    assert r.status_code == 303
    wave = mk.get(f"/api/campaigns/{cid}").json()["waves"][0]
    assert wave["schedule"]["weekdays"] == [0, 2]
    wid = wave["id"]  # saving rebuilds the waves
    page = mk.get(f"/campaigns/{cid}/wizard/schedule").text
    assert f'name="wave{wid}_wd2" value="1" checked' in page
    assert f'name="wave{wid}_wd1" value="1" checked' not in page
    # names typed (the API-era text box) work too
    r = mk.post(f"/campaigns/{cid}/wizard/schedule", data={
        f"wave{wid}_kind": "weekly", f"wave{wid}_weekdays": "Fri, Sun",
        "reparticipation": "once"}, follow_redirects=False)
    assert mk.get(f"/api/campaigns/{cid}").json()["waves"][0]["schedule"]["weekdays"] == [4, 6]


def test_saving_the_cells_again_keeps_each_channels_repeat_and_window(
        world: str, login: Any) -> None:
    pid = _program(login)
    mk = login("marketer", "C1")
    r = mk.post("/campaigns/new", data={**BASICS, "program_id": pid}, follow_redirects=False)
    cid = int(r.headers["location"].split("/")[2])
    cells = {"cell0_name": "all", "cell0_control": "10", "cell0_ch_sms": "1"}
    mk.post(f"/campaigns/{cid}/wizard/cells", data=cells)
    wid = mk.get(f"/api/campaigns/{cid}").json()["waves"][0]["id"]
    r = mk.post(f"/campaigns/{cid}/wizard/schedule", data={
        f"wave{wid}_kind": "weekly", f"wave{wid}_wd4": "1", f"wave{wid}_from": "10:00",
        f"wave{wid}_to": "12:00", "reparticipation": "once"}, follow_redirects=False)
    assert r.status_code == 303
    # back to the cells step: another control share and a second channel
    r = mk.post(f"/campaigns/{cid}/wizard/cells",
                data={**cells, "cell0_control": "15", "cell0_ch_email": "1"},
                follow_redirects=False)
    assert r.status_code == 303, r.text[:2000]
    waves = {w["channel"]: w for w in mk.get(f"/api/campaigns/{cid}").json()["waves"]}
    assert waves["sms"]["schedule"]["kind"] == "weekly"
    assert waves["sms"]["schedule"]["weekdays"] == [4]
    assert (waves["sms"]["window_start"], waves["sms"]["window_end"]) == ("10:00", "12:00")
    assert waves["email"]["schedule"]["kind"] == "once"  # new channel: the default wave
