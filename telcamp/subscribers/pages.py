"""Console: the subscriber lookup page for customer-service agents."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from telcamp.access.deps import require
from telcamp.core.db import session_scope
from telcamp.core.errors import TelcampError
from telcamp.core.i18n import _
from telcamp.core.security import Principal
from telcamp.core.web import register_nav, render
from telcamp.subscribers import service

router = APIRouter(include_in_schema=False)
register_nav("/subscribers", _("Subscriber lookup"), "subscriber.lookup")
LOOKUP = Depends(require("subscriber.lookup"))


@router.get("/subscribers", response_class=HTMLResponse)
def lookup_page(request: Request, msisdn: str = "",
                principal: Principal = LOOKUP) -> HTMLResponse:
    result, error, status = None, None, 200
    if msisdn.strip():
        try:
            with session_scope() as s:
                result = service.lookup(s, principal=principal, msisdn=msisdn)
        except TelcampError as exc:
            error, status = exc.message, exc.status
    return render(request, "subscribers/lookup.html", {
        "q": msisdn, "r": result, "error": error, "explain": service.EXPLAIN,
        "reply_words": service.REPLY_WORDS, "done": request.query_params.get("done")},
        status_code=status)


@router.post("/subscribers/optout", response_class=HTMLResponse)
def opt_out(request: Request, msisdn: str = Form(...), reason: str = Form(""),
            principal: Principal = Depends(require("subscriber.optout"))) -> Response:
    try:
        with session_scope() as s:
            number = service.opt_out(s, principal=principal, msisdn=msisdn, reason=reason)
    except TelcampError as exc:
        return render(request, "subscribers/lookup.html", {
            "q": msisdn, "r": None, "error": exc.message, "explain": service.EXPLAIN,
            "reply_words": service.REPLY_WORDS, "done": None}, status_code=exc.status)
    service.sync_optout(number)
    return RedirectResponse(f"/subscribers?msisdn={quote(str(number))}&done=optout",
                            status_code=303)
