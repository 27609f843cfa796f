"""Turning the console's wizard forms into campaign updates (kept apart from the routes)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Any

from telcamp.campaigns.models import Campaign
from telcamp.campaigns.schemas import CHANNELS, CampaignUpdate, CellIn, WaveIn
from telcamp.core.errors import ValidationFailed

LANGUAGES = ("en", "ru", "zh")
TIERS = ("high", "medium", "low")
CELL_ROWS = 3


def _num(form: dict[str, Any], key: str, default: float = 0) -> float:
    raw = str(form.get(key, "")).strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValidationFailed(f"{key}: {raw!r} is not a number", field=key) from exc


def day_start(raw: str, field: str) -> datetime | None:
    if not raw.strip():
        return None
    try:
        return datetime.combine(date.fromisoformat(raw.strip()), time(0, 0), tzinfo=UTC)
    except ValueError as exc:
        raise ValidationFailed(f"{field}: {raw!r} is not a date (YYYY-MM-DD)",
                               field=field) from exc


def basics(form: dict[str, Any]) -> dict[str, Any]:
    start = day_start(str(form.get("start", "")), "start")
    end = day_start(str(form.get("end", "")), "end")
    if end is not None:
        end = end.replace(hour=23, minute=59)
    snapshot = str(form.get("snapshot_id", "")).strip()
    return {
        "name": str(form.get("name", "")).strip(),
        "snapshot_id": int(snapshot) if snapshot.isdigit() else None,
        "offer_code": str(form.get("offer_code", "")).strip(),
        "offer_type": str(form.get("offer_type", "")).strip(),
        "budget": _num(form, "budget"),
        "priority": int(_num(form, "priority", 50)),
        "start_at": start, "end_at": end,
    }


def cells(form: dict[str, Any], campaign: Campaign) -> CampaignUpdate:
    old = {c.name: c for c in campaign.cells}
    out: list[CellIn] = []
    for i in range(CELL_ROWS):
        name = str(form.get(f"cell{i}_name", "")).strip()
        if not name:
            continue
        tier = str(form.get(f"cell{i}_tier", ""))
        channels = [c for c in CHANNELS if form.get(f"cell{i}_ch_{c}")]
        prev = old.get(name)
        out.append(CellIn.model_validate({
            "name": name, "rule": {"value_tier": tier} if tier in TIERS else None,
            "control_pct": _num(form, f"cell{i}_control"), "channels": channels,
            "offer_code": str(form.get(f"cell{i}_offer", "")).strip(),
            "reward_type": str(form.get(f"cell{i}_reward_type", "")).strip(),
            "reward_size": _num(form, f"cell{i}_reward_size"),
            "reward_validity_days": int(_num(form, f"cell{i}_validity")),
            "messages": {ch: m for ch, m in (prev.messages if prev else {}).items()
                         if ch in channels},
        }))
    return CampaignUpdate(cells=out)


def messages(form: dict[str, Any], campaign: Campaign) -> CampaignUpdate:
    out = []
    for cell in campaign.cells:
        data = CellIn.model_validate({k: getattr(cell, k) for k in CellIn.model_fields})
        msgs: dict[str, dict[str, str]] = {}
        for ch in cell.channels:
            for lang in LANGUAGES:
                text = str(form.get(f"msg_{cell.id}_{ch}_{lang}", "")).strip()
                if text:
                    msgs.setdefault(ch, {})[lang] = text
        data.messages = msgs
        out.append(data)
    waves = [WaveIn.model_validate({"channel": w.channel, "schedule": w.schedule,
                                    "window_start": w.window_start, "window_end": w.window_end,
                                    "cell_name": None}) for w in campaign.waves]
    return CampaignUpdate(cells=out, waves=waves)


def schedule(form: dict[str, Any], campaign: Campaign) -> CampaignUpdate:
    waves = []
    for w in campaign.waves:
        kind = str(form.get(f"wave{w.id}_kind", "once"))
        weekdays = [int(d) for d in str(form.get(f"wave{w.id}_weekdays", "")).split(",")
                    if d.strip().isdigit()]
        waves.append(WaveIn.model_validate({
            "channel": w.channel,
            "schedule": {"kind": kind, "weekdays": weekdays},
            "window_start": str(form.get(f"wave{w.id}_from", w.window_start)),
            "window_end": str(form.get(f"wave{w.id}_to", w.window_end)),
            "cell_name": None}))
    rule = str(form.get("reparticipation", "once"))
    days = int(_num(form, "reparticipation_days", 0)) or None
    return CampaignUpdate.model_validate({
        "waves": [w.model_dump() for w in waves], "reparticipation": rule,
        "reparticipation_days": days if rule == "every_n_days" else None,
        "fixed_audience": bool(form.get("fixed_audience"))})


def program(form: dict[str, Any]) -> dict[str, Any]:
    """The console's program form → ProgramCreate data. KPIs are a JSON object
    (e.g. {"conversion": 0.05}); blank means none."""
    raw = str(form.get("kpis", "")).strip()
    try:
        kpis = json.loads(raw) if raw else {}
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"kpis: not JSON ({exc.msg}, column {exc.colno})",
                               field="kpis") from exc
    if not isinstance(kpis, dict):
        raise ValidationFailed('kpis: give a JSON object such as {"conversion": 0.05}',
                               field="kpis")
    start = day_start(str(form.get("start_date", "")), "start_date")
    end = day_start(str(form.get("end_date", "")), "end_date")
    if start is None or end is None:
        raise ValidationFailed("start_date and end_date are required (YYYY-MM-DD)",
                               field="start_date" if start is None else "end_date")
    return {"name": str(form.get("name", "")).strip(),
            "goal": str(form.get("goal", "")).strip(), "kpis": kpis,
            "budget": _num(form, "budget"), "start_date": start.date(),
            "end_date": end.date(),
            "region_code": str(form.get("region_code", "")).strip()}
