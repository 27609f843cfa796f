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
        words = {seg.id: service.describe_for(s, seg.rule, gettext=gettext)
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
