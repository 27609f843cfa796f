"""Templates, cloning, the case library of past campaigns, previews and contact counts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from telcamp.access.masking import mask_msisdn, mask_row
from telcamp.campaigns import cell_counts, messages, regions
from telcamp.campaigns import service as campaign_service
from telcamp.campaigns.models import Campaign, Cell, Contact, Wave
from telcamp.campaigns.schemas import PreviewIn
from telcamp.core import clock, warehouse
from telcamp.core.errors import NotFound, ValidationFailed
from telcamp.core.security import Principal

SENT_STATES = ("sent", "delivered", "responded", "converted")


class CloneIn(BaseModel):
    name: str | None = None
    as_template: bool = False


def clone(*, session: Session, actor: Principal, campaign_id: int, as_template: bool = False,
          name: str | None = None) -> Campaign:
    """A new draft (or template) with the same content; no approvals, no contacts."""
    src = campaign_service.get_campaign(session=session, actor=actor, campaign_id=campaign_id)
    regions.require_scope(actor, src.region_code)
    now = clock.now()
    copy = Campaign(
        program_id=src.program_id, name=name or f"{src.name} (copy)",
        region_code=src.region_code, segment_id=src.segment_id, snapshot_id=src.snapshot_id,
        fixed_audience=src.fixed_audience, offer_code=src.offer_code,
        offer_type=src.offer_type, priority=src.priority, state="draft", state_reason="",
        budget=0 if as_template else src.budget, start_at=src.start_at, end_at=src.end_at,
        auto_launch=src.auto_launch, reparticipation=src.reparticipation,
        reparticipation_days=src.reparticipation_days,
        exclusion_overrides={}, is_template=as_template,
        cloned_from=src.id, created_by=actor.username, created_at=now, updated_at=now)
    if (src.exclusion_overrides or {}).get("skip"):
        # overrides are an admin's decision for ONE campaign: the copy has none, and the
        # source's snapshot (taken with the overridden lists' members back in) is not
        # reused — the copy's audience is chosen again
        copy.snapshot_id = None
    if not as_template and src.budget:
        left = campaign_service.remaining_budget(session, src.program)
        if float(src.budget) > left:
            copy.budget = 0  # the copy starts without budget rather than overdrawing
    copy.cells = [Cell(position=c.position, name=c.name, rule=c.rule,
                       control_pct=c.control_pct, offer_code=c.offer_code,
                       reward_type=c.reward_type, reward_size=c.reward_size,
                       reward_validity_days=c.reward_validity_days,
                       channels=list(c.channels), messages=dict(c.messages),
                       schedule=dict(c.schedule)) for c in src.cells]
    session.add(copy)
    session.flush()
    by_name = {c.name: c for c in copy.cells}
    src_names = {c.id: c.name for c in src.cells}
    copy.waves = [Wave(cell=by_name.get(src_names.get(w.cell_id or -1, "")), channel=w.channel,
                       schedule=dict(w.schedule), window_start=w.window_start,
                       window_end=w.window_end, state="planned", runs=0,
                       contacts_planned=0, controls=0) for w in src.waves]
    session.flush()
    campaign_service.audit(session, actor=actor,
                           action="campaign.template" if as_template else "campaign.clone",
                           obj=copy, before=None, after={"from": src.id, "template": as_template})
    return copy


def _headline(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = session.execute(
        select(Contact.campaign_id,
               func.sum(case((Contact.is_control.is_(False), 1), else_=0)),
               func.sum(case((Contact.is_control.is_(True), 1), else_=0)),
               func.sum(case((Contact.state.in_(SENT_STATES), 1), else_=0)),
               func.sum(case((Contact.state.in_(("responded", "converted")), 1), else_=0)),
               func.sum(case((Contact.state == "converted", 1), else_=0)))
        .where(Contact.campaign_id.in_(ids)).group_by(Contact.campaign_id)).all()
    out = {}
    for cid, targeted, control, sent, responded, converted in rows:
        t, sn = int(targeted or 0), int(sent or 0)
        out[int(cid)] = {"targeted": t, "control": int(control or 0), "sent": sn,
                         "responded": int(responded or 0), "converted": int(converted or 0),
                         "response_rate": (int(responded or 0) / sn) if sn else None,
                         "conversion_rate": (int(converted or 0) / sn) if sn else None}
    return out


def search(*, session: Session, actor: Principal, offer: str | None = None,
           channel: str | None = None, region: str | None = None, start: str | None = None,
           end: str | None = None, templates: bool = False) -> list[dict[str, Any]]:
    """Past campaigns (or templates) matching offer, channel, region and period."""
    q = select(Campaign).where(Campaign.is_template.is_(templates)).order_by(Campaign.id.desc())
    if not templates:
        q = q.where(Campaign.state.in_(("running", "paused", "completed", "cancelled")))
    if offer:
        like = f"%{offer.lower()}%"
        q = q.where(func.lower(Campaign.offer_code).like(like)
                    | func.lower(Campaign.offer_type).like(like))
    if channel:
        q = q.where(Campaign.id.in_(select(Wave.campaign_id).where(Wave.channel == channel)))
    try:
        start_d = date.fromisoformat(start) if start else None
        end_d = date.fromisoformat(end) if end else None
    except ValueError as exc:
        raise ValidationFailed(f"period dates are YYYY-MM-DD: {exc}", field="start") from exc
    found = []
    for c in session.scalars(q).all():
        if actor.region_code is not None and not regions.within(c.region_code, actor.region_code):
            continue
        if region and not regions.within(c.region_code, region):
            continue
        if start_d and c.end_at and c.end_at.date() < start_d:
            continue
        if end_d and c.start_at and c.start_at.date() > end_d:
            continue
        found.append(c)
    heads = _headline(session, [c.id for c in found])
    return [{"id": c.id, "name": c.name, "state": c.state, "region_code": c.region_code,
             "offer_code": c.offer_code, "offer_type": c.offer_type,
             "channels": sorted({w.channel for w in c.waves}),
             "start_at": _iso(c.start_at), "end_at": _iso(c.end_at),
             "results": heads.get(c.id, {})} for c in found]


def _iso(v: datetime | None) -> str | None:
    return None if v is None else v.isoformat()


def contact_counts(*, session: Session, actor: Principal, campaign_id: int) -> dict[str, Any]:
    """Contacts by state and by wave, and per wave the split the campaign page shows:
    planned (to be or being sent, or sent), suppressed by the contact policy's reason,
    and the control group — so a suppressed contact is never counted as planned."""
    from telcamp.dispatch.tables import contact as contact_table

    campaign = campaign_service.get_campaign(session=session, actor=actor,
                                             campaign_id=campaign_id)
    c = contact_table.c
    # grouped by the plain reason (a CASE with a bound value does not group on PostgreSQL)
    rows = session.execute(
        select(c.wave_id, c.state, c.is_control, c.reason, func.count())
        .where(c.campaign_id == campaign.id)
        .group_by(c.wave_id, c.state, c.is_control, c.reason)).all()
    by_state: dict[str, int] = {}
    by_wave: dict[str, dict[str, int]] = {}
    split: dict[str, dict[str, Any]] = {}
    total: dict[str, Any] = {"planned": 0, "control": 0, "suppressed": {}, "cancelled": 0}
    for wave_id, state, is_control, reason, n in rows:
        n = int(n)
        by_state[state] = by_state.get(state, 0) + n
        wave = by_wave.setdefault(str(wave_id), {})
        wave[state] = wave.get(state, 0) + n
        mine = split.setdefault(str(wave_id), {"planned": 0, "control": 0, "suppressed": {},
                                               "cancelled": 0})
        for bucket in (mine, total):
            if is_control:
                bucket["control"] += n
            elif state == "suppressed":
                key = str(reason or "other")
                bucket["suppressed"][key] = bucket["suppressed"].get(key, 0) + n
            elif state == "cancelled":
                bucket["cancelled"] += n
            else:
                bucket["planned"] += n
    return {"campaign_id": campaign.id, "by_state": by_state, "by_wave": by_wave,
            "split": split, "total": total}


def preview(*, session: Session, actor: Principal, campaign_id: int, preview_in: PreviewIn
            ) -> dict[str, Any]:
    """The message one subscriber would get, with SMS encoding and parts: the chosen
    number, or (none given) a random member of the cell from the audience snapshot.
    The answer names the subscriber, masked as the actor's role requires."""
    campaign = campaign_service.get_campaign(session=session, actor=actor,
                                             campaign_id=campaign_id)
    cell = next((c for c in campaign.cells if c.name == preview_in.cell_name),
                campaign.cells[0] if campaign.cells else None)
    if cell is None:
        raise ValidationFailed("the campaign has no cells", field="cells")
    msisdn = preview_in.msisdn or _random_member(campaign, cell, actor)
    with warehouse.connect(read_only=True) as con:
        rel = con.execute("SELECT * FROM profile WHERE msisdn = ?", [int(msisdn)])
        cols = [d[0] for d in rel.description]
        rows = rel.fetchall()
    if not rows:
        raise NotFound(f"subscriber {msisdn} is not in the warehouse", field="msisdn")
    subscriber = dict(zip(cols, rows[0], strict=True))
    if actor.region_code is not None and actor.region_code not in {
            subscriber.get("region_code"), subscriber.get("city_code"),
            subscriber.get("province_code")}:
        raise NotFound(f"subscriber {msisdn} is not in the warehouse", field="msisdn")
    language = preview_in.language or str(subscriber.get("language") or "en")
    text = preview_in.text
    if text is None:
        by_lang = {k: v for k, v in preview_in.texts.items() if v.strip()} or (
            cell.messages or {}).get(preview_in.channel, {})
        text = by_lang.get(language) or next(iter(by_lang.values()), None)
    if text is None:
        raise ValidationFailed(f"cell {cell.name} has no {preview_in.channel} message",
                               field="messages")
    shown = msisdn
    if preview_in.msisdn is None and not actor.has_pii:
        # a random member is someone the user did not name: render with their number and
        # e-mail masked, as every other page shows them to this role
        subscriber = mask_row({**subscriber, "msisdn": msisdn}, actor)
        shown = str(subscriber["msisdn"])
    context = messages.render_context(messages.offer_fields(cell), subscriber, shown)
    out = messages.preview(text, channel=preview_in.channel, subscriber=context)
    out.update({"cell": cell.name, "language": language,
                "msisdn": mask_msisdn(msisdn, actor), "random": preview_in.msisdn is None})
    return out


def _random_member(campaign: Any, cell: Any, actor: Principal) -> str:
    """A random subscriber the cell gets from the campaign's audience snapshot, within the
    actor's region (the preview refuses anyone else)."""
    if campaign.snapshot_id is None:
        raise ValidationFailed("type a subscriber's number, or choose the campaign's audience "
                               "snapshot to preview a random member", field="msisdn")
    cells = cell_counts.saved_cells(campaign)
    position = next(i for i, c in enumerate(campaign.cells) if c.id == cell.id)
    member = cell_counts.random_member(campaign.snapshot_id, cells, position,
                                       region_code=actor.region_code)
    if member is None:
        raise ValidationFailed(f"cell {cell.name} gets no one from the audience snapshot; "
                               "type a subscriber's number to preview", field="msisdn")
    return str(member)
