"""REST: /api/channels — results from channel systems, e-mail unsubscribe, test sends.

- `POST /api/channels/{name}/results` (callback.write; an API token of role channel):
  webhook systems report delivered / failed / responded per contact.
- `GET|POST /api/channels/unsubscribe/{token}`: the List-Unsubscribe link. GET shows a
  confirmation form (mail scanners follow links; a GET changes nothing); POST — the form
  or the mail client's one-click `List-Unsubscribe=One-Click` — opts the subscriber out.
  Public by design: the signed token is the credential.
- `POST /api/channels/test-send` (campaign.launch): the wave to the test lists.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from telcamp.access.deps import require
from telcamp.channels import service
from telcamp.channels.schemas import ResultsIn, ResultsRead, TestSendIn, TestSendRead
from telcamp.channels.settings import get_channel_settings
from telcamp.channels.unsubscribe import opt_out, read_token
from telcamp.core.db import session_scope
from telcamp.core.errors import NotFound
from telcamp.core.security import Principal
from telcamp.core.web import render

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/channels", tags=["channels"])


def _known(name: str) -> None:
    from telcamp.dispatch import registry

    if name not in registry.names():
        raise NotFound(f"channel {name} does not exist", field="name")


@router.post("/{name}/results")
def channel_results(name: str, results_in: ResultsIn,
                    principal: Principal = Depends(require("callback.write"))) -> ResultsRead:
    """Results of contacts sent on this channel: delivered, failed, responded, ..."""
    _known(name)
    return service.apply_results(channel=name, results_in=results_in)


@router.get("/unsubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
def unsubscribe_form(request: Request, token: str) -> HTMLResponse:
    read_token(token)  # a broken link says so before the subscriber clicks
    return render(request, "channels/unsubscribe.html", {"token": token, "done": False})


@router.post("/unsubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
def unsubscribe(request: Request, token: str) -> HTMLResponse:
    from telcamp.lists.sync import sync_member

    with session_scope() as s:
        list_id, msisdn = opt_out(s, token=token)
    try:  # the operational DB is the truth; the warehouse copy follows after commit
        sync_member(list_id, int(msisdn))
    except Exception:  # a busy warehouse catches up at the next list sync
        log.warning("opt-out list %s: warehouse copy not updated yet", list_id, exc_info=True)
    return render(request, "channels/unsubscribe.html", {"token": token, "done": True})


@router.post("/test-send")
async def test_send(body: TestSendIn,
                    principal: Principal = Depends(require("campaign.launch"))) -> TestSendRead:
    """Send the wave's rendered messages to the test lists' numbers, not the real audience."""
    return await service.do_test_send(actor=principal, wave_id=body.wave_id,
                                      list_ids=body.list_ids)


# -- call lists -------------------------------------------------------------------------

@router.post("/calllists/waves/{wave_id}/export")
def calllist_export(wave_id: int, principal: Principal = Depends(require("campaign.launch"))
                    ) -> dict[str, object]:
    """Take the wave's due contacts into the call list (policy checked again); returns the
    count per agent group. Download each group's CSV with the GET below."""
    from telcamp.channels import calllist

    groups = get_channel_settings().call_groups
    with session_scope() as s:
        r = calllist.export_wave(s, actor=principal, wave_id=wave_id, groups=groups)
    return {"wave_id": r.wave_id, "exported": r.exported, "groups": r.groups,
            "policy": r.policy}


@router.get("/calllists/waves/{wave_id}/groups/{group}.csv")
def calllist_csv(wave_id: int, group: str,
                 principal: Principal = Depends(require("campaign.read"))) -> Response:
    """One agent group's call list (numbers masked unless the role has pii.read)."""
    from telcamp.channels import calllist

    with session_scope() as s:
        text = calllist.group_csv(s, actor=principal, wave_id=wave_id, group=group,
                                  groups=get_channel_settings().call_groups)
    return Response(text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="wave-{wave_id}-{group}.csv"'})


@router.post("/calllists/outcomes")
async def calllist_outcomes(file: UploadFile = File(..., description="UTF-8 CSV: "
                                                    "contact_id,outcome[,reason]"),
                            principal: Principal = Depends(require("campaign.launch"))
                            ) -> dict[str, object]:
    """Import call outcomes; a file with any bad row is rejected whole, naming each row."""
    from telcamp.channels import calllist

    data = await file.read()
    name = file.filename or "outcomes.csv"

    def run() -> calllist.ImportReport:
        with session_scope() as s:
            report, pending = calllist.check_outcomes(s, actor=principal, filename=name,
                                                      data=data)
        calllist.apply(pending)
        return report

    r = await run_in_threadpool(run)
    return {"file": r.file, "rows": r.rows, "applied": r.applied, "unchanged": r.unchanged}
