"""Console fragment: live progress of a campaign per wave and channel, polled every
second by the campaign page (htmx)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from telcamp.access.deps import require
from telcamp.campaigns import service as campaign_service
from telcamp.core.db import session_scope
from telcamp.core.i18n import _
from telcamp.core.security import Principal
from telcamp.core.web import render
from telcamp.dispatch import progress, readiness

router = APIRouter(include_in_schema=False)
READ = Depends(require("campaign.read"))
# Column heads and reason codes shown through _(value) in the fragment.
WORDS = (_("queued"), _("deferred"), _("sending"), _("unknown"), _("optout"), _("cap_24h"),
         _("cap_7d"), _("cap_30d"), _("arbitration"), _("deferred:min_gap"),
         _("deferred:quiet_hours"), _("undelivered"), _("expired"))


@router.get("/dispatch/campaigns/{cid}/progress", response_class=HTMLResponse)
def progress_fragment(request: Request, cid: int, principal: Principal = READ) -> HTMLResponse:
    with session_scope() as s:
        campaign = campaign_service.get_campaign(session=s, actor=principal, campaign_id=cid)
        channels = {w.channel for w in campaign.waves if w.state != "cancelled"}
        live = campaign.state not in ("completed", "cancelled", "rejected")
        rows = progress.campaign_progress(s, campaign_id=cid)
    return render(request, "dispatch/_progress.html",
                  {"rows": rows, "buckets": progress.BUCKETS,
                   "channel_notes": readiness.notes(channels) if live else []})
