"""Rehearsal figures: audience per cell, overlaps, empty cells, cost, history."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from telcamp.campaigns import approvals, materialise, rehearsal, schedule
from telcamp.campaigns.models import Contact
from telcamp.core.db import session_scope
from telcamp.core.errors import ValidationFailed

from .conftest import CITY_HEAD, MARKETER, make_campaign, make_program, write_snapshot


def _rehearse(cid: int) -> dict:  # type: ignore[type-arg]
    with session_scope() as s:
        return rehearsal.rehearse(session=s, actor=MARKETER, campaign_id=cid)


def test_audience_per_cell_channels_and_cost(world: str) -> None:
    cid = make_campaign(make_program())
    r = _rehearse(cid)
    assert r["members"] == 300 and r["assigned"] == 300 and r["problems"] == []
    by_name = {c["name"]: c for c in r["cells"]}
    tiers = [("low", "medium", "high")[(i // 3) % 3] for i in range(300)]  # as conftest
    assert {n: c["audience"] for n, c in by_name.items()} == {
        "high": tiers.count("high"), "medium": tiers.count("medium"), "rest": tiers.count("low")}
    high = by_name["high"]
    # high prefers email; a third have no address and fall back to SMS
    assert sum(high["contacts"].values()) + high["control"] == tiers.count("high")
    assert set(high["contacts"]) == {"email", "sms"}
    sms = r["channels"]["sms"]
    assert sms["cost"] == pytest.approx(sms["contacts_per_run"] * 0.05)
    assert list(sms["days"]) == ["2026-11-23"]  # one-off wave on the start day
    assert sms["expected"] == {"history": False}
    with session_scope() as s:
        from telcamp.campaigns.models import Campaign

        stored = s.get(Campaign, cid).rehearsal  # type: ignore[union-attr]
    assert stored is not None and stored["members"] == 300


def test_overlap_is_reported_and_empty_cell_blocks_submission(world: str) -> None:
    cells = [
        {"name": "young", "rule": {"field": "age", "op": "<", "value": 40}, "channels": ["sms"]},
        {"name": "young-high", "rule": {"all": [{"field": "age", "op": "<", "value": 30},
                                                {"field": "value_tier", "op": "=",
                                                 "value": "high"}]},
         "channels": ["sms"]},
        {"name": "rest", "channels": ["sms"]},
    ]
    cid = make_campaign(make_program(), cells=cells)
    r = _rehearse(cid)
    assert any("young-high gets no subscribers" in p for p in r["problems"])
    assert any("young-high" in w and "first match wins" in w for w in r["warnings"])
    with pytest.raises(ValidationFailed) as err, session_scope() as s:
        approvals.submit(session=s, actor=MARKETER, campaign_id=cid)
    assert "gets no subscribers" in err.value.message


def test_empty_audience_blocks_submission(world: str) -> None:
    write_snapshot(2, "SELECT msisdn FROM profile WHERE false")
    cid = make_campaign(make_program(), snapshot_id=2)
    with pytest.raises(ValidationFailed) as err, session_scope() as s:
        approvals.submit(session=s, actor=MARKETER, campaign_id=cid)
    assert "audience is empty" in err.value.message


def test_history_of_similar_campaigns_gives_an_interval(world: str) -> None:
    pid = make_program()
    past = make_campaign(pid)
    with session_scope() as s:
        approvals.submit(session=s, actor=MARKETER, campaign_id=past)
    with session_scope() as s:
        approvals.approve(session=s, actor=CITY_HEAD, campaign_id=past)
    with session_scope() as s:
        waves = {w.channel: w.id for w in schedule.launch(
            session=s, actor=MARKETER, campaign_id=past).waves}
    materialise.materialise_wave(wave_id=waves["sms"])
    with session_scope() as s:  # a fifth of the sent SMS were answered
        s.execute(update(Contact).where(Contact.campaign_id == past, Contact.state == "planned",
                                        Contact.msisdn % 5 == 0).values(state="responded"))
    new = make_campaign(pid, name="again")
    exp = _rehearse(new)["channels"]["sms"]["expected"]
    assert exp["history"] is True and exp["from_campaigns"] == 1
    lo, hi = exp["responses_interval"]
    assert lo < exp["responses"] < hi
    # a different offer type has no history
    other = make_campaign(pid, name="voice", offer_type="voice_bundle")
    assert _rehearse(other)["channels"]["sms"]["expected"] == {"history": False}
