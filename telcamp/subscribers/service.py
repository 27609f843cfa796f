"""Look up one subscriber: every contact with time, campaign, channel, message, outcome
and the reason it was suppressed, deferred or failed ("why did I get this SMS?").

- Contacts come from the operational `contact` table, which holds suppressed and
  control contacts too (the warehouse history only has what went out). The table's index
  is (campaign_id, msisdn), so the query names every campaign id explicitly: one index
  probe per campaign instead of a scan of tens of millions of rows.
- The message is re-rendered from the cell's template for this subscriber's profile and
  language (messages are not stored per contact); when that fails the template is shown.
- Region scope: an agent of region X sees only subscribers whose county, city or province
  is X (same rule as segments); others are "not found". Operator-wide agents see any.
- Masking: without pii.read the number and e-mail are masked, in the message text too.
- History: the warehouse contact history's rows for the number (every outcome with its
  time and reason, including deferrals the contact row no longer shows once sent).
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import duckdb
import sqlalchemy as sa
from sqlalchemy.orm import Session

from telcamp.access.masking import mask_email, mask_msisdn
from telcamp.campaigns import messages as campaign_messages
from telcamp.campaigns.models import Campaign, Cell
from telcamp.core import warehouse
from telcamp.core.db import session_scope
from telcamp.core.errors import NotFound
from telcamp.core.i18n import _
from telcamp.core.security import Principal
from telcamp.dispatch.tables import contact
from telcamp.lists.schemas import parse_msisdn
from telcamp.subscribers.schemas import (
    ContactRow,
    HistoryRow,
    ListRow,
    ReplyRow,
    SubscriberRead,
)

# Outcome → a sentence for the agent (msgids; pages translate them).
EXPLAIN: dict[str, str] = {
    "planned": _("Planned; not sent yet."),
    "sending": _("Being sent right now."),
    "submitted": _("Sent; the network has not confirmed delivery yet."),
    "delivered": _("Sent and delivered."),
    "responded": _("Sent; the subscriber answered."),
    "undelivered": _("Sent but not delivered."),
    "expired": _("Sent but expired before delivery."),
    "rejected": _("Rejected by the network."),
    "failed": _("Not sent: it failed."),
    "unknown": _("Handed to the network, but the answer was lost; never sent twice."),
    "suppressed": _("Not sent: the contact policy or a list stopped it."),
    "cancelled": _("Not sent: the campaign was stopped."),
    "control": _("Held out (control group), not contacted."),
    # contact-history outcomes that are not contact states
    "sent": _("Handed to the network."),
    "deferred": _("Held back by the contact policy; sent later."),
}
# What the network's receipt codes (SMPP stat, kept in `reason`) mean, for an agent.
REASON_WORDS: dict[str, str] = {
    "UNDELIV": _("The network could not deliver it (phone off, out of coverage or "
                 "blocked)."),
    "UNDELIVERABLE": _("The network could not deliver it (phone off, out of coverage or "
                       "blocked)."),
    "FAILED": _("The network could not deliver it (phone off, out of coverage or "
                "blocked)."),
    "EXPIRED": _("The phone was unreachable until the message expired."),
    "DELETED": _("The network deleted it before delivery."),
    "REJECTD": _("The network refused it."),
    "REJECTED": _("The network refused it."),
    "UNKNOWN": _("The network did not say what happened."),
    "ACCEPTD": _("The network accepted it; no final receipt yet."),
}
MAX_CONTACTS = 500
MAX_HISTORY = 200
# What came back from the subscriber: kinds and actions, shown through _(value).
REPLY_WORDS = {"mo": _("SMS reply"), "raw_receipt": _("Unreadable receipt"),
               "bounce": _("E-mail bounce"), "hard_bounce": _("hard bounce"),
               "soft_bounce": _("soft bounce"),
               "incomplete": _("incomplete: parts missing, not acted on")}


def _profile(number: int) -> dict[str, Any] | None:
    try:
        with warehouse.connect(read_only=True) as con:
            cur = con.execute("SELECT * FROM profile WHERE msisdn = ?", [number])
            names = [d[0] for d in cur.description or []]
            row = cur.fetchone()
    except duckdb.CatalogException:
        return None
    return None if row is None else dict(zip(names, row, strict=True))


def _history(number: int) -> list[tuple[Any, ...]]:
    """(time, contact, campaign, wave, channel, outcome, reason) from the warehouse contact
    history, newest first. A warehouse without the table, or made before `reason` and
    opened read-only (ensure_schema adds the column on the next write), still answers."""
    sql = ("SELECT contacted_at, contact_id, campaign_id, wave_id, channel, outcome, {} "
           "FROM contact_history WHERE msisdn = ? ORDER BY contacted_at DESC, outcome "
           "LIMIT ?")
    try:
        with warehouse.connect(read_only=True) as con:
            try:
                return con.execute(sql.format("reason"), [number, MAX_HISTORY]).fetchall()
            except duckdb.BinderException:
                return con.execute(sql.format("NULL"), [number, MAX_HISTORY]).fetchall()
    except duckdb.CatalogException:
        return []


def _in_scope(principal: Principal, profile: dict[str, Any] | None) -> bool:
    if principal.region_code is None:
        return True
    if profile is None:
        return False
    return principal.region_code in {profile.get("region_code"), profile.get("city_code"),
                                     profile.get("province_code")}


def _message(cell: Cell | None, channel: str, language: str | None,
             profile: dict[str, Any] | None, number: int) -> str | None:
    """The text the subscriber got: the cell's template rendered over the same context
    dispatch used (campaign_messages.render_context: profile and the cell's offer)."""
    if cell is None:
        return None
    source = campaign_messages.source_for(dict(cell.messages or {}), channel, language)
    if source is None:
        return None
    context = campaign_messages.render_context(campaign_messages.offer_fields(cell),
                                               profile, number)
    try:
        return campaign_messages.render_for(source, context)
    except Exception:  # a field gone from the profile: show what the template says
        return source


def lookup(session: Session, *, principal: Principal, msisdn: str) -> SubscriberRead:
    number = parse_msisdn(msisdn)
    profile = _profile(number)
    if not _in_scope(principal, profile):
        raise NotFound(f"subscriber {mask_msisdn(number, principal)} not found in your "
                       "region", field="msisdn")
    campaign_ids = [int(i) for i in session.scalars(sa.select(Campaign.id))]
    rows = session.execute(
        sa.select(contact).where(contact.c.campaign_id.in_(campaign_ids),
                                 contact.c.msisdn == number)
        .order_by(contact.c.planned_at.desc(), contact.c.id.desc()).limit(MAX_CONTACTS)
    ).mappings().all() if campaign_ids else []
    history = _history(number)
    campaigns = {c.id: c for c in session.scalars(sa.select(Campaign).where(
        Campaign.id.in_({int(r["campaign_id"]) for r in rows}
                        | {int(h[2]) for h in history if h[2] is not None})))}
    segments = _segment_names(session, {c.segment_id for c in campaigns.values()})
    cells = {c.id: c for c in session.scalars(sa.select(Cell).where(
        Cell.id.in_({int(r["cell_id"]) for r in rows})))}
    full, shown = str(number), mask_msisdn(number, principal) or ""
    out: list[ContactRow] = []
    for r in rows:
        camp = campaigns.get(int(r["campaign_id"]))
        cell = cells.get(int(r["cell_id"]))
        control = bool(r["is_control"])
        # A control-group contact was never sent: there is no message to show.
        text = None if control else _message(cell, str(r["channel"]), r["language"],
                                             profile, number)
        if text and not principal.has_pii:
            text = text.replace(full, shown)
            if profile and profile.get("email"):
                text = text.replace(str(profile["email"]),
                                    mask_email(str(profile["email"]), principal) or "")
        state = str(r["state"])
        if control:
            state = "control"
        out.append(ContactRow(
            contact_id=int(r["id"]), time=r["sent_at"] or r["done_at"] or r["planned_at"],
            planned_at=r["planned_at"], sent_at=r["sent_at"], done_at=r["done_at"],
            campaign_id=int(r["campaign_id"]), campaign=camp.name if camp else "?",
            campaign_state=camp.state if camp else "?", cell=cell.name if cell else None,
            wave_id=int(r["wave_id"]), channel=str(r["channel"]), message=text,
            outcome=state, reason=r["reason"],
            explanation=EXPLAIN.get(state, state) + (f" ({r['reason']})" if r["reason"]
                                                     else ""),
            reason_text=REASON_WORDS.get(str(r["reason"] or "").split(" ")[0].upper()),
            tier=_tier(cell), segment=segments.get(camp.segment_id) if camp else None))
    from telcamp.lists import service as list_service

    hits = list_service.search(session, principal=principal, msisdn=full)
    lists = [ListRow(list_name=h.list_name, list_type=h.list_type, reason=h.reason,
                     expired=h.expired) for h in hits]
    email = str(profile["email"]) if profile and profile.get("email") else None
    from telcamp.dispatch import feedback

    replies = [ReplyRow(time=r["received_at"], channel=str(r["channel"]), kind=str(r["kind"]),
                        text=str(r["text"] or "") if principal.has_pii else
                        str(r["text"] or "").replace(full, shown),
                        action=r["action"], contact_id=r["contact_id"])
               for r in feedback.for_subscriber(session, number)]
    timeline = [HistoryRow(
        time=at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC), contact_id=cid,
        campaign_id=camp_id,
        campaign=campaigns[camp_id].name if camp_id in campaigns else None, wave_id=wave,
        channel=str(channel), outcome=str(outcome), reason=why,
        explanation=EXPLAIN.get(str(outcome), str(outcome)) + (f" ({why})" if why else ""))
        for at, cid, camp_id, wave, channel, outcome, why in history]
    return SubscriberRead(
        msisdn=shown, history=timeline, found=profile is not None,
        region_code=str(profile["region_code"]) if profile else None,
        email=mask_email(email, principal), language=(profile or {}).get("language"),
        lists=lists, contacts=out, replies=replies,
        opted_out=any(h.list_type == "optout" and not h.expired for h in hits))


