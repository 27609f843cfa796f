"""REST API: /api/programs, /api/campaigns, /api/approvals (three routers in one).

Each write is one transaction (the route owns it); notifications go out after commit.
Launch materialises the waves that are due at once, after the launch has committed.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from telcamp.access.deps import require
from telcamp.campaigns import (
    approvals,
    cell_counts,
    chain,
    library,
    messages,
    overrides,
    rehearsal,
    schedule,
    service,
)
from telcamp.campaigns.schemas import (
    ApprovalRead,
    CampaignCreate,
    CampaignRead,
    CampaignUpdate,
    CellIn,
    Decision,
    PreviewIn,
    ProgramCreate,
    ProgramRead,
    ProgramUpdate,
    Reason,
)
from telcamp.core.db import session_scope
from telcamp.core.security import Principal

READ = Depends(require("campaign.read"))
WRITE = Depends(require("campaign.write"))
APPROVE = Depends(require("campaign.approve"))
LAUNCH = Depends(require("campaign.launch"))

programs = APIRouter(prefix="/api/programs", tags=["campaigns"])
campaigns = APIRouter(prefix="/api/campaigns", tags=["campaigns"])
approvals_router = APIRouter(prefix="/api/approvals", tags=["campaigns"])


@programs.get("")
def list_programs(principal: Principal = READ) -> list[ProgramRead]:
    with session_scope() as s:
        return [ProgramRead.model_validate(p)
                for p in service.list_programs(session=s, actor=principal)]


@programs.post("", status_code=201)
def create_program(body: ProgramCreate, principal: Principal = WRITE) -> ProgramRead:
    with session_scope() as s:
        return ProgramRead.model_validate(
            service.create_program(session=s, actor=principal, program_in=body))


@programs.get("/{program_id}")
def get_program(program_id: int, principal: Principal = READ) -> dict[str, Any]:
    with session_scope() as s:
        p = service.get_program(session=s, actor=principal, program_id=program_id)
        out = ProgramRead.model_validate(p).model_dump(mode="json")
        out["remaining_budget"] = service.remaining_budget(s, p)
        out["campaigns"] = [{"id": c.id, "name": c.name, "state": c.state}
                            for c in service.list_campaigns(session=s, actor=principal,
                                                            program_id=p.id)]
        return out


@programs.patch("/{program_id}")
def update_program(program_id: int, body: ProgramUpdate, principal: Principal = WRITE
                   ) -> ProgramRead:
    """Edit; the budget stays at or above what campaigns committed, the period keeps
    containing them."""
    with session_scope() as s:
        return ProgramRead.model_validate(service.update_program(
            session=s, actor=principal, program_id=program_id, program_in=body))


@programs.delete("/{program_id}", status_code=204)
def delete_program(program_id: int, principal: Principal = WRITE) -> None:
    """Only while its campaigns are drafts or cancelled (those go with it)."""
    with session_scope() as s:
        service.delete_program(session=s, actor=principal, program_id=program_id)


def _read(campaign_id: int, principal: Principal) -> CampaignRead:
    with session_scope() as s:
        return CampaignRead.model_validate(
            service.get_campaign(session=s, actor=principal, campaign_id=campaign_id))


@campaigns.get("")
def list_campaigns(state: str | None = None, program_id: int | None = None,
                   principal: Principal = READ) -> list[dict[str, Any]]:
    with session_scope() as s:
        return [{"id": c.id, "name": c.name, "state": c.state, "region_code": c.region_code,
                 "program_id": c.program_id, "budget": float(c.budget)}
                for c in service.list_campaigns(session=s, actor=principal, state=state,
                                                program_id=program_id)]


@campaigns.post("", status_code=201)
def create_campaign(body: CampaignCreate, principal: Principal = WRITE) -> CampaignRead:
    with session_scope() as s:
        cid = service.create_campaign(session=s, actor=principal, campaign_in=body).id
    return _read(cid, principal)


@campaigns.get("/library")
def case_library(offer: str | None = None, channel: str | None = None,
                 region: str | None = None, start: str | None = Query(None),
                 end: str | None = Query(None), templates: bool = False,
                 principal: Principal = READ) -> list[dict[str, Any]]:
    """Past campaigns with headline results; `templates=true` lists saved templates."""
    with session_scope() as s:
        return library.search(session=s, actor=principal, offer=offer, channel=channel,
                              region=region, start=start, end=end, templates=templates)


@campaigns.get("/{campaign_id}")
def get_campaign(campaign_id: int, principal: Principal = READ) -> CampaignRead:
    return _read(campaign_id, principal)


@campaigns.patch("/{campaign_id}")
def update_campaign(campaign_id: int, body: CampaignUpdate, principal: Principal = WRITE
                    ) -> CampaignRead:
    with session_scope() as s:
        service.update_campaign(session=s, actor=principal, campaign_id=campaign_id,
                                campaign_in=body)
    return _read(campaign_id, principal)


@campaigns.post("/{campaign_id}/rehearse")
def rehearse(campaign_id: int, principal: Principal = WRITE) -> dict[str, Any]:
    with session_scope() as s:
        return rehearsal.rehearse(session=s, actor=principal, campaign_id=campaign_id)


class CellCountsIn(BaseModel):
    cells: list[CellIn] | None = None  # None: the saved cells


@campaigns.post("/{campaign_id}/cell-counts")
def count_cells(campaign_id: int, body: CellCountsIn | None = None,
                principal: Principal = READ) -> dict[str, Any]:
    """Per-cell audience (first match wins), rule matches, overlaps with earlier cells
    and empty cells — for the given (unsaved) cells or the saved ones."""
    with session_scope() as s:
        return cell_counts.for_campaign(session=s, actor=principal, campaign_id=campaign_id,
                                        cells=body.cells if body else None)


OVERRIDE = Depends(require("list.override"))


@campaigns.get("/{campaign_id}/exclusion-overrides")
def get_overrides(campaign_id: int, principal: Principal = READ) -> list[dict[str, Any]]:
    """The default exclusion lists this campaign ignores, with why, who and when."""
    with session_scope() as s:
        service.get_campaign(session=s, actor=principal, campaign_id=campaign_id)
        return overrides.listing(s, campaign_id)


@campaigns.put("/{campaign_id}/exclusion-overrides")
def set_overrides(campaign_id: int, body: dict[str, Any], principal: Principal = OVERRIDE
                  ) -> CampaignRead:
    """Admins only: {"skip": [{"list_id": 3, "reason": "service notice"}]} replaces the
    overrides (audited; a submitted or approved campaign goes back to draft)."""
    with session_scope() as s:
        overrides.set_overrides(session=s, actor=principal, campaign_id=campaign_id,
                                overrides_in=overrides.parse(body))
    return _read(campaign_id, principal)


@campaigns.post("/{campaign_id}/preview")
def preview(campaign_id: int, body: PreviewIn, principal: Principal = READ) -> dict[str, Any]:
    with session_scope() as s:
        return library.preview(session=s, actor=principal, campaign_id=campaign_id,
                               preview_in=body)


@campaigns.post("/sms-info")
def sms_info(body: dict[str, str], principal: Principal = READ) -> dict[str, Any]:
    return messages.sms_info(body.get("text", "")).as_dict()


@campaigns.post("/{campaign_id}/submit")
def submit(campaign_id: int, principal: Principal = WRITE) -> CampaignRead:
    with session_scope() as s:
        approvals.submit(session=s, actor=principal, campaign_id=campaign_id)
    return _read(campaign_id, principal)


@campaigns.post("/{campaign_id}/approve")
def approve(campaign_id: int, body: Decision, principal: Principal = APPROVE) -> CampaignRead:
    with session_scope() as s:
        approvals.approve(session=s, actor=principal, campaign_id=campaign_id,
                          comment=body.comment)
    return _read(campaign_id, principal)


@campaigns.post("/{campaign_id}/reject")
def reject(campaign_id: int, body: Decision, principal: Principal = APPROVE) -> CampaignRead:
    with session_scope() as s:
        approvals.reject(session=s, actor=principal, campaign_id=campaign_id,
                         comment=body.comment)
    return _read(campaign_id, principal)


@campaigns.post("/{campaign_id}/launch")
def launch(campaign_id: int, principal: Principal = LAUNCH) -> dict[str, Any]:
    with session_scope() as s:
        schedule.launch(session=s, actor=principal, campaign_id=campaign_id)
    report = schedule.run_due()  # the waves due now are materialised straight away
    return {"campaign": _read(campaign_id, principal).model_dump(mode="json"),
            "materialised": report["materialised"], "failed": report["failed"]}


@campaigns.post("/{campaign_id}/pause")
def pause(campaign_id: int, body: Reason | None = None, principal: Principal = LAUNCH
          ) -> CampaignRead:
    with session_scope() as s:
        schedule.pause(session=s, actor=principal, campaign_id=campaign_id,
                       reason=body.reason if body else "")
    return _read(campaign_id, principal)


@campaigns.post("/{campaign_id}/resume")
def resume(campaign_id: int, principal: Principal = LAUNCH) -> CampaignRead:
    with session_scope() as s:
        schedule.resume(session=s, actor=principal, campaign_id=campaign_id)
    return _read(campaign_id, principal)


@campaigns.post("/{campaign_id}/cancel")
def cancel(campaign_id: int, body: Reason | None = None, principal: Principal = LAUNCH
           ) -> CampaignRead:
    with session_scope() as s:
        schedule.cancel(session=s, actor=principal, campaign_id=campaign_id,
                        reason=body.reason if body else "")
    return _read(campaign_id, principal)


@campaigns.get("/{campaign_id}/contacts")
def contact_counts(campaign_id: int, principal: Principal = READ) -> dict[str, Any]:
    with session_scope() as s:
        return library.contact_counts(session=s, actor=principal, campaign_id=campaign_id)


@campaigns.post("/{campaign_id}/clone", status_code=201)
def clone(campaign_id: int, body: library.CloneIn | None = None,
          principal: Principal = WRITE) -> CampaignRead:
    with session_scope() as s:
        new_id = library.clone(session=s, actor=principal, campaign_id=campaign_id,
                               as_template=bool(body and body.as_template),
                               name=body.name if body else None).id
    return _read(new_id, principal)


@approvals_router.get("")
def inbox(principal: Principal = APPROVE) -> list[dict[str, Any]]:
    with session_scope() as s:
        return [{"campaign_id": i["campaign"].id, "name": i["campaign"].name,
                 "region_code": i["campaign"].region_code,
                 "budget": float(i["campaign"].budget),
                 "submitted_by": i["campaign"].submitted_by,
                 "step": ApprovalRead.model_validate(i["step"]).model_dump(mode="json"),
                 "rehearsal": i["campaign"].rehearsal, "changes": i["changes"],
                 "mail_warning": i["mail"],
                 "exclusion_overrides": overrides.listing(s, i["campaign"].id)}
                for i in approvals.inbox(session=s, actor=principal)]


chain_router = APIRouter(prefix="/api/approval-chain", tags=["campaigns"])
CHAIN = Depends(require("campaign.chain"))


@chain_router.get("")
def get_chain(principal: Principal = APPROVE) -> dict[str, Any]:
    """The approval chain in force (approvers and admins may read it)."""
    with session_scope() as s:
        return chain.current(s)


@chain_router.put("")
def set_chain(body: dict[str, Any], principal: Principal = CHAIN) -> dict[str, Any]:
    """Replace it: {"levels": {"county": ["city"], "city": ["province"], "province":
    ["province"]}, "budget_threshold": 100000, "above_threshold": ["province"]}."""
    with session_scope() as s:
        return chain.set_chain(s, actor=principal, config=chain.parse(body))


# The server runs the scheduler tick through this router's lifespan (merged by FastAPI).
router = APIRouter(lifespan=schedule.scheduler_lifespan)
router.include_router(programs)
router.include_router(campaigns)
router.include_router(approvals_router)
router.include_router(chain_router)
