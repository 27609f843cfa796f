"""Console pages: campaigns list, the wizard (a draft saved at every step), the campaign
page with execution control, the approval inbox and the case library.

Forms post and redirect (POST → 303 → GET); the SMS part counter and the message
preview answer htmx requests with small fragments.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from telcamp.access.deps import require
from telcamp.campaigns import (
    approvals,
    cell_counts,
    chain_pages,
    forms,
    library,
    lifecycle,
    messages,
    overrides,
    program_pages,
    rehearsal,
    schedule,
    service,
    wording,
)
from telcamp.campaigns import labels as _labels  # noqa: F401  (registers the field labels)
from telcamp.campaigns.schemas import CampaignCreate, CampaignUpdate, PreviewIn
from telcamp.core.db import session_scope
from telcamp.core.errors import TelcampError, ValidationFailed
from telcamp.core.field_errors import LABELS, FieldError, FieldErrors, describe
from telcamp.core.i18n import _, get_translator
from telcamp.core.security import Principal
from telcamp.core.web import register_nav, render, request_locale

router = APIRouter(include_in_schema=False)
register_nav("/campaigns", _("Campaigns"), "campaign.read")
register_nav("/programs", _("Programs"), "campaign.read")
router.include_router(program_pages.router)
router.include_router(chain_pages.router)
register_nav("/approvals", _("Approvals"), "campaign.approve")
READ = Depends(require("campaign.read"))
WRITE = Depends(require("campaign.write"))
APPROVE = Depends(require("campaign.approve"))
LAUNCH = Depends(require("campaign.launch"))
STEPS = ("basics", "cells", "messages", "schedule", "rehearsal")
STEP_LABELS = {"basics": _("Program and offer"), "cells": _("Cells and rewards"),
               "messages": _("Messages"), "schedule": _("Schedule"),
               "rehearsal": _("Rehearsal and submit")}

# Words shown through _(value) in the templates, marked here so catalogues carry them.
WORDS = (
    _("draft"), _("submitted"), _("approved"), _("rejected"), _("scheduled"), _("running"),
    _("paused"), _("completed"), _("cancelled"), _("planned"), _("materialising"),
    _("done"), _("control"), _("pending"), _("void"), _("sent"), _("delivered"),
    _("responded"), _("converted"), _("failed"), _("suppressed"), _("high"), _("medium"),
    _("low"),
)


def _snapshots(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """The latest snapshots of the segments the user sees, offered by the wizard's
    snapshot box (newest first)."""
    from telcamp.segments import service as segments
    from telcamp.segments.models import SegmentSnapshot

    names = {s.id: s.name for s in segments.list_segments(session, principal=principal)}
    if not names:
        return []
    rows = session.scalars(select(SegmentSnapshot).where(
        SegmentSnapshot.segment_id.in_(names)).order_by(SegmentSnapshot.id.desc()).limit(50))
    return [{"id": r.id, "name": names[r.segment_id], "count": r.count,
             "taken_at": r.taken_at} for r in rows]


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def _form(request: Request) -> dict[str, Any]:
    return {k: v for k, v in (await request.form()).items()}


def _checked(request: Request, model: Any, data: dict[str, Any],
             bad: list[ValidationFailed]) -> Any:
    """`model` validated from `data`, or every error of the step at once (the form's own
    parse errors in `bad` and the model's), each labelled and in the reader's language."""
    gettext = get_translator(request_locale(request)).gettext
    said = [FieldError(e.field or "", wording.say(e.message, gettext)) for e in bad]
    try:
        out = model.model_validate(data)
    except ValidationError as exc:
        said += describe(exc.errors(), gettext)
    if said:
        raise FieldErrors(said)
    return out


def _errors_of(request: Request, exc: Exception) -> list[FieldError] | None:
    if isinstance(exc, FieldErrors):
        return exc.errors
    gettext = get_translator(request_locale(request)).gettext
    if isinstance(exc, ValidationError):  # a model validated elsewhere in the step
        return describe(exc.errors(), gettext)
    if isinstance(exc, ValidationFailed) and exc.field:  # shown next to its field too
        return [FieldError(exc.field, wording.say(exc.message, gettext))]
    return None


@router.get("/campaigns", response_class=HTMLResponse)
def index(request: Request, principal: Principal = READ) -> HTMLResponse:
    with session_scope() as s:
        rows = service.list_campaigns(session=s, actor=principal)
        return render(request, "campaigns/index.html", {
            "campaigns": rows, "can_write": principal.can("campaign.write")})


@router.get("/campaigns/new", response_class=HTMLResponse)
def new(request: Request, principal: Principal = WRITE, error: str | None = None,
        status: int = 200, typed: dict[str, Any] | None = None,
        errors: list[FieldError] | None = None) -> HTMLResponse:
    with session_scope() as s:
        programs = service.list_programs(session=s, actor=principal)
        snapshots = _snapshots(s, principal)
    return render(request, "campaigns/wizard.html", {
        "step": "basics", "steps": STEPS, "labels": STEP_LABELS, "campaign": None,
        "programs": programs, "snapshots": snapshots, "error": error, "typed": typed,
        "say": wording.say, "errors": errors or []},
        status_code=status)


@router.post("/campaigns/new")
async def create(request: Request, principal: Principal = WRITE) -> Response:
    form = await _form(request)
    try:
        bad: list[ValidationFailed] = []
        data = forms.basics(form, errors=bad)
        body = _checked(request, CampaignCreate, {
            **data, "program_id": int(form.get("program_id") or 0),
            "region_code": str(form.get("region_code") or "").strip() or None}, bad)
        with session_scope() as s:
            cid = service.create_campaign(session=s, actor=principal, campaign_in=body).id
    except (TelcampError, ValueError) as exc:
        return new(request, principal, error=getattr(exc, "message", str(exc)), status=422,
                   typed=form, errors=_errors_of(request, exc))
    return _see(f"/campaigns/{cid}/wizard/cells")


def _segments(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """Saved segments the user sees, offered as cell rules (their current rule)."""
    from telcamp.segments import service as segments

    return [{"id": sg.id, "name": sg.name, "rule": sg.rule}
            for sg in segments.list_segments(session, principal=principal)]


def _cell_counts(session: Session, principal: Principal, campaign: Any,
                 cells: list[Any] | None) -> tuple[dict[str, Any] | None, str | None]:
    """(counts, why not) for the cells step; a missing snapshot or a bad rule is shown
    in place of the table, not as a page error."""
    if campaign.snapshot_id is None:
        return None, _("Choose an audience snapshot (first step) to count the cells.")
    if cells is None and not campaign.cells:
        return None, None
    try:
        return cell_counts.for_campaign(session=session, actor=principal,
                                        campaign_id=campaign.id, cells=cells), None
    except TelcampError as exc:
        return None, exc.message


def _wizard(request: Request, principal: Principal, cid: int, step: str,
            error: str | None = None, status: int = 200,
            typed: dict[str, Any] | None = None, rows: list[dict[str, Any]] | None = None,
            count_rows: bool = False, errors: list[FieldError] | None = None) -> HTMLResponse:
    """`typed`: the rejected form, shown again instead of the saved draft. `rows`: the
    cells step's rows after add/remove/move (not saved); `count_rows`: count them."""
    with session_scope() as s:
        c = service.get_campaign(session=s, actor=principal, campaign_id=cid)
        figures = c.rehearsal
        if step == "rehearsal" and figures is None and not error:
            figures = rehearsal.rehearse(session=s, actor=principal, campaign_id=cid)
        extra: dict[str, Any] = {}
        if step == "cells":
            segs = _segments(s, principal)
            if rows is None:
                rows = forms.cell_rows(typed) if typed is not None else forms.saved_rows(c)
            if not rows:
                rows = [forms.blank_row(0)]
            counts, why = None, None
            if count_rows:
                try:
                    unsaved = forms.cells_from_rows(rows, c, {g["id"]: g["rule"] for g in segs})
                    counts, why = _cell_counts(s, principal, c, unsaved)
                except (TelcampError, ValueError) as exc:
                    why = getattr(exc, "message", str(exc))
            elif typed is None:
                counts, why = _cell_counts(s, principal, c, None)
            extra = {"cell_rows": rows, "segments": segs, "cell_counts": counts,
                     "count_error": why, "counts_unsaved": count_rows}
        return render(request, "campaigns/wizard.html", {
            "step": step, "steps": STEPS, "labels": STEP_LABELS, "campaign": c,
            "programs": [], "error": error, "figures": figures, "tiers": forms.TIERS,
            "snapshots": _snapshots(s, principal) if step == "basics" else [],
            "languages": forms.LANGUAGES, "say": wording.say,
            "channels": ("sms", "email"), "typed": typed, "errors": errors or [],
            "read_only": c.state not in lifecycle.EDITABLE_STATES, **extra},
            status_code=status)


@router.get("/campaigns/{cid}/wizard/{step}", response_class=HTMLResponse)
def wizard(request: Request, cid: int, step: str, principal: Principal = WRITE
           ) -> HTMLResponse:
    return _wizard(request, principal, cid, step if step in STEPS else "basics")


@router.post("/campaigns/{cid}/wizard/{step}")
async def wizard_save(request: Request, cid: int, step: str, principal: Principal = WRITE
                      ) -> Response:
    form = await _form(request)
    op = str(form.get("op") or "save")
    if step == "cells" and op != "save":
        # add / remove / move a row, or count the typed cells: nothing is saved yet
        rows = forms.apply_op(forms.cell_rows(form), op)
        return _wizard(request, principal, cid, step, rows=rows, count_rows=op == "count")
    try:
        with session_scope() as s:
            c = service.get_campaign(session=s, actor=principal, campaign_id=cid)
            if step == "basics":
                bad: list[ValidationFailed] = []
                update = _checked(request, CampaignUpdate, forms.basics(form, errors=bad), bad)
            elif step == "cells":
                segs = {g["id"]: g["rule"] for g in _segments(s, principal)}
                update = forms.cells(form, c, segs)
            elif step == "messages":
                update = forms.messages(form, c)
            elif step == "schedule":
                update = forms.schedule(form, c)
            else:
                approvals.submit(session=s, actor=principal, campaign_id=cid)
                return _see(f"/campaigns/{cid}")
            service.update_campaign(session=s, actor=principal, campaign_id=cid,
                                    campaign_in=update)
    except (TelcampError, ValueError) as exc:
        return _wizard(request, principal, cid, step,
                       error=getattr(exc, "message", str(exc)), status=422,
                       typed=form if step in STEPS[:4] else None,
                       errors=_errors_of(request, exc))
    nxt = STEPS[min(STEPS.index(step) + 1, len(STEPS) - 1)] if step in STEPS else "basics"
    return _see(f"/campaigns/{cid}/wizard/{nxt}")


@router.post("/campaigns/sms-count", response_class=HTMLResponse)
async def sms_count(request: Request, principal: Principal = READ) -> HTMLResponse:
    form = await _form(request)
    # htmx posts the whole enclosing form; the header names the textarea being typed in
    field = request.headers.get("HX-Trigger-Name")
    text = str(form.get(field, "")) if field else next(
        (str(v) for k, v in form.items() if k.startswith("msg_")), "")
    info = messages.sms_info(text)
    return render(request, "campaigns/_sms_count.html", {"info": info})


@router.post("/campaigns/{cid}/preview", response_class=HTMLResponse)
async def preview(request: Request, cid: int, principal: Principal = READ) -> HTMLResponse:
    form = await _form(request)
    try:
        with session_scope() as s:
            c = service.get_campaign(session=s, actor=principal, campaign_id=cid)
            cell = next((x for x in c.cells if x.name == form.get("cell_name")), None)
            channel = str(form.get("channel") or "sms")
            # the texts being written (not yet saved) are previewed, by language
            prefix = f"msg_{cell.id}_{channel}_" if cell else "-"
            texts = {k[len(prefix):]: str(v) for k, v in form.items() if k.startswith(prefix)}
            out = library.preview(session=s, actor=principal, campaign_id=cid,
                                  preview_in=PreviewIn.model_validate({
                                      # blank, or the random button: a random member
                                      "msisdn": None if form.get("random") else (
                                          str(form.get("msisdn", "")).strip() or None),
                                      "cell_name": form.get("cell_name") or None,
                                      "channel": channel, "texts": texts}))
    except (TelcampError, ValueError) as exc:
        return render(request, "campaigns/_preview.html",
                      {"error": getattr(exc, "message", str(exc))})
    return render(request, "campaigns/_preview.html", {"out": out})


@router.get("/campaigns/library", response_class=HTMLResponse)
def case_library(request: Request, principal: Principal = READ) -> HTMLResponse:
    q = request.query_params
    args = {k: (q.get(k) or None) for k in ("offer", "channel", "region", "start", "end")}
    error = None
    try:
        with session_scope() as s:
            found = library.search(session=s, actor=principal, offer=args["offer"],
                                   channel=args["channel"], region=args["region"],
                                   start=args["start"], end=args["end"])
    except TelcampError as exc:
        found, error = [], exc.message
    return render(request, "campaigns/library.html",
                  {"found": found, "q": args, "error": error})


@router.get("/campaigns/{cid}", response_class=HTMLResponse)
def campaign_page(request: Request, cid: int, principal: Principal = READ,
                  error: str | None = None, status: int = 200) -> HTMLResponse:
    with session_scope() as s:
        c = service.get_campaign(session=s, actor=principal, campaign_id=cid)
        counts = library.contact_counts(session=s, actor=principal, campaign_id=cid)
        return render(request, "campaigns/campaign.html", {
            "c": c, "counts": counts, "error": error, "say": wording.say,
            "mail": approvals.mail_warning(s, c),
            "rule_text": lambda rule: json.dumps(rule, ensure_ascii=False),
            "overrides": overrides.listing(s, c.id),
            "can_override": principal.can("list.override"),
            "overridable": overrides.overridable_lists(s)
            if principal.can("list.override") else [],
            "can_write": principal.can("campaign.write"),
            "can_launch": principal.can("campaign.launch"),
            "sms_info": messages.sms_info}, status_code=status)


@router.post("/campaigns/{cid}/control/{verb}")
async def control(request: Request, cid: int, verb: str, principal: Principal = LAUNCH
                  ) -> Response:
    form = await _form(request)
    reason = str(form.get("reason", ""))
    try:
        with session_scope() as s:
            if verb == "launch":
                schedule.launch(session=s, actor=principal, campaign_id=cid)
            elif verb == "pause":
                schedule.pause(session=s, actor=principal, campaign_id=cid, reason=reason)
            elif verb == "resume":
                schedule.resume(session=s, actor=principal, campaign_id=cid)
            elif verb == "cancel":
                schedule.cancel(session=s, actor=principal, campaign_id=cid, reason=reason)
        if verb == "launch":
            schedule.run_due()
    except TelcampError as exc:
        return campaign_page(request, cid, principal, error=exc.message, status=409)
    return _see(f"/campaigns/{cid}")


@router.post("/campaigns/{cid}/overrides")
async def override_save(request: Request, cid: int,
                        principal: Principal = Depends(require("list.override"))) -> Response:
    """The campaign page's admin form: add one override (list + reason) or remove one."""
    form = await _form(request)
    try:
        with session_scope() as s:
            now = [{"list_id": o["list_id"], "reason": o["reason"]}
                   for o in overrides.listing(s, cid)]
            remove = str(form.get("remove", ""))
            if remove.isdigit():
                now = [o for o in now if o["list_id"] != int(remove)]
            else:
                lid = str(form.get("list_id", ""))
                now.append({"list_id": int(lid) if lid.isdigit() else 0,
                            "reason": str(form.get("reason", "")).strip()})
            overrides.set_overrides(session=s, actor=principal, campaign_id=cid,
                                    overrides_in=overrides.parse({"skip": now}))
    except TelcampError as exc:
        return campaign_page(request, cid, principal, error=exc.message, status=exc.status)
    return _see(f"/campaigns/{cid}")


@router.get("/approvals", response_class=HTMLResponse)
def inbox(request: Request, principal: Principal = APPROVE, error: str | None = None,
          status: int = 200) -> HTMLResponse:
    with session_scope() as s:
        items = approvals.inbox(session=s, actor=principal)
        for item in items:
            item["overrides"] = overrides.listing(s, item["campaign"].id)
        return render(request, "campaigns/inbox.html",
                      {"items": items, "error": error, "say": wording.say,
                       "sms_info": messages.sms_info,
                       "field_label": lambda f: LABELS.get(f, f)},
                      status_code=status)


@router.post("/approvals/{cid}/{decision}")
async def decide(request: Request, cid: int, decision: str, principal: Principal = APPROVE
                 ) -> Response:
    form = await _form(request)
    comment = str(form.get("comment", ""))
    try:
        with session_scope() as s:
            if decision == "approve":
                approvals.approve(session=s, actor=principal, campaign_id=cid, comment=comment)
            else:
                approvals.reject(session=s, actor=principal, campaign_id=cid, comment=comment)
    except TelcampError as exc:
        return inbox(request, principal, error=exc.message, status=409)
    return _see("/approvals")
