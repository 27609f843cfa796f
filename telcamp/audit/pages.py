"""Console audit-log viewer with filters."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from telcamp.access import regions
from telcamp.access.deps import require
from telcamp.audit import service
from telcamp.core.db import session_scope
from telcamp.core.i18n import _
from telcamp.core.security import Principal
from telcamp.core.web import register_nav, render

router = APIRouter(include_in_schema=False)
register_nav("/audit", _("Audit log"), "audit.read", order=90)
PAGE = 100


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    object_type: str = Query(""),
    object_id: str = Query(""),
    user: str = Query(""),
    action: str = Query(""),
    before_id: int | None = Query(None),
    principal: Principal = Depends(require("audit.read")),
) -> Response:
    with session_scope() as session:
        entries = service.search(
            session, object_type=object_type or None, object_id=object_id or None,
            user=user or None, action=action or None, limit=PAGE, before_id=before_id,
            scope=regions.scope_codes(principal),
        )
    filters = {"object_type": object_type, "object_id": object_id, "user": user,
               "action": action}
    return render(request, "audit/log.html", {
        "entries": entries, "filters": filters,
        "older": entries[-1].id if len(entries) == PAGE else None,
    })
