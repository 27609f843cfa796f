"""Rehearsal (营销案预演): the campaign's figures before it is submitted.

Audience per cell after exclusions (the snapshot is already the audience after the
default exclusions), overlaps between cell rules (first match wins), control groups,
contacts per channel per day over the schedule, cost from the channel unit prices, and
expected responses and conversions from similar past campaigns (same offer type and
channel) with a 95% interval — or "no history". Stored with the campaign for approvers.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import duckdb
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from telcamp.campaigns import cells as cell_sql
from telcamp.campaigns import schedule
from telcamp.campaigns import service as campaign_service
from telcamp.campaigns.materialise import Plan, audience_sql
from telcamp.campaigns.models import Campaign, Contact, Wave
from telcamp.channels.config_store import unit_prices
from telcamp.core import clock, warehouse
from telcamp.core.security import Principal

RESPONDED = ("responded", "converted")
CONVERTED = ("converted",)
MAX_DAYS_LISTED = 400


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (0.0, 0.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def _plan(campaign: Campaign) -> Plan:
    return Plan(
        campaign_id=campaign.id, wave_id=0, run=1, snapshot_id=campaign.snapshot_id or -1,
        channel="", only_cell=None, priority=campaign.priority, planned_at=clock.now(),
        cells=tuple((c.id, c.rule, float(c.control_pct), tuple(c.channels))
                    for c in campaign.cells),
        reparticipation=campaign.reparticipation,
        reparticipation_days=campaign.reparticipation_days, now=clock.now(),
    )


def policy_lists(session: Session, campaign: Campaign) -> list[int]:
    """Ids of the lists whose members the contact policy suppresses at materialisation
    (its `list_types`), less the default lists this campaign overrides."""
    from telcamp.lists.models import ListOverride, SpecialList
    from telcamp.policy import service as policy_service

    types = policy_service.current(session).list_types
    if not types:
        return []
    skipped = set(session.scalars(select(ListOverride.list_id).where(
        ListOverride.campaign_id == campaign.id)))
    return [i for i in session.scalars(select(SpecialList.id).where(
        SpecialList.type.in_(types))) if i not in skipped]


def _suppressed(plan: Plan, lists: list[int]) -> list[tuple[int, str | None, int]]:
    """[(cell, channel, n)]: contacts (not control) the policy's opt-out lists will
    suppress, from the warehouse mirror of the lists."""
    if not lists:
        return []
    sql = (f"SELECT cell_id, channel, count(*) FROM ({audience_sql(plan)}) a "
           "WHERE NOT is_control AND channel IS NOT NULL AND EXISTS (SELECT 1 FROM list_members lm "
           "WHERE lm.msisdn = a.msisdn AND list_contains($lists, lm.list_id) "
           "AND (lm.expires_at IS NULL OR lm.expires_at > $now)) GROUP BY ALL")
    with warehouse.connect(read_only=True) as con:
        try:
            rows = con.sql(sql, params={"snapshot": plan.snapshot_id, "lists": lists,
                                        "now": plan.now}).fetchall()
        except duckdb.CatalogException:  # no lists mirrored into this warehouse yet
            return []
    return [(int(c), ch, int(n)) for c, ch, n in rows]


Groups = list[tuple[int, str | None, bool, str | None, int]]


def _audience(campaign: Campaign) -> tuple[int, Groups, dict[int, int]]:
    """(snapshot members, [(cell, channel, is_control, language, n)], {cell: members its
    rule matches})."""
    plan = _plan(campaign)
    # compile first: compiling a segment rule opens the warehouse itself
    grouped = (f"SELECT cell_id, channel, is_control, language, count(*) "
               f"FROM ({audience_sql(plan)}) GROUP BY ALL")
    conds = {cid: "TRUE" if rule is None else cell_sql.condition_sql(rule, alias="p")
             for cid, rule, _pct, _chs in plan.cells}
    with warehouse.connect(read_only=True) as con:
        row = con.execute("SELECT count(*) FROM segment_snapshot_members WHERE snapshot_id = ?",
                          [plan.snapshot_id]).fetchall()[0]
        members = int(row[0]) if row else 0
        groups = con.sql(grouped, params={"snapshot": plan.snapshot_id}).fetchall()
        raw: dict[int, int] = {}
        for cid, cond in conds.items():
            r = con.execute(
                f"SELECT count(*) FROM segment_snapshot_members m JOIN profile p "
                f"ON p.msisdn = m.msisdn WHERE m.snapshot_id = ? AND {cond}",
                [plan.snapshot_id]).fetchall()[0]
            raw[cid] = int(r[0]) if r else 0
    return members, [(int(c), ch, bool(k), lang, int(n)) for c, ch, k, lang, n in groups], raw


def _sms_parts(campaign: Campaign, groups: Groups) -> dict[int, float]:
    """Per cell, the SMS parts a contact costs: each language's text's parts weighted by
    how many of the cell's SMS contacts speak it (the fallback text for the others)."""
    from telcamp.campaigns.messages import sms_info, source_for

    out: dict[int, float] = {}
    for cell in campaign.cells:
        by_lang = [(lang, n) for cid, ch, ctl, lang, n in groups
                   if cid == cell.id and ch == "sms" and not ctl]
        total = sum(n for _lang, n in by_lang)
        if not total:
            continue
        weighted = 0
        for lang, n in by_lang:
            source = source_for(cell.messages or {}, "sms", lang)
            weighted += n * max(sms_info(source).parts, 1) if source else n
        out[cell.id] = weighted / total
    return out


