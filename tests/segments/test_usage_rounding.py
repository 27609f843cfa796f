"""Usage sums are compared at 6 decimals: a subscriber exactly on a threshold stays in the
audience whatever order the database adds the daily values in."""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb

from telcamp.segments.compiler import CompileContext, audience_query
from telcamp.segments.rules import parse_rule

AS_OF = date(2026, 11, 20)


def _warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE profile (msisdn BIGINT)")
    con.execute("INSERT INTO profile VALUES (1), (2)")
    con.execute("CREATE TABLE usage_daily (msisdn BIGINT, day DATE, voice_min DOUBLE)")
    # subscriber 1: ten days of 0.1 minutes = 1 minute, which a plain double sum makes
    # 0.9999999999999999; subscriber 2: 0.9 minutes
    for msisdn, days in ((1, 10), (2, 9)):
        con.execute(
            "INSERT INTO usage_daily SELECT ?, DATE '2026-11-20' - CAST(i AS INTEGER), 0.1 "
            "FROM range(?) t(i)", [msisdn, days],
        )
    return con


def test_a_sum_exactly_on_the_threshold_counts() -> None:
    con = _warehouse()
    plain = con.execute(
        "SELECT sum(voice_min) FROM (SELECT voice_min FROM usage_daily WHERE msisdn = 1 "
        "ORDER BY day)"
    ).fetchone()
    assert plain is not None and plain[0] != 1.0  # the floating-point trap is real
    ctx = CompileContext(as_of_date=AS_OF, now=datetime(2026, 11, 21, tzinfo=UTC))
    for op, expected in ((">=", [1]), ("=", [1]), ("<", [2])):
        rule = parse_rule({"usage": "voice_min", "days": 10, "op": op, "value": 1})
        sql = audience_query(rule, context=ctx)
        got = sorted(r[0] for r in con.execute(sql).fetchall())
        assert got == expected, (op, sql)
