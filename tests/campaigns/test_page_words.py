"""The campaign page and the approval inbox in Russian and Chinese: stored English reasons
are shown translated, tiers too, the approvals table has a header, figures are grouped."""

from __future__ import annotations

import re
from typing import Any

from telcamp.campaigns import approvals, schedule
from telcamp.core.db import session_scope

from .conftest import (
    CITY_HEAD,
    MARKETER,
    make_campaign,
    make_program,
    write_profile,
    write_snapshot,
)


def _launched(login: Any) -> int:
    write_profile(9000)  # K1 holds 3,000: cell audiences above a thousand
    write_snapshot(1)
    cid = make_campaign(make_program())
    with session_scope() as s:
        approvals.submit(session=s, actor=MARKETER, campaign_id=cid)
    return cid


def test_inbox_and_campaign_page_translate_reasons(world: str, login: Any) -> None:
    cid = _launched(login)
    head = login("approver", "C1")
    inbox = head.get("/approvals?lang=ru").text
    assert "кампания уровня «район» → руководитель уровня «город»" in inbox
    assert "county campaign" not in inbox
    page = login("marketer", "C1").get(f"/campaigns/{cid}?lang=ru").text
    assert 'data-testid="state-reason">отправлена на согласование<' in page
    with session_scope() as s:
        approvals.approve(session=s, actor=CITY_HEAD, campaign_id=cid, comment="ok")
    with session_scope() as s:
        schedule.launch(session=s, actor=MARKETER, campaign_id=cid)
    mk = login("marketer", "C1")
    ru = mk.get(f"/campaigns/{cid}?lang=ru").text
    assert 'data-testid="state-reason">запущена вручную<' in ru
    assert 'data-testid="tier-high">высокая<' in ru and 'data-testid="tier-medium">средняя<' in ru
    approvals_table = ru.split('data-testid="approvals"')[1].split("</table>")[0]
    assert "<thead><tr><th>Раунд.шаг</th>" in approvals_table
    assert "Кто решил" in approvals_table and "«район»" in approvals_table
    zh = mk.get(f"/campaigns/{cid}?lang=zh").text
    assert 'data-testid="state-reason">手动启动<' in zh and "区县营销活动 → 城市负责人" in zh
    en = mk.get(f"/campaigns/{cid}?lang=en").text
    assert 'data-testid="state-reason">launched manually<' in en
    # rehearsal figures are grouped: no bare four-digit counts in the tables
    assert not re.search(r'<td class="num">\d{4,}</td>', en)
    assert re.search(r'<td class="num">\d{1,3},\d{3}</td>', en)


def test_free_text_reasons_are_shown_as_typed(world: str, login: Any) -> None:
    cid = _launched(login)
    with session_scope() as s:
        approvals.reject(session=s, actor=CITY_HEAD, campaign_id=cid,
                         comment="Цена слишком высокая")
    page = login("marketer", "C1").get(f"/campaigns/{cid}?lang=zh").text
    assert 'data-testid="state-reason">Цена слишком высокая<' in page


def test_wizard_region_hint_and_snapshot_choices(world: str, login: Any) -> None:
    from datetime import UTC, datetime

    from telcamp.segments.models import Segment, SegmentSnapshot, SegmentVersion

    make_program()
    at = datetime(2026, 11, 22, 9, tzinfo=UTC)
    with session_scope() as s:
        seg = Segment(name="High value C1", region_code="C1", created_by="x", created_at=at,
                      updated_at=at)
        hidden = Segment(name="Other city", region_code="C2", created_by="x", created_at=at,
                         updated_at=at)
        s.add_all([seg, hidden])
        s.flush()
        for sg, n in ((seg, 12345), (hidden, 7)):
            s.add(SegmentVersion(segment_id=sg.id, version=1, rule={"field": "age", "op": ">",
                                 "value": 18}, note="", created_by="x", created_at=at))
            s.add(SegmentSnapshot(segment_id=sg.id, version=1, taken_at=at, taken_by="x",
                                  matched=n, count=n, funnel=[], region_code=sg.region_code))
    page = login("marketer", "C1").get("/campaigns/new?lang=ru").text
    assert 'placeholder="K1"' not in page and "напр. C01-01" in page
    options = page.split('data-testid="snapshot-options"')[1].split("</datalist>")[0]
    assert "High value C1 · 12\u00a0345 · 2026-11-22 09:00" in options  # ru: 12 345
    assert "Other city" not in options
