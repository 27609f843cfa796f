"""Default exclusions and their per-campaign overrides.

The segment funnel (telcamp.segments) asks `default_exclusions()` which rules to apply,
in order, to every audience: every blacklist, then every greylist, then every opt-out
list, then "contacted by any campaign in the last N days" (settings.recent_contact_days).
An admin (permission list.override) may let one campaign ignore one default list; that
override is stored here keyed by campaign id and audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from telcamp.core import clock
from telcamp.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from telcamp.core.security import Principal
from telcamp.core.settings import get_settings
from telcamp.lists.models import DEFAULT_EXCLUDED_TYPES, ListOverride, SpecialList
from telcamp.lists.scope import scope_of
from telcamp.lists.service import audit, get_list
from telcamp.warehouse.schema import NOT_CONTACTED_OUTCOMES


@dataclass(frozen=True)
class ExclusionRule:
    """One step of the exclusion funnel.

    kind "list": members of list `list_id` whose expiry is unset or after `now`.
    kind "recent_contact": msisdns in warehouse contact_history with contacted_at >= `since`.
    `label` is what the funnel shows; lists the user may not read show only their type.
    """

    kind: Literal["list", "recent_contact"]
    label: str
    now: datetime
    list_id: int | None = None
    list_type: str | None = None
    days: int | None = None
    list_name: str | None = None  # None when the principal may not read the list

    @property
    def since(self) -> datetime | None:
        return None if self.days is None else self.now - timedelta(days=self.days)

    def warehouse_sql(self, msisdn_expr: str = "p.msisdn") -> tuple[str, list[Any]]:
        """A DuckDB boolean condition, true when the subscriber is excluded by this rule,
        with its bound values (`?` placeholders, in order)."""
        if self.kind == "list":
            return (
                f"EXISTS (SELECT 1 FROM list_members lm WHERE lm.list_id = ? "
                f"AND lm.msisdn = {msisdn_expr} "
                f"AND (lm.expires_at IS NULL OR lm.expires_at > ?))",
                [self.list_id, self.now],
            )
        # the same outcomes as the segments' `contacted` rule: only contacts that went out
        marks = ", ".join("?" for _ in NOT_CONTACTED_OUTCOMES)
        return (
            f"EXISTS (SELECT 1 FROM contact_history ch WHERE ch.msisdn = {msisdn_expr} "
            f"AND ch.contacted_at >= ? AND ch.outcome NOT IN ({marks}))",
            [self.since, *NOT_CONTACTED_OUTCOMES],
        )


def check_campaign(session: Session, *, principal: Principal, campaign_id: int,
                   gone_ok: bool = False) -> None:
    """Refuse a campaign id the user cannot see (of their region or below, as the
    campaigns domain shows them) exactly like one that does not exist.

    Another region's overrides are not the user's to read or to apply to their funnel
    (they would learn that campaign's exempted lists and reasons), and an override stored
    under an id no campaign has yet would let a campaign created later under that id
    skip the blacklist without anyone deciding it. `gone_ok`: an id no campaign has
    passes (removing an override left behind by a deleted campaign).
    """
    from telcamp.access.regions import in_scope
    from telcamp.campaigns.models import Campaign

    found = session.get(Campaign, campaign_id)
    if found is None and gone_ok:
        return
    if found is None or not in_scope(principal, found.region_code):
        raise NotFound(f"campaign {campaign_id} not found", field="campaign_id")


def default_exclusions(
    session: Session, *, principal: Principal, campaign_id: int | None = None
) -> list[ExclusionRule]:
    """The default exclusion rules in funnel order, minus the campaign's overrides.

    Every default-excluded list of the operator applies, whoever owns it: a complainer
    blacklisted by one city must not be contacted by another city's campaign. Lists the
    principal may not read are labelled by type only, so their names do not leak.
    A campaign the principal cannot see is "not found" (`check_campaign`).
    """
    now = clock.now()
    scope = scope_of(principal)
    overridden: set[int] = set()
    if campaign_id is not None:
        check_campaign(session, principal=principal, campaign_id=campaign_id)
        overridden = set(session.scalars(
            select(ListOverride.list_id).where(ListOverride.campaign_id == campaign_id)
        ).all())
    lists = session.scalars(
        select(SpecialList).where(SpecialList.default_excluded.is_(True))
        .order_by(SpecialList.id)
    ).all()
    rules: list[ExclusionRule] = []
    for kind in DEFAULT_EXCLUDED_TYPES:
        for lst in lists:
            if lst.type != kind or lst.id in overridden:
                continue
            label = f"{kind}: {lst.name}" if scope.can_read(lst.region_code) else (
                f"{kind} (another region)"
            )
            rules.append(ExclusionRule(
                kind="list", label=label, now=now, list_id=lst.id, list_type=kind,
                list_name=lst.name if scope.can_read(lst.region_code) else None))
    days = get_settings().recent_contact_days
    if days > 0:
        rules.append(ExclusionRule(
            kind="recent_contact", label=f"contacted in the last {days} days", now=now,
            days=days,
        ))
    return rules


def overrides(session: Session, *, campaign_id: int, principal: Principal
              ) -> list[ListOverride]:
    check_campaign(session, principal=principal, campaign_id=campaign_id)
    return list(session.scalars(
        select(ListOverride).where(ListOverride.campaign_id == campaign_id)
        .order_by(ListOverride.id)
    ).all())


def overrides_of_list(session: Session, *, list_id: int, principal: Principal
                      ) -> list[ListOverride]:
    """The campaigns allowed to ignore the list, as far as the reader can see them: a
    city reading the province's blacklist must not learn which other city's campaign is
    exempt, or why."""
    from telcamp.access.regions import in_scope
    from telcamp.campaigns.models import Campaign

    rows = list(session.scalars(
        select(ListOverride).where(ListOverride.list_id == list_id)
        .order_by(ListOverride.campaign_id)
    ).all())
    if principal.region_code is None:
        return rows
    owners = dict(session.execute(select(Campaign.id, Campaign.region_code).where(
        Campaign.id.in_({o.campaign_id for o in rows}))).all())
    return [o for o in rows
            if o.campaign_id in owners and in_scope(principal, owners[o.campaign_id])]


def add_override(
    session: Session, *, principal: Principal, campaign_id: int, list_id: int, reason: str
) -> ListOverride:
    """Let campaign `campaign_id` ignore default list `list_id` (admins only; audited)."""
    if not principal.can("list.override"):
        raise Forbidden("overriding a default exclusion needs permission list.override")
    check_campaign(session, principal=principal, campaign_id=campaign_id)
    lst = get_list(session, principal=principal, list_id=list_id)
    if not lst.default_excluded:
        raise ValidationFailed(
            f"list {lst.name!r} ({lst.type}) is not a default exclusion; nothing to override",
            field="list_id",
        )
    if not reason.strip():
        raise ValidationFailed("an override needs a reason", field="reason")
    existing = session.scalars(select(ListOverride).where(
        ListOverride.campaign_id == campaign_id, ListOverride.list_id == lst.id)).first()
    if existing is not None:
        raise Conflict(f"campaign {campaign_id} already overrides list {lst.id}",
                       field="list_id")
    row = ListOverride(campaign_id=campaign_id, list_id=lst.id, reason=reason.strip(),
                       created_by=principal.username, created_at=clock.now())
    session.add(row)
    session.flush()
    audit(session, actor=principal, action="list.override_add", object_id=lst.id, before=None,
          after={"campaign_id": campaign_id, "reason": row.reason})
    return row


def remove_override(
    session: Session, *, principal: Principal, campaign_id: int, list_id: int
) -> None:
    if not principal.can("list.override"):
        raise Forbidden("removing an override needs permission list.override")
    check_campaign(session, principal=principal, campaign_id=campaign_id, gone_ok=True)
    lst = get_list(session, principal=principal, list_id=list_id)
    row = session.scalars(select(ListOverride).where(
        ListOverride.campaign_id == campaign_id, ListOverride.list_id == lst.id)).first()
    if row is None:
        raise NotFound(f"campaign {campaign_id} has no override of list {list_id}")
    before = {"campaign_id": campaign_id, "reason": row.reason}
    session.delete(row)
    session.flush()
    audit(session, actor=principal, action="list.override_remove", object_id=lst.id,
          before=before, after=None)


__all__ = [
    "ExclusionRule", "add_override", "check_campaign", "default_exclusions", "overrides",
    "remove_override", "scope_of",
]
