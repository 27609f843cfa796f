"""A small world for dispatch and policy tests: regions and subscribers in the warehouse,
running campaigns with one wave each and contacts inserted directly (no materialiser)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from telcamp.campaigns.models import Campaign, Cell, Program, Wave
from telcamp.core import clock, warehouse
from telcamp.core.db import session_scope
from telcamp.dispatch.tables import contact
from telcamp.warehouse.schema import ensure_schema

# 10:00 UTC = 13:00 Moscow (not quiet), 18:00 Shanghai (not quiet), 02:00 Los Angeles (quiet)
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
REGIONS = [("P01", "Province", None, "province", "Europe/Moscow"),
           ("C01", "City", "P01", "city", ""),
           ("P02", "West", None, "province", "America/Los_Angeles")]
FIRST = 79000000000


def setup_warehouse(n: int = 50, *, west: tuple[int, ...] = (), freeze: bool = True) -> None:
    """`n` subscribers from FIRST in C01 (Moscow time), those at offsets `west` in P02."""
    if freeze:
        clock.freeze(NOW)
    from telcamp.policy import quiet

    quiet.forget_regions()  # the region cache outlives a test's warehouse otherwise
    with warehouse.connect() as con:
        ensure_schema(con)
        con.executemany("INSERT INTO regions VALUES (?, ?, ?, ?, ?)", [list(r) for r in REGIONS])
        con.execute(
            "INSERT INTO subscribers SELECT ? + i, CASE WHEN list_contains(?, i) THEN 'P02' "
            "ELSE 'C01' END, 'T1', DATE '2020-01-01', 'active', NULL, 'u', 'en', NULL, NULL "
            "FROM range(?) t(i)", [FIRST, list(west), n])


def make_campaign(*, priority: int = 50, reward: float = 0.0, channel: str = "sms",
                  message: str = "Hello {{ msisdn }}", state: str = "running",
                  window: tuple[str, str] = ("00:00", "23:59")) -> tuple[int, int, int]:
    """(campaign id, wave id, cell id)."""
    now = clock.now()
    with session_scope() as s:
        program = Program(name="p", start_date=date(2026, 1, 1), end_date=date(2026, 12, 31),
                          region_code="P01", created_by="t", created_at=now)
        s.add(program)
        s.flush()
        camp = Campaign(program_id=program.id, name="c", region_code="P01", priority=priority,
                        state=state, created_by="t", created_at=now, updated_at=now)
        s.add(camp)
        s.flush()
        cell = Cell(campaign_id=camp.id, position=0, name="all", rule=None, reward_size=reward,
                    channels=[channel], messages={channel: {"en": message}})
        wave = Wave(campaign_id=camp.id, channel=channel, window_start=window[0],
                    window_end=window[1], state="done")
        s.add_all([cell, wave])
        s.flush()
        return camp.id, wave.id, cell.id


def add_contacts(campaign: tuple[int, int, int], offsets: range | list[int], *,
                 channel: str = "sms", priority: int = 50,
                 planned_at: datetime | None = None, **extra: Any) -> list[int]:
    cid, wid, cell = campaign
    at = planned_at or clock.now()
    rows = [{"campaign_id": cid, "wave_id": wid, "cell_id": cell, "run": 1,
             "msisdn": FIRST + i, "channel": channel, "priority": priority,
             "state": "planned", "is_control": False, "planned_at": at, "language": "en",
             "template_ref": None, **extra} for i in offsets]
    with session_scope() as s:
        s.execute(sa.insert(contact), rows)
        return [int(x) for x in s.scalars(
            sa.select(contact.c.id).where(contact.c.wave_id == wid).order_by(contact.c.id))]


def states(wave_id: int) -> dict[int, tuple[str, str | None]]:
    """msisdn offset -> (state, reason)."""
    with session_scope() as s:
        return {int(m) - FIRST: (st, why) for m, st, why in s.execute(
            sa.select(contact.c.msisdn, contact.c.state, contact.c.reason)
            .where(contact.c.wave_id == wave_id))}


def need_peer(ok: bool, why: str) -> None:
    """As tests/conftest.need: a missing real peer skips outside CI and fails in CI."""
    import os

    import pytest

    if ok:
        return
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI=true and a real component is missing: {why}")
    pytest.skip(why)


def no_quiet_hours() -> None:
    """An operator policy without quiet hours, for tests that run workers on the real
    clock (worker processes cannot share a frozen one): with the default 21:00-08:00 the
    Moscow subscribers of this world are in quiet hours from 18:00 UTC, and nothing
    would go out."""
    from telcamp.core.security import system_principal
    from telcamp.policy import service as policy
    from telcamp.policy.schemas import PolicyUpdate

    with session_scope() as s:
        policy.update(session=s, actor=system_principal(),
                      policy_in=PolicyUpdate(quiet_start="00:00", quiet_end="00:00"))


def cap_one_a_day() -> None:
    """An operator policy capping every subscriber at one contact per 24 h, no
    arbitration window (the cap alone decides between campaigns)."""
    from telcamp.core.security import system_principal
    from telcamp.policy import service as policy
    from telcamp.policy.schemas import PolicyUpdate

    with session_scope() as s:
        policy.update(session=s, actor=system_principal(),
                      policy_in=PolicyUpdate(caps={"24h": 1}, arbitration_hours=0))


def slow_policy_in(thread_name: str, monkeypatch: Any, pause: float = 1.0) -> Any:
    """Make the send-time policy pause `pause` s after checking a batch in the thread
    named `thread_name` (checked, not yet committed: the window a cap race needs).
    Returns the threading.Event set when that thread has checked."""
    import threading
    import time

    from telcamp.policy import service as policy

    real = policy.apply_to_batch
    checked = threading.Event()

    def slow(**kw: Any) -> dict[str, int]:
        out = real(**kw)
        if threading.current_thread().name == thread_name:
            checked.set()
            time.sleep(pause)
        return out

    monkeypatch.setattr(policy, "apply_to_batch", slow)
    return checked
