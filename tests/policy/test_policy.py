"""The contact policy at send time and at materialisation, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from dispatch.world import FIRST, add_contacts, make_campaign, setup_warehouse, states
from pydantic import ValidationError

from telcamp.channels.fake import FakeChannel
from telcamp.core import clock
from telcamp.core.db import session_scope
from telcamp.core.security import system_principal
from telcamp.dispatch.tables import contact
from telcamp.dispatch.worker import Worker
from telcamp.lists.models import ListMember, SpecialList
from telcamp.policy import quiet
from telcamp.policy import service as policy
from telcamp.policy.schemas import PolicyUpdate


def _set(**kw: object) -> None:
    with session_scope() as s:
        policy.update(session=s, actor=system_principal(), policy_in=PolicyUpdate(**kw))


def _send() -> FakeChannel:
    channel = FakeChannel("sms")
    asyncio.run(Worker(channel).run(once=True))
    return channel


def test_versions_and_bad_input(db: str) -> None:
    setup_warehouse(1)
    with session_scope() as s:
        assert policy.current(s).version == 0
    _set(caps={"24h": 1})
    _set(caps={"24h": 2}, note="relaxed")
    with session_scope() as s:
        assert [p.version for p in policy.history(s)] == [2, 1]
        assert policy.current(s).caps == {"24h": 2}
    with pytest.raises(ValidationError, match="unknown window"):
        PolicyUpdate(caps={"1h": 1})
    with pytest.raises(ValidationError, match="HH:MM"):
        PolicyUpdate(quiet_start="25:00")
    with pytest.raises(ValidationError, match="time zone"):
        PolicyUpdate(default_timezone="Mars/Olympus")


def test_optout_caps_and_collisions_at_send(db: str) -> None:
    setup_warehouse(10)
    _set(caps={"24h": 1}, list_types=["optout"], quiet_start="00:00", quiet_end="00:00")
    now = clock.now()
    with session_scope() as s:
        lst = SpecialList(name="stop", type="optout", region_code=None, description="",
                          default_excluded=True, version=1, created_by="t", created_at=now,
                          updated_at=now)
        s.add(lst)
        s.flush()
        s.add(ListMember(list_id=lst.id, msisdn=FIRST + 0, added_by="t", added_at=now))
    a = make_campaign(priority=80)
    b = make_campaign(priority=20)
    add_contacts(a, range(0, 5), priority=80)
    add_contacts(b, range(3, 8), priority=20)  # 3 and 4 collide with campaign a
    channel = _send()
    assert sorted(int(m.msisdn) - FIRST for m in channel.sent) == [1, 2, 3, 4, 5, 6, 7]
    assert states(a[1])[0] == ("suppressed", "optout")
    got_b = states(b[1])
    assert got_b[3][0] == got_b[4][0] == "suppressed"
    assert {got_b[3][1], got_b[4][1]} <= {"arbitration", "cap_24h"}
    # a day later the cap allows one more
    later = make_campaign()
    add_contacts(later, [1, 2], planned_at=now)
    clock.freeze(now + timedelta(hours=1))
    assert _send().sent == []
    assert {r for _, r in states(later[1]).values()} == {"cap_24h"}


def test_quiet_hours_defer_to_the_local_opening(db: str) -> None:
    # 10:00 UTC is 02:00 in Los Angeles: offsets 1 and 2 live there
    setup_warehouse(4, west=(1, 2))
    quiet.forget_regions()
    _set(region_quiet={"P01": ["09:00", "12:00"]})  # 13:00 Moscow: outside it
    camp = make_campaign()
    add_contacts(camp, range(4))
    channel = _send()
    assert sorted(int(m.msisdn) - FIRST for m in channel.sent) == [0, 3]
    with session_scope() as s:
        rows = dict(s.execute(sa.select(contact.c.msisdn, contact.c.planned_at)
                              .where(contact.c.state == "planned")).all())
    assert set(rows) == {FIRST + 1, FIRST + 2}
    # 08:00 in Los Angeles on 2026-11-20 is 16:00 UTC
    assert set(rows.values()) == {datetime(2026, 11, 20, 16, 0, tzinfo=UTC)}
    assert {r for _, r in states(camp[1]).values() if r} == {"deferred:quiet_hours"}
    clock.freeze(datetime(2026, 11, 20, 16, 0, 5, tzinfo=UTC))
    assert len(_send().sent) == 2


def test_min_gap_defers(db: str) -> None:
    setup_warehouse(2)
    _set(min_gap_minutes=120, quiet_start="00:00", quiet_end="00:00")
    first = make_campaign()
    add_contacts(first, [0])
    assert len(_send().sent) == 1
    second = make_campaign()
    add_contacts(second, [0, 1])
    assert [int(m.msisdn) - FIRST for m in _send().sent] == [1]
    assert states(second[1])[0] == ("planned", "deferred:min_gap")


def test_arbitration_at_materialisation(db: str) -> None:
    setup_warehouse(6)
    low = make_campaign(priority=10)
    add_contacts(low, range(0, 4), priority=10)
    tie_a = make_campaign(priority=10, reward=5.0)
    add_contacts(tie_a, range(4, 6), priority=10)
    high = make_campaign(priority=90)
    add_contacts(high, range(2, 6), priority=90)
    with session_scope() as s:
        counts = policy.apply_to_wave(session=s, campaign_id=high[0], wave_id=high[1], run=1)
    assert counts == {"arbitration": 4}  # the higher priority keeps its four
    assert [states(low[1])[i] for i in (2, 3)] == [("suppressed", "arbitration")] * 2
    assert {st for st, _ in states(high[1]).values()} == {"planned"}
    # a tie in priority and value: the older campaign keeps the subscriber
    tie_b = make_campaign(priority=10, reward=0.0)
    add_contacts(tie_b, [0], priority=10)
    with session_scope() as s:
        policy.apply_to_wave(session=s, campaign_id=tie_b[0], wave_id=tie_b[1], run=1)
    assert states(tie_b[1])[0] == ("suppressed", "arbitration")
    # a tie in priority: the higher expected value (cell reward) wins
    tie_c = make_campaign(priority=10, reward=2.0)
    add_contacts(tie_c, [1], priority=10)
    with session_scope() as s:
        policy.apply_to_wave(session=s, campaign_id=tie_c[0], wave_id=tie_c[1], run=1)
    assert states(tie_c[1])[1] == ("planned", None)
    assert states(low[1])[1] == ("suppressed", "arbitration")


def test_no_time_zone_lookup_when_nobody_is_in_quiet_hours(db: str, monkeypatch: Any) -> None:
    setup_warehouse(3, west=(1,))
    # 10:00 UTC: Moscow 13:00 (outside 21-08), Los Angeles 02:00 (outside 03-04)
    _set(region_quiet={"P02": ["03:00", "04:00"]})
    calls: list[int] = []
    real = quiet.subscriber_regions
    monkeypatch.setattr(quiet, "subscriber_regions",
                        lambda m: calls.append(1) or real(m))
    camp = make_campaign()
    add_contacts(camp, range(3))
    assert len(_send().sent) == 3
    assert calls == []
    _set(region_quiet={"P02": ["01:00", "04:00"]})  # now Los Angeles is quiet
    later = make_campaign()
    add_contacts(later, range(3))
    assert len(_send().sent) == 2
    assert calls
