"""Campaign test helpers: a small region tree and profile in the warehouse, actors, and a
ready program. The warehouse rows are written directly so these tests do not depend on
the loader or the segments domain."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from telcamp.access.permissions import ROLES
from telcamp.core import clock, warehouse
from telcamp.core.db import session_scope
from telcamp.core.security import Principal

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
REGIONS = [
    ("P1", "Province", None, "province"),
    ("C1", "City one", "P1", "city"),
    ("C2", "City two", "P1", "city"),
    ("K1", "County one", "C1", "county"),
    ("K2", "County two", "C1", "county"),
    ("K3", "County three", "C2", "county"),
]
TIER_OF = ("low", "medium", "high")


def actor(username: str, role: str, region: str | None) -> Principal:
    return Principal(username=username, role=role, permissions=ROLES[role], region_code=region)


MARKETER = actor("mk@example.org", "marketer", "C1")
CITY_HEAD = actor("head.c1@example.org", "approver", "C1")
PROVINCE_HEAD = actor("head.p1@example.org", "approver", "P1")
OTHER_CITY_HEAD = actor("head.c2@example.org", "approver", "C2")


def write_profile(n: int, *, first: int = 79000000000) -> None:
    """n subscribers in K1/K2/K3, tiers cycling low/medium/high, every third without email."""
    with warehouse.connect() as con:
        con.execute("DROP TABLE IF EXISTS profile")
        con.execute(
            f"""CREATE TABLE profile AS SELECT
                  CAST({first} + i AS BIGINT) AS msisdn,
                  ['K1','K2','K3'][1 + i % 3] AS region_code,
                  CASE WHEN i % 3 = 2 THEN 'C2' ELSE 'C1' END AS city_code,
                  'P1' AS province_code,
                  ['low','medium','high'][1 + (i // 3) % 3] AS value_tier,
                  CASE WHEN i % 3 = 0 THEN NULL ELSE 'u' || i || '@example.org' END AS email,
                  CASE WHEN i % 2 = 0 THEN 'en' ELSE 'ru' END AS language,
                  20 + i % 50 AS age, CAST(i % 100 AS DOUBLE) AS arpu_3m,
                  'active' AS status, 'T1' AS tariff_code, 'prepaid' AS payment_type,
                  'u' AS gender, CAST((i % 10) / 10.0 AS DOUBLE) AS churn_risk,
                  CAST(i % 100 AS DOUBLE) AS value_score, 100 + i AS tenure_days,
                  false AS is_new, 3 AS days_since_last_activity
                FROM range({n}) t(i)""")


def write_snapshot(snapshot_id: int, msisdns_sql: str = "SELECT msisdn FROM profile") -> None:
    with warehouse.connect() as con:
        con.execute("""CREATE TABLE IF NOT EXISTS segment_snapshot_members(
                         snapshot_id BIGINT NOT NULL, msisdn BIGINT NOT NULL)""")
        con.execute("DELETE FROM segment_snapshot_members WHERE snapshot_id = ?", [snapshot_id])
        con.execute(f"INSERT INTO segment_snapshot_members SELECT {int(snapshot_id)}, msisdn "
                    f"FROM ({msisdns_sql})")
    register_snapshot(snapshot_id)


ACTIVE = {"field": "status", "op": "=", "value": "active"}


def register_snapshot(snapshot_id: int, region_code: str = "P1") -> None:
    """The snapshot's row in the operational DB (campaigns check it exists and is in the
    user's region), under a test segment of `region_code`."""
    from sqlalchemy import text

    from telcamp.segments.models import Segment, SegmentSnapshot, SegmentVersion

    with session_scope() as s:
        if s.get(SegmentSnapshot, snapshot_id) is not None:
            return
        seg = Segment(name=f"test audience {snapshot_id}", region_code=region_code,
                      created_by="test", created_at=NOW, updated_at=NOW)
        s.add(seg)
        s.flush()
        s.add(SegmentVersion(segment_id=seg.id, version=1, rule=ACTIVE,
                             created_by="test", created_at=NOW))
        s.add(SegmentSnapshot(id=snapshot_id, segment_id=seg.id, version=1, taken_at=NOW,
                              taken_by="test", matched=0, count=0, funnel=[],
                              region_code=region_code))
        s.flush()
        if s.get_bind().dialect.name == "postgresql":  # ids taken later must not collide
            s.execute(text("SELECT setval(pg_get_serial_sequence('segment_snapshot', 'id'), "
                           "(SELECT max(id) FROM segment_snapshot))"))


@pytest.fixture
def world(db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Migrated op DB + regions + a 300-subscriber profile + snapshot 1; clock frozen.
    The in-server scheduler is off, so tests decide when ticks run."""
    from telcamp.core.settings import reset_settings
    from telcamp.warehouse.schema import ensure_schema

    monkeypatch.setenv("TELCAMP_SCHEDULER_INTERVAL_S", "0")
    # Launch needs its waves' channels configured (telcamp.dispatch.readiness); they are,
    # but never connected: the server's dispatcher is off too.
    monkeypatch.setenv("TELCAMP_DISPATCH_INTERVAL_S", "0")
    monkeypatch.setenv("TELCAMP_DISPATCH_SMPP_BINDS", '[{"host": "127.0.0.1", "port": 9, '
                       '"system_id": "t", "password": "t"}]')
    monkeypatch.setenv("TELCAMP_CHANNELS_SMTP", '{"host": "127.0.0.1", "port": 9}')
    from telcamp.channels.settings import get_channel_settings
    from telcamp.dispatch.config import get_dispatch_settings

    get_dispatch_settings.cache_clear()
    get_channel_settings.cache_clear()
    reset_settings()
    clock.freeze(NOW)
    with warehouse.connect() as con:
        ensure_schema(con)
        con.executemany("INSERT INTO regions VALUES (?, ?, ?, ?, 'Europe/Moscow')",
                        [list(r) for r in REGIONS])
    write_profile(300)
    write_snapshot(1)
    yield db


def program_in(**over: Any) -> Any:
    from telcamp.campaigns.schemas import ProgramCreate

    data: dict[str, Any] = {"name": "Winter data", "goal": "grow data", "budget": 50000,
                            "start_date": date(2026, 11, 1), "end_date": date(2027, 3, 31),
                            "region_code": "P1", "kpis": {"conversion": 0.05}}
    data.update(over)
    return ProgramCreate(**data)


def campaign_in(program_id: int, **over: Any) -> Any:
    from telcamp.campaigns.schemas import CampaignCreate

    data: dict[str, Any] = {
        "program_id": program_id, "name": "Data pack for K1", "region_code": "K1",
        "snapshot_id": 1, "offer_code": "DATA5", "offer_type": "data_pack", "budget": 1000,
        "start_at": datetime(2026, 11, 23, 9, tzinfo=UTC),
        "end_at": datetime(2026, 12, 20, 20, tzinfo=UTC),
        "cells": [
            {"name": "high", "rule": {"value_tier": "high"}, "control_pct": 10,
             "channels": ["email", "sms"],
             "messages": {"sms": {"en": "Hi, 5 GB for you", "ru": "Привет, 5 ГБ"},
                          "email": {"en": "Dear {{ msisdn }}, 5 GB"}}},
            {"name": "medium", "rule": {"value_tier": "medium"}, "control_pct": 10,
             "channels": ["sms"], "messages": {"sms": {"en": "2 GB for you"}}},
            {"name": "rest", "control_pct": 10, "channels": ["sms"],
             "messages": {"sms": {"en": "1 GB for you"}}},
        ],
    }
    data.update(over)
    return CampaignCreate(**data)


def make_program(**over: Any) -> int:
    from telcamp.campaigns import service

    with session_scope() as s:
        return service.create_program(session=s, actor=actor("pm", "marketer", "P1"),
                                      program_in=program_in(**over)).id


def make_campaign(program_id: int, who: Principal = MARKETER, **over: Any) -> int:
    from telcamp.campaigns import service

    with session_scope() as s:
        return service.create_campaign(session=s, actor=who,
                                       campaign_in=campaign_in(program_id, **over)).id
