"""Cells by value tier or by any segment rule, any number of them, added, removed and
reordered in the wizard; per-cell counts say which cells overlap (first wins) and which
come out empty (API and page); each cell's own schedule is honoured by its waves."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from telcamp.campaigns import schedule, service
from telcamp.core.db import session_scope

from .conftest import MARKETER, TIER_OF, make_campaign, make_program

# In the test profile: value tiers cycle per 3 subscribers, arpu_3m = i % 100.
RICH = {"field": "arpu_3m", "op": ">=", "value": 50}
CELLS = [
    {"name": "high", "rule": {"value_tier": "high"}, "channels": ["sms"], "control_pct": 0},
    {"name": "rich", "rule": RICH, "channels": ["sms"], "control_pct": 0},
    {"name": "gold", "rule": {"value_tier": "high"}, "channels": ["sms"]},  # all taken
    {"name": "mid", "rule": {"value_tier": "medium"}, "channels": ["sms"]},
    {"name": "rest", "channels": ["sms"]},
]


def test_api_counts_overlaps_and_empty_cells(world: str, login: Any) -> None:
    cid = make_campaign(make_program())
    mk = login("marketer", "C1")
    r = mk.post(f"/api/campaigns/{cid}/cell-counts", json={"cells": CELLS})
    assert r.status_code == 200, r.text
    out = r.json()
    by = {c["name"]: c for c in out["cells"]}
    high = [i for i in range(300) if TIER_OF[(i // 3) % 3] == "high"]
    rich = [i for i in range(300) if i % 100 >= 50]
    both = len(set(high) & set(rich))
    assert out["members"] == 300 and out["unassigned"] == 0
    assert by["high"]["audience"] == len(high) == 99
    # rich: arpu >= 50 is half of everyone; the high ones among them went to "high"
    assert by["rich"]["matches"] == 150
    assert by["rich"]["overlaps"] == [{"cell": "high", "subscribers": both}]
    assert by["rich"]["audience"] == 150 - both
    assert by["gold"]["empty"] and by["gold"]["audience"] == 0
    assert {"cell": "high", "subscribers": 99} in by["gold"]["overlaps"]
    assert sum(c["audience"] for c in out["cells"]) == 300
    assert any("gold comes out empty (all its matches go to earlier cells)" in w
               for w in out["warnings"])
    # the saved cells when no body is given
    r = mk.post(f"/api/campaigns/{cid}/cell-counts")
    assert [c["name"] for c in r.json()["cells"]] == ["high", "medium", "rest"]
    # bad rule: a clear error naming the cell
    bad = [{"name": "x", "rule": {"field": "no_such_field", "op": "=", "value": 1},
            "channels": ["sms"]}]
    r = mk.post(f"/api/campaigns/{cid}/cell-counts", json={"cells": bad})
    assert r.status_code == 422 and "cells[0]" in r.json()["message"]


def test_any_number_of_cells_saved_with_rules(world: str, login: Any) -> None:
    cid = make_campaign(make_program())
    mk = login("marketer", "C1")
    r = mk.patch(f"/api/campaigns/{cid}", json={"cells": CELLS})
    assert r.status_code == 200 and len(r.json()["cells"]) == 5
    r = mk.post(f"/api/campaigns/{cid}/rehearse")
    assert "cell gold gets no subscribers" in r.json()["problems"]


def _row(i: int, name: str, kind: str, rule: str = "") -> dict[str, str]:
    return {f"cell{i}_name": name, f"cell{i}_kind": kind, f"cell{i}_rule": rule,
            f"cell{i}_control": "10", f"cell{i}_ch_sms": "1"}


def test_wizard_adds_moves_removes_counts_and_saves(world: str, login: Any) -> None:
    cid = make_campaign(make_program())
    mk = login("marketer", "C1")
    url = f"/campaigns/{cid}/wizard/cells"
    page = mk.get(url).text
    # the saved cells, counted
    assert 'data-testid="cell-row-2"' in page and 'data-testid="gets-high"' in page
    form = {**_row(0, "rest", "default"), **_row(1, "rich", "rule", '{"field": "arpu_3m", '
                                                                   '"op": ">=", "value": 50}')}
    r = mk.post(url, data={**form, "op": "add"})
    assert r.status_code == 200 and 'data-testid="cell-row-2"' in r.text
    assert 'value="cell3"' in r.text  # the new row's default name
    r = mk.post(url, data={**form, "op": "up-1"})
    names = [r.text.index('value="rich"'), r.text.index('value="rest"')]
    assert names[0] < names[1]  # rich moved above rest (not saved yet)
    r = mk.post(url, data={**form, "op": "remove-0"})
    assert 'value="rest"' not in r.text and 'value="rich"' in r.text
    # counting the typed rows: a default cell before others cannot be counted
    r = mk.post(url, data={**form, "op": "count"})
    assert 'data-testid="counts-error"' in r.text and "must be the last one" in r.text
    dup = {**_row(0, "top", "tier:high"),
           **_row(1, "again", "rule", '{"field": "value_tier", "op": "=", "value": "high"}')}
    r = mk.post(url, data={**dup, "op": "count"})
    assert 'data-testid="empty-again"' in r.text and "counted from the form" in r.text
    assert "top: 99" in r.text  # which cell took them
    # saving them in that order is refused: the default cell must be last
    r = mk.post(url, data={**form, "op": "save"})
    assert r.status_code == 422 and "must be the last one" in r.text
    swapped = {**_row(0, "rich", "rule", '{"field": "arpu_3m", "op": ">=", "value": 50}'),
               **_row(1, "tier", "tier:high"), **_row(2, "rest", "default")}
    r = mk.post(url, data={**swapped, "op": "save"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    with session_scope() as s:
        c = service.get_campaign(session=s, actor=MARKETER, campaign_id=cid)
        assert [(x.name, x.rule) for x in c.cells] == [
            ("rich", RICH), ("tier", {"value_tier": "high"}), ("rest", None)]
    page = mk.get(url).text
    assert 'data-testid="overlap-tier"' in page and "rich: 53" in page
    shown = mk.get(f"/campaigns/{cid}").text  # the campaign page says each cell's rule
    assert ('data-testid="rule-rich">{&#34;field&#34;: &#34;arpu_3m&#34;, &#34;op&#34;: '
            '&#34;&gt;=&#34;, &#34;value&#34;: 50}<') in shown
    # a rule that is not JSON is refused in place, as typed
    r = mk.post(url, data={**_row(0, "x", "rule", "{arpu"), "op": "save"})
    assert r.status_code == 422 and "not JSON" in r.text and "{arpu" in r.text


def test_cell_schedule_gives_each_cell_its_window_and_offset(world: str) -> None:
    cells = [
        {"name": "high", "rule": {"value_tier": "high"}, "channels": ["sms"],
         "schedule": {"window_start": "18:00", "window_end": "20:00",
                      "start_offset_days": 3},
         "messages": {"sms": {"en": "hi"}}},
        {"name": "rest", "channels": ["sms"], "messages": {"sms": {"en": "hello"}}},
    ]
    cid = make_campaign(make_program(), cells=cells)
    with session_scope() as s:
        c = service.get_campaign(session=s, actor=MARKETER, campaign_id=cid)
        waves = {(w.cell.name if w.cell else None): w for w in c.waves}
        assert set(waves) == {"high", "rest"}  # one wave per cell
        assert (waves["high"].window_start, waves["high"].window_end) == ("18:00", "20:00")
        assert (waves["rest"].window_start, waves["rest"].window_end) == ("09:00", "20:00")
        start = datetime(2026, 11, 23, 9, tzinfo=UTC)
        assert schedule.first_run(waves["high"], start) == datetime(2026, 11, 26, 9,
                                                                    tzinfo=UTC)
        assert schedule.first_run(waves["rest"], start) == start
    # the rehearsal sends each cell's contacts on its own days
    from telcamp.campaigns import rehearsal

    with session_scope() as s:
        fig = rehearsal.rehearse(session=s, actor=MARKETER, campaign_id=cid)
    by = {c["name"]: c["contacts"]["sms"] for c in fig["cells"]}
    assert fig["channels"]["sms"]["days"] == {"2026-11-23": by["rest"],
                                              "2026-11-26": by["high"]}


def test_bad_cell_schedules_are_refused(world: str, login: Any) -> None:
    cid = make_campaign(make_program())
    mk = login("marketer", "C1")
    base = {"name": "a", "channels": ["sms"]}
    for sched, words in (
            ({"window_start": "25:00"}, "not HH:MM"),
            ({"window_start": "18:00", "window_end": "10:00"}, "ends before it starts"),
            ({"start_offset_days": -1}, "0-366"),
            ({"start_offset_days": 40}, "when the campaign has ended"),
            ({"colour": "red"}, "unknown schedule field")):
        r = mk.patch(f"/api/campaigns/{cid}", json={"cells": [{**base, "schedule": sched}]})
        assert r.status_code == 422 and words in r.json()["message"], (sched, r.text)
