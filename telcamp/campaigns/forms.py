"""Turning the console's wizard forms into campaign updates (kept apart from the routes)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time
from typing import Any

from telcamp.campaigns.models import Campaign
from telcamp.campaigns.schemas import CHANNELS, CampaignUpdate, CellIn, WaveIn
from telcamp.core.errors import ValidationFailed

LANGUAGES = ("en", "ru", "zh")
TIERS = ("high", "medium", "low")


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


def basics(form: dict[str, Any], errors: list[ValidationFailed] | None = None
           ) -> dict[str, Any]:
    """The basics step's data. With `errors`, every bad field is collected there (and left
    out of the data) so a step shows all its errors at once; without, the first raises."""
    out: dict[str, Any] = {"name": str(form.get("name", "")).strip(),
                           "offer_code": str(form.get("offer_code", "")).strip(),
                           "offer_type": str(form.get("offer_type", "")).strip()}

    def take(key: str, read: Any) -> None:
        try:
            out[key] = read()
        except ValidationFailed as exc:
            if errors is None:
                raise
            errors.append(exc)

    def snapshot() -> int | None:
        raw = str(form.get("snapshot_id", "")).strip()
        if raw and not raw.isdigit():  # it used to be dropped silently
            raise ValidationFailed(f"snapshot_id: {raw!r} is not a snapshot number; pick "
                                   "one from the list", field="snapshot_id")
        return int(raw) if raw else None

    def end() -> datetime | None:
        at = day_start(str(form.get("end", "")), "end")
        return at.replace(hour=23, minute=59) if at is not None else None

    take("snapshot_id", snapshot)
    take("budget", lambda: _num(form, "budget"))
    take("priority", lambda: int(_num(form, "priority", 50)))
    take("start_at", lambda: day_start(str(form.get("start", "")), "start"))
    take("end_at", end)
    return out


def _index(key: str) -> int | None:
    m = re.fullmatch(r"cell(\d+)_name", key)
    return int(m.group(1)) if m else None


def cell_rows(form: dict[str, Any]) -> list[dict[str, Any]]:
    """The cells step's rows as typed, in form order (cell0_…, cell1_…, any number)."""
    idx = sorted(i for i in (_index(k) for k in form) if i is not None)
    rows = []
    for i in idx:
        kind = str(form.get(f"cell{i}_kind", ""))
        if not kind:  # the older form: a value-tier select only ("" = everyone else)
            tier = str(form.get(f"cell{i}_tier", ""))
            kind = f"tier:{tier}" if tier in TIERS else "default"
        rows.append({
            "name": str(form.get(f"cell{i}_name", "")).strip(),
            "kind": kind,
            "rule": str(form.get(f"cell{i}_rule", "")),
            "control": str(form.get(f"cell{i}_control", "10")),
            "channels": [c for c in CHANNELS if form.get(f"cell{i}_ch_{c}")],
            "offer": str(form.get(f"cell{i}_offer", "")),
            "reward_type": str(form.get(f"cell{i}_reward_type", "")),
            "reward_size": str(form.get(f"cell{i}_reward_size", "0")),
            "validity": str(form.get(f"cell{i}_validity", "0")),
            "window_start": str(form.get(f"cell{i}_from", "")).strip(),
            "window_end": str(form.get(f"cell{i}_to", "")).strip(),
            "offset": str(form.get(f"cell{i}_offset", "")).strip(),
        })
    return rows


def saved_rows(campaign: Campaign) -> list[dict[str, Any]]:
    """The saved cells as rows of the cells step."""
    rows = []
    for c in campaign.cells:
        rule = c.rule
        if rule is None:
            kind, text = "default", ""
        elif set(rule) == {"value_tier"} and isinstance(rule["value_tier"], str):
            kind, text = f"tier:{rule['value_tier']}", ""
        else:
            kind, text = "rule", json.dumps(rule, ensure_ascii=False)
        sched = c.schedule or {}
        rows.append({
            "name": c.name, "kind": kind, "rule": text, "control": f"{c.control_pct:g}",
            "channels": list(c.channels), "offer": c.offer_code,
            "reward_type": c.reward_type, "reward_size": f"{c.reward_size:g}",
            "validity": str(c.reward_validity_days),
            "window_start": str(sched.get("window_start") or ""),
            "window_end": str(sched.get("window_end") or ""),
            "offset": str(sched.get("start_offset_days") or ""),
        })
    return rows


