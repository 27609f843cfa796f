"""REST API under /api/lists. Each write commits, then copies the list to the warehouse
(telcamp.lists.sync); reads first repair any stale copy."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile

from telcamp.access.deps import require
from telcamp.core.db import session_scope
from telcamp.core.security import Principal
from telcamp.lists import (  # wording: registers how to say list messages
    coverage,
    exclusions,
    importer,
    service,
    sync,
    wording,  # noqa: F401
)
from telcamp.lists.schemas import (
    ImportReport,
    ListCreate,
    ListRead,
    ListUpdate,
    MemberAdded,
    MemberCreate,
    MemberRead,
    OverrideCreate,
    OverrideRead,
    SearchHit,
    parse_msisdn,
)

router = APIRouter(prefix="/api/lists", tags=["lists"])
READ = Depends(require("list.read"))
WRITE = Depends(require("list.write"))
OVERRIDE = Depends(require("list.override"))
log = logging.getLogger(__name__)


def repair_copy() -> None:
    """Bring stale warehouse copies up to date; a busy warehouse must not fail a read."""
    try:
        sync.ensure_synced()
    except Exception:
        log.exception("warehouse copy of lists could not be repaired now")


@router.get("")
def list_lists(principal: Principal = READ) -> list[ListRead]:
    repair_copy()
    with session_scope() as s:
        return service.visible_lists(s, principal=principal)


@router.post("", status_code=201)
def create_list(body: ListCreate, principal: Principal = WRITE) -> ListRead:
    with session_scope() as s:
        lst = service.create_list(s, principal=principal, list_in=body)
        list_id = lst.id
    sync.sync_lists([list_id])
    with session_scope() as s:
        return service.read_list(s, principal=principal, list_id=list_id)


@router.get("/search")
def search(msisdn: str = Query(..., description="digits, 8..15"),
           principal: Principal = READ) -> list[SearchHit]:
    """Is this number on any list you may see: which, why, until when."""
    with session_scope() as s:
        return service.search(s, principal=principal, msisdn=msisdn)


@router.get("/exclusions")
def default_exclusions(campaign_id: int | None = None,
                       principal: Principal = READ) -> list[dict[str, Any]]:
    """The default exclusion rules in funnel order (minus the campaign's overrides)."""
    with session_scope() as s:
        rules = exclusions.default_exclusions(s, principal=principal, campaign_id=campaign_id)
    return [{"kind": r.kind, "label": r.label, "list_id": r.list_id, "list_type": r.list_type,
             "days": r.days} for r in rules]


@router.get("/overrides")
def list_overrides(campaign_id: int, principal: Principal = READ) -> list[OverrideRead]:
    with session_scope() as s:
        return [OverrideRead.model_validate(o)
                for o in exclusions.overrides(s, campaign_id=campaign_id,
                                                principal=principal)]


@router.post("/overrides", status_code=201)
def add_override(body: OverrideCreate, principal: Principal = OVERRIDE) -> OverrideRead:
    with session_scope() as s:
        row = exclusions.add_override(s, principal=principal, campaign_id=body.campaign_id,
                                      list_id=body.list_id, reason=body.reason)
        return OverrideRead.model_validate(row)


@router.delete("/overrides/{campaign_id}/{list_id}", status_code=204)
def remove_override(campaign_id: int, list_id: int, principal: Principal = OVERRIDE
                    ) -> Response:
    with session_scope() as s:
        exclusions.remove_override(s, principal=principal, campaign_id=campaign_id,
                                   list_id=list_id)
    return Response(status_code=204)


@router.get("/{list_id}")
def get_list(list_id: int, principal: Principal = READ) -> ListRead:
    with session_scope() as s:
        return service.read_list(s, principal=principal, list_id=list_id)


@router.patch("/{list_id}")
def update_list(list_id: int, body: ListUpdate, principal: Principal = WRITE) -> ListRead:
    with session_scope() as s:
        service.update_list(s, principal=principal, list_id=list_id, list_in=body)
    with session_scope() as s:
        return service.read_list(s, principal=principal, list_id=list_id)


@router.delete("/{list_id}", status_code=204)
def delete_list(list_id: int, principal: Principal = WRITE) -> Response:
    with session_scope() as s:
        service.delete_list(s, principal=principal, list_id=list_id)
    sync.sync_lists([list_id])
    return Response(status_code=204)


@router.get("/{list_id}/members")
def list_members(list_id: int, limit: int = Query(100, ge=1, le=1000),
                 offset: int = Query(0, ge=0), principal: Principal = READ) -> list[MemberRead]:
    with session_scope() as s:
        return service.members(s, principal=principal, list_id=list_id, limit=limit,
                               offset=offset)


@router.post("/{list_id}/members", status_code=201)
def add_member(list_id: int, body: MemberCreate, principal: Principal = WRITE
               ) -> MemberAdded:
    """The number as stored, with the import report's coverage fields (not_subscribers,
    national_like) for it."""
    with session_scope() as s:
        member = service.add_member(s, principal=principal, list_id=list_id,
                                    msisdn=body.msisdn, reason=body.reason,
                                    expires_at=body.expires_at)
        number = member.msisdn
    sync.sync_member(list_id, number)
    with session_scope() as s:
        hits = service.search(s, principal=principal, msisdn=body.msisdn)
    hit = next(h for h in hits if h.list_id == list_id)
    cov = coverage.check([number])
    if cov is None:
        return MemberAdded(**hit.model_dump())
    return MemberAdded(**hit.model_dump(), not_subscribers=cov.not_subscribers,
                       national_like=cov.national_like)


@router.delete("/{list_id}/members/{msisdn}", status_code=204)
def remove_member(list_id: int, msisdn: str, principal: Principal = WRITE) -> Response:
    with session_scope() as s:
        service.remove_member(s, principal=principal, list_id=list_id, msisdn=msisdn)
    sync.sync_member(list_id, parse_msisdn(msisdn))
    return Response(status_code=204)


@router.post("/{list_id}/import")
def import_csv(
    list_id: int,
    file: UploadFile = File(..., description="UTF-8 CSV: msisdn[,reason[,expiry]]"),
    confirm_partial: bool = Form(False, description="import the good rows even if some "
                                 "are rejected"),
    confirm_partial_q: bool = Query(False, alias="confirm_partial"),
    principal: Principal = WRITE,
) -> ImportReport:
    """Bad rows → 422 with the report and nothing imported, unless confirm_partial (form
    field or query parameter)."""
    with session_scope() as s:  # an unknown or foreign list is refused before any parsing
        service.get_list(s, principal=principal, list_id=list_id, write=True)
        zone = service.list_zone(s, principal=principal, list_id=list_id)
    data = file.file.read()
    parsed = importer.parse(data, file=file.filename or "upload.csv", tz=zone)
    with session_scope() as s:
        report = importer.apply(s, principal=principal, list_id=list_id, parsed=parsed,
                                confirm_partial=confirm_partial or confirm_partial_q)
    sync.sync_import(list_id, parsed.valid)
    return report
