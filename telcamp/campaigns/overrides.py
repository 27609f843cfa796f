"""Exclusion overrides of one campaign: an admin lets it ignore a default exclusion list
(blacklist, greylist, opt-out) — issue 4 item 5.

The rows live in the lists domain (`special_list_override`, telcamp.lists.exclusions,
which audits each add/remove); `campaign.exclusion_overrides` mirrors them
(`{"skip": [{"list_id", "list", "type", "reason", "by", "at"}]}`) so the campaign's
content, its audit trail and "what changed since the last submission" show them.

Honoured everywhere the lists apply: the campaign's audience snapshot is re-taken for the
campaign (the segment funnel leaves the overridden lists out), the rehearsal does not
count their members as suppressed, and the contact policy does not suppress them at
materialisation or at send (telcamp.policy.service). Changing overrides is a content
change: a submitted or approved campaign goes back to draft and its approvals are void.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from telcamp.campaigns import lifecycle
from telcamp.campaigns import service as campaign_service
from telcamp.campaigns.models import Campaign
from telcamp.core import clock
from telcamp.core.errors import Conflict, Forbidden, ValidationFailed
from telcamp.core.security import Principal


class SkipIn(BaseModel):
    # extra keys (list, type, by, at) are what CampaignRead shows: a round trip is fine
    model_config = ConfigDict(extra="ignore")
    list_id: int
    reason: str = Field(min_length=1, max_length=500)


class OverridesIn(BaseModel):
    """`skip`: the default lists this campaign ignores, each with why (replaces all)."""

    model_config = ConfigDict(extra="forbid")
    skip: list[SkipIn] = Field(default_factory=list)


def listing(session: Session, campaign_id: int) -> list[dict[str, Any]]:
    from telcamp.lists.models import ListOverride, SpecialList

    rows = session.execute(
        select(ListOverride, SpecialList).join(SpecialList, SpecialList.id == ListOverride.list_id)
        .where(ListOverride.campaign_id == campaign_id).order_by(ListOverride.id)).all()
    return [{"list_id": o.list_id, "list": lst.name, "type": lst.type, "reason": o.reason,
             "by": o.created_by, "at": o.created_at.isoformat()} for o, lst in rows]


def parse(data: Any) -> OverridesIn:
    from pydantic import ValidationError

    try:
        return OverridesIn.model_validate(data or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "exclusion_overrides." + ".".join(str(p) for p in first["loc"])
        raise ValidationFailed(f"{where}: {first['msg']}", field=where) from exc


def check_allowed(actor: Principal) -> None:
    if not actor.can("list.override"):
        raise Forbidden("only an admin (permission list.override) may override a default "
                        "exclusion list for a campaign", field="exclusion_overrides")


def apply(session: Session, *, actor: Principal, campaign: Campaign, wanted: OverridesIn
          ) -> bool:
    """Make the campaign's overrides exactly `wanted`. Returns whether anything changed.
    The caller has checked the campaign may be edited."""
    from telcamp.lists import exclusions

    check_allowed(actor)
    ids = [s.list_id for s in wanted.skip]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("exclusion_overrides.skip: a list is named twice",
                               field="exclusion_overrides.skip")
    have = {o["list_id"]: o for o in listing(session, campaign.id)}
    want = {s.list_id: s for s in wanted.skip}
    changed = False
    for list_id in have.keys() - want.keys():
        exclusions.remove_override(session, principal=actor, campaign_id=campaign.id,
                                   list_id=list_id)
        changed = True
    for list_id, s in want.items():
        if list_id in have and have[list_id]["reason"] == s.reason.strip():
            continue
        if list_id in have:  # a new reason: replace the row (both steps audited)
            exclusions.remove_override(session, principal=actor, campaign_id=campaign.id,
                                       list_id=list_id)
        exclusions.add_override(session, principal=actor, campaign_id=campaign.id,
                                list_id=list_id, reason=s.reason)
        changed = True
    if changed:
        campaign.exclusion_overrides = {"skip": listing(session, campaign.id)}
        _retake_snapshot(session, actor, campaign)
    return changed


def _retake_snapshot(session: Session, actor: Principal, campaign: Campaign) -> None:
    """The snapshot was cut after the default exclusions: take it again for this campaign
    (same segment and rule version) so the overridden lists' members are back in."""
    from telcamp.core.security import system_principal
    from telcamp.segments import service as segment_service
    from telcamp.segments.models import SegmentSnapshot

    segment_id, version = campaign.segment_id, None
    if campaign.snapshot_id is not None:
        old = session.get(SegmentSnapshot, campaign.snapshot_id)
        if old is not None:
            segment_id, version = old.segment_id, old.version
    if segment_id is None:
        return  # an audience not from a segment: nothing to re-take
    snap = segment_service.take_snapshot(session, segment_id=segment_id, version=version,
                                         principal=system_principal(),
                                         campaign_id=campaign.id)
    campaign.snapshot_id = snap.id


def set_overrides(*, session: Session, actor: Principal, campaign_id: int,
                  overrides_in: OverridesIn) -> Campaign:
    """The admin's action (API, CLI, campaign page): replace the campaign's overrides."""
    check_allowed(actor)
    campaign = campaign_service.get_campaign(session=session, actor=actor,
                                             campaign_id=campaign_id, for_update=True)
    if campaign.state not in lifecycle.EDITABLE_STATES:
        raise Conflict(f"campaign {campaign.id} is {campaign.state}; overrides change its "
                       "audience and can be set only before it is scheduled", field="state")
    before = listing(session, campaign.id)
    if not apply(session, actor=actor, campaign=campaign, wanted=overrides_in):
        return campaign
    campaign.rehearsal = None
    campaign.updated_at = clock.now()
    if campaign.state in ("submitted", "approved"):
        campaign_service.void_approvals(campaign)
        lifecycle.transition(campaign, "draft", reason="edited after submission")
    elif campaign.state == "rejected":
        lifecycle.transition(campaign, "draft", reason="edited after rejection")
    session.flush()
    campaign_service.audit(session, actor=actor, action="campaign.exclusion_override",
                           obj=campaign, before={"skip": before},
                           after=campaign.exclusion_overrides)
    return campaign


def overridable_lists(session: Session) -> list[Any]:
    """Default-excluded lists an admin may override (for the campaign page's form)."""
    from telcamp.lists.models import SpecialList

    return list(session.scalars(select(SpecialList).where(
        SpecialList.default_excluded.is_(True)).order_by(SpecialList.type, SpecialList.name)))
