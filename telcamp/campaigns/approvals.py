"""Approval chains: who must approve a campaign, decisions, the approver's inbox.

The chain depends on the owning region's level and the budget: by default a county
campaign goes to the city head, a city campaign to the province head, and a budget above
`approval_budget_threshold` needs the province head as well. An admin replaces this with
`telcamp approval-chain set` or the /admin/approval-chain page (chain.py).
Steps are decided in order; nobody approves what they submitted.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from telcamp.campaigns import chain, lifecycle, notify, regions
from telcamp.campaigns import service as campaign_service
from telcamp.campaigns.models import Approval, Campaign
from telcamp.core import clock
from telcamp.core.errors import Conflict, Forbidden, ValidationFailed
from telcamp.core.security import Principal

log = logging.getLogger(__name__)
APPROVER_ROLE = "approver"


def chain_for(session: Session, campaign: Campaign) -> list[tuple[str, str]]:
    """[(approver region, why)] in order, without repeats (chain.current is in force)."""
    config = chain.current(session)
    level = regions.level_of(campaign.region_code)
    levels = list(config["levels"].get(level, ["province"]))
    reasons = {lv: f"{level} campaign → {lv} head" for lv in levels}
    threshold = float(config["budget_threshold"])
    if float(campaign.budget) > threshold:
        for lv in config["above_threshold"]:
            if lv not in levels:
                levels.append(lv)
                reasons[lv] = f"budget {float(campaign.budget):g} above {threshold:g}"
    steps: list[tuple[str, str]] = []
    for lv in levels:
        node = regions.ancestor_at(campaign.region_code, lv)
        if node is None:
            raise ValidationFailed(
                f"no {lv} above region {campaign.region_code} to approve the campaign",
                field="region_code")
        if all(node != s[0] for s in steps):
            steps.append((node, reasons[lv]))
    return steps


def _round(campaign: Campaign) -> int:
    return max((a.round for a in campaign.approvals), default=0)


def current_step(campaign: Campaign) -> Approval | None:
    pending = [a for a in campaign.approvals if a.decision == "pending"]
    return min(pending, key=lambda a: a.step) if pending else None


def submit(*, session: Session, actor: Principal, campaign_id: int) -> Campaign:
    campaign = campaign_service.get_campaign(session=session, actor=actor,
                                             campaign_id=campaign_id, for_update=True)
    if not campaign.cells:
        raise ValidationFailed("the campaign has no cells; add at least one", field="cells")
    if campaign.start_at is None or campaign.end_at is None:
        raise ValidationFailed("set the campaign's start and end before submitting",
                               field="start_at")
    # approvers decide on figures of exactly this content: rehearse it now
    from telcamp.campaigns import rehearsal

    figures = rehearsal.rehearse(session=session, actor=actor, campaign_id=campaign_id)
    if figures["problems"]:
        raise ValidationFailed("the campaign cannot be submitted: "
                               + "; ".join(figures["problems"]), field="rehearsal")
    lifecycle.transition(campaign, "submitted", reason="submitted for approval")
    campaign.submitted_by = actor.username
    now_content = campaign_service.content(campaign)
    changes = campaign_service.changes_since_submission(campaign)
    campaign.submitted_content = {"content": now_content, "changes": changes}
    round_no = _round(campaign) + 1
    now = clock.now()
    for i, (region, why) in enumerate(chain_for(session, campaign), start=1):
        campaign.approvals.append(Approval(
            round=round_no, step=i, approver_role=APPROVER_ROLE, approver_region=region,
            reason=why, decision="pending", comment="", created_at=now))
    session.flush()
    campaign_service.audit(session, actor=actor, action="campaign.submit", obj=campaign,
                           before={"state": "draft"},
                           after={"state": "submitted", "round": round_no, "changes": changes})
    _notify_step(session, campaign)
    return campaign


def _notify_step(session: Session, campaign: Campaign) -> None:
    step = current_step(campaign)
    if step is None:
        return
    missing = notify.unreachable_approvers(session, step.approver_region)
    if missing["without_email"] or missing["nobody"]:
        # shown on the campaign page and in the inbox too (approvals.mail_warning)
        log.warning("campaign %s: approvers of %s without e-mail: %s%s", campaign.id,
                    step.approver_region, ", ".join(missing["without_email"]) or "-",
                    " (nobody is notified)" if missing["nobody"] else "")
    notify.queue(
        session, to=notify.approver_addresses(session, step.approver_region),
        subject=f"[Telcamp] Campaign to approve: {campaign.name}",
        body=(f"Campaign {campaign.id} \"{campaign.name}\" ({campaign.region_code}, budget "
              f"{float(campaign.budget):g}) waits for your approval (step {step.step}: "
              f"{step.reason}).\nSubmitted by {campaign.submitted_by}.\n"
              f"Open the approval inbox: /approvals\n"),
    )


def mail_warning(session: Session, campaign: Campaign) -> dict[str, Any] | None:
    """For the console: the current step's approvers who got no e-mail (no address), or
    None when everybody was reachable (or nothing waits)."""
    step = current_step(campaign) if campaign.state == "submitted" else None
    if step is None:
        return None
    missing = notify.unreachable_approvers(session, step.approver_region)
    if not missing["without_email"] and not missing["nobody"]:
        return None
    return {"region": step.approver_region, **missing}


def _decidable(session: Session, actor: Principal, campaign_id: int) -> tuple[Campaign, Approval]:
    if not actor.can("campaign.approve"):
        raise Forbidden("you may not approve or reject campaigns")
    campaign = campaign_service.get_campaign(session=session, actor=actor,
                                             campaign_id=campaign_id, for_update=True)
    step = current_step(campaign)
    if campaign.state != "submitted" or step is None:
        raise Conflict(f"campaign {campaign.id} is {campaign.state}, not waiting for approval",
                       field="state")
    if actor.username in (campaign.submitted_by, campaign.created_by):
        raise Forbidden("you cannot approve or reject a campaign you created or submitted")
    if actor.region_code is not None and actor.region_code != step.approver_region:
        raise Forbidden(
            f"step {step.step} of campaign {campaign.id} is for the head of "
            f"{step.approver_region}, not {actor.region_code}")
    return campaign, step


def approve(*, session: Session, actor: Principal, campaign_id: int, comment: str = ""
            ) -> Campaign:
    campaign, step = _decidable(session, actor, campaign_id)
    step.decision, step.comment = "approved", comment
    step.decided_by, step.decided_at = actor.username, clock.now()
    if current_step(campaign) is None:
        lifecycle.transition(campaign, "approved", reason=f"approved by {actor.username}")
        if campaign.auto_launch:
            lifecycle.transition(campaign, "scheduled", reason="approved; launches at start")
    session.flush()
    campaign_service.audit(session, actor=actor, action="campaign.approve", obj=campaign,
                           before={"step": step.step, "decision": "pending"},
                           after={"step": step.step, "decision": "approved", "comment": comment,
                                  "state": campaign.state})
    _notify_step(session, campaign)
    return campaign


def reject(*, session: Session, actor: Principal, campaign_id: int, comment: str) -> Campaign:
    if not comment.strip():
        raise ValidationFailed("say why the campaign is rejected", field="comment")
    campaign, step = _decidable(session, actor, campaign_id)
    step.decision, step.comment = "rejected", comment
    step.decided_by, step.decided_at = actor.username, clock.now()
    for other in campaign.approvals:
        if other.decision == "pending":
            other.decision = "void"
    lifecycle.transition(campaign, "rejected", reason=comment)
    session.flush()
    campaign_service.audit(session, actor=actor, action="campaign.reject", obj=campaign,
                           before={"step": step.step, "decision": "pending"},
                           after={"step": step.step, "decision": "rejected", "comment": comment})
    return campaign


def inbox(*, session: Session, actor: Principal) -> list[dict[str, Any]]:
    """Campaigns waiting for this approver's decision now (their step is the current one)."""
    q = select(Campaign).where(Campaign.state == "submitted").order_by(Campaign.id)
    out = []
    for campaign in session.scalars(q).all():
        step = current_step(campaign)
        if step is None or actor.username in (campaign.submitted_by, campaign.created_by):
            continue
        if actor.region_code is not None and step.approver_region != actor.region_code:
            continue
        from telcamp.campaigns import diff

        changes = (campaign.submitted_content or {}).get("changes", [])
        # the previous round's rejection, so the approver sees what was asked for
        rejected = max((a for a in campaign.approvals if a.decision == "rejected"),
                       key=lambda a: (a.round, a.step), default=None)
        out.append({"campaign": campaign, "step": step, "changes": changes,
                    "change_lines": diff.lines(changes), "rejection": rejected,
                    "mail": mail_warning(session, campaign)})
    return out
