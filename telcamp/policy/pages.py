"""Console: the contact-policy settings page for admins (policy.manage)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from telcamp.access.deps import require
from telcamp.core.db import session_scope
from telcamp.core.i18n import _
from telcamp.core.security import Principal
from telcamp.core.web import register_nav, render
from telcamp.policy import service
from telcamp.policy.schemas import WINDOWS, PolicyUpdate

router = APIRouter(include_in_schema=False)
register_nav("/policy", _("Contact policy"), "policy.manage")
MANAGE = Depends(require("policy.manage"))


def _cap(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text else None


def _from_form(form: dict[str, Any]) -> PolicyUpdate:
    caps = {w: _cap(form.get(f"cap_{w}")) for w in WINDOWS}
    return PolicyUpdate(
        caps={k: v for k, v in caps.items() if v is not None},
        channel_caps=json.loads(str(form.get("channel_caps") or "{}")),
        min_gap_minutes=int(str(form.get("min_gap_minutes") or 0)),
        quiet_start=str(form.get("quiet_start") or "21:00"),
        quiet_end=str(form.get("quiet_end") or "08:00"),
        region_quiet=json.loads(str(form.get("region_quiet") or "{}")),
        default_timezone=str(form.get("default_timezone") or "UTC"),
        list_types=[t.strip() for t in str(form.get("list_types") or "").split(",")
                    if t.strip()],
        arbitration_hours=int(str(form.get("arbitration_hours") or 0)),
        note=str(form.get("note") or ""),
    )


def _page(request: Request, error: str | None = None, status: int = 200,
          typed: dict[str, Any] | None = None) -> HTMLResponse:
    """`typed`: the rejected form, shown again instead of the current policy."""
    with session_scope() as s:
        return render(request, "policy/policy.html", {
            "p": service.current(s), "versions": service.history(s)[:20], "windows": WINDOWS,
            "error": error, "json": json, "typed": typed}, status_code=status)


@router.get("/policy", response_class=HTMLResponse)
def policy_page(request: Request, principal: Principal = MANAGE) -> HTMLResponse:
    return _page(request)


@router.post("/policy")
async def policy_save(request: Request, principal: Principal = MANAGE) -> Response:
    form = {k: v for k, v in (await request.form()).items()}
    try:
        policy_in = _from_form(form)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return _page(request, f"{where}: {first['msg']}", 422, typed=form)
    except (ValueError, json.JSONDecodeError) as exc:
        return _page(request, str(exc), 422, typed=form)
    with session_scope() as s:
        service.update(session=s, actor=principal, policy_in=policy_in)
    return RedirectResponse("/policy", status_code=303)
