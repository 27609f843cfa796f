"""Programs and campaigns: create, read, edit. Services flush; the edge commits."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from telcamp.campaigns import cells as cell_rules
from telcamp.campaigns import lifecycle, messages, regions
from telcamp.campaigns.models import Approval, Campaign, Cell, Contact, Program, Wave
from telcamp.campaigns.schemas import (
    CampaignCreate,
    CampaignUpdate,
    CellIn,
    ProgramCreate,
    ProgramUpdate,
    WaveIn,
)
from telcamp.core import clock, warehouse
from telcamp.core.errors import Conflict, NotFound, ValidationFailed
from telcamp.core.security import Principal

# Subscriber fields a message may use when no profile has been built yet (DESIGN.md).
BASE_FIELDS = frozenset({
    "msisdn", "region_code", "city_code", "province_code", "tariff_code", "payment_type",
    "activation_date", "status", "birth_date", "age", "gender", "language", "device_type",
    "email", "tenure_days", "is_new", "arpu_3m", "value_score", "value_tier", "churn_risk",
    "days_since_last_activity",
})
# Extra fields every message may use: the campaign's and cell's own offer details
# (messages.offer_fields gives their values; dispatch must merge them when rendering).
OFFER_FIELDS = frozenset({"offer_code", "reward_type", "reward_size", "reward_validity_days",
                          "campaign_name"})


def audit(session: Session, *, actor: Principal, action: str, obj: Campaign | Program,
          before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    """Write the audit row in the same transaction as the change."""
    from telcamp.audit import service as audit_service  # the audit domain (issue 2)

    audit_service.record(
        session, actor=actor, action=action, object_type=type(obj).__name__.lower(),
        object_id=str(obj.id), before=before, after=after,
    )


def subscriber_fields() -> set[str]:
    with warehouse.connect(read_only=True) as con:
        cols = con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'profile'"
        ).fetchall()
    return ({str(c[0]) for c in cols} or set(BASE_FIELDS)) | OFFER_FIELDS


# -- programs ---------------------------------------------------------------------------

def create_program(*, session: Session, actor: Principal, program_in: ProgramCreate) -> Program:
    if program_in.end_date < program_in.start_date:
        raise ValidationFailed("the program ends before it starts", field="end_date")
    regions.require_scope(actor, program_in.region_code)
    program = Program(**program_in.model_dump(), created_by=actor.username,
                      created_at=clock.now())
    session.add(program)
    session.flush()
    audit(session, actor=actor, action="program.create", obj=program, before=None,
          after=program_in.model_dump(mode="json"))
    return program


def get_program(*, session: Session, actor: Principal, program_id: int) -> Program:
    program = session.get(Program, program_id)
    if program is None:
        raise NotFound(f"program {program_id} does not exist", field="program_id")
    if not _program_visible(actor, program):
        raise NotFound(f"program {program_id} does not exist", field="program_id")
    return program


def _program_data(program: Program) -> dict[str, Any]:
    return {"name": program.name, "goal": program.goal, "kpis": program.kpis,
            "budget": float(program.budget), "start_date": program.start_date.isoformat(),
            "end_date": program.end_date.isoformat(), "region_code": program.region_code}


def _live_campaigns(session: Session, program: Program) -> list[Campaign]:
    """The program's campaigns that hold budget and dates (not cancelled, not templates)."""
    return list(session.scalars(select(Campaign).where(
        Campaign.program_id == program.id, Campaign.state != "cancelled",
        Campaign.is_template.is_(False)).order_by(Campaign.id)))


