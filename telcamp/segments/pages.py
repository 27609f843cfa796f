"""Console pages: saved segments and the segment builder.

The builder is one page: a small script (static/segments.js) edits the rule tree from the
catalogue and asks /api/segments/evaluate (debounced) for the count, funnel, profile and
sample, so nothing reloads while the marketer works.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from telcamp.access.deps import require
from telcamp.core.db import session_scope
from telcamp.core.errors import NotFound, TelcampError
from telcamp.core.i18n import _, get_translator
from telcamp.core.security import Principal
from telcamp.core.web import register_nav, render, request_locale
from telcamp.segments import criteria, service
from telcamp.segments.describe import stored_step_words

router = APIRouter(include_in_schema=False)
register_nav("/segments", _("Segments"), "segment.read")


@router.get("/segments", response_class=HTMLResponse)
def segments_page(request: Request, principal: Principal = Depends(require("segment.read"))
                  ) -> HTMLResponse:
    deleted = request.query_params.get("deleted")
    return _index(request, principal, notice=_("Deleted: {name}. Its versions and snapshots "
                                               "stay readable.") if deleted else None,
                  deleted=deleted)


def _index(request: Request, principal: Principal, *, error: str | None = None,
           notice: str | None = None, deleted: str | None = None, status: int = 200
           ) -> HTMLResponse:
    with session_scope() as s:
        segments = service.list_segments(s, principal=principal)
        templates = criteria.list_templates(s, principal=principal)
        snaps = {seg.id: service.snapshots(s, segment_id=seg.id, principal=principal)
                 for seg in segments}
        gettext = get_translator(request_locale(request)).gettext
        words = {seg.id: service.describe_for(s, seg.rule, gettext=gettext,
                                            locale=request_locale(request))
                 for seg in segments}
    return render(request, "segments/index.html", {
        "segments": segments, "templates": templates, "snapshots": snaps, "words": words,
        "can_write": principal.can("segment.write"), "error": error, "notice": notice,
        "deleted": deleted,
    }, status_code=status)


@router.post("/segments/{segment_id}/delete", response_class=HTMLResponse)
def delete_segment(request: Request, segment_id: int,
                   principal: Principal = Depends(require("segment.write"))) -> Response:
    """Delete button (the page asks for confirmation first); a refusal names the users."""
    try:
        with session_scope() as s:
            name = service.get(s, segment_id=segment_id, principal=principal).name
            service.delete(s, segment_id=segment_id, principal=principal)
    except TelcampError as exc:
        return _index(request, principal, error=exc.message, status=exc.status)
    return RedirectResponse(f"/segments?{urlencode({'deleted': name})}", status_code=303)


@router.post("/segments/templates/{template_id}/delete", response_class=HTMLResponse)
def delete_template(request: Request, template_id: int,
                    principal: Principal = Depends(require("segment.write"))) -> Response:
    try:
        with session_scope() as s:
            name = criteria.get_template(s, template_id=template_id, principal=principal).name
            criteria.delete_template(s, template_id=template_id, principal=principal)
    except TelcampError as exc:
        return _index(request, principal, error=exc.message, status=exc.status)
    return RedirectResponse(f"/segments?{urlencode({'deleted': name})}", status_code=303)


@router.get("/segments/builder", response_class=HTMLResponse)
def builder_page(request: Request, segment: str | None = None,
                 principal: Principal = Depends(require("segment.read"))) -> HTMLResponse:
    """The builder, empty or on a saved segment. A segment the user may not see (another
    region's, deleted for good, mistyped) is the segments page saying it was not found,
    in the reader's language, as /lists/N does: never the API's JSON."""
    seg = None
    if segment is not None and segment.strip():
        try:
            if not segment.strip().isdigit():  # a bookmark edited by hand, ?segment=abc
                raise NotFound(f"segment {segment.strip()} not found", field="segment_id")
            with session_scope() as s:
                seg = service.read(s, segment_id=int(segment), principal=principal)
        except NotFound as exc:
            return _index(request, principal, error=exc.message, status=404)
    return render(request, "segments/builder.html", {
        "segment": seg.model_dump(mode="json") if seg else None,
        "can_write": principal.can("segment.write"),
        "region": principal.region_code,
    })


@router.get("/segments/{segment_id:int}", response_class=HTMLResponse)
def segment_page(request: Request, segment_id: int,
                 principal: Principal = Depends(require("segment.read"))) -> HTMLResponse:
    """One segment: every version in words (old ones stay readable, also after a delete)
    and its snapshots, each opening on its funnel and members."""
    return _detail(request, principal, segment_id)


def _detail(request: Request, principal: Principal, segment_id: int, *,
            error: str | None = None, status: int = 200) -> HTMLResponse:
    gettext = get_translator(request_locale(request)).gettext
    try:
        with session_scope() as s:
            seg = service.read(s, segment_id=segment_id, principal=principal)
            versions = service.versions(s, segment_id=segment_id, principal=principal)
            snaps = service.snapshots(s, segment_id=segment_id, principal=principal)
            words = {v.version: service.describe_for(s, v.rule, gettext=gettext,
                                                      locale=request_locale(request))
                     for v in versions}
    except NotFound as exc:
        return _index(request, principal, error=exc.message, status=404)
    return render(request, "segments/detail.html", {
        "segment": seg, "versions": list(reversed(versions)), "words": words,
        "snapshots": list(reversed(snaps)),
        "can_write": principal.can("segment.write") and seg.deleted_at is None,
        "error": error,
    }, status_code=status)


@router.post("/segments/{segment_id:int}/snapshot", response_class=HTMLResponse)
def snapshot_action(request: Request, segment_id: int,
                    principal: Principal = Depends(require("segment.write"))) -> Response:
    """Take a snapshot of the current version (the detail page's button), then show it."""
    try:
        with session_scope() as s:
            snap = service.take_snapshot(s, segment_id=segment_id, principal=principal)
    except NotFound as exc:
        return _index(request, principal, error=exc.message, status=404)
    except TelcampError as exc:  # e.g. deleted meanwhile: the page says why
        return _detail(request, principal, segment_id, error=exc.message, status=exc.status)
    return RedirectResponse(f"/segments/snapshots/{snap.id}", status_code=303)


SNAPSHOT_PAGE = 100


@router.get("/segments/snapshots/{snapshot_id:int}", response_class=HTMLResponse)
def snapshot_page(request: Request, snapshot_id: int, page: str = "1",
                  principal: Principal = Depends(require("segment.read"))) -> HTMLResponse:
    """A snapshot as taken: its version in words, the funnel (matched → each default
    exclusion → final) and its members page by page, masked without PII rights."""
    gettext = get_translator(request_locale(request)).gettext
    number = int(page) if page.strip().isdigit() and int(page) > 0 else 1
    try:
        with session_scope() as s:
            snap = service.get_snapshot(s, snapshot_id=snapshot_id, principal=principal)
            seg = service.read(s, segment_id=snap.segment_id, principal=principal)
            ver = service.version(s, segment_id=snap.segment_id, version=snap.version,
                                  principal=principal)
            words = service.describe_for(s, ver.rule, gettext=gettext,
                                          locale=request_locale(request))
            pages = max(1, -(-snap.count // SNAPSHOT_PAGE))
            number = min(number, pages)
            members = service.snapshot_members(s, snapshot_id=snapshot_id,
                                               principal=principal, limit=SNAPSHOT_PAGE,
                                               offset=(number - 1) * SNAPSHOT_PAGE)
    except NotFound as exc:
        return _index(request, principal, error=exc.message, status=404)
    steps = [{**step, "words": stored_step_words(str(step.get("label", "")), gettext)}
             for step in snap.funnel]
    return render(request, "segments/snapshot.html", {
        "snap": snap, "segment": seg, "words": words, "steps": steps, "members": members,
        "page": number, "pages": pages, "first": (number - 1) * SNAPSHOT_PAGE + 1,
    })
