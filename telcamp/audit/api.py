"""/api/audit: query the audit log by object and by user."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from telcamp.access import regions
from telcamp.access.deps import require
from telcamp.audit import service
from telcamp.audit.models import AuditEntry
from telcamp.core.db import session_scope
from telcamp.core.security import Principal

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("")
def list_entries(
    object_type: str | None = Query(None, description="e.g. user, segment, campaign"),
    object_id: str | None = Query(None),
    user: str | None = Query(None, description="the acting username"),
    action: str | None = Query(None),
    limit: int = Query(100, ge=1, le=1000),
    before_id: int | None = Query(None, description="page backwards from this id"),
    principal: Principal = Depends(require("audit.read")),
) -> list[dict[str, Any]]:
    with session_scope() as session:
        return [service.to_dict(e) for e in service.search(
            session, object_type=object_type, object_id=object_id, user=user, action=action,
            limit=limit, before_id=before_id, scope=regions.scope_codes(principal))]


@router.get("/verify")
def verify(principal: Principal = Depends(require("audit.read"))) -> dict[str, Any]:
    """Check the whole chain. A regional admin learns whether it holds, and the details
    of the first break only when that entry belongs to their region."""
    with session_scope() as session:
        result = service.verify(session)
        broken = result.broken
        entry = session.get(AuditEntry, broken.id) if broken is not None else None
        visible = principal.region_code is None or (
            entry is not None and regions.in_scope(principal, entry.region_code))
    details: dict[str, Any] | None = None
    if broken is not None:
        details = {"id": broken.id, "at": broken.at.isoformat() if broken.at else None,
                   "action": broken.action, "object": broken.object, "reason": broken.reason}
        if not visible:
            details = {"id": broken.id, "reason": "an entry outside your region; ask an "
                       "operator-wide admin to run `telcamp audit verify`"}
    return {"ok": result.ok, "checked": result.checked, "broken": details}
