"""Channel results reported back (webhook callbacks) and test sends.

Results: each reported result is turned into a DeliveryUpdate keyed by the contact's
idempotency key ("<channel>:<contact id>", the provider id recorded when the batch was
accepted) and applied through dispatch's result path (telcamp.dispatch.updates), so a
channel system can only move contacts that were sent on ITS channel and are still open
(submitted/unknown); anything else is stored as an orphan and counted. Reporting the same
result twice changes nothing the second time.

Test sends: the wave's message of every cell, rendered for each member of the test
lists, goes straight to the channel, with negative contact ids; no contact row, outbox
entry, policy count or history event is written (only an audit row).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from telcamp.campaigns import messages as campaign_messages
from telcamp.campaigns import service as campaign_service
from telcamp.channels.base import DeliveryUpdate, InboundMessage, OutboundMessage, SendResult
from telcamp.channels.schemas import ResultsIn, ResultsRead, TestSendRead
from telcamp.channels.webhook import contact_key
from telcamp.core.errors import Conflict, NotFound
from telcamp.core.security import Principal
from telcamp.dispatch import updates
from telcamp.dispatch.render import _profiles


def apply_results(*, channel: str, results_in: ResultsIn) -> ResultsRead:
    """Apply reported results (one transaction, in dispatch.updates)."""
    pending = []
    for r in results_in.results:
        key = r.id if r.id else contact_key(channel, int(r.contact_id or 0))
        if r.id and r.contact_id is not None and r.id != contact_key(channel, r.contact_id):
            key = f"mismatch:{r.id}"  # id and contact_id disagree: trust neither
        pending.append(updates.Pending(DeliveryUpdate(
            channel=channel, provider_id=key, state=r.state, reason=r.reason, at=r.at,
            raw=r.model_dump_json()[:2000])))
    _waiting, orphans = updates.apply(pending, grace_s=0.0)
    return ResultsRead(received=len(pending), applied=len(pending) - orphans, unknown=orphans)


@dataclass
class TestPlan:
    wave_id: int
    channel: str
    messages: list[OutboundMessage]
    failed: list[SendResult]
    numbers: list[int]
    cells: dict[int, str]  # test contact id -> its cell's name (one message per cell)
    msisdns: dict[int, int]  # test contact id -> the test number


def test_numbers(session: Session, *, actor: Principal, list_ids: list[int] | None,
                 limit: int) -> list[int]:
    """Members (not expired) of the test lists the actor may read."""
    from telcamp.core import clock
    from telcamp.lists import service as list_service
    from telcamp.lists.models import ListMember

    visible = [lst for lst in list_service.visible_lists(session, principal=actor)
               if lst.type == "test"]
    ids = [lst.id for lst in visible if list_ids is None or lst.id in list_ids]
    if list_ids is not None and set(list_ids) - set(ids):
        missing = sorted(set(list_ids) - set(ids))
        raise NotFound(f"test list {missing[0]} not found", field="list_ids")
    if not ids:
        raise Conflict("there is no test list with numbers to send to (create a list of "
                       "type 'test')", field="list_ids")
    now = clock.now()
    rows = session.scalars(
        sa.select(ListMember.msisdn).where(
            ListMember.list_id.in_(ids),
            sa.or_(ListMember.expires_at.is_(None), ListMember.expires_at > now))
        .distinct().order_by(ListMember.msisdn).limit(limit)).all()
    if not rows:
        raise Conflict("the test lists have no numbers", field="list_ids")
    return [int(m) for m in rows]


def plan_test_send(session: Session, *, actor: Principal, wave_id: int,
                   list_ids: list[int] | None, limit: int) -> TestPlan:
    """Render the wave's messages for the test numbers (region scope as the campaign)."""
    from telcamp.campaigns.models import Wave

    wave = session.get(Wave, wave_id)
    if wave is None:
        raise NotFound(f"wave {wave_id} does not exist", field="wave_id")
    campaign = campaign_service.get_campaign(session=session, actor=actor,
                                             campaign_id=wave.campaign_id)
    numbers = test_numbers(session, actor=actor, list_ids=list_ids, limit=limit)
    cells = [c for c in campaign.cells if wave.cell_id is None or c.id == wave.cell_id]
    profiles = _profiles(numbers)
    messages: list[OutboundMessage] = []
    failed: list[SendResult] = []
    numbers_of: dict[int, int] = {}
    cell_of: dict[int, str] = {}
    n = 0
    for cell in cells:
        offers = campaign_messages.offer_fields(cell)
        for number in numbers:
            n += 1
            cell_of[-n], numbers_of[-n] = cell.name, number
            profile = profiles.get(number)
            # the same context dispatch renders with (offer fields included)
            fields = campaign_messages.render_context(offers, profile, number)
            lang = fields.get("language") if isinstance(fields.get("language"), str) else None
            source = campaign_messages.source_for(dict(cell.messages or {}), wave.channel, lang)
            if source is None:
                failed.append(SendResult(-n, "failed", reason=f"render: no {wave.channel} "
                                                              f"message in cell {cell.name}"))
                continue
            try:
                body = campaign_messages.render_for(source, fields)
            except Exception as exc:  # a test number without the profile fields
                failed.append(SendResult(-n, "failed", reason=f"render: {exc}"[:200]))
                continue
            messages.append(OutboundMessage(
                contact_id=-n, msisdn=str(number), channel=wave.channel, body=body,
                campaign_id=campaign.id, wave_id=wave.id, priority=campaign.priority,
                language=lang, attempt=f"test-{wave.id}",
                address=fields.get("email") if isinstance(fields.get("email"), str) else None,
                extra={"test": True}))
    return TestPlan(wave.id, wave.channel, messages, failed, numbers, cell_of, numbers_of)


async def _noop(_u: DeliveryUpdate | InboundMessage) -> None:
    return None


async def do_test_send(*, actor: Principal, wave_id: int,
                       list_ids: list[int] | None = None) -> TestSendRead:
    """Render the wave for the test numbers, send through a fresh instance of the channel,
    audit it. The real contacts, the outbox, the caps and the history are not touched."""
    from starlette.concurrency import run_in_threadpool

    from telcamp.access.masking import mask_msisdn
    from telcamp.audit import service as audit_service
    from telcamp.channels.settings import get_channel_settings
    from telcamp.core.db import session_scope
    from telcamp.dispatch import registry
    from telcamp.dispatch.config import get_dispatch_settings

    limit = get_channel_settings().test_send_max

    def plan() -> TestPlan:
        with session_scope() as s:
            return plan_test_send(s, actor=actor, wave_id=wave_id, list_ids=list_ids,
                                  limit=limit)

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
    counts = dict(Counter(r.outcome for r in results))

    def audit() -> None:
        with session_scope() as s:
            audit_service.record(s, actor=actor, action="wave.test_send", object_type="wave",
                                 object_id=p.wave_id,
                                 after={"numbers": len(p.numbers), "results": counts})

    await run_in_threadpool(audit)
    details: list[dict[str, str | None]] = [
        {"msisdn": mask_msisdn(p.msisdns[r.contact_id], actor)
         if r.contact_id in p.msisdns else None, "cell": p.cells.get(r.contact_id),
         "outcome": r.outcome, "reason": r.reason}
        for r in results]
    return TestSendRead(wave_id=p.wave_id, channel=p.channel, numbers=len(p.numbers),
                        cells=len(set(p.cells.values())), messages=len(results),
                        results=counts, details=details)
