"""REST: GET /api/policy (anyone who may read campaigns), PUT /api/policy (policy.manage)
saves a new version; GET /api/policy/versions lists them."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from telcamp.access.deps import require
from telcamp.core.db import session_scope
from telcamp.core.security import Principal
from telcamp.policy import service
from telcamp.policy.schemas import PolicyRead, PolicyUpdate

router = APIRouter(prefix="/api/policy", tags=["policy"])
READ = Depends(require("campaign.read"))
MANAGE = Depends(require("policy.manage"))


@router.get("")
def get_policy(principal: Principal = READ) -> PolicyRead:
    with session_scope() as s:
        return service.current(s)


@router.put("")
def put_policy(policy_in: PolicyUpdate, principal: Principal = MANAGE) -> PolicyRead:
    with session_scope() as s:
        return service.update(session=s, actor=principal, policy_in=policy_in)


@router.get("/versions")
def versions(principal: Principal = MANAGE) -> list[PolicyRead]:
    with session_scope() as s:
        return service.history(s)
