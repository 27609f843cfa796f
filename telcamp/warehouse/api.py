"""REST API under /api/warehouse: the warehouse figures, scoped to the caller's region."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from telcamp.access.deps import require
from telcamp.core import warehouse
from telcamp.core.security import Principal
from telcamp.warehouse import service

router = APIRouter(prefix="/api/warehouse", tags=["warehouse"])
READ = Depends(require("warehouse.read"))


@router.get("/stats")
def stats(principal: Principal = READ) -> dict[str, Any]:
    """Row counts, as-of date, value tiers and churn-risk bands (the caller's subtree)."""
    with warehouse.open_warehouse(read_only=True) as wh:
        return service.stats(wh, region_code=principal.region_code)
