"""Saved segments, versions, snapshots, funnel, profile and sample through the service."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa

from telcamp.access.permissions import ROLES
from telcamp.core import clock
from telcamp.core.db import session_scope
from telcamp.core.errors import Conflict, NotFound, ValidationFailed
from telcamp.core.security import Principal, system_principal
from telcamp.segments import service
from telcamp.segments.schemas import SegmentCreate, SegmentUpdate
from telcamp.segments.synthetic import NOW

HIGH = {"field": "value_tier", "op": "=", "value": "high"}
F_HIGH = {"all": [HIGH, {"field": "gender", "op": "=", "value": "f"}]}


def marketer(region: str | None = "C01", name: str = "mia") -> Principal:
    return Principal(username=name, role="marketer", permissions=ROLES["marketer"],
                     region_code=region)


@pytest.fixture
def setup(db: str, warehouse_file: str) -> str:
    clock.freeze(NOW)
    return warehouse_file


def _ids(warehouse_file: str, sql: str) -> set[int]:
    con = duckdb.connect(warehouse_file)
    try:
        return {int(r[0]) for r in con.execute(sql).fetchall()}
    finally:
        con.close()


def test_count_is_scoped_to_the_users_region(setup: str) -> None:
    everyone = service.count(None, rule={"all": []}, principal=system_principal())
    city = service.count(None, rule={"all": []}, principal=marketer("C02"))
    assert everyone == 2000
    assert city == len(_ids(setup, "SELECT msisdn FROM profile WHERE city_code = 'C02'"))
    # asking for another city's subscribers through the rule is refused, not counted as 0
    with pytest.raises(ValidationFailed, match='value "C01" is outside your region C02'):
        service.count(None, rule={"field": "city_code", "op": "=", "value": "C01"},
                      principal=marketer("C02"))


def test_segment_versions_keep_old_rules(setup: str) -> None:
    with session_scope() as s:
        seg = service.create(s, segment_in=SegmentCreate(name="high", rule=HIGH),
                             principal=marketer())
    with session_scope() as s:
        same = service.update(s, segment_id=seg.id, segment_in=SegmentUpdate(rule=HIGH),
                              principal=marketer())
        assert same.current_version == 1  # nothing changed, no new version
        new = service.update(s, segment_id=seg.id, principal=marketer(),
                             segment_in=SegmentUpdate(rule=F_HIGH, note="women only"))
    assert new.current_version == 2
    with session_scope() as s:
        vs = service.versions(s, segment_id=seg.id, principal=marketer())
        assert [v.version for v in vs] == [1, 2]
        assert vs[0].rule == HIGH and vs[1].rule == F_HIGH and vs[1].note == "women only"
        assert service.version(s, segment_id=seg.id, version=1, principal=marketer()).rule == HIGH
        entries = s.execute(sa.text(
            "SELECT action FROM audit_entry WHERE object_type = 'segment' ORDER BY id")).all()
    assert [e[0] for e in entries] == ["segment.create", "segment.update", "segment.update"]


def test_bad_rule_or_duplicate_name_changes_nothing(setup: str) -> None:
    with session_scope() as s:
        service.create(s, segment_in=SegmentCreate(name="high", rule=HIGH), principal=marketer())
    with pytest.raises(ValidationFailed, match=r"all\[1\]: unknown field 'agee'"), \
            session_scope() as s:
        service.create(s, segment_in=SegmentCreate(
            name="x", rule={"all": [HIGH, {"field": "agee", "op": ">", "value": 3}]}),
            principal=marketer())
    with pytest.raises(Conflict), session_scope() as s:
        service.create(s, segment_in=SegmentCreate(name="high", rule=HIGH), principal=marketer())
    with session_scope() as s:
        assert [x.name for x in service.list_segments(s, principal=marketer())] == ["high"]


def test_segments_outside_the_region_are_not_found(setup: str) -> None:
    with session_scope() as s:
        seg = service.create(s, segment_in=SegmentCreate(name="c01 high", rule=HIGH),
                             principal=marketer("C01"))
    other = marketer("C02", "olga")
    with session_scope() as s:
        with pytest.raises(NotFound, match=f"segment {seg.id} not found"):
            service.read(s, segment_id=seg.id, principal=other)
        assert service.list_segments(s, principal=other) == []
        # the county below C01 cannot see its city's segment; the province can
        assert service.list_segments(s, principal=marketer("C01-01")) == []
        assert len(service.list_segments(s, principal=marketer("P01"))) == 1
    for ref in (seg.id, "c01 high", 999):
        with pytest.raises(NotFound, match="not found"), session_scope() as s:
            service.count(s, rule={"in_segment": ref}, principal=other)


def test_a_segment_named_in_another_rule_keeps_its_name(setup: str) -> None:
    """A rename would make {"in_segment": "a"} find nothing, or a later segment named
    "a": refused, naming the rule; a reference by id does not stop it."""
    with session_scope() as s:
        a = service.create(s, segment_in=SegmentCreate(name="a", rule=HIGH),
                           principal=marketer())
        b = service.create(s, segment_in=SegmentCreate(name="b", rule={"in_segment": "a"}),
                           principal=marketer())
    with pytest.raises(Conflict, match=f"referred to by name in: segment {b.id} 'b'"), \
            session_scope() as s:
        service.update(s, segment_id=a.id, principal=marketer(),
                       segment_in=SegmentUpdate(name="a renamed"))
    with session_scope() as s:
        service.update(s, segment_id=b.id, principal=marketer(),
                       segment_in=SegmentUpdate(rule={"in_segment": a.id}))
        renamed = service.update(s, segment_id=a.id, principal=marketer(),
                                 segment_in=SegmentUpdate(name="a renamed"))
        assert renamed.name == "a renamed"
        n_b = service.count(s, rule={"in_segment": "b"}, principal=marketer())
        assert n_b == service.count(s, rule=HIGH, principal=marketer())


def test_in_segment_cycle_is_refused(setup: str) -> None:
    with session_scope() as s:
        a = service.create(s, segment_in=SegmentCreate(name="a", rule=HIGH),
                           principal=marketer())
        b = service.create(s, segment_in=SegmentCreate(name="b", rule={"in_segment": "a"}),
                           principal=marketer())
    with pytest.raises(ValidationFailed, match="cycle") as refused, session_scope() as s:
        service.update(s, segment_id=a.id, principal=marketer(),
                       segment_in=SegmentUpdate(rule={"not": {"in_segment": b.id}}))
    # named as written at that path (b), not as the inner reference back to a
    assert refused.value.message.startswith(f"not: in_segment {b.id}: ")
    with pytest.raises(ValidationFailed, match="cycle") as refused, session_scope() as s:
        service.update(s, segment_id=a.id, principal=marketer(),
                       segment_in=SegmentUpdate(rule={"all": [HIGH, {"in_segment": "b"}]}))
    assert refused.value.message.startswith("all[1]: in_segment 'b': ")
    with session_scope() as s:
        assert service.read(s, segment_id=a.id, principal=marketer()).current_version == 1
        n_b = service.count(s, rule={"in_segment": "b"}, principal=marketer())
        assert n_b == service.count(s, rule=HIGH, principal=marketer())


def _blacklist(setup: str, members: list[int], expires: Any = None) -> int:
    from telcamp.lists import service as list_service
    from telcamp.lists.schemas import ListCreate

    with session_scope() as s:
        lst = list_service.create_list(s, list_in=ListCreate(name="complaints",
                                                             type="blacklist"),
                                       principal=system_principal())
        list_id = int(lst.id)
    if members:
        con = duckdb.connect(setup)
        con.executemany("INSERT INTO list_members VALUES (?, ?, 'complaint', ?, ?)",
                        [[list_id, m, expires, NOW] for m in members])
        con.close()
    return list_id


def test_funnel_profile_sample_and_snapshot(setup: str) -> None:
    everyone = sorted(_ids(setup, "SELECT msisdn FROM profile WHERE city_code = 'C01' "
                                  "AND value_tier = 'high'"))
    black = everyone[:3]
    _blacklist(setup, black)
    con = duckdb.connect(setup)
    con.execute("INSERT INTO contact_history (msisdn, campaign_id, wave_id, contact_id, "
                "channel, contacted_at, outcome) VALUES (?, 1, 1, 1, 'sms', ?, 'delivered')",
                [everyone[5], NOW - timedelta(days=1)])
    con.close()
    m = marketer("C01")
    with session_scope() as s:
        out = service.evaluate(s, rule=HIGH, principal=m, field="segment_code")
    assert out["count"] == len(everyone)
    fun = out["funnel"]
    assert fun["matched"] == len(everyone)
    assert [st["removed"] for st in fun["steps"]] == [3, 1]
    assert fun["final"] == len(everyone) - 4
    prof = out["profile"]
    assert prof["audience"] == fun["final"]
    assert prof["base"] == len(_ids(setup, "SELECT msisdn FROM profile WHERE city_code = 'C01'"))
    tiers = {it["key"]: it for it in prof["dimensions"]["value_tier"]}
    assert tiers["high"]["share"] == 1.0 and tiers["high"]["index"] > 100
    assert sum(it["count"] for it in prof["dimensions"]["age_band"]) == fun["final"]
    assert {it["key"] for it in prof["dimensions"]["field:segment_code"]} <= {
        "mass", "youth", "vip"}
    assert all("*" in row["msisdn"] for row in out["sample"])  # marketers see masked numbers
    with session_scope() as s:
        seg = service.create(s, segment_in=SegmentCreate(name="high", rule=HIGH), principal=m)
        snap = service.take_snapshot(s, segment_id=seg.id, principal=m)
    assert snap.count == fun["final"] and snap.matched == fun["matched"]
    assert snap.funnel[0]["label"] == "matched"
    members = _ids(setup, f"SELECT msisdn FROM segment_snapshot_members "
                          f"WHERE snapshot_id = {snap.id}")
    assert members == set(everyone) - set(black) - {everyone[5]}
    # the snapshot is immutable: a later edit of the segment leaves it as it was
    with session_scope() as s:
        service.update(s, segment_id=seg.id, principal=m, segment_in=SegmentUpdate(rule=F_HIGH))
        again = service.get_snapshot(s, snapshot_id=snap.id, principal=m)
        assert again.version == 1 and again.count == snap.count
        with pytest.raises(NotFound):
            service.get_snapshot(s, snapshot_id=snap.id, principal=marketer("C02"))
    assert len(members) == len(_ids(setup, f"SELECT msisdn FROM segment_snapshot_members "
                                           f"WHERE snapshot_id = {snap.id}"))


def test_lists_outside_the_region_are_not_found(setup: str) -> None:
    from telcamp.lists import service as list_service
    from telcamp.lists.schemas import ListCreate

    with session_scope() as s:
        lst = list_service.create_list(s, list_in=ListCreate(
            name="c02 vip", type="custom", region_code="C02"), principal=system_principal())
        list_id = int(lst.id)
    for ref in ("c02 vip", list_id, str(list_id)):
        with pytest.raises(NotFound, match="not found") as info, session_scope() as s:
            service.count(s, rule={"not": {"in_list": ref}}, principal=marketer("C01"))
        assert "C02" not in info.value.message
    with session_scope() as s:  # its own region may use it (no members yet)
        assert service.count(s, rule={"in_list": "c02 vip"}, principal=marketer("C02")) == 0


def test_a_missing_list_or_segment_names_its_place_in_the_rule(setup: str) -> None:
    """Like every other rule error, so the builder can mark the row to fix."""
    cases = [
        ({"all": [HIGH, {"any": [{"in_list": "nosuch"}, HIGH]}]}, "all[1].any[0]"),
        ({"all": [{"not": {"in_segment": "nosuch"}}]}, "all[0].not"),
        ({"in_list": "nosuch"}, "rule"),
    ]
    for rule, where in cases:
        with pytest.raises(NotFound) as info, session_scope() as s:
            service.count(s, rule=rule, principal=marketer())
        assert info.value.field == where
        assert info.value.message.startswith(f"{where}: ") and "not found" in info.value.message


def test_one_builder_refresh_evaluates_a_heavy_rule_once(setup: str) -> None:
    heavy = {"all": [{"field": "gender", "op": "!=", "value": "u"},
                     {"usage": "voice_min", "days": 12, "op": ">=", "value": 60}]}
    m = marketer("C01")
    with session_scope() as s:
        together = service.evaluate(s, rule=heavy, principal=m, size=5)
        apart = {part: service.evaluate(s, rule=heavy, principal=m, parts=(part,), size=5)
                 for part in ("count", "funnel", "profile", "sample")}
    assert 0 < together["count"] == apart["count"]["count"]
    assert together["funnel"] == apart["funnel"]["funnel"]
    assert together["profile"] == apart["profile"]["profile"]
    assert together["sample"] == apart["sample"]["sample"]
    assert together["description"] == ("gender is not unknown and voice minutes, both directions "
                                        "over 12 days at least 60 min")


def test_a_segment_keeps_its_owners_region_for_anyone_who_uses_it(setup: str) -> None:
    with session_scope() as s:
        seg = service.create(s, segment_in=SegmentCreate(name="c01 high", rule=HIGH),
                             principal=marketer("C01"))
    province = marketer("P01", "pat")
    c01_high = _ids(setup, "SELECT msisdn FROM profile WHERE city_code = 'C01' "
                           "AND value_tier = 'high'")
    with session_scope() as s:
        # the province sees the segment; counting it through in_segment stays in C01
        assert service.count(s, rule={"in_segment": seg.id}, principal=province) == len(c01_high)
        assert service.count(s, rule=HIGH, principal=province) > len(c01_high)
        snap = service.take_snapshot(s, segment_id=seg.id, principal=province)
    assert snap.region_code == "C01"
    members = _ids(setup, f"SELECT msisdn FROM segment_snapshot_members "
                          f"WHERE snapshot_id = {snap.id}")
    assert members and members <= c01_high
    with session_scope() as s:  # the scheduler (operator-wide) re-taking it too
        again = service.take_snapshot(s, segment_id=seg.id, principal=system_principal())
    assert again.region_code == "C01" and again.count == snap.count


def test_condition_for_other_domains_is_resolved_and_scoped(setup: str) -> None:
    list_id = _blacklist(setup, [])
    m = marketer("C02")
    with session_scope() as s:
        cond = service.condition_for(s, rule={"all": [HIGH, {"not": {"in_list": "complaints"}}]},
                                     principal=m, alias="x")
        pg = service.condition_for(s, rule=HIGH, principal=m, dialect="postgres")
    assert f'"lm"."list_id" = {list_id}' in cond and "'C02'" in cond
    assert _ids(setup, f"SELECT msisdn FROM profile x WHERE {cond}") == _ids(
        setup, "SELECT msisdn FROM profile WHERE value_tier = 'high' AND city_code = 'C02'")
    assert "'C02'" in pg


def test_a_rolled_back_snapshot_leaves_no_members_behind(setup: str) -> None:
    m = marketer("C01")
    with session_scope() as s:
        seg = service.create(s, segment_in=SegmentCreate(name="high", rule=HIGH), principal=m)
    with pytest.raises(RuntimeError), session_scope() as s:
        lost = service.take_snapshot(s, segment_id=seg.id, principal=m)
        raise RuntimeError("the operational commit fails after the warehouse insert")
    with session_scope() as s:
        assert service.snapshots(s, segment_id=seg.id, principal=m) == []
        snap = service.take_snapshot(s, segment_id=seg.id, principal=m)
    rows = _ids(setup, f"SELECT count(*) FROM segment_snapshot_members "
                       f"WHERE snapshot_id = {snap.id}")
    # the id may be reused by the database; the members are exactly the new snapshot's
    assert rows == {snap.count}
    if snap.id != lost.id:
        orphans = _ids(setup, f"SELECT count(*) FROM segment_snapshot_members "
                              f"WHERE snapshot_id = {lost.id}")
        assert orphans == {lost.count}  # unreferenced rows, never read through a snapshot
    with session_scope() as s:
        gone = service.purge_orphan_members(s)
    assert gone == (0 if snap.id == lost.id else lost.count)
    assert _ids(setup, "SELECT DISTINCT snapshot_id FROM segment_snapshot_members") == {snap.id}
