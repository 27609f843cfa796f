"""Planned, suppressed (by reason) and control are separate figures: in the rehearsal
(opt-out list members counted ahead), on the campaign page and in the contact counts
after materialisation — a suppressed contact is never counted as planned."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from telcamp.campaigns import library, rehearsal, schedule
from telcamp.core import clock
from telcamp.core.db import session_scope

from .conftest import MARKETER, make_campaign, make_program
from .test_schedule import SMS_ONLY, START, _approve

FIRST = 79000000000
STOPPED = [FIRST + i for i in range(0, 40)]  # 40 numbers on an opt-out list


def _optout_list() -> int:
    from telcamp.lists import sync
    from telcamp.lists.models import ListMember, SpecialList

    now = clock.now()
    with session_scope() as s:
        lst = SpecialList(name="stop", type="optout", region_code=None, description="",
                          default_excluded=True, version=1, created_by="t", created_at=now,
                          updated_at=now)
        s.add(lst)
        s.flush()
        s.add_all([ListMember(list_id=lst.id, msisdn=m, added_by="t", added_at=now)
                   for m in STOPPED])
        list_id = lst.id
    sync.sync_lists([list_id])  # the warehouse mirror the rehearsal reads
    return list_id


def test_rehearsal_and_page_separate_planned_suppressed_control(world: str,
                                                                login: Any) -> None:
    cid = make_campaign(make_program(), cells=SMS_ONLY)
    # the snapshot (taken earlier) still holds the 40 numbers put on the list afterwards
    _optout_list()
    with session_scope() as s:
        fig = rehearsal.rehearse(session=s, actor=MARKETER, campaign_id=cid)
    [cell] = fig["cells"]
    assert cell["audience"] == 300
    assert cell["suppressed"]["optout"] > 0
    assert cell["planned"] + cell["suppressed"]["optout"] + cell["control"] == 300
    assert cell["contacts"]["sms"] == cell["planned"]
    assert fig["totals"] == {"planned": cell["planned"], "control": cell["control"],
                             "suppressed": {"optout": cell["suppressed"]["optout"]},
                             "unreachable": 0}
    predicted = cell["suppressed"]["optout"]

    _approve(cid)
    schedule.run_due(START + timedelta(minutes=1))
    with session_scope() as s:
        counts = library.contact_counts(session=s, actor=MARKETER, campaign_id=cid)
    total = counts["total"]
    assert total["suppressed"] == {"optout": predicted}
    assert total["planned"] + predicted + total["control"] == 300
    assert total["control"] == cell["control"]
    page = login("marketer", "C1").get(f"/campaigns/{cid}").text
    assert f'data-testid="total-planned">{total["planned"]:,}<' in page
    assert f'data-testid="total-suppressed">{predicted:,}<' in page
    # the rehearsal figures the approvers see show the split per cell too
    assert 'data-testid="suppressed-all"' in page


def test_override_of_the_list_is_not_counted_as_suppressed(world: str) -> None:
    from telcamp.core.security import system_principal
    from telcamp.lists import exclusions

    cid = make_campaign(make_program(), cells=SMS_ONLY)
    list_id = _optout_list()
    with session_scope() as s:
        exclusions.add_override(s, principal=system_principal(), campaign_id=cid,
                                list_id=list_id, reason="service message")
    with session_scope() as s:
        fig = rehearsal.rehearse(session=s, actor=MARKETER, campaign_id=cid)
    assert fig["cells"][0]["suppressed"] == {}
