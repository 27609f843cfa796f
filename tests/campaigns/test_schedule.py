"""Scheduling: automatic launch, recurring waves, re-participation, pause, cancel, end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from telcamp.campaigns import approvals, schedule
from telcamp.campaigns.models import Campaign, Contact, Wave
from telcamp.core.db import session_scope
from telcamp.core.errors import IllegalTransition
from telcamp.dispatch.tables import event

from .conftest import CITY_HEAD, MARKETER, make_campaign, make_program

START = datetime(2026, 11, 23, 9, tzinfo=UTC)


def _approve(cid: int) -> None:
    with session_scope() as s:
        approvals.submit(session=s, actor=MARKETER, campaign_id=cid)
    with session_scope() as s:
        approvals.approve(session=s, actor=CITY_HEAD, campaign_id=cid)


def _state(cid: int) -> str:
    with session_scope() as s:
        return s.get(Campaign, cid).state  # type: ignore[union-attr]


def _count(cid: int, **where: object) -> int:
    with session_scope() as s:
        q = select(func.count()).select_from(Contact).where(Contact.campaign_id == cid)
        for k, v in where.items():
            q = q.where(getattr(Contact, k) == v)
        return int(s.scalar(q) or 0)


SMS_ONLY = [{"name": "all", "control_pct": 10, "channels": ["sms"],
             "messages": {"sms": {"en": "hi"}}}]


def test_automatic_launch_at_start_and_completion_at_end(world: str) -> None:
    cid = make_campaign(make_program(), cells=SMS_ONLY)
    _approve(cid)
    assert _state(cid) == "scheduled"
    assert schedule.run_due(START - timedelta(hours=1))["started"] == []
    report = schedule.run_due(START + timedelta(minutes=1))
    assert report["started"] == [cid]
    assert [m["contacts"] + m["controls"] for m in report["materialised"]] == [300]
    assert _state(cid) == "running"
    assert schedule.run_due(datetime(2026, 12, 21, tzinfo=UTC))["completed"] == [cid]
    assert _state(cid) == "completed"


def test_daily_wave_once_per_campaign_rule(world: str) -> None:
    cid = make_campaign(make_program(), cells=SMS_ONLY, reparticipation="once",
                        waves=[{"channel": "sms", "schedule": {"kind": "daily"}}])
    _approve(cid)
    schedule.run_due(START + timedelta(minutes=1))
    assert _count(cid) == 300
    day2 = schedule.run_due(START + timedelta(days=1, minutes=1))
    # everyone already took part once: the second run creates nobody
    assert [m["contacts"] + m["controls"] for m in day2["materialised"]] == [0]
    assert _count(cid) == 300


def test_every_n_days_rule_lets_subscribers_back_after_n_days(world: str) -> None:
    cid = make_campaign(make_program(), cells=SMS_ONLY, reparticipation="every_n_days",
                        reparticipation_days=2,
                        waves=[{"channel": "sms", "schedule": {"kind": "daily"}}])
    _approve(cid)
    for day in range(4):
        schedule.run_due(START + timedelta(days=day, minutes=1))
    # runs on days 0 and 2 reach everybody; days 1 and 3 are within 2 days of them
    assert _count(cid) == 600
    assert _count(cid, run=2) == 0 and _count(cid, run=3) == 300


def test_weekly_wave_runs_on_its_weekdays_only(world: str) -> None:
    cid = make_campaign(make_program(), cells=SMS_ONLY, reparticipation="every_n_days",
                        reparticipation_days=1,
                        waves=[{"channel": "sms", "schedule": {"kind": "weekly",
                                                               "weekdays": [2]}}])  # Wed
    _approve(cid)
    with session_scope() as s:
        schedule.launch(session=s, actor=MARKETER, campaign_id=cid)
    with session_scope() as s:
        wave = s.scalars(select(Wave).where(Wave.campaign_id == cid)).one()
        assert wave.next_run_at == datetime(2026, 11, 25, 9, tzinfo=UTC)  # next Wednesday


def test_pause_stops_runs_resume_continues_cancel_withdraws(world: str) -> None:
    cid = make_campaign(make_program(), cells=SMS_ONLY,
                        waves=[{"channel": "sms", "schedule": {"kind": "daily"}}],
                        reparticipation="every_n_days", reparticipation_days=1)
    _approve(cid)
    schedule.run_due(START + timedelta(minutes=1))
    with session_scope() as s:
        schedule.pause(session=s, actor=MARKETER, campaign_id=cid, reason="complaints")
    schedule.run_due(START + timedelta(days=1, minutes=1))
    assert _count(cid) == 300
    with session_scope() as s:
        schedule.resume(session=s, actor=MARKETER, campaign_id=cid)
    schedule.run_due(START + timedelta(days=1, minutes=2))
    assert _count(cid) == 600
    planned = _count(cid, state="planned")
    with session_scope() as s:
        schedule.cancel(session=s, actor=MARKETER, campaign_id=cid, reason="stop")
    assert _count(cid, state="planned") == 0
    assert _count(cid, state="control") > 0  # the record of held-out subscribers stays
    # each withdrawn contact says so in the contact history (via dispatch's event outbox)
    with session_scope() as s:
        withdrawn = s.execute(select(event.c.outcome, event.c.reason, func.count()).where(
            event.c.campaign_id == cid).group_by(event.c.outcome, event.c.reason)).all()
    assert [tuple(r) for r in withdrawn] == [("cancelled", "campaign cancelled", planned)]
    assert planned > 0
    with pytest.raises(IllegalTransition), session_scope() as s:
        schedule.resume(session=s, actor=MARKETER, campaign_id=cid)


def test_several_campaigns_run_at_once(world: str) -> None:
    pid = make_program()
    a = make_campaign(pid, cells=SMS_ONLY, name="a")
    b = make_campaign(pid, cells=SMS_ONLY, name="b", priority=90)
    _approve(a)
    _approve(b)
    report = schedule.run_due(START + timedelta(minutes=1))
    assert sorted(report["started"]) == sorted([a, b])
    assert _count(a) == _count(b) == 300
    assert _state(a) == _state(b) == "running"


def test_the_server_runs_the_tick_itself(world: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from fastapi.testclient import TestClient

    from telcamp.app import create_app
    from telcamp.core.settings import reset_settings

    from .conftest import NOW

    cid = make_campaign(make_program(), cells=SMS_ONLY, start_at=NOW - timedelta(hours=1))
    _approve(cid)
    monkeypatch.setenv("TELCAMP_SCHEDULER_INTERVAL_S", "0.2")
    reset_settings()
    with TestClient(create_app()):
        deadline = time.monotonic() + 20
        while _count(cid) < 300 and time.monotonic() < deadline:
            time.sleep(0.1)
    assert _state(cid) == "running" and _count(cid) == 300


def test_recurring_wave_takes_a_fresh_snapshot_unless_the_audience_is_fixed(
        world: str) -> None:
    from telcamp.core.security import system_principal
    from telcamp.segments import service as segment_service
    from telcamp.segments.schemas import SegmentCreate

    from .conftest import write_profile

    with session_scope() as s:
        seg = segment_service.create(s, segment_in=SegmentCreate(
            name="high", rule={"field": "value_tier", "op": "=", "value": "high"}),
            principal=system_principal())
        snap = segment_service.take_snapshot(s, segment_id=seg.id,
                                             principal=system_principal())
    daily = [{"channel": "sms", "schedule": {"kind": "daily"}}]
    fresh = make_campaign(make_program(budget=10_000), cells=SMS_ONLY, name="fresh",
                          segment_id=seg.id, snapshot_id=snap.id, fixed_audience=False,
                          reparticipation="once", waves=daily)
    fixed = make_campaign(make_program(budget=10_000), cells=SMS_ONLY, name="fixed",
                          segment_id=seg.id, snapshot_id=snap.id, fixed_audience=True,
                          reparticipation="once", waves=daily)
    _approve(fresh)
    _approve(fixed)
    schedule.run_due(START + timedelta(minutes=1))
    first = _count(fresh)
    assert first == _count(fixed) == snap.count > 0
    write_profile(600)  # the base grows: twice as many high-tier subscribers
    schedule.run_due(START + timedelta(days=1, minutes=1))
    assert _count(fixed) == first  # same snapshot, everyone already took part
    assert _count(fresh) == 2 * first  # new snapshot: only the newcomers are added


def test_one_off_campaign_completes_when_its_wave_is_done_and_sent(world: str) -> None:
    from telcamp.audit.models import AuditEntry

    cid = make_campaign(make_program(), cells=SMS_ONLY)
    _approve(cid)
    schedule.run_due(START + timedelta(minutes=1))
    with session_scope() as s:
        assert [w.state for w in s.scalars(select(Wave).where(Wave.campaign_id == cid))] \
            == ["done"]
    # its contacts are still queued: completing now would cancel them
    assert schedule.run_due(START + timedelta(minutes=2))["completed"] == []
    assert _state(cid) == "running"
    with session_scope() as s:
        s.execute(update(Contact).where(Contact.campaign_id == cid,
                                        Contact.state == "planned")
                  .values(state="delivered"))
    assert schedule.run_due(START + timedelta(minutes=3))["completed"] == [cid]
    assert _state(cid) == "completed"
    with session_scope() as s:
        entry = s.scalars(select(AuditEntry).where(
            AuditEntry.action == "campaign.completed",
            AuditEntry.object_id == str(cid))).one()
        assert entry.after["state"] == "completed"


def test_recurring_campaign_is_not_completed_while_runs_are_left(world: str) -> None:
    cid = make_campaign(make_program(), cells=SMS_ONLY,
                        waves=[{"channel": "sms", "schedule": {"kind": "daily"}}])
    _approve(cid)
    schedule.run_due(START + timedelta(minutes=1))
    with session_scope() as s:
        s.execute(update(Contact).where(Contact.campaign_id == cid).values(state="delivered"))
    assert schedule.run_due(START + timedelta(minutes=2))["completed"] == []
    assert _state(cid) == "running"
