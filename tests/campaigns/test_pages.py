"""Console pages over HTTP (the browser test drives the same pages in Chromium)."""

from __future__ import annotations

from typing import Any

from .conftest import program_in


def _program(login: Any) -> int:
    r = login("admin").post("/api/programs", json=program_in().model_dump(mode="json"))
    return int(r.json()["id"])


def test_wizard_steps_save_a_draft_each_time(world: str, login: Any) -> None:
    pid = _program(login)
    mk = login("marketer", "C1")
    assert "New campaign" in mk.get("/campaigns").text
    r = mk.post("/campaigns/new", data={
        "program_id": pid, "region_code": "K1", "name": "Wizard one", "snapshot_id": "1",
        "offer_code": "DATA5", "offer_type": "data_pack", "budget": "500", "priority": "50",
        "start": "2026-11-23", "end": "2026-12-20"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    cells_url = r.headers["location"]
    cid = int(cells_url.split("/")[2])
    draft = mk.get(cells_url).text
    assert "Cells and rewards" in draft and 'data-testid="read-only"' not in draft
    r = mk.post(cells_url, data={
        "cell0_name": "vip", "cell0_tier": "high", "cell0_control": "10", "cell0_ch_sms": "1",
        "cell1_name": "rest", "cell1_tier": "", "cell1_control": "60", "cell1_ch_sms": "1"})
    assert r.status_code == 422 and "outside 0–50" in r.text  # bad input, shown in place
    r = mk.post(cells_url, data={
        "cell0_name": "vip", "cell0_tier": "high", "cell0_control": "10", "cell0_ch_sms": "1",
        "cell1_name": "rest", "cell1_tier": "", "cell1_control": "10", "cell1_ch_sms": "1"},
        follow_redirects=False)
    assert r.headers["location"].endswith("/wizard/messages")
    page = mk.get(f"/campaigns/{cid}/wizard/messages").text
    assert "msg-vip-sms-ru" in page
    api = mk.get(f"/api/campaigns/{cid}").json()
    ids = {c["name"]: c["id"] for c in api["cells"]}
    r = mk.post(f"/campaigns/{cid}/wizard/messages", data={
        f"msg_{ids['vip']}_sms_en": "Hi {{ nickname }}"})
    assert r.status_code == 422 and "nickname" in r.text
    r = mk.post(f"/campaigns/{cid}/wizard/messages", data={
        f"msg_{ids['vip']}_sms_en": "VIP offer {{ offer_code }}",
        f"msg_{ids['vip']}_sms_ru": "Предложение", f"msg_{ids['rest']}_sms_en": "Offer"},
        follow_redirects=False)
    assert r.status_code == 303
    count = mk.post("/campaigns/sms-count", data={"msg_x": "Привет" * 12})
    assert "UCS-2" in count.text and ": 2" in count.text
    prev = mk.post(f"/campaigns/{cid}/preview",
                   data={"msisdn": "79000000000", "cell_name": "vip", "channel": "sms"})
    assert "VIP offer DATA5" in prev.text
    # the random button: someone the cell gets, named masked for the marketer
    prev = mk.post(f"/campaigns/{cid}/preview",
                   data={"random": "1", "msisdn": "", "cell_name": "vip", "channel": "sms"})
    assert "random member" in prev.text  # in the member's language: en, or ru, or en as fallback
    assert "VIP offer DATA5" in prev.text or "Предложение" in prev.text
    assert "*" in prev.text.split('data-testid="preview-subscriber">')[1].split("<")[0]
    r = mk.post(f"/campaigns/{cid}/wizard/schedule", data={
        "reparticipation": "once"}, follow_redirects=False)
    assert r.headers["location"].endswith("/wizard/rehearsal")
    reh = mk.get(f"/campaigns/{cid}/wizard/rehearsal").text
    assert 'data-testid="members">300<' in reh
    r = mk.post(f"/campaigns/{cid}/wizard/rehearsal", follow_redirects=False)
    assert r.headers["location"] == f"/campaigns/{cid}"
    assert 'data-testid="state">submitted<' in mk.get(f"/campaigns/{cid}").text

    head = login("approver", "C1")
    inbox = head.get("/approvals").text
    assert f'data-testid="item-{cid}"' in inbox and "300" in inbox
    r = head.post(f"/approvals/{cid}/approve", data={"comment": "ok"}, follow_redirects=False)
    assert r.status_code == 303
    r = mk.post(f"/campaigns/{cid}/control/launch", follow_redirects=False)
    assert r.status_code == 303
    page = mk.get(f"/campaigns/{cid}").text
    assert 'data-testid="state">running<' in page and 'data-testid="contacts-control"' in page
    lib = mk.get("/campaigns/library?offer=DATA").text
    assert "Wizard one" in lib
    r = mk.post(f"/campaigns/{cid}/control/resume")
    assert r.status_code == 409 and "running" in r.text
    # the wizard of a running campaign shows its settings in a disabled fieldset
    for step in ("basics", "cells", "rehearsal"):
        wiz = mk.get(f"/campaigns/{cid}/wizard/{step}").text
        assert 'data-testid="read-only"' in wiz and "<fieldset disabled" in wiz
        assert wiz.index("<fieldset disabled") < wiz.index('action="/campaigns/')


def test_pages_in_russian(world: str, login: Any) -> None:
    mk = login("marketer", "C1")
    assert "Кампании" in mk.get("/campaigns?lang=ru").text
