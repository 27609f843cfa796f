"""REST API under /api/segments: catalogue, count/funnel/profile/sample of a rule JSON,
saved segments with versions, snapshots and criteria templates."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from telcamp.access.deps import require
from telcamp.core.db import session_scope
from telcamp.core.errors import Forbidden
from telcamp.core.i18n import get_translator
from telcamp.core.security import Principal
from telcamp.core.web import request_locale
from telcamp.segments import (
    audience,
    criteria,
    service,
    wording,  # noqa: F401  (registers how to say rule errors)
)
from telcamp.segments import catalogue as catalogue_mod
from telcamp.segments.describe import VALUE_WORDS
from telcamp.segments.schemas import (
    RuleRequest,
    SegmentCreate,
    SegmentRead,
    SegmentUpdate,
    SnapshotCreate,
    SnapshotRead,
    TemplateCreate,
    TemplateFill,
    TemplateRead,
    VersionRead,
)

router = APIRouter(prefix="/api/segments", tags=["segments"])
READ = Depends(require("segment.read"))
WRITE = Depends(require("segment.write"))


@router.get("/catalogue")
def get_catalogue(request: Request, principal: Principal = READ) -> dict[str, Any]:
    """Fields (profile columns, extra ones too) and usage metrics with types, units,
    allowed values and operators; labels in the user's language."""
    with audience.opened(None) as con:
        out = catalogue_mod.load(con, principal.region_code).to_dict()
    translate = get_translator(request_locale(request)).gettext  # (not a literal msgid)
    for item in out["fields"]:
        item["label"] = translate(item["label"])
        item["group_label"] = translate(catalogue_mod.GROUP_LABELS.get(item["group"],
                                                                       item["group"]))
        # coded values in words, as the rule sentences and charts say them: the builder's
        # pick box offered 'low, medium, high' to a Chinese marketer
        words = VALUE_WORDS.get(item["name"])
        if words and item.get("values"):
            item["value_labels"] = {v: translate(words[v]) if v in words else v
                                    for v in item["values"]}
    out["ops"] = {op: translate(sentence) for op, sentence in out["ops"].items()}
    for item in out["metrics"]:  # msgids in telcamp.segments.describe (METRIC_WORDS, UNITS)
        item["label"] = translate(item["label"])
        item["unit_label"] = translate(item["unit"])
    return out


def _evaluate(request: Request, body: RuleRequest, principal: Principal,
              parts: tuple[str, ...]) -> dict[str, Any]:
    # description and funnel labels in the reader's language (?lang=, cookie, header)
    locale = request_locale(request)
    with session_scope() as s:
        return service.evaluate(s, rule=body.rule, principal=principal, parts=parts,
                                field=body.field, size=body.size,
                                campaign_id=body.campaign_id, segment_id=body.segment_id,
                                gettext=get_translator(locale).gettext, locale=locale)


@router.post("/count")
def count(request: Request, body: RuleRequest, principal: Principal = READ
          ) -> dict[str, Any]:
    return _evaluate(request, body, principal, ("count",))


@router.post("/funnel")
def funnel(request: Request, body: RuleRequest, principal: Principal = READ
           ) -> dict[str, Any]:
    return _evaluate(request, body, principal, ("funnel",))


@router.post("/profile")
def profile(request: Request, body: RuleRequest, principal: Principal = READ
            ) -> dict[str, Any]:
    return _evaluate(request, body, principal, ("profile",))


@router.post("/sample")
def sample(request: Request, body: RuleRequest, principal: Principal = READ
           ) -> dict[str, Any]:
    return _evaluate(request, body, principal, ("sample",))


@router.post("/evaluate")
def evaluate(request: Request, body: RuleRequest, principal: Principal = READ
             ) -> dict[str, Any]:
    """Count, funnel, profile and sample at once (what the builder page shows)."""
    return _evaluate(request, body, principal, ("count", "funnel", "profile", "sample"))


@router.get("/templates")
def list_templates(principal: Principal = READ) -> list[TemplateRead]:
    with session_scope() as s:
        return criteria.list_templates(s, principal=principal)


