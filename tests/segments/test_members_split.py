"""members_query: a rule whose only usage sum is one top-level window bounded by stored
ones is answered in two disjoint parts (decided by the stored windows UNION ALL the
undecided ones the sum keeps); the members must be exactly those of the condition form,
with no one twice, whatever else the rule holds."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import duckdb
import pytest

from telcamp.segments import audience
from telcamp.segments.compiler import CompileContext, audience_query, members_query
from telcamp.segments.rules import parse_rule
from telcamp.segments.synthetic import NOW

LISTS = {"a": 11, "b": 12}


@pytest.fixture
def lctx(con: duckdb.DuckDBPyConnection, ctx: CompileContext) -> CompileContext:
    """Two lists (one with an expired entry) and some contact history."""
    con.execute("INSERT INTO list_members SELECT 11, msisdn, NULL, NULL, ? FROM profile "
                "WHERE hash(msisdn) % 7 = 0", [NOW])
    con.execute("INSERT INTO list_members SELECT 12, msisdn, NULL, ?, ? FROM profile "
                "WHERE hash(msisdn) % 5 = 1", [NOW - timedelta(days=1), NOW])  # expired
    con.execute("INSERT INTO list_members SELECT 12, msisdn, NULL, NULL, ? FROM profile "
                "WHERE hash(msisdn) % 5 = 2", [NOW])
    con.execute("INSERT INTO contact_history (msisdn, campaign_id, wave_id, contact_id, "
                "channel, contacted_at, outcome) SELECT msisdn, 1, 1, row_number() OVER (), "
                "'sms', ?, 'delivered' FROM profile WHERE hash(msisdn) % 4 = 3",
                [NOW - timedelta(days=2)])
    return replace(ctx, resolve_list=lambda ref: LISTS[str(ref)] if str(ref) in LISTS
                   else int(ref))


def _check(con: duckdb.DuckDBPyConnection, obj: Any, ctx: CompileContext,
           split: bool) -> int:
    rule = parse_rule(obj, catalogue=ctx.catalogue)
    sql = members_query(rule, context=ctx).sql(dialect="duckdb")
    assert ("UNION ALL" in sql.split("WITH cand")[0]) == split, sql
    got = [int(r[0]) for r in con.execute(sql).fetchall()]
    want = {int(r[0]) for r in con.execute(audience_query(rule, context=ctx)).fetchall()}
    assert len(got) == len(set(got)), "a member counted twice"
    assert set(got) == want, (obj, len(got), len(want))
    assert audience.count(con, rule, ctx) == len(want)
    # with their profile rows (what the profile and the sample read): each its own row
    rows = members_query(rule, context=ctx, rowid=True).sql(dialect="duckdb")
    pairs = con.execute(f"SELECT m.msisdn, p.msisdn FROM ({rows}) AS m "
                        "LEFT JOIN profile p ON p.rowid = m.r").fetchall()
    assert len(pairs) == len(got) and {int(a) for a, _ in pairs} == want
    assert all(a == b for a, b in pairs), "a member with another subscriber's row"
    return len(want)


VOICE = {"usage": "voice_min", "days": 10, "op": ">=", "value": 3}


@pytest.mark.parametrize("leaf", [
    VOICE,
    {"usage": "voice_min", "days": 12, "op": "<", "value": 4},  # subtracts from 14 days
    {"usage": "data_mb", "days": 10, "op": "between", "value": [50, 400]},  # decimal: band
    {"usage": "sms_count", "days": 21, "op": "<=", "value": 6},  # many without rows
    {"usage": "active_days", "days": 10, "op": "=", "value": 5},
    {"usage": "charge", "days": 20, "op": "!=", "value": 0},
])
def test_split_equals_the_condition_form(con: duckdb.DuckDBPyConnection,
                                         lctx: CompileContext, leaf: dict[str, Any]) -> None:
    rules = [
        leaf,
        {"all": [{"field": "age", "op": "between", "value": [20, 60]}, leaf]},
        {"all": [{"field": "value_tier", "op": "!=", "value": "low"}, leaf,
                 {"not": {"in_list": "a"}}, {"not": {"in_list": "b"}}]},
        {"all": [leaf, {"any": [{"in_list": "a"}, {"contacted": {"days": 7}}]},
                 {"all": [{"field": "gender", "op": "=", "value": "f"}]}]},
        {"all": [leaf, {"not": {"contacted": {"days": 7}}}]},
    ]
    sizes = [_check(con, r, lctx, split=True) for r in rules]
    assert sizes[0] > 0 and sizes[0] >= sizes[1], sizes


def test_region_scope_is_applied_to_both_parts(con: duckdb.DuckDBPyConnection,
                                               lctx: CompileContext) -> None:
    everyone = _check(con, VOICE, lctx, split=True)
    scoped = replace(lctx, region_code="C01")
    in_city = _check(con, {"all": [VOICE, {"not": {"in_list": "a"}}]}, scoped, split=True)
    assert 0 < in_city < everyone
    city = {int(r[0]) for r in con.execute(
        "SELECT msisdn FROM profile WHERE city_code = 'C01'").fetchall()}
    sql = members_query(parse_rule(VOICE, catalogue=lctx.catalogue), context=scoped).sql(
        dialect="duckdb")
    assert {int(r[0]) for r in con.execute(sql).fetchall()} <= city


@pytest.mark.parametrize("obj", [
    # another conjunct reads profile columns beside a list: kept as one condition
    {"all": [VOICE, {"any": [{"in_list": "a"}, {"field": "age", "op": "<", "value": 30}]}]},
    # the window inside an any: not a top-level conjunct
    {"any": [VOICE, {"field": "age", "op": "<", "value": 30}]},
    # two windows that are not stored
    {"all": [VOICE, {"usage": "sms_count", "days": 21, "op": ">=", "value": 1}]},
    # a stored window only
    {"all": [{"usage": "voice_min", "days": 30, "op": ">=", "value": 3},
             {"not": {"in_list": "a"}}]},
])
def test_other_rules_keep_the_condition_form(con: duckdb.DuckDBPyConnection,
                                             lctx: CompileContext, obj: Any) -> None:
    _check(con, obj, lctx, split=False)


def test_materialised_match_uses_the_split(con: duckdb.DuckDBPyConnection,
                                           lctx: CompileContext) -> None:
    rule = parse_rule({"all": [VOICE, {"not": {"in_list": "b"}}]}, catalogue=lctx.catalogue)
    done = audience.materialise_matched(con, rule, lctx)
    want = {int(r[0]) for r in con.execute(audience_query(rule, context=lctx)).fetchall()}
    assert audience.count(con, done, lctx) == len(want) > 0
    got = {int(r[0]) for r in con.execute(
        f"SELECT msisdn FROM profile p WHERE {audience.matched_sql(done, lctx)}").fetchall()}
    assert got == want
    # each member with its own profile row (the profile counts codes by row)
    members = audience.members_sql(done, lctx, rowid=True)
    rows = con.execute(f"SELECT m.msisdn, p.msisdn FROM ({members}) AS m "
                       "JOIN profile p ON p.rowid = m.r").fetchall()
    assert len(rows) == len(want) and all(a == b for a, b in rows)


@pytest.mark.parametrize("materialise", [False, True])
def test_profile_and_sample_of_a_split_rule(con: duckdb.DuckDBPyConnection,
                                            lctx: CompileContext, materialise: bool) -> None:
    """The profile counts the final audience's rows as the members query finds them, and
    the sample picks among them: both equal what plain SQL over the final set gives."""
    from telcamp.core.security import system_principal
    from telcamp.segments.rules import Contacted, ContactedSpec, InList

    rule = parse_rule({"all": [VOICE, {"field": "age", "op": ">=", "value": 25},
                               {"not": {"in_list": "b"}}]}, catalogue=lctx.catalogue)
    excl = [audience.Exclusion("a", "list", InList(in_list=LISTS["a"])),
            audience.Exclusion("recent", "recent_contact",
                               Contacted(contacted=ContactedSpec(days=7)))]
    final = audience.final_sql(rule, lctx, excl)
    want = {int(r[0]) for r in con.execute(
        f"SELECT p.msisdn FROM profile p WHERE {final}").fetchall()}
    by_tier = dict(con.execute(f"SELECT coalesce(p.value_tier::VARCHAR, 'unknown'), count(*) "
                               f"FROM profile p WHERE {final} GROUP BY ALL").fetchall())
    matched: audience.Matched = (audience.materialise_matched(con, rule, lctx)
                                 if materialise else rule)
    prof = audience.profile(con, matched, lctx, excl)
    assert prof["audience"] == len(want) > 0
    tiers = {i["key"]: i["count"] for i in prof["dimensions"]["value_tier"] if i["count"]}
    assert tiers == by_tier
    picked = audience.sample(con, matched, lctx, excl, system_principal(), size=15)
    assert len(picked) == 15 and {int(p["msisdn"]) for p in picked} <= want
    funnel = audience.funnel(con, matched, lctx, excl)
    assert funnel["final"] == len(want)
