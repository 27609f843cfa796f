"""The issue's bad input: each refused with a clear reason, nothing half-applied."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from telcamp.campaigns import service
from telcamp.campaigns.models import Campaign
from telcamp.core.db import session_scope
from telcamp.core.errors import Forbidden, NotFound, ValidationFailed

from .conftest import MARKETER, actor, campaign_in, make_campaign, make_program


def _refused(pid: int, **over: Any) -> str:
    with pytest.raises(ValidationFailed) as err, session_scope() as s:
        service.create_campaign(session=s, actor=MARKETER, campaign_in=campaign_in(pid, **over))
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Campaign)) == 0
    return err.value.message


def _cells(**first: Any) -> list[dict[str, Any]]:
    cell = {"name": "a", "rule": {"value_tier": "high"}, "channels": ["sms"],
            "messages": {"sms": {"en": "hello"}}}
    cell.update(first)
    return [cell, {"name": "rest", "channels": ["sms"]}]


def test_control_percentage_outside_0_50(world: str) -> None:
    pid = make_program()
    assert "outside 0–50" in _refused(pid, cells=_cells(control_pct=60))
    assert "outside 0–50" in _refused(pid, cells=_cells(control_pct=-1))


def test_unknown_template_field_and_too_long(world: str) -> None:
    pid = make_program()
    msg = _refused(pid, cells=_cells(messages={"sms": {"en": "Hi {{ nickname }}"}}))
    assert "nickname" in msg and "cells[0].messages.sms.en" in msg
    assert "parts" in _refused(pid, cells=_cells(messages={"sms": {"ru": "Ж" * 500}}))


def test_schedule_ends_before_start_or_outside_program(world: str) -> None:
    pid = make_program()
    assert "ends before it starts" in _refused(
        pid, start_at=datetime(2026, 12, 2, tzinfo=UTC), end_at=datetime(2026, 12, 1, tzinfo=UTC))
    assert "outside the program's period" in _refused(
        pid, end_at=datetime(2027, 6, 1, tzinfo=UTC))


def test_budget_above_program_remaining(world: str) -> None:
    pid = make_program(budget=1500)
    make_campaign(pid, budget=1000)
    with pytest.raises(ValidationFailed) as err, session_scope() as s:
        service.create_campaign(session=s, actor=MARKETER,
                                campaign_in=campaign_in(pid, budget=600))
    assert "remaining budget 500" in err.value.message


def test_default_cell_must_be_last_and_rules_are_checked(world: str) -> None:
    pid = make_program()
    cells = [{"name": "rest", "channels": ["sms"]},
             {"name": "hi", "rule": {"value_tier": "high"}, "channels": ["sms"]}]
    assert "must be the last" in _refused(pid, cells=cells)
    assert "value tier" in _refused(pid, cells=_cells(rule={"value_tier": "gold"}))


def test_region_outside_user_or_program(world: str) -> None:
    pid = make_program(region_code="C2")
    with pytest.raises(NotFound), session_scope() as s:  # C2's program is not C1's to see
        service.create_campaign(session=s, actor=MARKETER,
                                campaign_in=campaign_in(pid, region_code="K1"))
    admin = actor("root", "admin", None)
    with pytest.raises(ValidationFailed) as err, session_scope() as s:
        service.create_campaign(session=s, actor=admin,
                                campaign_in=campaign_in(pid, region_code="K1"))
    assert "not inside the program's region C2" in err.value.message
    pid2 = make_program()
    with pytest.raises(Forbidden), session_scope() as s:
        service.create_campaign(session=s, actor=MARKETER,
                                campaign_in=campaign_in(pid2, region_code="K3"))
