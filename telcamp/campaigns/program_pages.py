"""Console page for programs (营销案): the list of programs the user may see and a form to
create one. Included by pages.py (which registers the navigation entry); programs are
region-scoped and audited by the service."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from telcamp.access.deps import require
from telcamp.campaigns import forms, service, wording
from telcamp.campaigns.schemas import ProgramCreate, ProgramUpdate
from telcamp.core.db import session_scope
from telcamp.core.errors import TelcampError
from telcamp.core.security import Principal
from telcamp.core.web import render

router = APIRouter(include_in_schema=False)
READ = Depends(require("campaign.read"))
WRITE = Depends(require("campaign.write"))


def _page(request: Request, principal: Principal, *, form: dict[str, Any] | None = None,
          error: str | None = None, status: int = 200, editing: int | None = None,
          edit_form: dict[str, Any] | None = None) -> HTMLResponse:
    with session_scope() as s:
        rows = [(p, service.remaining_budget(s, p))
                for p in service.list_programs(session=s, actor=principal)]
        return render(request, "campaigns/programs.html", {
            "programs": rows, "can_write": principal.can("campaign.write"),
            # after an error the form shows what was typed, not the defaults
            "form": form or {"region_code": principal.region_code or "", "budget": "0",
                             "next": _next(request.query_params.get("next"))},
            "error": error, "editing": editing, "edit_form": edit_form, "say": wording.say},
            status_code=status)


def _next(url: str | None) -> str:
    # only the wizard is a place to go back to (no open redirect)
    return url if url == "/campaigns/new" else ""


@router.get("/programs", response_class=HTMLResponse)
def programs(request: Request, principal: Principal = READ) -> HTMLResponse:
    return _page(request, principal)


@router.post("/programs")
async def program_create(request: Request, principal: Principal = WRITE) -> Response:
    form = {k: v for k, v in (await request.form()).items()}
    try:
        body = ProgramCreate.model_validate(forms.program(form))
        with session_scope() as s:
            service.create_program(session=s, actor=principal, program_in=body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return _page(request, principal, form=form, error=f"{where}: {first['msg']}",
                     status=422)
    except TelcampError as exc:
        return _page(request, principal, form=form, error=exc.message,
                     status=exc.status)
    return RedirectResponse(_next(str(form.get("next") or "")) or "/programs",
                            status_code=303)


def _error_text(exc: ValidationError) -> str:
    first = exc.errors()[0]
    return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"


@router.post("/programs/{program_id}/edit")
async def program_edit(request: Request, program_id: int, principal: Principal = WRITE
                       ) -> Response:
    form = {k: v for k, v in (await request.form()).items()}
    try:
        data = forms.program({**form, "region_code": "-"})
        data.pop("region_code")
        body = ProgramUpdate.model_validate(data)
        with session_scope() as s:
            service.update_program(session=s, actor=principal, program_id=program_id,
                                   program_in=body)
    except ValidationError as exc:
        return _page(request, principal, error=_error_text(exc), status=422,
                     editing=program_id, edit_form=form)
    except TelcampError as exc:
        return _page(request, principal, error=exc.message, status=exc.status,
                     editing=program_id, edit_form=form)
    return RedirectResponse("/programs", status_code=303)


@router.post("/programs/{program_id}/delete")
async def program_delete(request: Request, program_id: int, principal: Principal = WRITE
                         ) -> Response:
    try:
        with session_scope() as s:
            service.delete_program(session=s, actor=principal, program_id=program_id)
    except TelcampError as exc:
        return _page(request, principal, error=exc.message, status=exc.status)
    return RedirectResponse("/programs", status_code=303)