def update_program(*, session: Session, actor: Principal, program_id: int,
                   program_in: ProgramUpdate) -> Program:
    """Edit a program. Guarded: the budget cannot drop below what its campaigns already
    committed, and the period must still contain every campaign's start and end."""
    program = get_program(session=session, actor=actor, program_id=program_id)
    regions.require_scope(actor, program.region_code)  # seeing it is not owning it
    changes = program_in.model_dump(exclude_unset=True)
    for key in ("name", "budget", "start_date", "end_date"):
        if key in changes and changes[key] is None:
            raise ValidationFailed(f"{key} cannot be empty", field=key)
    changes = {k: v for k, v in changes.items() if v is not None}
    start = changes.get("start_date", program.start_date)
    end = changes.get("end_date", program.end_date)
    if end < start:
        raise ValidationFailed("the program ends before it starts", field="end_date")
    live = _live_campaigns(session, program)
    if "budget" in changes:
        committed = sum(float(c.budget) for c in live)
        if changes["budget"] < committed:
            raise ValidationFailed(
                f"budget {changes['budget']:g} is below the {committed:g} its campaigns "
                "already committed", field="budget")
    for c in live:
        for value, name in ((c.start_at, "start_date"), (c.end_at, "end_date")):
            if value is not None and not start <= value.date() <= end:
                raise ValidationFailed(
                    f"campaign {c.id} ({c.name}) runs on {value.date()}, outside the new "
                    f"period {start} – {end}", field=name)
    before = _program_data(program)
    for key, value in changes.items():
        setattr(program, key, value)
    session.flush()
    audit(session, actor=actor, action="program.update", obj=program, before=before,
          after=_program_data(program))
    return program


DELETABLE_WITH = ("draft", "cancelled")


def delete_program(*, session: Session, actor: Principal, program_id: int) -> None:
    """Delete a program and its draft/cancelled campaigns. Refused while any campaign is
    beyond draft (submitted, approved, running, ...) or a cancelled one has contacts:
    what was sent stays on record."""
    program = get_program(session=session, actor=actor, program_id=program_id)
    regions.require_scope(actor, program.region_code)
    campaigns = list(session.scalars(select(Campaign).where(
        Campaign.program_id == program.id).order_by(Campaign.id)))
    busy = [c for c in campaigns if c.state not in DELETABLE_WITH]
    if busy:
        raise Conflict(
            f"program {program.id} has campaigns beyond draft or cancelled: "
            + ", ".join(f"{c.id} ({c.state})" for c in busy), field="program_id")
    ids = [c.id for c in campaigns]
    if ids and session.scalar(select(Contact.id).where(Contact.campaign_id.in_(ids)).limit(1)):
        raise Conflict(f"program {program.id} has a cancelled campaign with contacts; "
                       "it stays on record", field="program_id")
    before = {**_program_data(program), "campaigns": ids}
    audit(session, actor=actor, action="program.delete", obj=program, before=before,
          after=None)
    for c in campaigns:
        session.delete(c)
    session.flush()
    session.delete(program)
    session.flush()


def _program_visible(actor: Principal, program: Program) -> bool:
    # a city or county office runs its own campaigns under its province's program
    if actor.region_code is None:
        return True
    return _visible(actor, program.region_code) or regions.within(
        actor.region_code, program.region_code)


def list_programs(*, session: Session, actor: Principal) -> list[Program]:
    rows = session.scalars(select(Program).order_by(Program.id)).all()
    return [p for p in rows if _program_visible(actor, p)]


def _visible(actor: Principal, region: str) -> bool:
    return actor.region_code is None or regions.within(region, actor.region_code)


def remaining_budget(session: Session, program: Program, *, excluding: int | None = None) -> float:
    q = select(func.coalesce(func.sum(Campaign.budget), 0)).where(
        Campaign.program_id == program.id, Campaign.state != "cancelled",
        Campaign.is_template.is_(False))
    if excluding is not None:
        q = q.where(Campaign.id != excluding)
    return float(program.budget) - float(session.scalar(q) or 0)


# -- campaigns --------------------------------------------------------------------------

