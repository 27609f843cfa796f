"""Compiled rules select exactly the subscribers hand-written SQL selects (DuckDB)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import duckdb
import pytest

from telcamp.core.errors import NotFound, ValidationFailed
from telcamp.segments.catalogue import Catalogue
from telcamp.segments.compiler import (
    CompileContext,
    audience_query,
    compile_condition,
)
from telcamp.segments.rules import Rule, parse_rule
from telcamp.segments.synthetic import AS_OF, BASE_MSISDN, NOW


def _ids(con: duckdb.DuckDBPyConnection, sql: str) -> set[int]:
    return {int(r[0]) for r in con.execute(sql).fetchall()}


def _rule(obj: Any, cat: Catalogue) -> Rule:
    return parse_rule(obj, catalogue=cat)


def _run(con: duckdb.DuckDBPyConnection, obj: Any, ctx: CompileContext) -> set[int]:
    return _ids(con, audience_query(_rule(obj, ctx.catalogue), context=ctx))


def _hand(con: duckdb.DuckDBPyConnection, where: str) -> set[int]:
    return _ids(con, f"SELECT msisdn FROM profile p WHERE {where}")


CASES = [
    ({"field": "age", "op": "between", "value": [20, 35]}, "age BETWEEN 20 AND 35"),
    ({"field": "value_tier", "op": "in", "value": ["high", "medium"]},
     "value_tier IN ('high', 'medium')"),
    ({"field": "gender", "op": "not_in", "value": ["m"]}, "gender <> 'm'"),
    ({"field": "birth_date", "op": "is_null"}, "birth_date IS NULL"),
    ({"field": "email", "op": "is_null", "value": False}, "email IS NOT NULL"),
    ({"field": "activation_date", "op": ">=", "value": "2025-01-01"},
     "activation_date >= DATE '2025-01-01'"),
    ({"field": "is_new", "op": "=", "value": True}, "is_new"),
    ({"field": "segment_code", "op": "=", "value": "vip"}, "segment_code = 'vip'"),
    ({"usage": "data_mb", "days": 30, "op": ">=", "value": 1000}, "data_mb_30d >= 1000"),
    ({"any": [{"field": "arpu_3m", "op": ">", "value": 70},
              {"not": {"field": "status", "op": "=", "value": "active"}}]},
     "arpu_3m > 70 OR NOT status = 'active'"),
]


@pytest.mark.parametrize(("rule", "where"), CASES)
def test_leaves_match_hand_written_sql(con: duckdb.DuckDBPyConnection, ctx: CompileContext,
                                       rule: Any, where: str) -> None:
    got = _run(con, rule, ctx)
    assert got == _hand(con, where)
    assert 0 < len(got) < 2000  # the case is not trivially everyone or no one


def _window_sum(con: duckdb.DuckDBPyConnection, metric: str, days: int, having: str) -> set[int]:
    start = AS_OF - timedelta(days=days - 1)
    agg = "count(*)" if metric == "active_days" else f"sum(u.{metric})"
    return _ids(con, f"""
        SELECT p.msisdn FROM profile p LEFT JOIN (
          SELECT msisdn, {agg} AS v FROM usage_daily u
          WHERE day BETWEEN DATE '{start}' AND DATE '{AS_OF}' GROUP BY msisdn) x
        ON x.msisdn = p.msisdn WHERE coalesce(x.v, 0) {having}""")


@pytest.mark.parametrize(("metric", "days", "op", "value", "having"), [
    ("voice_min", 14, ">", 100, "> 100"),
    ("voice_min", 14, "<", 10, "< 10"),  # holds for 0: subscribers without usage match
    ("sms_count", 45, "between", [0, 20], "BETWEEN 0 AND 20"),
    ("active_days", 10, ">=", 4, ">= 4"),
    ("active_days", 1, "=", 0, "= 0"),
    ("charge", 60, "!=", 0, "<> 0"),
])
def test_other_windows_sum_usage_daily(con: duckdb.DuckDBPyConnection, ctx: CompileContext,
                                       metric: str, days: int, op: str, value: Any,
                                       having: str) -> None:
    rule = {"usage": metric, "days": days, "op": op, "value": value}
    assert _run(con, rule, ctx) == _window_sum(con, metric, days, having)
    # filter first: the same answer inside a conjunction and under a region scope
    scoped = replace(ctx, region_code="C01")
    both = {"all": [{"field": "gender", "op": "=", "value": "f"}, rule]}
    expected = _window_sum(con, metric, days, having) & _hand(
        con, "gender = 'f' AND 'C01' IN (region_code, city_code, province_code)")
    assert _run(con, both, scoped) == expected


def test_standard_window_equals_summed_window(con: duckdb.DuckDBPyConnection,
                                              ctx: CompileContext) -> None:
    # 30 days read the precomputed column; 29 + the same as-of day sums usage_daily
    assert _run(con, {"usage": "data_mb", "days": 30, "op": ">", "value": 2000}, ctx) == \
        _window_sum(con, "data_mb", 30, "> 2000")


def test_region_scope_is_always_applied(con: duckdb.DuckDBPyConnection,
                                        ctx: CompileContext) -> None:
    city = replace(ctx, region_code="C02")
    got = _run(con, {"all": []}, city)
    assert got == _hand(con, "city_code = 'C02'")
    county = replace(ctx, region_code="C01-02")
    assert _run(con, {"field": "city_code", "op": "=", "value": "C02"}, county) == set()


def test_in_list_ignores_expired_members(con: duckdb.DuckDBPyConnection,
                                         ctx: CompileContext) -> None:
    con.execute("INSERT INTO list_members VALUES (7, ?, 'x', NULL, ?), (7, ?, 'x', ?, ?),"
                " (7, ?, 'x', ?, ?), (8, ?, 'x', NULL, ?)",
                [BASE_MSISDN + 1, NOW, BASE_MSISDN + 2, NOW + timedelta(days=1), NOW,
                 BASE_MSISDN + 3, NOW - timedelta(seconds=1), NOW, BASE_MSISDN + 4, NOW])
    assert _run(con, {"in_list": 7}, ctx) == {BASE_MSISDN + 1, BASE_MSISDN + 2}
    everyone = _hand(con, "TRUE")
    assert _run(con, {"not": {"in_list": 7}}, ctx) == everyone - {BASE_MSISDN + 1,
                                                                   BASE_MSISDN + 2}


def test_in_list_by_name_uses_the_resolver(con: duckdb.DuckDBPyConnection,
                                           ctx: CompileContext) -> None:
    con.execute("INSERT INTO list_members VALUES (3, ?, NULL, NULL, ?)", [BASE_MSISDN + 9, NOW])

    def resolve(ref: str | int) -> int:
        if ref == "vip":
            return 3
        raise NotFound(f"list {ref!r} not found")

    with_lists = replace(ctx, resolve_list=resolve)
    assert _run(con, {"in_list": "vip"}, with_lists) == {BASE_MSISDN + 9}
    with pytest.raises(NotFound, match="list 'other' not found"):
        _run(con, {"in_list": "other"}, with_lists)


def test_contacted_reads_contact_history(con: duckdb.DuckDBPyConnection,
                                         ctx: CompileContext) -> None:
    assert _run(con, {"contacted": {"days": 30}}, ctx) == set()  # empty: matches no one
    con.execute("INSERT INTO contact_history (msisdn, campaign_id, wave_id, contact_id, channel, "
                "contacted_at, outcome) VALUES (?, 1, 1, 1, 'sms', ?, 'delivered'),"
                "(?, 2, 1, 2, 'email', ?, 'sent'), (?, 1, 1, 3, 'sms', ?, 'suppressed'),"
                "(?, 1, 1, 4, 'sms', ?, 'sent'), (?, 1, 1, 5, 'sms', ?, 'deferred')",
                [BASE_MSISDN + 1, NOW - timedelta(days=2), BASE_MSISDN + 2,
                 NOW - timedelta(days=5), BASE_MSISDN + 3, NOW - timedelta(days=1),
                 BASE_MSISDN + 4, NOW - timedelta(days=20),
                 # deferred by the policy and not sent (yet): not contacted
                 BASE_MSISDN + 5, NOW - timedelta(days=1)])
    assert _run(con, {"contacted": {"days": 7}}, ctx) == {BASE_MSISDN + 1, BASE_MSISDN + 2}
    assert _run(con, {"contacted": {"days": 7, "channel": "sms"}}, ctx) == {BASE_MSISDN + 1}
    assert _run(con, {"contacted": {"days": 30, "campaign": 1}}, ctx) == {
        BASE_MSISDN + 1, BASE_MSISDN + 4}
    # failed before the provider or rejected by the SMSC: never reached them, not contacted;
    # unknown (may have gone out) and undelivered after a send count
    con.execute("INSERT INTO contact_history (msisdn, campaign_id, wave_id, contact_id, channel, "
                "contacted_at, outcome, reason) VALUES "
                "(?, 1, 1, 6, 'sms', ?, 'failed', 'render: undefined field'), "
                "(?, 1, 1, 7, 'sms', ?, 'rejected', 'ESME_RINVDSTADR'), "
                "(?, 1, 1, 8, 'sms', ?, 'unknown', 'lease expired')",
                [BASE_MSISDN + 6, NOW - timedelta(days=1), BASE_MSISDN + 7,
                 NOW - timedelta(days=1), BASE_MSISDN + 8, NOW - timedelta(days=1)])
    assert _run(con, {"contacted": {"days": 7}}, ctx) == {
        BASE_MSISDN + 1, BASE_MSISDN + 2, BASE_MSISDN + 8}


def test_in_segment_inlines_and_detects_cycles(con: duckdb.DuckDBPyConnection,
                                               ctx: CompileContext) -> None:
    cat = ctx.catalogue
    saved: dict[int, Rule] = {
        1: _rule({"field": "value_tier", "op": "=", "value": "high"}, cat),
        2: _rule({"all": [{"in_segment": 1}, {"field": "gender", "op": "=", "value": "f"}]}, cat),
        3: _rule({"in_segment": 4}, cat),
        4: _rule({"any": [{"in_segment": 3}]}, cat),
    }
    seg_ctx = replace(ctx, resolve_segment=lambda ref: (int(ref), saved[int(ref)]))
    assert _run(con, {"in_segment": 2}, seg_ctx) == _hand(
        con, "value_tier = 'high' AND gender = 'f'")
    with pytest.raises(ValidationFailed, match="cycle"):
        _run(con, {"in_segment": 3}, seg_ctx)


def test_values_are_quoted_by_the_builder(con: duckdb.DuckDBPyConnection,
                                          ctx: CompileContext) -> None:
    evil = "x' OR '1'='1"
    rule = _rule({"field": "language", "op": "=", "value": evil}, ctx.catalogue)
    sql = compile_condition(rule, context=ctx)
    assert "'x'' OR ''1''=''1'" in sql
    assert _run(con, {"field": "language", "op": "=", "value": evil}, ctx) == set()
    pg = compile_condition(rule, context=ctx, dialect="postgres")
    assert "'x'' OR ''1''=''1'" in pg
    with pytest.raises(ValidationFailed, match="unknown SQL dialect"):
        compile_condition(rule, context=ctx, dialect="oracle")
