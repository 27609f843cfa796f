"""The contact policy: read, change (a new version each time), and apply it.

`apply_to_wave` runs inside the materialisation transaction (opt-out, caps, arbitration
between campaigns); `apply_to_batch` runs in the dispatcher's claim transaction just
before a batch goes out (opt-out, caps, minimum gap, collisions inside the batch, quiet
hours). Both are a handful of set-based UPDATEs over the contacts in scope; every
suppressed contact gets state 'suppressed' with a reason code, every deferred one stays
'planned' with a later planned_at and a reason 'deferred:<why>'.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from telcamp.audit import service as audit
from telcamp.campaigns.models import Campaign, Cell
from telcamp.core import clock
from telcamp.core.security import Principal
from telcamp.dispatch.tables import (
    DEFERRED,
    PENDING,
    SUPPRESSED,
    contact,
    event,
    ids_in,
    send_log,
)
from telcamp.lists.models import ListMember, ListOverride, SpecialList
from telcamp.policy import quiet
from telcamp.policy.models import ContactPolicy
from telcamp.policy.schemas import WINDOWS, PolicyRead, PolicyUpdate

WINDOW_DELTAS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
# Reason codes (docs/policy.md lists them with their meaning).
REASONS = ("optout", "cap_24h", "cap_7d", "cap_30d", "arbitration", "deferred:min_gap",
           "deferred:quiet_hours")


def current(session: Session) -> PolicyRead:
    row = session.scalars(sa.select(ContactPolicy)
                          .order_by(ContactPolicy.version.desc()).limit(1)).first()
    return PolicyRead() if row is None else PolicyRead.model_validate(row)


def history(session: Session) -> list[PolicyRead]:
    rows = session.scalars(sa.select(ContactPolicy).order_by(ContactPolicy.version.desc()))
    return [PolicyRead.model_validate(r) for r in rows]


def update(*, session: Session, actor: Principal, policy_in: PolicyUpdate) -> PolicyRead:
    """Save `policy_in` as the next version (older versions stay for the record)."""
    before = current(session)
    row = ContactPolicy(version=before.version + 1, created_by=actor.username,
                        created_at=clock.now(), **policy_in.model_dump())
    session.add(row)
    session.flush()
    after = PolicyRead.model_validate(row)
    audit.record(session, actor=actor, action="policy.update", object_type="contact_policy",
                 object_id=row.version, before=before.model_dump(mode="json"),
                 after=after.model_dump(mode="json"), region_code=actor.region_code)
    return after


def _optout_members(policy: PolicyRead, now: datetime) -> sa.Select[Any]:
    return (sa.select(ListMember.msisdn).join(SpecialList, SpecialList.id == ListMember.list_id)
            .where(SpecialList.type.in_(policy.list_types),
                   sa.or_(ListMember.expires_at.is_(None), ListMember.expires_at > now)))


def _on_list_not_overridden(policy: PolicyRead, now: datetime) -> sa.ColumnElement[bool]:
    """The contact's subscriber is on a list of the policy's types that the contact's
    campaign does not override (an admin may let one campaign ignore a default list:
    telcamp.campaigns.overrides). Used only while some override exists."""
    overridden = (sa.select(ListOverride.id)
                  .where(ListOverride.list_id == ListMember.list_id,
                         ListOverride.campaign_id == contact.c.campaign_id)
                  .correlate_except(ListOverride))
    return sa.exists(
        sa.select(ListMember.msisdn).join(SpecialList, SpecialList.id == ListMember.list_id)
        .where(ListMember.msisdn == contact.c.msisdn,
               SpecialList.type.in_(policy.list_types),
               sa.or_(ListMember.expires_at.is_(None), ListMember.expires_at > now),
               ~overridden.exists()))


def _suppress(session: Session, where: sa.ColumnElement[bool], reason: str,
              now: datetime) -> int:
    result = cast("sa.CursorResult[Any]", session.execute(
        sa.update(contact).where(where)
        .values(state=SUPPRESSED, reason=reason, done_at=now, lease_id=None, lease_until=None)
        .execution_options(synchronize_session=False)))
    return int(result.rowcount or 0)


def _cap_rules(policy: PolicyRead) -> list[tuple[str | None, str, int]]:
    rules: list[tuple[str | None, str, int]] = [
        (None, w, int(n)) for w, n in policy.caps.items() if n is not None]
    for channel, caps in policy.channel_caps.items():
        rules += [(channel, w, int(n)) for w, n in caps.items() if n is not None]
    return rules


def _nobody_to_check(session: Session, policy: PolicyRead, now: datetime
                     ) -> tuple[bool, bool]:
    """(no opt-out members, nothing ever sent): two one-row probes. At materialisation a
    rule with nothing to match would still visit every new contact (10M at full scale,
    seconds on PostgreSQL), so the wave-wide pass skips it. The send log is probed whole,
    not by window: it has no index on sent_at alone, and a windowed probe could scan it."""
    no_members = not policy.list_types or not session.scalar(
        sa.select(sa.exists(_optout_members(policy, now))))
    no_sends = not _cap_rules(policy) or not session.scalar(
        sa.select(sa.exists(sa.select(send_log.c.msisdn))))
    return no_members, no_sends


def _apply_common(session: Session, scope: sa.ColumnElement[bool], state: str,
                  policy: PolicyRead, now: datetime, *, wave_wide: bool = False
                  ) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    live = sa.and_(scope, contact.c.state == state)
    skip_lists, skip_caps = (_nobody_to_check(session, policy, now) if wave_wide
                             else (False, False))
    if policy.list_types and not skip_lists:
        on_list: sa.ColumnElement[bool] = contact.c.msisdn.in_(_optout_members(policy, now))
        if session.scalar(sa.select(ListOverride.id).limit(1)) is not None:
            on_list = _on_list_not_overridden(policy, now)
        counts["optout"] += _suppress(session, sa.and_(live, on_list), "optout", now)
    for channel, window, cap in sorted(_cap_rules(policy), key=lambda r: WINDOWS.index(r[1])):
        if skip_caps:
            break
        sent = (sa.select(sa.func.count()).select_from(send_log)
                .where(send_log.c.msisdn == contact.c.msisdn,
                       send_log.c.sent_at >= now - WINDOW_DELTAS[window]))
        where = sa.and_(live, sent.scalar_subquery() >= cap)
        if channel is not None:
            sent = sent.where(send_log.c.channel == channel)
            where = sa.and_(live, contact.c.channel == channel, sent.scalar_subquery() >= cap)
        counts[f"cap_{window}"] += _suppress(session, where, f"cap_{window}", now)
    return counts


_EVENT_COLUMNS = ["contact_id", "msisdn", "campaign_id", "wave_id", "channel", "at",
                  "outcome", "reason"]


def _events_for(session: Session, where: sa.ColumnElement[bool], now: datetime) -> None:
    """One 'suppressed' event per contact just suppressed, with its reason code (for the
    contact history)."""
    session.execute(sa.insert(event).from_select(
        _EVENT_COLUMNS,
        sa.select(contact.c.id, contact.c.msisdn, contact.c.campaign_id, contact.c.wave_id,
                  contact.c.channel, sa.literal(now, contact.c.done_at.type),
                  sa.literal("suppressed"), contact.c.reason)
        .where(where, contact.c.state == SUPPRESSED, contact.c.done_at == now)))


def _deferred_events(session: Session, scope: sa.ColumnElement[bool], now: datetime
                     ) -> None:
    """One 'deferred' event per contact of the claimed batch `scope` just deferred (back
    to 'planned' with a deferred:<why> reason), so the history says why it went out later
    than planned: the contact row's reason is overwritten when it is sent (its `sent`
    row in the history then says when it went)."""
    session.execute(sa.insert(event).from_select(
        _EVENT_COLUMNS,
        sa.select(contact.c.id, contact.c.msisdn, contact.c.campaign_id, contact.c.wave_id,
                  contact.c.channel, sa.literal(now, contact.c.done_at.type),
                  sa.literal(DEFERRED), contact.c.reason)
        .where(scope, contact.c.state == PENDING, contact.c.reason.like("deferred:%"))))


def apply_to_wave(*, session: Session, campaign_id: int, wave_id: int, run: int,
                  now: datetime | None = None) -> dict[str, int]:
    """At materialisation: opt-out, caps as of now, and arbitration between campaigns
    whose pending contacts for one subscriber fall within `arbitration_hours`."""
    now = now or clock.now()
    policy = current(session)
    scope = sa.and_(contact.c.campaign_id == campaign_id, contact.c.wave_id == wave_id,
                    contact.c.run == run)
    counts = _apply_common(session, scope, PENDING, policy, now, wave_wide=True)
    counts["arbitration"] += _arbitrate(session, campaign_id, wave_id, run, policy, now)
    if any(counts.values()):  # else the insert would scan every new contact for nothing
        _events_for(session, scope, now)
    return {k: v for k, v in counts.items() if v}


def _expected_value() -> sa.ScalarSelect[Any]:
    """A contact's expected value: its cell's reward (offer) size. See docs/policy.md."""
    return (sa.select(sa.func.coalesce(sa.func.max(Cell.reward_size), 0))
            .where(Cell.id == contact.c.cell_id).correlate_except(Cell).scalar_subquery())


def _arbitrate(session: Session, campaign_id: int, wave_id: int, run: int,
               policy: PolicyRead, now: datetime) -> int:
    if policy.arbitration_hours <= 0:
        return 0
    others = [int(c) for c in session.scalars(sa.select(Campaign.id).where(
        Campaign.id != campaign_id, Campaign.state.in_(("scheduled", "running", "paused"))))]
    if not others:
        return 0
    me = session.execute(sa.select(Campaign.priority).where(Campaign.id == campaign_id)
                         ).scalar_one()
    planned = session.execute(sa.select(sa.func.min(contact.c.planned_at)).where(
        contact.c.campaign_id == campaign_id, contact.c.wave_id == wave_id,
        contact.c.run == run)).scalar()
    if planned is None:
        return 0
    window = timedelta(hours=policy.arbitration_hours)
    lo, hi = planned - window, planned + window
    ev = _expected_value()
    mine = sa.and_(contact.c.campaign_id == campaign_id, contact.c.wave_id == wave_id,
                   contact.c.run == run, contact.c.state == PENDING,
                   contact.c.is_control.is_(False))
    total = 0
    # Per other campaign: the (campaign_id, msisdn) index answers each lookup, and the
    # priority comparison is between two known constants.
    for other_id, other_priority in session.execute(
            sa.select(Campaign.id, Campaign.priority).where(Campaign.id.in_(others))).all():
        o = contact.alias("o")
        ev_o = (sa.select(sa.func.coalesce(sa.func.max(Cell.reward_size), 0))
                .where(Cell.id == o.c.cell_id).correlate_except(Cell).scalar_subquery())
        if other_priority > me:
            mine_loses: sa.ColumnElement[bool] | None = sa.true()
        elif other_priority < me:
            mine_loses = None
        else:  # a tie: the lower expected value loses; equal values: the newer campaign
            mine_loses = sa.or_(ev_o > ev, sa.and_(ev_o == ev, sa.literal(other_id < campaign_id)))
        if mine_loses is not None:
            clash = sa.select(o.c.id).where(
                o.c.campaign_id == other_id, o.c.state == PENDING, o.c.is_control.is_(False),
                o.c.planned_at.between(lo, hi), o.c.msisdn == contact.c.msisdn, mine_loses)
            total += _suppress(session, sa.and_(mine, sa.exists(clash)), "arbitration", now)
        if other_priority > me:
            continue
        m = contact.alias("m")
        ev_m = (sa.select(sa.func.coalesce(sa.func.max(Cell.reward_size), 0))
                .where(Cell.id == m.c.cell_id).correlate_except(Cell).scalar_subquery())
        theirs_lose: sa.ColumnElement[bool] = sa.true() if other_priority < me else sa.or_(
            ev_m > ev, sa.and_(ev_m == ev, sa.literal(campaign_id < other_id)))
        winners = sa.select(m.c.id).where(
            m.c.campaign_id == campaign_id, m.c.wave_id == wave_id, m.c.run == run,
            m.c.state == PENDING, m.c.is_control.is_(False),
            m.c.msisdn == contact.c.msisdn, theirs_lose)
        loser = sa.and_(contact.c.campaign_id == other_id, contact.c.state == PENDING,
                        contact.c.is_control.is_(False),
                        contact.c.planned_at.between(lo, hi), sa.exists(winners))
        n = _suppress(session, loser, "arbitration", now)
        if n:
            _events_for(session, contact.c.campaign_id == other_id, now)
        total += n
    return total


def apply_to_batch(*, session: Session, ids: list[int], state: str,
                   now: datetime | None = None) -> dict[str, int]:
    """Just before sending: the batch `ids` (in `state`, i.e. claimed) is checked again.
    Returns counts by reason; the contacts still in `state` afterwards may go out."""
    now = now or clock.now()
    if not ids:
        return {}
    policy = current(session)
    scope = ids_in(contact.c.id, ids, session)  # one array parameter on PostgreSQL
    counts = _apply_common(session, scope, state, policy, now)
    live = sa.and_(scope, contact.c.state == state)
    # Two contacts of one subscriber in the same batch: the higher priority goes first.
    # Rare, so first one GROUP BY finds the subscribers concerned (usually none).
    twice = [int(m) for m in session.scalars(
        sa.select(contact.c.msisdn).where(live).group_by(contact.c.msisdn)
        .having(sa.func.count() > 1))]
    o = contact.alias("o")
    better = sa.select(o.c.id).where(
        ids_in(o.c.id, ids, session), o.c.state == state, o.c.msisdn == contact.c.msisdn,
        sa.or_(o.c.priority > contact.c.priority,
               sa.and_(o.c.priority == contact.c.priority, o.c.id < contact.c.id)))
    if not twice:
        better = better.where(sa.false())
    else:
        live_twice = sa.and_(live, contact.c.msisdn.in_(twice))
    if policy.min_gap_minutes > 0:
        gap = timedelta(minutes=policy.min_gap_minutes)
        recent = sa.select(send_log.c.contact_id).where(
            send_log.c.msisdn == contact.c.msisdn, send_log.c.sent_at > now - gap)
        clash: sa.ColumnElement[bool] = sa.exists(recent)
        if twice:
            clash = sa.or_(clash, sa.and_(live_twice, sa.exists(better)))
        counts["deferred:min_gap"] += _defer(session, sa.and_(live, clash), now + gap,
                                             "deferred:min_gap")
    elif twice:
        counts["arbitration"] += _suppress(session, sa.and_(live_twice, sa.exists(better)),
                                           "arbitration", now)
    counts["deferred:quiet_hours"] += _quiet(session, live, policy, now)
    # Only when something happened: else an INSERT … SELECT per claimed batch for nothing.
    if any(v for k, v in counts.items() if not k.startswith("deferred:")):
        _events_for(session, scope, now)
    if any(v for k, v in counts.items() if k.startswith("deferred:")):
        _deferred_events(session, scope, now)
    return {k: v for k, v in counts.items() if v}


def _defer(session: Session, where: sa.ColumnElement[bool], until: datetime,
           reason: str) -> int:
    result = cast("sa.CursorResult[Any]", session.execute(
        sa.update(contact).where(where)
        .values(state=PENDING, planned_at=until, reason=reason, lease_id=None,
                lease_until=None)
        .execution_options(synchronize_session=False)))
    return int(result.rowcount or 0)


def _quiet(session: Session, live: sa.ColumnElement[bool], policy: PolicyRead,
           now: datetime) -> int:
    if not quiet.quiet_anywhere(policy, now):
        return 0
    rows = session.execute(sa.select(contact.c.id, contact.c.msisdn).where(live)).all()
    if not rows:
        return 0
    regions = quiet.subscriber_regions(int(m) for _, m in rows)
    # Group by (zone, window): a batch spans a few zones, so a few UPDATEs.
    groups: dict[quiet.Quiet, list[int]] = defaultdict(list)
    by_region: dict[str | None, quiet.Quiet] = {}
    for cid, msisdn in rows:
        region = regions.get(int(msisdn))
        if region not in by_region:
            by_region[region] = quiet.quiet_for(region, policy)
        groups[by_region[region]].append(int(cid))
    total = 0
    for q, ids in groups.items():
        opening = quiet.next_opening(q, now)
        if opening is not None:
            total += _defer(session, sa.and_(live, contact.c.id.in_(ids)), opening,
                            "deferred:quiet_hours")
    return total