def _check_snapshot(session: Session, actor: Principal, snapshot_id: int | None) -> None:
    """The audience snapshot exists and belongs to the user's region: taken inside it, or
    in a region containing it (a province snapshot for a county, or an operator-wide or
    system one) — not in another city's (an id typed by hand used to be taken as is, and
    the campaign then had no audience)."""
    if snapshot_id is None:
        return
    from telcamp.segments.models import SegmentSnapshot

    snap = session.get(SegmentSnapshot, snapshot_id)
    mine = snap is not None and (
        actor.region_code is None or snap.region_code is None
        or regions.within(snap.region_code, actor.region_code)
        or regions.within(actor.region_code, snap.region_code))
    if not mine:
        # one message for both: a snapshot of another region is not the user's to know of
        raise ValidationFailed(f"snapshot_id: there is no audience snapshot {snapshot_id} in "
                               "your region; pick one from the list", field="snapshot_id")


def _check_schedule(program: Program, start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end <= start:
        raise ValidationFailed("the schedule ends before it starts", field="end_at")
    for value, name in ((start, "start_at"), (end, "end_at")):
        if value is not None and not program.start_date <= value.date() <= program.end_date:
            raise ValidationFailed(
                f"{name} {value.date()} is outside the program's period "
                f"{program.start_date} – {program.end_date}", field=name)


def _check_cells(cells: list[CellIn], fields: set[str]) -> None:
    cell_rules.validate_cells(cells)
    for i, cell in enumerate(cells):
        _check_cell_schedule(cell, f"cells[{i}]")
        for channel, by_lang in cell.messages.items():
            if channel not in cell.channels:
                raise ValidationFailed(
                    f"cells[{i}] ({cell.name}): message for {channel}, which is not one of "
                    f"the cell's channels {cell.channels}", field=f"cells[{i}].messages")
            for lang, text in by_lang.items():
                messages.check_message(text, channel=channel, fields=fields,
                                       where=f"cells[{i}].messages.{channel}.{lang}")


def _build_cells(cells: list[CellIn]) -> list[Cell]:
    return [Cell(position=i, **c.model_dump()) for i, c in enumerate(cells)]


_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
CELL_SCHEDULE_KEYS = frozenset({"window_start", "window_end", "start_offset_days"})


def _check_cell_schedule(cell: CellIn, where: str) -> None:
    """A cell's own schedule: its send window and/or a start offset in days."""
    sched = cell.schedule or {}
    unknown = set(sched) - CELL_SCHEDULE_KEYS
    if unknown:
        raise ValidationFailed(f"{where} ({cell.name}): unknown schedule field "
                               f"{sorted(unknown)[0]!r} (use window_start, window_end, "
                               "start_offset_days)", field=f"{where}.schedule")
    for key in ("window_start", "window_end"):
        if key in sched and not _HHMM.match(str(sched[key])):
            raise ValidationFailed(f"{where} ({cell.name}): {key} {sched[key]!r} is not HH:MM",
                                   field=f"{where}.schedule.{key}")
    if "window_start" in sched and "window_end" in sched and \
            str(sched["window_end"]) <= str(sched["window_start"]):
        raise ValidationFailed(f"{where} ({cell.name}): the send window ends before it starts",
                               field=f"{where}.schedule.window_end")
    offset = sched.get("start_offset_days", 0)
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= 366:
        raise ValidationFailed(f"{where} ({cell.name}): start_offset_days must be a whole "
                               f"number of days 0-366, got {offset!r}",
                               field=f"{where}.schedule.start_offset_days")


def _per_cell(campaign: Campaign, waves: list[WaveIn]) -> list[WaveIn]:
    """When a cell has its own schedule, every campaign-wide wave is split into one wave
    per cell (each materialises only its cell), so each cell runs on its own window and
    start offset; a wave already given for a cell and channel is kept as it is."""
    if not any(c.schedule for c in campaign.cells):
        return waves
    explicit = {(w.cell_name, w.channel) for w in waves if w.cell_name is not None}
    out: list[WaveIn] = []
    for w in waves:
        if w.cell_name is not None:
            out.append(w)
            continue
        out.extend(w.model_copy(update={"cell_name": c.name}) for c in campaign.cells
                   if w.channel in c.channels and (c.name, w.channel) not in explicit)
    return out


def _build_waves(campaign: Campaign, waves: list[WaveIn]) -> list[Wave]:
    by_name = {c.name: c for c in campaign.cells}
    out = []
    for i, w in enumerate(_per_cell(campaign, waves)):
        cell = None
        if w.cell_name is not None:
            cell = by_name.get(w.cell_name)
            if cell is None:
                raise ValidationFailed(f"waves[{i}]: no cell named {w.cell_name!r}",
                                       field=f"waves[{i}].cell_name")
        targets = [cell] if cell else campaign.cells
        if not any(w.channel in c.channels for c in targets):
            raise ValidationFailed(
                f"waves[{i}]: channel {w.channel} is not among the cells' channels",
                field=f"waves[{i}].channel")
        if w.window_end <= w.window_start:
            raise ValidationFailed(f"waves[{i}]: the send window ends before it starts",
                                   field=f"waves[{i}].window_end")
        schedule = w.schedule.model_dump(mode="json")
        window = (w.window_start, w.window_end)
        own = (cell.schedule or {}) if cell is not None else {}
        if own:  # the cell's own schedule wins over the wave's window
            window = (str(own.get("window_start", window[0])),
                      str(own.get("window_end", window[1])))
            offset = int(own.get("start_offset_days", 0))
            if offset:
                schedule["start_offset_days"] = offset
                if campaign.start_at is not None and campaign.end_at is not None and \
                        campaign.start_at + timedelta(days=offset) >= campaign.end_at:
                    assert cell is not None
                    raise ValidationFailed(
                        f"cell {cell.name} starts {offset} days after the campaign's start, "
                        "when the campaign has ended", field="cells.schedule")
        out.append(Wave(cell=cell, channel=w.channel, schedule=schedule,
                        window_start=window[0], window_end=window[1], state="planned",
                        runs=0, contacts_planned=0, controls=0))
    return out


def _waves_as_set(campaign: Campaign) -> dict[str, WaveIn]:
    """The campaign's waves as the marketer set them, one per channel (per-cell copies are
    made again from the cells by _per_cell; a cell's own offset comes from the cell)."""
    out: dict[str, WaveIn] = {}
    for w in campaign.waves:
        if w.channel not in out:
            schedule = {k: v for k, v in (w.schedule or {}).items() if k != "start_offset_days"}
            out[w.channel] = WaveIn.model_validate({
                "channel": w.channel, "schedule": schedule,
                "window_start": w.window_start, "window_end": w.window_end})
    return out


def _carry_waves(kept: dict[str, WaveIn], defaults: list[WaveIn]) -> list[WaveIn]:
    """Saving the cells rebuilds the waves: a channel that had a wave keeps its repeat,
    weekdays and window; only a channel new to the cells gets the default wave."""
    return [kept.get(d.channel, d) for d in defaults]


def _default_waves(campaign: Campaign) -> list[WaveIn]:
    channels: list[str] = []
    for c in campaign.cells:
        for ch in c.channels:
            if ch not in channels:
                channels.append(ch)
    from telcamp.channels.config_store import send_windows

    windows = send_windows()  # a channel's default window (channel settings)
    return [WaveIn.model_validate({"channel": ch} | (
        {"window_start": windows[ch][0], "window_end": windows[ch][1]}
        if ch in windows else {})) for ch in channels]


def _check_budget(session: Session, program: Program, budget: float, campaign_id: int | None
                  ) -> None:
    left = remaining_budget(session, program, excluding=campaign_id)
    if budget > left:
        raise ValidationFailed(
            f"budget {budget:g} is above the program's remaining budget {left:g}",
            field="budget")


def create_campaign(*, session: Session, actor: Principal, campaign_in: CampaignCreate
                    ) -> Campaign:
    program = get_program(session=session, actor=actor, program_id=campaign_in.program_id)
    region = campaign_in.region_code or program.region_code
    if campaign_in.region_code is None and actor.region_code is not None and regions.within(
            actor.region_code, program.region_code):
        region = actor.region_code  # a county office's campaign under the province program
    regions.require_scope(actor, region)
    if not regions.within(region, program.region_code):
        raise ValidationFailed(
            f"region {region} is not inside the program's region {program.region_code}",
            field="region_code")
    _check_schedule(program, campaign_in.start_at, campaign_in.end_at)
    _check_budget(session, program, campaign_in.budget, None)
    _check_snapshot(session, actor, campaign_in.snapshot_id)
    if campaign_in.cells:
        _check_cells(campaign_in.cells, subscriber_fields())
    wanted = None
    if campaign_in.exclusion_overrides:
        from telcamp.campaigns import overrides

        overrides.check_allowed(actor)  # non-admins are refused before anything is written
        wanted = overrides.parse(campaign_in.exclusion_overrides)
    now = clock.now()
    data = campaign_in.model_dump(exclude={"cells", "waves", "region_code",
                                           "exclusion_overrides"})
    campaign = Campaign(**data, exclusion_overrides={}, region_code=region, state="draft",
                        state_reason="",
                        created_by=actor.username, created_at=now, updated_at=now,
                        is_template=False)
    campaign.cells = _build_cells(campaign_in.cells)
    session.add(campaign)
    session.flush()
    campaign.waves = _build_waves(campaign, campaign_in.waves or _default_waves(campaign))
    session.flush()
    if wanted is not None:
        from telcamp.campaigns import overrides

        overrides.apply(session, actor=actor, campaign=campaign, wanted=wanted)
    audit(session, actor=actor, action="campaign.create", obj=campaign, before=None,
          after=content(campaign))
    return campaign


def get_campaign(*, session: Session, actor: Principal, campaign_id: int,
                 for_update: bool = False) -> Campaign:
    q = select(Campaign).where(Campaign.id == campaign_id).options(
        selectinload(Campaign.cells), selectinload(Campaign.waves),
        selectinload(Campaign.approvals))
    if for_update:
        q = q.with_for_update()
    campaign = session.scalars(q).first()
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} does not exist", field="campaign_id")
    if actor.region_code is not None and not _visible(actor, campaign.region_code):
        # out of scope looks like absent, so ids do not reveal other regions' campaigns
        raise NotFound(f"campaign {campaign_id} does not exist", field="campaign_id")
    return campaign


