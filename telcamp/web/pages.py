"""Console home page: the warehouse figures and the value-tier chart."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from telcamp.access.deps import require
from telcamp.core import warehouse
from telcamp.core.i18n import _
from telcamp.core.security import Principal
from telcamp.core.web import register_nav, render
from telcamp.warehouse import service as warehouse_service

router = APIRouter()
register_nav("/", _("Home"), "warehouse.read", order=0)


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request, principal: Principal = Depends(require("warehouse.read"))
) -> HTMLResponse:
    # A regional office sees the figures of its own subtree only.
    with warehouse.open_warehouse(read_only=True) as wh:
        figures = warehouse_service.stats(wh, region_code=principal.region_code)
    return render(request, "home.html", {"figures": figures})