def blank_row(n: int) -> dict[str, Any]:
    return {"name": f"cell{n + 1}", "kind": "default", "rule": "", "control": "10",
            "channels": ["sms"], "offer": "", "reward_type": "", "reward_size": "0",
            "validity": "0", "window_start": "", "window_end": "", "offset": ""}


def apply_op(rows: list[dict[str, Any]], op: str) -> list[dict[str, Any]]:
    """add / remove-N / up-N / down-N on the typed rows (nothing is saved)."""
    rows = list(rows)
    verb, _, arg = op.partition("-")
    i = int(arg) if arg.isdigit() else -1
    if verb == "add":
        rows.append(blank_row(len(rows)))
    elif verb == "remove" and 0 <= i < len(rows):
        rows.pop(i)
    elif verb == "up" and 0 < i < len(rows):
        rows[i - 1], rows[i] = rows[i], rows[i - 1]
    elif verb == "down" and 0 <= i < len(rows) - 1:
        rows[i + 1], rows[i] = rows[i], rows[i + 1]
    return rows


def _rule(row: dict[str, Any], where: str, segments: dict[int, dict[str, Any]]
          ) -> dict[str, Any] | None:
    kind = row["kind"]
    if kind == "default":
        return None
    if kind.startswith("tier:"):
        return {"value_tier": kind[5:]}
    if kind.startswith("segment:"):
        sid = kind[8:]
        if not sid.isdigit() or int(sid) not in segments:
            raise ValidationFailed(f"{where}: no saved segment {sid}", field=f"{where}.rule")
        return segments[int(sid)]  # copied: later edits of the segment do not change it
    text = row["rule"].strip()
    if not text:
        raise ValidationFailed(f"{where}: write the rule (segment rule JSON)",
                               field=f"{where}.rule")
    try:
        rule = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"{where}: the rule is not JSON ({exc.msg}, column "
                               f"{exc.colno})", field=f"{where}.rule") from exc
    if not isinstance(rule, dict):
        raise ValidationFailed(f"{where}: the rule must be a JSON object",
                               field=f"{where}.rule")
    return rule


