"""Console pages: saved segments and the segment builder.

The builder is one page: a small script (static/segments.js) edits the rule tree from the
catalogue and asks /api/segments/evaluate (debounced) for the count, funnel, profile and
sample, so nothing reloads while the marketer works.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from telcamp.access.deps import require
from telcamp.core.db import session_scope
from telcamp.core.i18n import _, get_translator
from telcamp.core.security import Principal
from telcamp.core.web import register_nav, render, request_locale
from telcamp.segments import criteria, service

router = APIRouter(include_in_schema=False)
register_nav("/segments", _("Segments"), "segment.read")


@router.get("/segments", response_class=HTMLResponse)
def segments_page(request: Request, principal: Principal = Depends(require("segment.read"))
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
        "can_write": principal.can("segment.write"),
    })


@router.get("/segments/builder", response_class=HTMLResponse)
def builder_page(request: Request, segment: int | None = None,
                 principal: Principal = Depends(require("segment.read"))) -> HTMLResponse:
    seg = None
    if segment is not None:
        with session_scope() as s:
            seg = service.read(s, segment_id=segment, principal=principal)
    return render(request, "segments/builder.html", {
        "segment": seg.model_dump(mode="json") if seg else None,
        "can_write": principal.can("segment.write"),
        "region": principal.region_code,
    })
