"""Rehearsal cost: an SMS is priced per part (per language, weighted by who speaks it),
and a recurring wave with re-participation "once" is costed for its first run only."""

from __future__ import annotations

import pytest

from telcamp.campaigns import rehearsal
from telcamp.core.db import session_scope

from .conftest import MARKETER, make_campaign, make_program


def _sms(cid: int) -> dict[str, float]:
    with session_scope() as s:
        figures = rehearsal.rehearse(session=s, actor=MARKETER, campaign_id=cid)
    return figures["channels"]["sms"]  # type: ignore[no-any-return]


def test_multi_part_sms_costs_per_part_weighted_by_language(world: str) -> None:
    # ru text: 150 Cyrillic characters = 3 UCS-2 parts; en: 1 part; half the base each
    cid = make_campaign(make_program(), cells=[
        {"name": "all", "control_pct": 0, "channels": ["sms"],
         "messages": {"sms": {"en": "hi", "ru": "д" * 150}}}])
    sms = _sms(cid)
    assert sms["contacts_per_run"] == 300
    assert sms["cost"] == pytest.approx((150 * 1 + 150 * 3) * sms["unit_price"])


def test_weekly_wave_with_once_is_costed_once(world: str) -> None:
    cells = [{"name": "all", "control_pct": 0, "channels": ["sms"],
              "messages": {"sms": {"en": "hi", "ru": "hi"}}}]
    weekly = [{"channel": "sms", "schedule": {"kind": "weekly", "weekdays": [0]}}]
    once = _sms(make_campaign(make_program(), cells=cells, waves=weekly,
                              reparticipation="once", name="once"))
    again = _sms(make_campaign(make_program(name="p2"), cells=cells, waves=weekly,
                               reparticipation="every_n_days", reparticipation_days=1,
                               name="again"))
    assert once["runs"] == 1 and once["cost"] == pytest.approx(300 * once["unit_price"])
    assert again["runs"] == 4
    assert again["cost"] == pytest.approx(4 * 300 * again["unit_price"])
