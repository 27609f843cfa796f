"""Console: channel settings and live status for admins (policy.manage), and the test-send
button's fragment on the campaign page (campaign.launch).

Saved settings (SMPP binds, SMTP, webhooks) are stored in `channel_config` and take
effect when the dispatch workers start next (server restart or `telcamp dispatch run`);
unit prices (campaign rehearsal's cost forecast) and default send windows (new waves)
take effect at once;
passwords and secrets are never sent back to the browser — a blank field keeps the
stored one.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from telcamp.access.deps import require
from telcamp.channels import config_store, service
from telcamp.channels.settings import SmtpConfig, WebhookConfig
from telcamp.core.db import session_scope
from telcamp.core.errors import TelcampError
from telcamp.core.i18n import _
from telcamp.core.security import Principal
from telcamp.core.settings import get_settings
from telcamp.core.web import register_nav, render

router = APIRouter(include_in_schema=False)
register_nav("/channels", _("Channels"), "policy.manage")
MANAGE = Depends(require("policy.manage"))
LAUNCH = Depends(require("campaign.launch"))
BIND_FIELDS = ("host", "port", "system_id", "password", "tps", "window")
MAX_BINDS = 8


def _status() -> list[dict[str, Any]]:
    from telcamp.dispatch import runtime

    return [dataclasses.asdict(s) for s in runtime.channel_status()]


def _page(request: Request, *, error: str | None = None, saved: str | None = None,
          status: int = 200) -> HTMLResponse:
    from telcamp.dispatch.config import get_dispatch_settings

    with session_scope() as s:
        stored = config_store.load(s)
    eff = config_store.effective_settings()
    binds = stored.get("smpp_binds", get_dispatch_settings().smpp_binds)
    return render(request, "channels/settings.html", {
        "smtp": config_store.redacted(eff.smtp.model_dump()) if eff.smtp else
        SmtpConfig().model_dump(exclude={"password"}),
        "smtp_on": eff.smtp is not None,
        "webhooks": json.dumps(config_store.redacted(
            {k: v.model_dump() for k, v in eff.webhooks.items()}), indent=1),
        "binds": [*config_store.redacted(list(binds)), {}], "bind_fields": BIND_FIELDS,
        "defaults": _defaults_rows(stored, eff.webhooks), "status": _status(),
        "error": error, "saved": saved}, status_code=status)


def _defaults_rows(stored: dict[str, Any], webhooks: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per channel: its unit price (stored, else the environment's) and its
    default send window (stored, else none)."""
    env = get_settings().channel_unit_prices
    prices = stored.get("unit_prices") or {}
    windows = stored.get("windows") or {}
    names = sorted({"sms", "email", *env, *prices, *windows, *webhooks})
    return [{"channel": ch, "price": prices.get(ch), "env_price": env.get(ch),
             "window": windows.get(ch) or ["", ""]} for ch in names]


def _defaults(form: dict[str, Any]) -> tuple[dict[str, float], dict[str, list[str]]]:
    """The prices-and-windows form: blank price = the environment's; blank window = none."""
    prices: dict[str, Any] = {}
    windows: dict[str, list[str]] = {}
    for key, value in form.items():
        if key.startswith("price__") and str(value).strip():
            prices[key[7:]] = str(value).strip()
        elif key.startswith("start__"):
            ch = key[7:]
            start, end = str(value).strip(), str(form.get(f"end__{ch}") or "").strip()
            if start or end:
                windows[ch] = [start, end]
    return config_store.check_prices(prices), config_store.check_windows(windows)


@router.get("/channels", response_class=HTMLResponse)
def channels_page(request: Request, saved: str | None = None,
                  principal: Principal = MANAGE) -> HTMLResponse:
    return _page(request, saved=saved)


@router.get("/channels/status", response_class=HTMLResponse)
def channels_status(request: Request, principal: Principal = MANAGE) -> HTMLResponse:
    """The live status table, polled every second by the settings page."""
    return render(request, "channels/_status.html", {"status": _status()})


