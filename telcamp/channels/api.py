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
from collections import Counter

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from telcamp.access.deps import require
from telcamp.channels import service
from telcamp.channels.base import DeliveryUpdate, SendResult
from telcamp.channels.schemas import ResultsIn, ResultsRead, TestSendIn, TestSendRead
from telcamp.channels.settings import get_channel_settings
from telcamp.channels.unsubscribe import opt_out, read_token
from telcamp.core.db import session_scope
from telcamp.core.errors import Conflict, NotFound
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


async def _noop(_u: DeliveryUpdate) -> None:
    return None


@router.post("/test-send")
async def test_send(body: TestSendIn,
                    principal: Principal = Depends(require("campaign.launch"))) -> TestSendRead:
    """Send the wave's rendered messages to the test lists' numbers, not the real audience."""
    from telcamp.audit import service as audit_service
    from telcamp.dispatch import registry
    from telcamp.dispatch.config import get_dispatch_settings

    limit = get_channel_settings().test_send_max

    def plan() -> service.TestPlan:
        with session_scope() as s:
            return service.plan_test_send(s, actor=principal, wave_id=body.wave_id,
                                          list_ids=body.list_ids, limit=limit)

    p = await run_in_threadpool(plan)
    channel = await run_in_threadpool(registry.build, p.channel, get_dispatch_settings())
    if channel is None:
        raise Conflict(f"the {p.channel} channel is not configured on this server",
                       field="channel")
    results: list[SendResult] = list(p.failed)
    if p.messages:
        await channel.start(_noop)
        try:
            results += await channel.send_batch(p.messages)
        finally:
            await channel.close()
    counts = Counter(r.outcome for r in results)
    by_id = {m.contact_id: m for m in p.messages}

    def audit() -> None:
        with session_scope() as s:
            audit_service.record(s, actor=principal, action="wave.test_send",
                                 object_type="wave", object_id=p.wave_id,
                                 after={"numbers": len(p.numbers), "results": dict(counts)})

    await run_in_threadpool(audit)
    from telcamp.access.masking import mask_msisdn

    details = [{"msisdn": mask_msisdn(by_id[r.contact_id].msisdn, principal)
                if r.contact_id in by_id else None,
                "outcome": r.outcome, "reason": r.reason} for r in results]
    return TestSendRead(wave_id=p.wave_id, channel=p.channel, numbers=len(p.numbers),
                        results=dict(counts), details=details)


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
