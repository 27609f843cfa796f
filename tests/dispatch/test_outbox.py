"""The outbox with the in-tree FakeChannel, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import sqlalchemy as sa

from telcamp.campaigns.models import Campaign
from telcamp.channels.fake import FakeChannel
from telcamp.core import clock, warehouse
from telcamp.core.db import session_scope
from telcamp.dispatch import outbox
from telcamp.dispatch.tables import contact
from telcamp.dispatch.worker import Worker

from .world import FIRST, add_contacts, make_campaign, setup_warehouse, states


def run(worker: Worker) -> None:
    asyncio.run(worker.run(once=True))


def test_a_wave_goes_out_once_by_priority_and_lands_in_history(db: str) -> None:
    setup_warehouse(20)
    low = make_campaign(priority=10)
    high = make_campaign(priority=90)
    add_contacts(low, range(0, 10), priority=10)
    add_contacts(high, range(10, 20), priority=90)
    channel = FakeChannel("sms")
    worker = Worker(channel, batch_max=4)
    run(worker)
    sent = [int(m.msisdn) - FIRST for m in channel.sent]
    assert sorted(sent) == list(range(20))
    assert set(sent[:10]) == set(range(10, 20)), "the higher priority campaign goes first"
    assert {st for st, _ in states(low[1]).values()} == {"submitted"}
    assert all(m.body == f"Hello {m.msisdn}" for m in channel.sent)
    with warehouse.connect(read_only=True) as con:
        rows = con.execute("SELECT count(*), count(DISTINCT contact_id) FROM contact_history "
                           "WHERE outcome = 'sent'").fetchone()
    assert rows == (20, 20)
    # a second run sends nothing more
    again = FakeChannel("sms")
    run(Worker(again))
    assert again.sent == []


def test_paused_cancelled_and_closed_windows_send_nothing(db: str) -> None:
    setup_warehouse(10)
    paused = make_campaign(state="paused")
    closed = make_campaign(window=("20:00", "21:00"))
    cancelled = make_campaign(state="cancelled")
    add_contacts(paused, range(0, 3))
    add_contacts(closed, range(3, 6))
    add_contacts(cancelled, range(6, 9))
    channel = FakeChannel("sms")
    run(Worker(channel))
    assert channel.sent == []
    assert {st for st, _ in states(cancelled[1]).values()} == {"cancelled"}
    assert {st for st, _ in states(paused[1]).values()} == {"planned"}
    with warehouse.connect(read_only=True) as con:  # the history says why nothing came
        rows = con.execute("SELECT msisdn, outcome, reason FROM contact_history "
                           "ORDER BY msisdn").fetchall()
    assert [(int(m) - FIRST, o, r) for m, o, r in rows] == [
        (i, "cancelled", "campaign cancelled") for i in range(6, 9)]
    with session_scope() as s:  # resume: the next claim takes them
        camp = s.get(Campaign, paused[0])
        assert camp is not None
        camp.state = "running"
    run(Worker(channel))
    assert sorted(int(m.msisdn) - FIRST for m in channel.sent) == [0, 1, 2]


def test_failures_render_errors_and_receipts(db: str) -> None:
    setup_warehouse(6)
    good = make_campaign()
    bad = make_campaign(message="Hi {{ no_such_field }}")
    add_contacts(good, range(0, 4))
    add_contacts(bad, [4, 5])
    channel = FakeChannel("sms", fail={str(FIRST + 3): "ESME_RINVDSTADR"})
    worker = Worker(channel, grace_s=0)

    async def scenario() -> None:
        await worker.run(once=True)
        await channel.start(worker._sink)
        first, second = list(channel.provider_ids)[:2]
        await channel.deliver(first, "delivered")
        await channel.deliver(second, "undelivered")
        await channel.deliver("nope", "delivered")  # unknown id: an orphan
        await channel.deliver(first, "undelivered")  # a final state is final
        await worker._housekeeping(force=True)

    asyncio.run(scenario())
    got = states(good[1])
    assert got[3] == ("failed", "ESME_RINVDSTADR")
    assert sorted(st for st, _ in got.values()) == ["delivered", "failed", "submitted",
                                                    "undelivered"]
    bad_states = states(bad[1])
    assert {st for st, _ in bad_states.values()} == {"failed"}
    assert all(why and why.startswith("render:") and "no_such_field" in why
               for _, why in bad_states.values())
    assert worker.stats.orphans == 1


def test_channel_down_puts_the_batch_back(db: str) -> None:
    setup_warehouse(3)
    camp = make_campaign()
    add_contacts(camp, range(3))
    channel = FakeChannel("sms")
    channel.down = True
    worker = Worker(channel, idle_s=0.01)
    asyncio.run(_one_step(worker))
    assert {st for st, _ in states(camp[1]).values()} == {"planned"}
    channel.down = False
    run(Worker(channel))
    assert len(channel.sent) == 3


async def _one_step(worker: Worker) -> None:
    await worker.channel.start(worker._sink)
    await worker.step()


def test_an_expired_lease_becomes_unknown_and_is_not_resent(db: str) -> None:
    setup_warehouse(5)
    camp = make_campaign()
    add_contacts(camp, range(5))
    batch = outbox.claim(channel="sms", limit=2, lease_s=30)  # the worker dies here
    assert len(batch.contacts) == 2
    clock.freeze(clock.now() + timedelta(seconds=31))
    channel = FakeChannel("sms")
    worker = Worker(channel)
    run(worker)
    assert worker.stats.reconciled == 2
    assert len(channel.sent) == 3
    got = states(camp[1])
    assert sorted(st for st, _ in got.values()) == ["submitted"] * 3 + ["unknown"] * 2
    # a late answer of the "dead" worker is still recorded (better than unknown)
    from telcamp.channels.base import SendResult

    outbox.record(batch=batch, results=[SendResult(batch.contacts[0].id, "submitted",
                                                   provider_ids=("X1",))])
    with session_scope() as s:
        st = s.execute(sa.select(contact.c.state).where(
            contact.c.id == batch.contacts[0].id)).scalar_one()
    assert st == "submitted"


def test_resend_unknown_plans_them_again(db: str) -> None:
    setup_warehouse(2)
    camp = make_campaign()
    add_contacts(camp, range(2))
    outbox.claim(channel="sms", limit=2, lease_s=30)
    clock.freeze(clock.now() + timedelta(seconds=31))
    channel = FakeChannel("sms")
    run(Worker(channel, resend_unknown=True))
    assert len(channel.sent) == 2


def test_pause_takes_effect_within_a_second_and_resume_continues(db: str) -> None:
    import time

    # The policy's clock stays frozen at 10:00 UTC (world.NOW), outside every quiet hour:
    # on the real clock the Moscow subscribers are in quiet hours from 18:00 UTC and
    # nothing would go out. The worker's pacing and this test's seconds are real
    # (monotonic) either way.
    setup_warehouse(300)
    camp = make_campaign()
    add_contacts(camp, range(300))
    channel = FakeChannel("sms", capacity_per_s=100)
    worker = Worker(channel, idle_s=0.05)

    def set_state(state: str) -> None:
        with session_scope() as s:
            c = s.get(Campaign, camp[0])
            assert c is not None
            c.state = state

    async def scenario() -> tuple[int, int]:
        task = asyncio.create_task(worker.run())
        deadline = time.monotonic() + 15
        while len(channel.sent) < 50 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.to_thread(set_state, "paused")
        paused_at = len(channel.sent)
        await asyncio.sleep(1.2)  # within a second nothing more goes out
        after_a_second = len(channel.sent)
        await asyncio.sleep(1.0)
        assert len(channel.sent) == after_a_second
        await asyncio.to_thread(set_state, "running")
        deadline = time.monotonic() + 20
        while len(channel.sent) < 300 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        worker.stop.set()
        await task
        return paused_at, after_a_second

    paused_at, after = asyncio.run(scenario())
    assert 0 < paused_at < 300
    assert after - paused_at <= 100, "at most one second of capacity after the pause"
    assert len(channel.sent) == 300
    assert len({m.contact_id for m in channel.sent}) == 300


def test_send_log_keeps_31_days(db: str) -> None:
    setup_warehouse(2)
    camp = make_campaign()
    add_contacts(camp, range(2))
    run(Worker(FakeChannel("sms")))
    assert outbox.prune_send_log() == 0
    assert outbox.prune_send_log(now=clock.now() + timedelta(days=32)) == 2


def test_messages_render_offer_fields_as_well_as_profile_fields(db: str) -> None:
    # a template may use the cell's offer and the campaign's name (checked when saved)
    setup_warehouse(2)
    camp = make_campaign(message="{{ campaign_name }}: {{ reward_size }} for {{ msisdn }}",
                         reward=50.0)
    add_contacts(camp, [0, 1])
    channel = FakeChannel("sms")
    run(Worker(channel))
    assert sorted(m.body for m in channel.sent) == [
        f"c: 50 for {FIRST}", f"c: 50 for {FIRST + 1}"
    ]