def list_campaigns(*, session: Session, actor: Principal, state: str | None = None,
                   program_id: int | None = None) -> list[Campaign]:
    q = select(Campaign).order_by(Campaign.id.desc())
    if state:
        q = q.where(Campaign.state == state)
    if program_id:
        q = q.where(Campaign.program_id == program_id)
    return [c for c in session.scalars(q).all() if _visible(actor, c.region_code)]


def update_campaign(*, session: Session, actor: Principal, campaign_id: int,
                    campaign_in: CampaignUpdate) -> Campaign:
    """Edit content. A submitted or approved campaign loses its approvals and is a draft."""
    campaign = get_campaign(session=session, actor=actor, campaign_id=campaign_id,
                            for_update=True)
    if campaign.state not in lifecycle.EDITABLE_STATES:
        raise Conflict(f"campaign {campaign.id} is {campaign.state}; only draft, rejected, "
                       "submitted or approved campaigns can be edited", field="state")
    before = content(campaign)
    changes = campaign_in.model_dump(exclude_unset=True, exclude={"cells", "waves"})
    if "exclusion_overrides" in changes:
        from telcamp.campaigns import overrides

        wanted = overrides.parse(changes.pop("exclusion_overrides"))
        now_skip = {(o["list_id"], o["reason"]) for o in overrides.listing(session, campaign.id)}
        if {(x.list_id, x.reason.strip()) for x in wanted.skip} != now_skip:
            overrides.check_allowed(actor)
            overrides.apply(session, actor=actor, campaign=campaign, wanted=wanted)
    program = campaign.program
    start = changes.get("start_at", campaign.start_at)
    end = changes.get("end_at", campaign.end_at)
    _check_schedule(program, start, end)
    if "budget" in changes:
        _check_budget(session, program, changes["budget"], campaign.id)
    if changes.get("snapshot_id") not in (None, campaign.snapshot_id):
        _check_snapshot(session, actor, changes["snapshot_id"])
    for key, value in changes.items():
        setattr(campaign, key, value)
    if campaign_in.cells is not None:
        _check_cells(campaign_in.cells, subscriber_fields())
        kept = _waves_as_set(campaign)
        campaign.waves = []
        campaign.cells = []
        session.flush()
        campaign.cells = _build_cells(campaign_in.cells)
        session.flush()
        campaign.waves = _build_waves(
            campaign, campaign_in.waves or _carry_waves(kept, _default_waves(campaign)))
    elif campaign_in.waves is not None:
        campaign.waves = _build_waves(campaign, campaign_in.waves)
    campaign.rehearsal = None  # figures of the old content no longer hold
    campaign.updated_at = clock.now()
    if campaign.state in ("submitted", "approved"):
        void_approvals(campaign)
        lifecycle.transition(campaign, "draft", reason="edited after submission")
    elif campaign.state == "rejected":
        lifecycle.transition(campaign, "draft", reason="edited after rejection")
    session.flush()
    audit(session, actor=actor, action="campaign.update", obj=campaign, before=before,
          after=content(campaign))
    return campaign