@router.post("/templates", status_code=201)
def create_template(body: TemplateCreate, principal: Principal = WRITE) -> TemplateRead:
    with session_scope() as s:
        return criteria.create_template(s, template_in=body, principal=principal)


@router.delete("/templates/{template_id}")
def delete_template(template_id: int, principal: Principal = WRITE) -> TemplateRead:
    """Soft-delete a criteria template of the user's region (audited)."""
    with session_scope() as s:
        return criteria.delete_template(s, template_id=template_id, principal=principal)


@router.post("/templates/{template_id}/fill")
def fill_template(template_id: int, body: TemplateFill, principal: Principal = READ
                  ) -> dict[str, Any]:
    """The filled-in rule (checked); with save_as, also saved as a segment."""
    if body.save_as and not principal.can("segment.write"):
        raise Forbidden(f"the role {principal.role} lacks the permission segment.write")
    with session_scope() as s:
        return criteria.use_template(s, template_id=template_id, values=body.values,
                                     principal=principal, save_as=body.save_as)


@router.get("/snapshots/{snapshot_id}")
def get_snapshot(snapshot_id: int, principal: Principal = READ) -> SnapshotRead:
    with session_scope() as s:
        return service.get_snapshot(s, snapshot_id=snapshot_id, principal=principal)


@router.get("/snapshots/{snapshot_id}/members")
def snapshot_members(snapshot_id: int, limit: int = 100, offset: int = 0,
                     principal: Principal = READ) -> dict[str, Any]:
    """A page of the members in number order (limit ≤ 1000, from offset), masked for
    roles without PII rights."""
    with session_scope() as s:
        members = service.snapshot_members(s, snapshot_id=snapshot_id, principal=principal,
                                           limit=max(1, min(limit, 1000)),
                                           offset=max(0, offset))
    return {"snapshot_id": snapshot_id, "offset": max(0, offset), "members": members}


@router.get("")
def list_segments(principal: Principal = READ) -> list[SegmentRead]:
    with session_scope() as s:
        return service.list_segments(s, principal=principal)


@router.post("", status_code=201)
def create_segment(body: SegmentCreate, principal: Principal = WRITE) -> SegmentRead:
    with session_scope() as s:
        return service.create(s, segment_in=body, principal=principal)


@router.get("/{segment_id}")
def read_segment(segment_id: int, principal: Principal = READ) -> SegmentRead:
    with session_scope() as s:
        return service.read(s, segment_id=segment_id, principal=principal)


@router.patch("/{segment_id}")
def update_segment(segment_id: int, body: SegmentUpdate, principal: Principal = WRITE
                   ) -> SegmentRead:
    with session_scope() as s:
        return service.update(s, segment_id=segment_id, segment_in=body, principal=principal)


@router.delete("/{segment_id}")
def delete_segment(segment_id: int, principal: Principal = WRITE) -> SegmentRead:
    """Soft-delete a segment no live campaign, segment or template uses (409 naming
    them otherwise); its versions and snapshots stay readable. Audited."""
    with session_scope() as s:
        return service.delete(s, segment_id=segment_id, principal=principal)


@router.get("/{segment_id}/versions")
def list_versions(segment_id: int, principal: Principal = READ) -> list[VersionRead]:
    with session_scope() as s:
        return service.versions(s, segment_id=segment_id, principal=principal)


@router.get("/{segment_id}/versions/{version}")
def read_version(segment_id: int, version: int, principal: Principal = READ) -> VersionRead:
    with session_scope() as s:
        return service.version(s, segment_id=segment_id, version=version, principal=principal)


@router.post("/{segment_id}/snapshots", status_code=201)
def take_snapshot(segment_id: int, body: SnapshotCreate | None = None,
                  principal: Principal = WRITE) -> SnapshotRead:
    body = body or SnapshotCreate()
    with session_scope() as s:
        return service.take_snapshot(s, segment_id=segment_id, version=body.version,
                                     principal=principal, campaign_id=body.campaign_id)


@router.get("/{segment_id}/snapshots")
def list_snapshots(segment_id: int, principal: Principal = READ) -> list[SnapshotRead]:
    with session_scope() as s:
        return service.snapshots(s, segment_id=segment_id, principal=principal)
