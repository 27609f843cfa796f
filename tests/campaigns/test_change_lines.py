"""The approver sees what changed since the last submission field by field, and the
previous rejection's comment."""

from __future__ import annotations

from typing import Any

from telcamp.campaigns import approvals, diff, service
from telcamp.campaigns.schemas import CampaignUpdate, CellIn
from telcamp.core.db import session_scope

from .conftest import CITY_HEAD, MARKETER, make_campaign, make_program


def test_lines_name_the_cell_and_the_language() -> None:
    before = [{"name": "medium", "control_pct": 20.0, "channels": ["sms"],
               "messages": {"sms": {"ru": "старый", "en": "old"}}}]
    after = [{"name": "medium", "control_pct": 15.0, "channels": ["sms"],
              "messages": {"sms": {"ru": "новый", "en": "old"}}},
             {"name": "extra", "control_pct": 10.0, "channels": ["sms"], "messages": {}}]
    got = diff.lines([{"field": "cells", "before": before, "after": after},
                      {"field": "budget", "before": 1000.0, "after": 500.0}])
    assert {"where": ["cell", "medium"], "field": "control_pct", "before": "20",
            "after": "15"} in got
    assert {"where": ["cell", "medium", "ru", "sms"], "field": "text", "before": "старый",
            "after": "новый"} in got
    assert {"where": ["cell", "extra"], "field": "added", "before": "—", "after": "+"} in got
    assert {"where": [], "field": "budget", "before": "1000", "after": "500"} in got
    assert not any(line["where"][2:3] == ["en"] for line in got)  # en did not change


def test_inbox_shows_lines_and_the_last_rejection(world: str, login: Any) -> None:
    cid = make_campaign(make_program())
    with session_scope() as s:
        approvals.submit(session=s, actor=MARKETER, campaign_id=cid)
    with session_scope() as s:
        approvals.reject(session=s, actor=CITY_HEAD, campaign_id=cid,
                         comment="control group too small in medium")
    with session_scope() as s:
        c = service.get_campaign(session=s, actor=MARKETER, campaign_id=cid)
        cells = [CellIn.model_validate({k: getattr(x, k) for k in CellIn.model_fields})
                 for x in c.cells]
        cells[1].control_pct = 15
        cells[0].messages = {**cells[0].messages,
                             "sms": {**cells[0].messages["sms"], "ru": "Привет, 6 ГБ"}}
        service.update_campaign(session=s, actor=MARKETER, campaign_id=cid,
                                campaign_in=CampaignUpdate(cells=cells))
    with session_scope() as s:
        approvals.submit(session=s, actor=MARKETER, campaign_id=cid)
    page = login("approver", "C1").get("/approvals").text
    assert 'data-testid="last-rejection"' in page and "control group too small" in page
    assert "cell medium Control %: <del>10</del> → <ins>15</ins>" in page
    assert "cell high ru sms text: <del>Привет, 5 ГБ</del> → <ins>Привет, 6 ГБ</ins>" in page
    assert "[{" not in page.split('data-testid="changes"')[1].split("</ul>")[0]