def void_approvals(campaign: Campaign) -> None:
    for approval in campaign.approvals:
        if approval.decision in ("pending", "approved"):
            approval.decision = "void"


def content(campaign: Campaign) -> dict[str, Any]:
    """What approvers approve: the campaign's content (not its state)."""
    def cell(c: Cell) -> dict[str, Any]:
        return {k: getattr(c, k) for k in (
            "name", "rule", "control_pct", "offer_code", "reward_type", "reward_size",
            "reward_validity_days", "channels", "messages", "schedule")}

    def iso(v: datetime | None) -> str | None:
        return None if v is None else v.isoformat()

    return {
        "name": campaign.name, "region_code": campaign.region_code,
        "segment_id": campaign.segment_id, "snapshot_id": campaign.snapshot_id,
        "fixed_audience": campaign.fixed_audience, "offer_code": campaign.offer_code,
        "offer_type": campaign.offer_type, "priority": campaign.priority,
        "budget": float(campaign.budget), "start_at": iso(campaign.start_at),
        "end_at": iso(campaign.end_at), "auto_launch": campaign.auto_launch,
        "reparticipation": campaign.reparticipation,
        "reparticipation_days": campaign.reparticipation_days,
        "exclusion_overrides": campaign.exclusion_overrides,
        "cells": [cell(c) for c in campaign.cells],
        "waves": [{"channel": w.channel, "schedule": w.schedule, "window_start": w.window_start,
                   "window_end": w.window_end} for w in campaign.waves],
    }


def changes_since_submission(campaign: Campaign) -> list[dict[str, Any]]:
    """Fields whose value differs from what was last submitted ([] on first submission)."""
    if not campaign.submitted_content:
        return []
    now = content(campaign)
    old = campaign.submitted_content.get("content", {})
    return [{"field": k, "before": old.get(k), "after": now.get(k)}
            for k in now if old.get(k) != now.get(k)]


def pending_approvals(campaign: Campaign) -> list[Approval]:
    return [a for a in campaign.approvals if a.decision == "pending"]
