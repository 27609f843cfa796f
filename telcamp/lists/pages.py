"""Console pages: the lists page (lists with counts, create, search one number) and one
list's page (members, add, remove, rename, delete, CSV import with its report of rejected
rows and a button to confirm the partial import).

Forms post and redirect back (POST → 303 → GET); the number search uses htmx. A file with
bad rows is kept under var/list-imports/ until the user confirms or leaves, so the
confirmation imports exactly the file that was reported on.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from telcamp.access.deps import require
from telcamp.core.db import session_scope
from telcamp.core.errors import NotFound, TelcampError, ValidationFailed
from telcamp.core.i18n import _
from telcamp.core.security import Principal
from telcamp.core.settings import get_settings
from telcamp.core.web import register_nav, render
from telcamp.lists import coverage, exclusions, importer, service, sync
from telcamp.lists.api import repair_copy
from telcamp.lists.importer import ImportNeedsConfirmation
from telcamp.lists.models import LIST_TYPES
from telcamp.lists.schemas import ListCreate, ListUpdate, parse_msisdn

router = APIRouter(include_in_schema=False)
register_nav("/lists", _("Lists"), "list.read")
READ = Depends(require("list.read"))
WRITE = Depends(require("list.write"))
TYPE_LABELS = {
    "blacklist": _("blacklist"), "greylist": _("greylist"), "optout": _("opt-out"),
    "test": _("test numbers"), "custom": _("custom"),
}
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _stash_dir() -> Path:
    return get_settings().var_dir / "list-imports"


def _forget_stale_stashes(max_age_s: float = 86_400) -> None:
    # Users who read a report and walk away leave their file behind; keep a day's worth.
    cutoff = time.time() - max_age_s
    for path in _stash_dir().glob("*.*"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def _index(request: Request, principal: Principal, *, error: str | None = None,
           status: int = 200) -> HTMLResponse:
    repair_copy()
    with session_scope() as s:
        lists = service.visible_lists(s, principal=principal)
    return render(request, "lists/index.html", {
        "lists": lists, "types": LIST_TYPES, "type_labels": TYPE_LABELS, "error": error,
        "can_write": principal.can("list.write"),
    }, status_code=status)


def _detail(request: Request, principal: Principal, list_id: int, **extra: Any
            ) -> HTMLResponse:
    status = int(extra.pop("status", 200))
    try:
        with session_scope() as s:
            info = service.read_list(s, principal=principal, list_id=list_id)
            members = service.members(s, principal=principal, list_id=list_id, limit=200)
            overrides = (exclusions.overrides_of_list(s, list_id=list_id,
                                                      principal=principal)
                         if info.default_excluded else [])
    except NotFound as exc:
        return _index(request, principal, error=exc.message, status=404)
    return render(request, "lists/detail.html", {
        "lst": info, "members": members, "type_labels": TYPE_LABELS, "overrides": overrides,
        "can_override": principal.can("list.override") and info.default_excluded, **extra,
    }, status_code=status)


def _back(list_id: int | None = None) -> RedirectResponse:
    return RedirectResponse("/lists" if list_id is None else f"/lists/{list_id}",
                            status_code=303)


@router.get("/lists", response_class=HTMLResponse)
def lists_page(request: Request, principal: Principal = READ) -> HTMLResponse:
    return _index(request, principal)


@router.post("/lists", response_class=HTMLResponse)
def create_list(request: Request, name: str = Form(...), type: str = Form(...),
                description: str = Form(""), principal: Principal = WRITE) -> Response:
    try:
        body = ListCreate.model_validate({"name": name, "type": type,
                                          "description": description})
        with session_scope() as s:
            list_id = service.create_list(s, principal=principal, list_in=body).id
    except TelcampError as exc:
        return _index(request, principal, error=exc.message, status=exc.status)
    except ValueError as exc:  # pydantic: bad type or blank name
        return _index(request, principal, error=str(exc).splitlines()[-1], status=422)
    sync.sync_lists([list_id])
    return _back(list_id)


@router.get("/lists/search", response_class=HTMLResponse)
def search(request: Request, msisdn: str = "", principal: Principal = READ) -> HTMLResponse:
    """The htmx fragment answering "is this number on any list?"."""
    hits, error = [], None
    try:
        with session_scope() as s:
            hits = service.search(s, principal=principal, msisdn=msisdn)
    except TelcampError as exc:
        error = exc.message
    return render(request, "lists/_search.html", {
        "hits": hits, "error": error, "query": msisdn.strip(), "type_labels": TYPE_LABELS,
    })


@router.get("/lists/{list_id}", response_class=HTMLResponse)
def list_page(request: Request, list_id: str, added: str = "", done: str = "",
              principal: Principal = READ) -> HTMLResponse:
    # a hand-edited address (/lists/abc) is a list not found, on the lists page like any
    # other id, not the API's JSON refusal of a non-integer path parameter
    if not list_id.isdigit():
        return _index(request, principal, error=f"list {list_id} not found", status=404)
    return _detail(request, principal, int(list_id),
                   added_note=added if added in ADDED_NOTES else None,
                   done_note=DONE_NOTES.get(done))


def _change(request: Request, principal: Principal, list_id: int, action: Any,
            msisdn: str | None = None, done: str | None = None) -> Response:
    try:
        with session_scope() as s:
            action(s)
    except TelcampError as exc:
        return _detail(request, principal, list_id, error=exc.message, status=exc.status)
    if msisdn is None:
        sync.sync_lists([list_id])
    else:  # validated by the action
        sync.sync_member(list_id, parse_msisdn(msisdn))
    if done is not None:
        return RedirectResponse(f"/lists/{list_id}?done={done}", status_code=303)
    return _back(list_id)


# What the list page says after a number was added (?added=…): the number is no
# subscriber, or, worse, reads as one written the national way and will never match
ADDED_NOTES = ("not_subscriber", "national_like")
# What it says after a change went through (?done=…); the number is not in the address
DONE_NOTES = {"added": _("The number was added."), "removed": _("The number was removed.")}


@router.post("/lists/{list_id}/members", response_class=HTMLResponse)
def add_member(request: Request, list_id: int, msisdn: str = Form(...),
               reason: str = Form(""), expires_at: str = Form(""),
               principal: Principal = WRITE) -> Response:
    try:
        with session_scope() as s:
            number = service.add_member(s, principal=principal, list_id=list_id,
                                        msisdn=msisdn, reason=reason,
                                        expires_at=expires_at).msisdn
    except TelcampError as exc:
        return _detail(request, principal, list_id, error=exc.message, status=exc.status)
    sync.sync_member(list_id, number)
    # as the import report and `telcamp list add` do: a number stored as typed that no
    # subscriber has (8 930 … without a numbering plan) would silently never apply. The
    # note travels in the address, not the number: the page stays POST → 303 → GET and
    # no number is written to access logs.
    cov = coverage.check([number])
    if cov is None or not cov.not_subscribers:
        return RedirectResponse(f"/lists/{list_id}?done=added", status_code=303)
    note = "national_like" if cov.national_like else "not_subscriber"
    return RedirectResponse(f"/lists/{list_id}?added={note}", status_code=303)


@router.post("/lists/{list_id}/remove", response_class=HTMLResponse)
def remove_member(request: Request, list_id: int, msisdn: str = Form(...),
                  principal: Principal = WRITE) -> Response:
    return _change(request, principal, list_id, lambda s: service.remove_member(
        s, principal=principal, list_id=list_id, msisdn=msisdn), msisdn, done="removed")


@router.post("/lists/{list_id}/rename", response_class=HTMLResponse)
def rename(request: Request, list_id: int, name: str = Form(...),
           description: str = Form(""), principal: Principal = WRITE) -> Response:
    return _change(request, principal, list_id, lambda s: service.update_list(
        s, principal=principal, list_id=list_id,
        list_in=ListUpdate(name=name, description=description)))


@router.post("/lists/{list_id}/delete", response_class=HTMLResponse)
def delete(request: Request, list_id: int, principal: Principal = WRITE) -> Response:
    try:
        with session_scope() as s:
            service.delete_list(s, principal=principal, list_id=list_id)
    except TelcampError as exc:
        return _detail(request, principal, list_id, error=exc.message, status=exc.status)
    sync.sync_lists([list_id])
    return _back()


def _run_import(request: Request, principal: Principal, list_id: int, data: bytes,
                file_name: str, *, confirm: bool) -> Response:
    try:
        with session_scope() as s:
            zone = service.list_zone(s, principal=principal, list_id=list_id)
        parsed = importer.parse(data, file=file_name, tz=zone)
        with session_scope() as s:
            report = importer.apply(s, principal=principal, list_id=list_id, parsed=parsed,
                                    confirm_partial=confirm)
    except ImportNeedsConfirmation as exc:
        token = secrets.token_urlsafe(24)
        _stash_dir().mkdir(parents=True, exist_ok=True)
        _forget_stale_stashes()
        (_stash_dir() / f"{token}.csv").write_bytes(data)
        (_stash_dir() / f"{token}.json").write_text(json.dumps(
            {"list_id": list_id, "file": file_name, "user": principal.username}))
        return _detail(request, principal, list_id, report=exc.report, token=token,
                       status=422)
    except TelcampError as exc:
        return _detail(request, principal, list_id, error=exc.message, status=exc.status)
    sync.sync_import(list_id, parsed.valid)
    return _detail(request, principal, list_id, report=report)


@router.post("/lists/{list_id}/import", response_class=HTMLResponse)
def import_file(request: Request, list_id: int, file: UploadFile = File(...),
                principal: Principal = WRITE) -> Response:
    return _run_import(request, principal, list_id, file.file.read(),
                       file.filename or "upload.csv", confirm=False)


@router.post("/lists/{list_id}/import/confirm", response_class=HTMLResponse)
def confirm_import(request: Request, list_id: int, token: str = Form(...),
                   principal: Principal = WRITE) -> Response:
    """Import the good rows of the file reported on (validated again: time has passed)."""
    meta_path = _stash_dir() / f"{token}.json"
    done_path = _stash_dir() / f"{token}.done"
    if _TOKEN.fullmatch(token) and not meta_path.is_file() and done_path.is_file() \
            and done_path.read_text() == f"{list_id} {principal.username}":
        # the same confirmation again (the browser's reload of this POST): it was imported,
        # so show the list instead of "upload the file again"
        return _back(list_id)
    if not _TOKEN.fullmatch(token) or not meta_path.is_file():
        return _detail(request, principal, list_id, status=410,
                       error=_("This import is no longer pending; upload the file again."))
    meta = json.loads(meta_path.read_text())
    if meta["list_id"] != list_id or meta["user"] != principal.username:
        return _detail(request, principal, list_id, status=410,
                       error=_("This import is no longer pending; upload the file again."))
    data_path = _stash_dir() / f"{token}.csv"
    data = data_path.read_bytes()
    response = _run_import(request, principal, list_id, data, meta["file"], confirm=True)
    if response.status_code == 200:  # imported (kept a day, like the stashes)
        done_path.write_text(f"{list_id} {principal.username}")
    meta_path.unlink(missing_ok=True)
    data_path.unlink(missing_ok=True)
    return response


@router.post("/lists/{list_id}/overrides", response_class=HTMLResponse)
def add_override(request: Request, list_id: int, campaign_id: str = Form(...),
                 reason: str = Form(""),
                 principal: Principal = Depends(require("list.override"))) -> Response:
    """Let one campaign ignore this default list (admins; audited)."""
    def action(s: Session) -> None:
        # typed into a text box: anything but a whole number was answered with the API's
        # JSON instead of the list page (trial finding)
        typed = campaign_id.strip()
        if not typed.isdigit():
            raise ValidationFailed(f"campaign id {typed!r} is not a whole number",
                                   field="campaign_id")
        exclusions.add_override(s, principal=principal, campaign_id=int(typed),
                                list_id=list_id, reason=reason)
    return _change(request, principal, list_id, action)


@router.post("/lists/{list_id}/overrides/{campaign_id}/delete", response_class=HTMLResponse)
def remove_override(request: Request, list_id: int, campaign_id: int,
                    principal: Principal = Depends(require("list.override"))) -> Response:
    return _change(request, principal, list_id, lambda s: exclusions.remove_override(
        s, principal=principal, campaign_id=campaign_id, list_id=list_id))
