"""Two workers claiming contacts of one subscriber at the same moment on PostgreSQL: the
second waits for the first's claim to commit and then sees its send-log row, so a cap of
one is never exceeded (telcamp/policy/serialise.py)."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from telcamp.core.db import session_scope
from telcamp.dispatch import outbox
from telcamp.dispatch.tables import send_log

from .world import (
    add_contacts,
    cap_one_a_day,
    make_campaign,
    setup_warehouse,
    slow_policy_in,
    states,
)


def test_two_workers_cannot_exceed_a_cap_together(pg: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    setup_warehouse(3)
    cap_one_a_day()
    first = make_campaign(priority=90)
    second = make_campaign(priority=10)
    add_contacts(first, [0, 1], priority=90)
    add_contacts(second, [0, 2], priority=10)  # subscriber 0 is in both

    # worker-1 checks, then pauses before committing: the window of the race
    checked = slow_policy_in("worker-1", monkeypatch)
    batches: dict[str, outbox.Batch] = {}
    took: dict[str, float] = {}

    def work(name: str) -> None:
        t0 = time.monotonic()
        batches[name] = outbox.claim(channel="sms", limit=2)
        took[name] = time.monotonic() - t0

    one = threading.Thread(target=work, args=("1",), name="worker-1")
    one.start()
    assert checked.wait(10)
    two = threading.Thread(target=work, args=("2",), name="worker-2")
    two.start()
    one.join(20)
    two.join(20)
    got1 = sorted(c.msisdn for c in batches["1"].contacts)
    got2 = sorted(c.msisdn for c in batches["2"].contacts)
    assert len(got1) == 2, "worker 1 took the higher-priority campaign"
    assert states(second[1])[0] == ("suppressed", "cap_24h")
    assert len(got2) == 1 and got2[0] not in got1
    assert batches["2"].policy == {"cap_24h": 1}
    assert took["2"] > 0.5, "worker 2 waited for worker 1's commit"
    with session_scope() as s:
        per = s.execute(sa.select(send_log.c.msisdn, sa.func.count())
                        .group_by(send_log.c.msisdn)).all()
    assert all(n == 1 for _, n in per) and len(per) == 3


def test_workers_on_other_subscribers_do_not_wait(pg: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    setup_warehouse(4)
    cap_one_a_day()
    first = make_campaign(priority=90)
    second = make_campaign(priority=10)
    add_contacts(first, [0, 1], priority=90)
    add_contacts(second, [2, 3], priority=10)
    # worker-1 checks, then pauses before committing: the window of the race
    checked = slow_policy_in("worker-1", monkeypatch)
    took: dict[str, float] = {}

    def work(name: str) -> None:
        t0 = time.monotonic()
        outbox.claim(channel="sms", limit=2)
        took[name] = time.monotonic() - t0

    one = threading.Thread(target=work, args=("1",), name="worker-1")
    one.start()
    assert checked.wait(10)
    two = threading.Thread(target=work, args=("2",), name="worker-2")
    two.start()
    two.join(20)
    one.join(20)
    assert took["2"] < 0.5
    assert {st for st, _ in states(second[1]).values()} == {"sending"}