def _message_problems(campaign: Campaign, groups: Groups) -> tuple[list[str], list[str]]:
    """(problems, warnings) of the messages: a cell's channel without any message would
    fail every contact at dispatch; subscribers whose language has no message get the
    fallback language's text (messages.source_for)."""
    problems: list[str] = []
    warnings: list[str] = []
    for cell in campaign.cells:
        for ch in cell.channels:
            texts = (cell.messages or {}).get(ch) or {}
            if not texts:
                problems.append(f"cell {cell.name}: no {ch} message (its {ch} contacts "
                                "would fail at dispatch)")
                continue
            if isinstance(texts, str):
                continue
            fallback = "en" if "en" in texts else next(iter(texts))
            other: dict[str, int] = {}
            for cid, gch, ctl, lang, n in groups:
                if cid == cell.id and gch == ch and not ctl and lang not in texts:
                    key = lang or "?"
                    other[key] = other.get(key, 0) + n
            if other:
                langs = ", ".join(f"{k} {v}" for k, v in sorted(other.items()))
                warnings.append(f"cell {cell.name}: {sum(other.values())} {ch} contacts speak "
                                f"a language with no message ({langs}); they get the "
                                f"{fallback} text")
    return problems, warnings


def _history(session: Session, offer_type: str, channel: str, exclude: int) -> dict[str, Any]:
    q = (select(func.count(),
                func.sum(case((Contact.state.in_(RESPONDED), 1), else_=0)),
                func.sum(case((Contact.state.in_(CONVERTED), 1), else_=0)),
                func.count(func.distinct(Contact.campaign_id)))
         .join(Campaign, Campaign.id == Contact.campaign_id)
         .where(Campaign.offer_type == offer_type, Contact.channel == channel,
                Contact.is_control.is_(False), Campaign.id != exclude,
                Campaign.state.in_(("completed", "running", "paused"))))
    n, resp, conv, campaigns = session.execute(q).one()
    n = int(n or 0)
    if n == 0:
        return {"history": False}
    resp, conv = int(resp or 0), int(conv or 0)
    return {"history": True, "campaigns": int(campaigns), "contacts": n,
            "response_rate": resp / n, "response_interval": wilson(resp, n),
            "conversion_rate": conv / n, "conversion_interval": wilson(conv, n)}


def _run_days(campaign: Campaign, wave: Wave) -> list[str]:
    """The days the wave runs between the campaign's start (plus its cell's offset) and
    end."""
    start = campaign.start_at or clock.now()
    end = campaign.end_at or start + timedelta(days=1)
    days: list[str] = []
    at: datetime | None = schedule.first_run(wave, start)
    while at is not None and at < end and len(days) < MAX_DAYS_LISTED:
        days.append(at.date().isoformat())
        at = schedule.next_run(wave, at, first=False)
    return sorted(set(days))


