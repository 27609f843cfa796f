"""Call lists for phone managers: a wave's contacts exported as CSV per agent group, and
the call outcomes imported back.

Export (`export_wave`, one transaction): the wave's due contacts are taken as the
dispatcher takes a batch — marked 'sending', checked again by the contact policy (opt-out,
caps, gap, quiet hours: those are suppressed or deferred with the reason), and the rest
become 'submitted' with provider id "call:<contact id>", a 'sent' history event and a
send-log row (so the caps count them). Each contact's group is `groups[id % n]`, so a
contact stays in its group when the file is downloaded again. Downloading (`group_csv`)
changes nothing: it lists every exported contact of the group with its current outcome;
numbers are masked unless the user may see them (pii.read).

Import (`check_outcomes` then `apply`): CSV with `contact_id,outcome[,reason]` (extra
columns such as the export's are ignored). Outcomes: responded (accepted the offer),
delivered (reached, no answer to the offer), failed (not reached), undelivered (wrong
number). Every row is checked first — known contact of a call wave the user may see,
exported and not already closed with another outcome, one row per contact — and any
problem rejects the whole file with every bad line named (file, line, column, reason);
nothing is half-applied. A file imported twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from telcamp.access.masking import mask_msisdn
from telcamp.campaigns import service as campaign_service
from telcamp.campaigns.models import Campaign, Wave
from telcamp.channels.base import DeliveryUpdate
from telcamp.core import clock
from telcamp.core.errors import Conflict, FileRejected, NotFound, RowError
from telcamp.core.security import Principal
from telcamp.dispatch import updates
from telcamp.dispatch.render import _profiles, _source
from telcamp.dispatch.tables import (
    PENDING,
    SENDING,
    SUBMITTED,
    contact,
    event,
    message_id,
    send_log,
)
from telcamp.policy import service as policy_service
from telcamp.policy.serialise import lock_subscribers

CHANNEL = "call"
OUTCOMES = ("responded", "delivered", "failed", "undelivered")
COLUMNS = ("contact_id", "msisdn", "language", "campaign", "message", "agent_group",
           "outcome", "reason")


def key(contact_id: int) -> str:
    return f"{CHANNEL}:{contact_id}"


@dataclass
class ExportResult:
    wave_id: int
    exported: int
    groups: dict[str, int]
    policy: dict[str, int] = field(default_factory=dict)


def _wave(session: Session, actor: Principal, wave_id: int) -> tuple[Wave, Campaign]:
    wave = session.get(Wave, wave_id)
    if wave is None:
        raise NotFound(f"wave {wave_id} does not exist", field="wave_id")
    campaign = campaign_service.get_campaign(session=session, actor=actor,
                                             campaign_id=wave.campaign_id)
    if wave.channel != CHANNEL:
        raise Conflict(f"wave {wave_id} goes out by {wave.channel}, not as a call list",
                       field="wave_id")
    return wave, campaign


def export_wave(session: Session, *, actor: Principal, wave_id: int, groups: list[str],
                now: datetime | None = None) -> ExportResult:
    """Take the wave's due contacts into the call list (flushes; the edge commits)."""
    now = now or clock.now()
    wave, campaign = _wave(session, actor, wave_id)
    if campaign.state != "running":
        raise Conflict(f"campaign {campaign.id} is {campaign.state}; call lists are exported "
                       "from running campaigns", field="wave_id")
    lease = uuid.uuid4().hex
    due = sa.and_(contact.c.wave_id == wave.id, contact.c.campaign_id == campaign.id,
                  contact.c.state == PENDING, contact.c.is_control.is_(False),
                  contact.c.planned_at <= now)
    session.execute(sa.update(contact).where(due).values(
        state=SENDING, lease_id=lease, lease_until=now + timedelta(hours=1)))
    mine = sa.and_(contact.c.lease_id == lease, contact.c.state == SENDING)
    taken = session.execute(sa.select(contact.c.id, contact.c.msisdn).where(mine)).all()
    ids = [int(i) for i, _m in taken]
    # The caps count call-list contacts too: serialised per subscriber with the SMS and
    # e-mail workers' claims, as they are with each other (a whole wave is usually over
    # the lock budget: one exclusive lock then).
    lock_subscribers(session, (int(m) for _i, m in taken), policy_service.current(session))
    counts = policy_service.apply_to_batch(session=session, ids=ids, state=SENDING, now=now)
    rows = session.execute(sa.select(contact.c.id, contact.c.msisdn).where(mine)).all()
    if rows:
        session.execute(sa.insert(message_id), [
            {"provider_id": key(int(i)), "channel": CHANNEL, "contact_id": int(i), "part": 0}
            for i, _m in rows])
        session.execute(sa.insert(event), [
            {"contact_id": int(i), "msisdn": int(m), "campaign_id": campaign.id,
             "wave_id": wave.id, "channel": CHANNEL, "at": now, "outcome": "sent"}
            for i, m in rows])
        session.execute(sa.insert(send_log), [
            {"contact_id": int(i), "msisdn": int(m), "channel": CHANNEL, "sent_at": now}
            for i, m in rows])
        session.execute(sa.update(contact).where(mine).values(
            state=SUBMITTED, sent_at=now, lease_until=None, reason=None,
            provider_id=sa.literal("call:") + sa.cast(contact.c.id, sa.String)))
    per_group = {g: 0 for g in groups}
    for i, _m in rows:
        per_group[groups[int(i) % len(groups)]] += 1
    return ExportResult(wave.id, len(rows), per_group, {k: v for k, v in counts.items() if v})