def _cell_schedule(row: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if row["window_start"] or row["window_end"]:
        out["window_start"] = row["window_start"] or "00:00"
        out["window_end"] = row["window_end"] or "23:59"
    if row["offset"]:
        if not row["offset"].isdigit():
            raise ValidationFailed(f"{where}: start offset {row['offset']!r} is not a number "
                                   "of days", field=f"{where}.schedule")
        out["start_offset_days"] = int(row["offset"])
    return out


def cells_from_rows(rows: list[dict[str, Any]], campaign: Campaign,
                    segments: dict[int, dict[str, Any]]) -> list[CellIn]:
    old = {c.name: c for c in campaign.cells}
    out: list[CellIn] = []
    named = [r for r in rows if r["name"]]  # a row left without a name is not a cell
    for i, row in enumerate(named):
        where = f"cells[{i}]"
        prev = old.get(row["name"])
        data = {"control_pct": _num({"v": row["control"]}, "v"),
                "reward_size": _num({"v": row["reward_size"]}, "v"),
                "reward_validity_days": int(_num({"v": row["validity"]}, "v"))}
        out.append(CellIn.model_validate({
            "name": row["name"], "rule": _rule(row, where, segments),
            "channels": row["channels"], "offer_code": row["offer"].strip(),
            "reward_type": row["reward_type"].strip(), **data,
            "schedule": _cell_schedule(row, where),
            "messages": {ch: m for ch, m in (prev.messages if prev else {}).items()
                         if ch in row["channels"]},
        }))
    return out


def cells(form: dict[str, Any], campaign: Campaign,
          segments: dict[int, dict[str, Any]] | None = None) -> CampaignUpdate:
    rows = cell_rows(form)
    out = cells_from_rows(rows, campaign, segments or {})
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
    waves = [WaveIn.model_validate({"channel": w.channel, "schedule": _kind(w.schedule),
                                    "window_start": w.window_start, "window_end": w.window_end,
                                    "cell_name": w.cell.name if w.cell else None})
             for w in campaign.waves]
    return CampaignUpdate(cells=out, waves=waves)


def _kind(schedule: dict[str, Any]) -> dict[str, Any]:
    # the cell's start offset is re-applied from the cell when the waves are rebuilt
    return {k: v for k, v in (schedule or {}).items() if k != "start_offset_days"}


# Weekday words as people type them (en/ru/zh, short and long) → 0 = Monday … 6 = Sunday.
_WEEKDAY_WORDS: dict[str, int] = {}
for _n, _words in enumerate((
        "monday mon mo понедельник пн пон 星期一 周一 礼拜一 一",
        "tuesday tue tues tu вторник вт 星期二 周二 礼拜二 二",
        "wednesday wed we среда ср 星期三 周三 礼拜三 三",
        "thursday thu thur thurs th четверг чт 星期四 周四 礼拜四 四",
        "friday fri fr пятница пт 星期五 周五 礼拜五 五",
        "saturday sat sa суббота сб 星期六 周六 礼拜六 六",
        "sunday sun su воскресенье вс 星期日 星期天 周日 周天 礼拜日 礼拜天 日 天")):
    for _w in _words.split():
        _WEEKDAY_WORDS[_w] = _n


def weekdays(raw: str, where: str) -> list[int]:
    """"Mon, Wed", "пн ср", "周一、周三" or "0,2" → [0, 2]; a word that is not a weekday
    is refused (it used to be dropped silently, leaving a weekly wave with no day)."""
    out: set[int] = set()
    for token in re.split(r"[\s,;、，/]+", raw.strip().lower()):
        token = token.rstrip(".")
        if not token:
            continue
        if token.isdigit() and 0 <= int(token) <= 6:
            out.add(int(token))
        elif token in _WEEKDAY_WORDS:
            out.add(_WEEKDAY_WORDS[token])
        else:
            raise ValidationFailed(f"{where}: {token!r} is not a weekday (Mon–Sun or 0–6, "
                                   "0 = Monday)", field=f"{where}.weekdays")
    return sorted(out)


def schedule(form: dict[str, Any], campaign: Campaign) -> CampaignUpdate:
    waves = []
    for i, w in enumerate(campaign.waves):
        where = f"waves[{i}]"
        kind = str(form.get(f"wave{w.id}_kind", "once"))
        # the weekday checkboxes (wave<id>_wd<0..6>), or typed names/numbers
        ticked = [d for d in range(7) if form.get(f"wave{w.id}_wd{d}")]
        ticked = sorted(set(ticked + weekdays(str(form.get(f"wave{w.id}_weekdays", "")), where)))
        if kind == "weekly" and not ticked:
            raise ValidationFailed(f"{where}: a weekly wave needs at least one weekday",
                                   field=f"{where}.weekdays")
        # validated together below, so every wave's errors show at once
        waves.append({
            "channel": w.channel,
            "schedule": {"kind": kind, "weekdays": ticked if kind == "weekly" else []},
            "window_start": str(form.get(f"wave{w.id}_from", w.window_start)),
            "window_end": str(form.get(f"wave{w.id}_to", w.window_end)),
            "cell_name": w.cell.name if w.cell else None})
    rule = str(form.get("reparticipation", "once"))
    days = int(_num(form, "reparticipation_days", 0)) or None
    return CampaignUpdate.model_validate({
        "waves": waves, "reparticipation": rule,
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
