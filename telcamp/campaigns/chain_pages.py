"""Console page /admin/approval-chain: the approval chain in force and a form for an
operator-wide admin to replace it (validated and audited by chain.py). Included by
pages.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from telcamp.access.deps import require
from telcamp.campaigns import chain, wording
from telcamp.core.db import session_scope
from telcamp.core.errors import TelcampError
from telcamp.core.i18n import _
from telcamp.core.security import Principal
from telcamp.core.web import register_nav, render

router = APIRouter(include_in_schema=False)
register_nav("/admin/approval-chain", _("Approval chain"), "campaign.chain", order=91)
CHAIN = Depends(require("campaign.chain"))


def _split(raw: Any) -> list[str]:
    return [x.strip() for x in str(raw or "").replace(";", ",").split(",") if x.strip()]


def form_to_config(form: dict[str, Any]) -> dict[str, Any]:
    """The form's comma-separated level lists → the JSON chain.parse validates."""
    threshold = str(form.get("budget_threshold", "")).strip()
    try:
        value: float | None = float(threshold) if threshold else None
    except ValueError:
        value = -1.0  # refused by the validator with the field's name
    return {"levels": {lv: _split(form.get(f"levels_{lv}")) for lv in chain.LEVELS},
            "budget_threshold": value, "above_threshold": _split(form.get("above_threshold"))}


def _page(request: Request, *, form: dict[str, Any] | None = None, error: str | None = None,
          status: int = 200) -> HTMLResponse:
    with session_scope() as s:
        now = chain.current(s)
        past = chain.history(s)
    shown = form or {**{f"levels_{lv}": ", ".join(now["levels"].get(lv, []))
                        for lv in chain.LEVELS},
                     "budget_threshold": now["budget_threshold"],
                     "above_threshold": ", ".join(now["above_threshold"])}
    return render(request, "campaigns/approval_chain.html", {
        "now": now, "past": past, "form": shown, "levels": chain.LEVELS, "error": error,
        "say": wording.say},
        status_code=status)


@router.get("/admin/approval-chain", response_class=HTMLResponse)
def chain_page(request: Request, principal: Principal = CHAIN) -> HTMLResponse:
    return _page(request)


@router.post("/admin/approval-chain")
async def chain_save(request: Request, principal: Principal = CHAIN) -> Response:
    form = {k: v for k, v in (await request.form()).items()}
    try:
        config = chain.parse(form_to_config(form))
        with session_scope() as s:
            chain.set_chain(s, actor=principal, config=config)
    except TelcampError as exc:
        return _page(request, form=form, error=exc.message, status=exc.status)
    return RedirectResponse("/admin/approval-chain", status_code=303)
