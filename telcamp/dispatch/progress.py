"""A campaign's progress per wave and channel: contacts by state, suppressed and
deferred by reason (one GROUP BY)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from telcamp.dispatch.tables import contact

BUCKETS = ("queued", "deferred", "sending", "sent", "delivered", "responded", "failed",
           "unknown", "suppressed", "cancelled", "control")
_BUCKET = {"planned": "queued", "sending": "sending", "submitted": "sent",
           "delivered": "delivered", "responded": "responded", "undelivered": "failed",
           "expired": "failed",
           "rejected": "failed", "failed": "failed", "unknown": "unknown",
           "suppressed": "suppressed", "cancelled": "cancelled", "control": "control"}


def campaign_progress(session: Session, *, campaign_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        sa.select(contact.c.wave_id, contact.c.channel, contact.c.state, contact.c.reason,
                  sa.func.count())
        .where(contact.c.campaign_id == campaign_id)
        .group_by(contact.c.wave_id, contact.c.channel, contact.c.state, contact.c.reason)
    ).all()
    out: dict[tuple[int, str], dict[str, Any]] = {}
    for wave_id, channel, state, reason, n in rows:
        entry = out.setdefault((int(wave_id), str(channel)), {
            "wave_id": int(wave_id), "channel": channel, **dict.fromkeys(BUCKETS, 0),
            "suppressed_by": {}, "failed_by": {}})
        bucket = _BUCKET.get(state, state)
        if bucket == "queued" and reason and reason.startswith("deferred:"):
            bucket = "deferred"
        entry[bucket] = entry.get(bucket, 0) + int(n)
        if bucket == "suppressed":
            entry["suppressed_by"][reason or "?"] = entry["suppressed_by"].get(reason or "?",
                                                                               0) + int(n)
        if bucket == "failed" and state != "failed":
            entry["failed_by"][state] = entry["failed_by"].get(state, 0) + int(n)
    return [out[k] for k in sorted(out)]
