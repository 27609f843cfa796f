"""REST: /api/dispatch — campaign progress and channel status. The router's lifespan runs
the in-server dispatch loop (runtime.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, Depends

from telcamp.access.deps import require
from telcamp.campaigns import service as campaign_service
from telcamp.core.db import session_scope
from telcamp.core.security import Principal
from telcamp.dispatch import progress, runtime

READ = Depends(require("campaign.read"))
MANAGE = Depends(require("policy.manage"))

router = APIRouter(prefix="/api/dispatch", tags=["dispatch"],
                   lifespan=runtime.dispatch_lifespan)


@router.get("/campaigns/{campaign_id}/progress")
def campaign_progress(campaign_id: int, principal: Principal = READ) -> list[dict[str, Any]]:
    """Contacts per wave and channel by state; suppressed and failed by reason."""
    with session_scope() as s:
        # region scoping: another region's campaign is 'not found'
        campaign_service.get_campaign(session=s, actor=principal, campaign_id=campaign_id)
        return progress.campaign_progress(s, campaign_id=campaign_id)


@router.get("/channels")
def channels(principal: Principal = MANAGE) -> list[dict[str, Any]]:
    """Live status of the channels this server dispatches."""
    return [dataclasses.asdict(st) for st in runtime.channel_status()]
