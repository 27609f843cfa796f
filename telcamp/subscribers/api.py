"""REST: /api/subscribers — the customer-service lookup (subscriber.lookup)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from telcamp.access.deps import require
from telcamp.core.db import session_scope
from telcamp.core.security import Principal
from telcamp.subscribers import service
from telcamp.subscribers.schemas import OptOutIn, SubscriberRead

router = APIRouter(prefix="/api/subscribers", tags=["subscribers"])


@router.get("/{msisdn}/contacts")
def contacts(msisdn: str,
             principal: Principal = Depends(require("subscriber.lookup"))) -> SubscriberRead:
    """Every contact of one subscriber: time, campaign, channel, message, outcome, reason."""
    with session_scope() as s:
        return service.lookup(s, principal=principal, msisdn=msisdn)


@router.post("/{msisdn}/optout")
def opt_out(msisdn: str, body: OptOutIn,
            principal: Principal = Depends(require("subscriber.optout"))) -> SubscriberRead:
    """Opt the subscriber out on their request (operator-wide opt-out list, audited)."""
    with session_scope() as s:
        number = service.opt_out(s, principal=principal, msisdn=msisdn, reason=body.reason)
    service.sync_optout(number)
    with session_scope() as s:
        return service.lookup(s, principal=principal, msisdn=str(number))
