"""REST: /api/subscribers — the customer-service lookup (subscriber.lookup)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from telcamp.access.deps import require
from telcamp.core.db import session_scope
from telcamp.core.security import Principal
from telcamp.subscribers import service
from telcamp.subscribers.schemas import SubscriberRead

router = APIRouter(prefix="/api/subscribers", tags=["subscribers"])


@router.get("/{msisdn}/contacts")
def contacts(msisdn: str,
             principal: Principal = Depends(require("subscriber.lookup"))) -> SubscriberRead:
    """Every contact of one subscriber: time, campaign, channel, message, outcome, reason."""
    with session_scope() as s:
        return service.lookup(s, principal=principal, msisdn=msisdn)