def _tier(cell: Cell | None) -> str | None:
    rule = cell.rule if cell is not None else None
    return str(rule["value_tier"]) if isinstance(rule, dict) and "value_tier" in rule else None


def _segment_names(session: Session, ids: set[int | None]) -> dict[int | None, str]:
    from telcamp.segments.models import Segment

    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {int(sid): str(name) for sid, name in session.execute(
        sa.select(Segment.id, Segment.name).where(Segment.id.in_(wanted)))}


def opt_out(session: Session, *, principal: Principal, msisdn: str, reason: str) -> int:
    """The subscriber asked an agent to stop all campaign contacts: on the operator-wide
    opt-out list (the policy honours it at the next claim), audited under the agent's
    name. Region scope as the lookup. Flushes only; returns the number (the edge syncs
    the warehouse copy of the list after the commit)."""
    from telcamp.channels.unsubscribe import add_to_optout

    number = parse_msisdn(msisdn)
    if not _in_scope(principal, _profile(number)):
        raise NotFound(f"subscriber {mask_msisdn(number, principal)} not found in your "
                       "region", field="msisdn")
    why = reason.strip()[:150] or "asked customer service"
    add_to_optout(session, msisdn=str(number), username=principal.username,
                  reason=f"opted out by agent {principal.username}: {why}")
    return number


def sync_optout(number: int) -> None:
    """After the commit: the warehouse copy of the opt-out list (segments read it)."""
    from telcamp.channels.unsubscribe import LIST_NAME
    from telcamp.lists.models import SpecialList
    from telcamp.lists.sync import sync_member

    with session_scope() as s:
        list_id = s.scalar(sa.select(SpecialList.id).where(
            SpecialList.name == LIST_NAME, SpecialList.region_code.is_(None)))
    if list_id is not None:
        sync_member(int(list_id), number)