def rehearse(*, session: Session, actor: Principal, campaign_id: int) -> dict[str, Any]:
    campaign = campaign_service.get_campaign(session=session, actor=actor,
                                             campaign_id=campaign_id, for_update=True)
    problems: list[str] = []
    warnings: list[str] = []
    if campaign.snapshot_id is None:
        problems.append("the campaign has no audience snapshot")
    if not campaign.cells:
        problems.append("the campaign has no cells")
    members, by_lang, raw = (0, [], {}) if problems else _audience(campaign)
    groups = [(c, ch, ctl, n) for c, ch, ctl, _lang, n in by_lang]
    msg_problems, msg_warnings = _message_problems(campaign, by_lang)
    problems += msg_problems
    warnings += msg_warnings
    optout = [] if problems else _suppressed(_plan(campaign), policy_lists(session, campaign))
    if not problems and members == 0:
        problems.append("the audience is empty")
    prices = unit_prices()  # the channel settings' prices over the environment's
    cells_out: list[dict[str, Any]] = []
    for earlier, cell in enumerate(campaign.cells):
        mine = [g for g in groups if g[0] == cell.id]
        audience = sum(g[3] for g in mine)
        controls = sum(g[3] for g in mine if g[2])
        by_channel: dict[str, int] = {}
        for _c, ch, ctl, n in mine:
            if not ctl and ch is not None:
                by_channel[ch] = by_channel.get(ch, 0) + n
        unreachable = sum(g[3] for g in mine if g[1] is None and not g[2])
        # planned = contacts that will go out: not control, not suppressed by opt-out lists
        suppressed = {"optout": sum(n for c, ch, n in optout if c == cell.id)}
        for _c, ch, n in (o for o in optout if o[0] == cell.id):
            if ch is not None and ch in by_channel:
                by_channel[ch] -= n
        overlap = raw.get(cell.id, 0) - audience if cell.rule is not None else 0
        if members and audience == 0:
            problems.append(f"cell {cell.name} gets no subscribers")
        if overlap > 0 and earlier:
            warnings.append(f"cell {cell.name}: {overlap} subscribers also match an earlier "
                            "cell and go there (first match wins)")
        planned = audience - controls - unreachable - suppressed["optout"]
        cells_out.append({"cell_id": cell.id, "name": cell.name, "audience": audience,
                          "control": controls, "planned": planned,
                          "suppressed": {k: v for k, v in suppressed.items() if v},
                          "contacts": by_channel,
                          "unreachable": unreachable, "overlap_with_earlier": overlap})
    assigned = sum(g[3] for g in groups)
    if members and assigned < members:
        warnings.append(f"{members - assigned} subscribers match no cell and are left out "
                        "(add a default cell without a rule to include them)")
    parts = _sms_parts(campaign, by_lang)
    channels: dict[str, Any] = {}
    total_cost = 0.0
    for ch in sorted({k for c in cells_out for k in c["contacts"]}):
        contacts = sum(c["contacts"].get(ch, 0) for c in cells_out)
        # per wave: a wave of one cell (its own schedule) sends that cell's contacts only,
        # on its own days
        per_day: dict[str, int] = {}
        units = 0.0  # priced units: an SMS is priced per part
        for wave in campaign.waves:
            if wave.channel != ch:
                continue
            its = [c for c in cells_out if wave.cell_id is None or c["cell_id"] == wave.cell_id]
            n = sum(c["contacts"].get(ch, 0) for c in its)
            per_contact = sum(c["contacts"].get(ch, 0) * parts.get(c["cell_id"], 1.0)
                              for c in its)
            run_days = _run_days(campaign, wave)
            if campaign.reparticipation == "once":
                # everyone takes part once: later runs reach only newcomers (not forecast)
                run_days = run_days[:1]
            for d in run_days:
                per_day[d] = per_day.get(d, 0) + n
                units += per_contact if ch == "sms" else n
        days = sorted(per_day)
        runs = len(days)
        sent = sum(per_day.values())
        cost = units * float(prices.get(ch, 0.0))
        total_cost += cost
        hist = _history(session, campaign.offer_type, ch, campaign.id)
        expected: dict[str, Any] = {"history": hist["history"]}
        if hist["history"]:
            expected.update({
                "from_campaigns": hist["campaigns"], "from_contacts": hist["contacts"],
                "responses": round(sent * hist["response_rate"]),
                "responses_interval": [round(sent * x) for x in hist["response_interval"]],
                "conversions": round(sent * hist["conversion_rate"]),
                "conversions_interval": [round(sent * x) for x in hist["conversion_interval"]],
            })
        channels[ch] = {"contacts_per_run": contacts, "days": {d: per_day[d] for d in days},
                        "runs": runs, "unit_price": float(prices.get(ch, 0.0)),
                        "cost": round(cost, 2), "expected": expected}
    if float(campaign.budget) and total_cost > float(campaign.budget):
        warnings.append(f"forecast cost {total_cost:.2f} is above the budget "
                        f"{float(campaign.budget):g}")
    from telcamp.dispatch.readiness import problems as channel_problems

    # a wave whose channel cannot send: said at submit too, launch is refused (schedule.py)
    warnings += channel_problems(w.channel for w in campaign.waves if w.state != "cancelled")
    totals = {"planned": sum(c["planned"] for c in cells_out),
              "control": sum(c["control"] for c in cells_out),
              "suppressed": {"optout": sum(c["suppressed"].get("optout", 0)
                                           for c in cells_out)},
              "unreachable": sum(c["unreachable"] for c in cells_out)}
    totals["suppressed"] = {k: v for k, v in totals["suppressed"].items() if v}
    result = {"computed_at": clock.now().isoformat(), "snapshot_id": campaign.snapshot_id,
              "members": members, "assigned": assigned, "totals": totals, "cells": cells_out,
              "channels": channels, "cost": round(total_cost, 2),
              "problems": problems, "warnings": warnings}
    campaign.rehearsal = result
    session.flush()
    return result
