"""Approvers see what they approve: offer, dates, schedule, rewards and every message."""

from __future__ import annotations

from typing import Any

from telcamp.campaigns import approvals
from telcamp.core.db import session_scope

from .conftest import MARKETER, make_campaign, make_program

CELLS = [{"name": "vip", "rule": {"value_tier": "high"}, "control_pct": 15,
          "channels": ["sms", "email"], "reward_type": "data_gb", "reward_size": 5,
          "reward_validity_days": 30,
          "messages": {"sms": {"en": "Hi, 5 GB for you", "ru": "Привет, 5 ГБ"},
                       "email": {"en": "Dear customer, 5 GB"}}},
         {"name": "rest", "control_pct": 10, "channels": ["sms"],
          "messages": {"sms": {"zh": "给您" * 40}}}]


def test_inbox_and_campaign_page_show_the_content(world: str, login: Any) -> None:
    cid = make_campaign(make_program(), cells=CELLS, waves=[
        {"channel": "sms", "schedule": {"kind": "weekly", "weekdays": [0, 2]},
         "window_start": "10:00", "window_end": "18:00"},
        {"channel": "email"}])
    with session_scope() as s:
        approvals.submit(session=s, actor=MARKETER, campaign_id=cid)
    head = login("approver", "C1")
    for page in (head.get("/approvals").text, head.get(f"/campaigns/{cid}").text):
        assert f'data-testid="content-{cid}"' in page
        assert "DATA5" in page and "2026-11-23" in page and "2026-12-20" in page
        assert 'data-testid="content-msg-vip-sms-ru"><pre class="message">Привет, 5 ГБ<' in page
        assert 'data-testid="content-msg-vip-email-en"><pre class="message">Dear customer' in page
        assert "data_gb 5" in page and "valid 30 days" in page
        # SMS encoding and parts: 80 Chinese characters are UCS-2 in 2 parts
        assert 'data-testid="content-sms-rest-zh">UCS-2, 80 · parts: 2<' in page
        assert 'data-testid="content-sms-vip-en">GSM-7, 16 · parts: 1<' in page
        assert 'data-testid="content-repeat-sms">weekly: Mon, Wed<' in page
        assert "10:00–18:00" in page
    ru = head.get("/approvals?lang=ru").text
    assert "еженедельно: Пн, Ср" in ru or "Пн, Ср" in ru