def group_csv(session: Session, *, actor: Principal, wave_id: int, group: str,
              groups: list[str]) -> str:
    """The group's exported contacts as CSV (masked per role); changes nothing."""
    from telcamp.campaigns import messages as campaign_messages
    from telcamp.campaigns.models import Cell

    if group not in groups:
        raise NotFound(f"agent group {group} does not exist", field="group")
    wave, campaign = _wave(session, actor, wave_id)
    n, index = len(groups), groups.index(group)
    rows = session.execute(
        sa.select(contact.c.id, contact.c.msisdn, contact.c.language, contact.c.cell_id,
                  contact.c.state, contact.c.reason)
        .where(contact.c.wave_id == wave.id, contact.c.campaign_id == campaign.id,
               contact.c.provider_id == sa.literal("call:") + sa.cast(contact.c.id, sa.String))
        .order_by(contact.c.priority.desc(), contact.c.id)).all()
    cell_rows = list(session.scalars(sa.select(Cell).where(Cell.campaign_id == campaign.id)))
    cells = {c.id: dict(c.messages or {}) for c in cell_rows}
    # the agent reads what dispatch would send: the same context (profile, offer fields)
    offers = {c.id: campaign_messages.offer_fields(c) for c in cell_rows}
    profiles = _profiles([int(r[1]) for r in rows]) if any(
        "{" in str(m) for m in cells.values()) else {}
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    for cid, msisdn, lang, cell, state, reason in rows:
        if int(cid) % n != index:
            continue
        source = _source(cells.get(int(cell), {}), CHANNEL, lang) or ""
        try:
            text = campaign_messages.render_for(source, campaign_messages.render_context(
                offers.get(int(cell), {}), profiles.get(int(msisdn)), msisdn))
        except Exception:  # a field gone from the profile: the script as written
            text = source
        if not actor.has_pii:
            text = text.replace(str(msisdn), mask_msisdn(msisdn, actor) or "")
        w.writerow([cid, mask_msisdn(msisdn, actor), lang or "", campaign.name, text, group,
                    "" if state == SUBMITTED else state, reason or ""])
    return out.getvalue()


@dataclass
class ImportReport:
    file: str
    rows: int
    applied: int
    unchanged: int


def _parse(filename: str, text: str) -> tuple[list[dict[str, Any]], list[RowError]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    errors: list[RowError] = []
    for col in ("contact_id", "outcome"):
        if col not in header:
            errors.append(RowError(filename, 1, col, "missing column"))
    if errors:
        return [], errors
    rows: list[dict[str, Any]] = []
    seen: dict[int, int] = {}
    for line, raw in enumerate(reader, start=2):
        r = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k}
        if not any(r.values()):
            continue
        cid_text, outcome = r.get("contact_id", ""), r.get("outcome", "").lower()
        if not cid_text.isdigit():
            errors.append(RowError(filename, line, "contact_id",
                                   f"not a contact id: {cid_text!r}"))
            continue
        cid = int(cid_text)
        if cid in seen:
            errors.append(RowError(filename, line, "contact_id",
                                   f"contact {cid} already on line {seen[cid]}"))
            continue
        seen[cid] = line
        if outcome not in OUTCOMES:
            errors.append(RowError(filename, line, "outcome", f"unknown outcome {outcome!r} "
                                   f"(use {', '.join(OUTCOMES)})"))
            continue
        rows.append({"line": line, "cid": cid, "outcome": outcome,
                     "reason": (r.get("reason") or None) and r["reason"][:200]})
    return rows, errors


def check_outcomes(session: Session, *, actor: Principal, filename: str,
                   data: bytes) -> tuple[ImportReport, list[updates.Pending]]:
    """Check the whole file; returns the report and the updates to apply. The edge closes
    this session, then calls `apply` (dispatch's result path opens its own transaction;
    on SQLite a read transaction left open would block that writer)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRejected(filename, [RowError(filename, None, None,
                                               f"not UTF-8 ({exc.reason})")]) from exc
    rows, errors = _parse(filename, text)
    ids = [r["cid"] for r in rows]
    found = {int(r[0]): r for r in session.execute(
        sa.select(contact.c.id, contact.c.state, contact.c.campaign_id, contact.c.channel,
                  contact.c.provider_id).where(contact.c.id.in_(ids)))} if ids else {}
    visible: dict[int, bool] = {}
    for cid in {int(r[2]) for r in found.values()}:
        try:
            campaign_service.get_campaign(session=session, actor=actor, campaign_id=cid)
            visible[cid] = True
        except NotFound:
            visible[cid] = False
    todo = []
    unchanged = 0
    for r in rows:
        c = found.get(r["cid"])
        where = (filename, r["line"], "contact_id")
        if c is None or not visible.get(int(c[2])) or c[3] != CHANNEL:
            errors.append(RowError(*where, f"contact {r['cid']} is not on a call list"))
        elif c[4] != key(r["cid"]):
            errors.append(RowError(*where, f"contact {r['cid']} was not exported yet"))
        elif c[1] == r["outcome"]:
            unchanged += 1  # the same file again
        elif c[1] != SUBMITTED:
            errors.append(RowError(filename, r["line"], "outcome",
                                   f"contact {r['cid']} is already {c[1]}"))
        else:
            todo.append(r)
    if errors:
        errors.sort(key=lambda e: e.line or 0)
        raise FileRejected(filename, errors[:50], total=len(errors))
    pending = [updates.Pending(DeliveryUpdate(
        channel=CHANNEL, provider_id=key(r["cid"]), state=r["outcome"], contact_id=r["cid"],
        reason=r["reason"])) for r in todo]
    return ImportReport(filename, len(rows), len(todo), unchanged), pending


def apply(pending: list[updates.Pending]) -> None:
    """Apply checked outcomes in one transaction; a contact changed meanwhile by someone
    else stays as it is (final states are final)."""
    if pending:
        updates.apply(pending, grace_s=0.0)
