"""Fixtures for special lists: a small region tree in the warehouse and principals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from telcamp.access.permissions import ROLES
from telcamp.core import clock, warehouse
from telcamp.core.security import Principal
from telcamp.warehouse.schema import ensure_schema

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
REGIONS = [
    ("P01", "Province", None, "province"),
    ("C01", "City 1", "P01", "city"),
    ("C02", "City 2", "P01", "city"),
    ("C01-01", "County 1-1", "C01", "county"),
    ("C02-01", "County 2-1", "C02", "county"),
]


def seed_regions() -> None:
    with warehouse.connect() as con:
        ensure_schema(con)
        con.execute("DELETE FROM regions")
        for code, name, parent, level in REGIONS:
            con.execute("INSERT INTO regions VALUES (?, ?, ?, ?, 'Europe/Moscow')",
                        [code, name, parent, level])
    from telcamp.policy import quiet

    quiet.forget_regions()  # list dates are days in the region's zone: read these


def make_campaign(region: str) -> int:
    """A draft campaign of `region` (under a program of its own): overrides and the
    exclusions of a campaign need one the user can see."""
    from datetime import date

    from telcamp.campaigns.models import Campaign, Program
    from telcamp.core.db import session_scope

    with session_scope() as s:
        prog = Program(name=f"p {region}", start_date=date(2026, 1, 1),
                       end_date=date(2027, 1, 1), region_code=region, created_by="t",
                       created_at=NOW)
        s.add(prog)
        s.flush()
        c = Campaign(program_id=prog.id, name=f"c {region}", region_code=region,
                     created_by="t", created_at=NOW, updated_at=NOW)
        s.add(c)
        s.flush()
        return int(c.id)


def principal(role: str, region: str | None = None, name: str | None = None) -> Principal:
    return Principal(username=name or f"{role}-{region or 'all'}", role=role,
                     permissions=ROLES[role], region_code=region)


@pytest.fixture
def regions() -> None:
    seed_regions()


@pytest.fixture
def frozen() -> datetime:
    clock.freeze(NOW)
    return NOW
