"""'retry' answers wait an exponential back-off (planned_at is the not-before) and fail
after the last attempt; failures before the provider land in the contact history."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from telcamp.channels.fake import FakeChannel
from telcamp.core import clock, warehouse
from telcamp.dispatch.config import get_dispatch_settings
from telcamp.dispatch.worker import Worker

from .world import FIRST, NOW, add_contacts, make_campaign, setup_warehouse, states


def run(worker: Worker) -> None:
    asyncio.run(worker.run(once=True))


def _history() -> list[tuple[int, str]]:
    with warehouse.connect(read_only=True) as con:
        rows = con.execute("SELECT msisdn, outcome FROM contact_history "
                           "ORDER BY msisdn, contacted_at").fetchall()
    return [(int(m) - FIRST, str(o)) for m, o in rows]


def test_retry_backs_off_then_fails(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELCAMP_DISPATCH_RETRY_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("TELCAMP_DISPATCH_RETRY_BACKOFF_S", "60")
    get_dispatch_settings.cache_clear()
    setup_warehouse(2)
    camp = make_campaign()
    add_contacts(camp, range(2))
    channel = FakeChannel("sms")
    channel.retry[str(FIRST)] = "smtp 450: mailbox busy"
    run(Worker(channel))
    state, why = states(camp[1])[0]
    assert state == "planned" and why is not None and why.startswith("deferred:retry 1/3")
    run(Worker(channel))  # not due yet: nothing is claimed again
    assert [int(m.msisdn) - FIRST for m in channel.sent] == [1]
    clock.freeze(NOW + timedelta(seconds=59))
    run(Worker(channel))
    assert states(camp[1])[0][1] == why, "still waiting its first back-off"
    clock.freeze(NOW + timedelta(seconds=60))
    run(Worker(channel))  # second attempt, then 120 s
    assert (states(camp[1])[0][1] or "").startswith("deferred:retry 2/3")
    clock.freeze(NOW + timedelta(seconds=60 + 119))
    run(Worker(channel))
    assert (states(camp[1])[0][1] or "").startswith("deferred:retry 2/3")
    clock.freeze(NOW + timedelta(seconds=60 + 120))
    run(Worker(channel))  # the third attempt is the last
    state, why = states(camp[1])[0]
    assert state == "failed" and "gave up after 3 attempts" in (why or "")
    assert "mailbox busy" in (why or "")
    assert _history() == [(0, "failed"), (1, "sent")]


def test_failures_before_the_provider_land_in_history(db: str) -> None:
    setup_warehouse(3)
    good = make_campaign()
    broken = make_campaign(message="Hi {{ no_such_field }}")
    add_contacts(good, [0, 1])
    add_contacts(broken, [2])
    channel = FakeChannel("sms", fail={str(FIRST + 1): "no e-mail address"})
    run(Worker(channel))
    assert states(broken[1])[2][0] == "failed"
    assert _history() == [(0, "sent"), (1, "failed"), (2, "failed")]
