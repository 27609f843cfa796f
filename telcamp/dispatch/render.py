"""Rendering a claimed batch into messages: the cell's template for the contact's
language and channel, over the subscriber's profile fields.

One warehouse read per batch fetches the profile rows the templates need. A contact whose
message cannot be rendered (unknown field, no template for the channel) fails alone with
the reason; the batch and the wave go on.
"""

from __future__ import annotations

from typing import Any

import duckdb
import sqlalchemy as sa

from telcamp.campaigns import messages as campaign_messages
from telcamp.campaigns.models import Cell
from telcamp.channels.base import OutboundMessage, SendResult
from telcamp.core import warehouse
from telcamp.core.db import session_scope
from telcamp.dispatch.outbox import Batch


def _templates(
    cell_ids: set[int],
) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    """Per cell: its message templates, and the offer fields a template may use besides
    the subscriber's (offer_code, reward_*, campaign_name), as checked when it was saved."""
    with session_scope() as s:
        cells = list(s.scalars(sa.select(Cell).where(Cell.id.in_(cell_ids))))
        return ({int(c.id): dict(c.messages or {}) for c in cells},
                {int(c.id): campaign_messages.offer_fields(c) for c in cells})


def _profiles(msisdns: list[int]) -> dict[int, dict[str, Any]]:
    try:
        with warehouse.connect(read_only=True) as con:
            cur = con.execute("SELECT * FROM profile WHERE msisdn IN "
                              "(SELECT UNNEST(CAST(? AS BIGINT[])))", [msisdns])
            names = [d[0] for d in cur.description or []]
            return {int(r[0]): dict(zip(names, r, strict=True)) for r in cur.fetchall()}
    except duckdb.CatalogException:
        return {}


def _source(templates: dict[str, Any], channel: str, language: str | None) -> str | None:
    return campaign_messages.source_for(templates, channel, language)


def render_batch(batch: Batch) -> tuple[list[OutboundMessage], list[SendResult]]:
    """(messages to send, failures to record)."""
    templates, offers = _templates({c.cell_id for c in batch.contacts})
    channel, lease = batch.channel, batch.lease
    # one template lookup per (cell, language), not per contact
    sources: dict[tuple[int, str | None], str | None] = {}
    for c in batch.contacts:
        key = (c.cell_id, c.language)
        if key not in sources:
            sources[key] = _source(templates.get(c.cell_id, {}), channel, c.language)
    needs_fields = any(s and "{" in s for s in sources.values())
    profiles = _profiles([c.msisdn for c in batch.contacts]) if needs_fields else {}
    out: list[OutboundMessage] = []
    failed: list[SendResult] = []
    for c in batch.contacts:
        source = sources[(c.cell_id, c.language)]
        if source is None:
            failed.append(SendResult(c.id, "failed",
                                     reason=f"render: no {channel} message in the cell"))
            continue
        body = source  # plain text: no context to build (render_for would return it as is)
        if "{" in source:
            fields = campaign_messages.render_context(offers.get(c.cell_id, {}),
                                                      profiles.get(c.msisdn), c.msisdn)
            try:
                body = campaign_messages.render_for(source, fields)
            except Exception as exc:  # one subscriber's bad data must not stop the wave
                failed.append(SendResult(c.id, "failed", reason=f"render: {exc}"[:200]))
                continue
        out.append(OutboundMessage(c.id, str(c.msisdn), channel, body, c.campaign_id,
                                   c.wave_id, c.priority, c.language, attempt=lease))
    return out, failed
