"""Scheduling and execution control: launch, pause, resume, cancel, and the scheduler tick.

`run_due(now)` is what the server calls every minute: it finishes or rolls back crashed
materialisations, starts scheduled campaigns whose start has come (automatic launch),
completes those whose end has passed, and materialises every wave that is due. Recurring
waves (daily, weekly, on given days) take a fresh snapshot of the segment for each run
unless the campaign's audience is fixed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from telcamp.campaigns import lifecycle
from telcamp.campaigns import service as campaign_service
from telcamp.campaigns.models import Campaign, Contact, Wave
from telcamp.core import clock
from telcamp.core.db import session_scope
from telcamp.core.errors import Conflict, TelcampError
from telcamp.core.security import Principal, system_principal
from telcamp.core.settings import get_settings

log = logging.getLogger(__name__)


def _window_start(wave: Wave, day: date) -> datetime:
    h, m = (int(x) for x in wave.window_start.split(":"))
    return datetime.combine(day, time(h, m), tzinfo=UTC)


def _runs_on(wave: Wave, day: date) -> bool:
    sched = wave.schedule or {}
    kind = sched.get("kind", "once")
    if kind == "daily":
        return True
    if kind == "weekly":
        return day.weekday() in (sched.get("weekdays") or [0])
    if kind == "days":
        return day.isoformat() in {str(d) for d in sched.get("days", [])}
    return False


def next_run(wave: Wave, after: datetime, *, first: bool) -> datetime | None:
    """The next run of a wave strictly after `after` (at or after, for the first run)."""
    kind = (wave.schedule or {}).get("kind", "once")
    if kind == "once":
        return after if first else None
    day = after.date()
    for _ in range(400):
        if _runs_on(wave, day):
            at = _window_start(wave, day)
            if first and at.date() == after.date() and at < after:
                at = after  # today's window has opened already: run now
            if at > after or (first and at >= after):
                return at
        day += timedelta(days=1)
    return None


def first_run(wave: Wave, begin: datetime) -> datetime | None:
    """The wave's first run from `begin`, after its cell's start offset (in days)."""
    offset = int((wave.schedule or {}).get("start_offset_days", 0) or 0)
    return next_run(wave, begin + timedelta(days=offset), first=True)


def after_run(wave: Wave, now: datetime) -> None:
    """Called in the materialisation transaction: done, or planned for the next run."""
    campaign = wave.campaign
    nxt = next_run(wave, now, first=False)
    if nxt is None or (campaign.end_at is not None and nxt >= campaign.end_at):
        wave.state, wave.next_run_at = "done", None
    else:
        wave.state, wave.next_run_at = "planned", nxt
        if not campaign.fixed_audience:
            wave.snapshot_id = None  # the next run takes a fresh snapshot


def _start(campaign: Campaign, now: datetime, *, manual: bool = False) -> None:
    # a manual launch runs from now; an automatic one from the campaign's start
    begin = now if manual else max(now, campaign.start_at or now)
    for wave in campaign.waves:
        if wave.state == "planned":
            wave.next_run_at = first_run(wave, begin)
            if wave.next_run_at is None or (campaign.end_at is not None
                                            and wave.next_run_at >= campaign.end_at):
                wave.state, wave.next_run_at = "done", None


def _control(session: Session, actor: Principal, campaign_id: int, to: str, reason: str
             ) -> Campaign:
    campaign = campaign_service.get_campaign(session=session, actor=actor,
                                             campaign_id=campaign_id, for_update=True)
    if not actor.can("campaign.launch"):
        from telcamp.core.errors import Forbidden

        raise Forbidden("you may not launch, pause, resume or cancel campaigns")
    before = campaign.state
    lifecycle.transition(campaign, to, reason=reason)
    campaign_service.audit(session, actor=actor, action=f"campaign.{to}", obj=campaign,
                           before={"state": before}, after={"state": to, "reason": reason})
    return campaign


def launch(*, session: Session, actor: Principal, campaign_id: int) -> Campaign:
    """Manual launch of an approved (or scheduled) campaign: it runs from now."""
    campaign = campaign_service.get_campaign(session=session, actor=actor,
                                             campaign_id=campaign_id, for_update=True)
    from telcamp.dispatch.readiness import problems as channel_problems

    cannot = channel_problems(w.channel for w in campaign.waves if w.state != "cancelled")
    if cannot:  # its contacts would wait for a channel that cannot send
        raise Conflict("the campaign cannot be launched: " + " ".join(cannot), field="channel")
    if campaign.state == "approved":
        _control(session, actor, campaign_id, "scheduled", "launched manually")
    now = clock.now()
    if campaign.end_at is not None and campaign.end_at <= now:
        raise Conflict(f"campaign {campaign.id} ended at {campaign.end_at:%Y-%m-%d %H:%M}",
                       field="end_at")
    _control(session, actor, campaign_id, "running", "launched manually")
    _start(campaign, now, manual=True)
    session.flush()
    return campaign


def pause(*, session: Session, actor: Principal, campaign_id: int, reason: str = "") -> Campaign:
    return _control(session, actor, campaign_id, "paused", reason or "paused")


def resume(*, session: Session, actor: Principal, campaign_id: int) -> Campaign:
    return _control(session, actor, campaign_id, "running", "resumed")


def cancel(*, session: Session, actor: Principal, campaign_id: int, reason: str = ""
           ) -> Campaign:
    campaign = _control(session, actor, campaign_id, "cancelled", reason or "cancelled")
    for wave in campaign.waves:
        if wave.state in ("planned", "materialising"):
            wave.state = "cancelled"
    # contacts not yet sent are withdrawn in one statement (dispatch skips them), each
    # with a `cancelled` event for the contact history
    from telcamp.dispatch import outbox
    from telcamp.dispatch.tables import contact

    # (control members are in state 'control', not 'planned': they stay as they are)
    outbox.withdraw(session, contact.c.campaign_id == campaign.id,
                    reason="campaign cancelled", now=clock.now())
    return campaign


def _fresh_snapshot(session: Session, campaign: Campaign, wave: Wave) -> None:
    if campaign.fixed_audience or campaign.segment_id is None or wave.snapshot_id is not None:
        return
    if wave.runs == 0 and campaign.snapshot_id is not None:
        return  # the first run uses the snapshot the campaign was approved with
    from telcamp.segments import service as segment_service

    snap = segment_service.take_snapshot(session, segment_id=campaign.segment_id,
                                         principal=system_principal(), campaign_id=campaign.id)
    wave.snapshot_id = snap.id


def run_due(now: datetime | None = None, *, recover: bool = False) -> dict[str, Any]:
    """One scheduler tick. Safe to call often and from several processes.

    `recover=True` first rolls back materialisations a crashed process left behind; only
    a process starting up may ask for it (another worker may be materialising right now).
    """
    from telcamp.campaigns import materialise

    now = now or clock.now()
    report: dict[str, Any] = {"recovered": materialise.recover() if recover else [],
                              "started": [], "completed": [], "materialised": [],
                              "failed": []}
    with session_scope() as s:
        for campaign in s.scalars(select(Campaign).where(
                Campaign.state == "scheduled", Campaign.auto_launch.is_(True),
                Campaign.start_at <= now)).all():
            lifecycle.transition(campaign, "running", reason="started on schedule")
            _start(campaign, now)
            report["started"].append(campaign.id)
        for campaign in s.scalars(select(Campaign).where(
                Campaign.state.in_(("running", "paused")), Campaign.end_at <= now)).all():
            lifecycle.transition(campaign, "completed", reason="end of schedule")
            for wave in campaign.waves:
                if wave.state == "planned":
                    wave.state = "done"
            report["completed"].append(campaign.id)
    with session_scope() as s:
        due = s.execute(select(Wave.id, Wave.campaign_id).join(Campaign).where(
            Campaign.state == "running", Wave.state == "planned",
            Wave.next_run_at <= now).order_by(Campaign.priority.desc(), Wave.id)).all()
    for wave_id, campaign_id in due:
        try:
            with session_scope() as s:
                due_wave = s.get(Wave, wave_id)
                owner = s.get(Campaign, campaign_id)
                assert due_wave is not None and owner is not None
                _fresh_snapshot(s, owner, due_wave)
            result = materialise.materialise_wave(wave_id=wave_id, now=now)
            report["materialised"].append(result.as_dict())
        except TelcampError as exc:
            log.warning("wave %s not materialised: %s", wave_id, exc.message)
            report["failed"].append({"wave_id": wave_id, "error": exc.message})
    report["completed"] += complete_finished()
    return report


def complete_finished() -> list[int]:
    """Complete running campaigns with nothing left to do: every wave done (or cancelled)
    and no contact still waiting to go. A completed campaign's pending contacts are
    cancelled by dispatch, so one whose last wave's contacts are still queued waits."""
    from telcamp.dispatch.tables import PENDING, SENDING

    done: list[int] = []
    with session_scope() as s:
        open_wave = select(Wave.id).where(Wave.campaign_id == Campaign.id,
                                          Wave.state.not_in(("done", "cancelled")))
        queued = select(Contact.id).where(Contact.campaign_id == Campaign.id,
                                          Contact.state.in_((PENDING, SENDING)),
                                          Contact.is_control.is_(False))
        for campaign in s.scalars(select(Campaign).where(
                Campaign.state == "running", ~open_wave.exists(), ~queued.exists(),
                select(Wave.id).where(Wave.campaign_id == Campaign.id,
                                      Wave.state == "done").exists())
                .with_for_update(skip_locked=True)).all():
            lifecycle.transition(campaign, "completed", reason="every wave has finished")
            campaign_service.audit(s, actor=system_principal(), action="campaign.completed",
                                   obj=campaign, before={"state": "running"},
                                   after={"state": "completed",
                                          "reason": "every wave has finished"})
            done.append(campaign.id)
    return done


@asynccontextmanager
async def scheduler_lifespan(_app: Any) -> AsyncIterator[None]:
    """Run `run_due` every `scheduler_interval_s` inside the server (embedded default)."""
    interval = get_settings().scheduler_interval_s
    if interval <= 0:
        yield
        return

    async def loop() -> None:
        first = True
        while True:
            try:
                await run_in_threadpool(run_due, recover=first)
                first = False
            except Exception:  # a failed tick must not stop the next one
                log.exception("campaign scheduler tick failed")
            await asyncio.sleep(interval)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