def _num(value: Any, kind: type) -> Any:
    text = str(value or "").strip()
    return kind(text) if text else None


def _section(form: dict[str, Any]) -> tuple[str, Any]:
    section = str(form.get("section") or "")
    if section == "smtp":
        if not form.get("smtp_on"):
            return "smtp", None
        raw = {k: str(form.get(k) or "").strip() for k in (
            "host", "username", "password", "sender", "subject")}
        cfg = SmtpConfig(**{k: v for k, v in raw.items() if v},
                         port=_num(form.get("port"), int) or 25,
                         pool_size=_num(form.get("pool_size"), int) or 8,
                         tps=_num(form.get("tps"), float),
                         start_tls=bool(form.get("start_tls")))
        return "smtp", cfg.model_dump()
    if section == "webhooks":
        data = json.loads(str(form.get("webhooks") or "{}"))
        if not isinstance(data, dict):
            raise ValueError("webhooks: a JSON object name → settings")
        # blank secrets are filled from the stored ones before validation
        return "webhooks", {k: dict(v) for k, v in data.items()}
    if section == "smpp_binds":
        binds = []
        for i in range(MAX_BINDS):
            b = {f: str(form.get(f"bind{i}_{f}") or "").strip() for f in BIND_FIELDS}
            if not b["host"]:
                continue
            binds.append({"host": b["host"], "port": int(b["port"] or 2775),
                          "system_id": b["system_id"], "password": b["password"],
                          "tps": _num(b["tps"], float), "window": int(b["window"] or 64)})
        return "smpp_binds", binds
    raise ValueError(f"unknown section {section!r}")


@router.post("/channels")
async def channels_save(request: Request, principal: Principal = MANAGE) -> Response:
    form = dict(await request.form())
    if form.get("section") == "defaults":
        try:
            prices, windows = _defaults(form)
        except ValueError as exc:
            return _page(request, error=str(exc)[:500], status=422)
        with session_scope() as s:  # both or neither
            config_store.save(s, actor=principal, section="unit_prices", value=prices)
            config_store.save(s, actor=principal, section="windows", value=windows)
        return RedirectResponse("/channels?saved=defaults", status_code=303)
    try:
        section, value = _section(form)
        with session_scope() as s:
            if section == "smtp" and value is None:
                config_store.clear(s, actor=principal, section="smtp")
            else:
                config_store.save(s, actor=principal, section=section, value=value)
                stored = config_store.load(s).get(section)
                _validate(section, stored)  # secrets merged: check the whole, or roll back
    except (ValueError, ValidationError, TelcampError) as exc:
        return _page(request, error=str(exc)[:500], status=422)
    if section == "webhooks":
        from telcamp.channels.plugins import register_webhooks

        register_webhooks(set(value))
    return RedirectResponse(f"/channels?saved={section}", status_code=303)


def _validate(section: str, value: Any) -> None:
    from telcamp.channels.smpp import BindConfig

    if section == "webhooks":
        for name, cfg in (value or {}).items():
            WebhookConfig.model_validate(cfg)
            if not str(name).isidentifier():
                raise ValueError(f"webhook channel name {name!r}: letters, digits, _")
    elif section == "smpp_binds":
        for i, b in enumerate(value or [], start=1):
            if not b.get("system_id") or not b.get("password"):
                raise ValueError(f"SMPP bind {i}: system_id and password are required")
            BindConfig(**b)


@router.post("/channels/waves/{wave_id}/test-send", response_class=HTMLResponse)
async def test_send_fragment(request: Request, wave_id: int,
                             principal: Principal = LAUNCH) -> HTMLResponse:
    """The campaign page's test-send button: results as a small fragment."""
    try:
        result = await service.do_test_send(actor=principal, wave_id=wave_id)
    except TelcampError as exc:
        return render(request, "channels/_test_send_result.html",
                      {"error": exc.message, "r": None})
    return render(request, "channels/_test_send_result.html", {"error": None, "r": result})
