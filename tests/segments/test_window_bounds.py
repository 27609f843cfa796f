"""Usage leaves of other windows are decided from the precomputed windows around them
where those bounds suffice; the answer must equal summing usage_daily for everyone."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import duckdb
import pytest

from telcamp.segments.catalogue import Catalogue
from telcamp.segments.compiler import CompileContext, audience_query
from telcamp.segments.rules import parse_rule


def _members(con: duckdb.DuckDBPyConnection, rule: dict[str, Any],
             ctx: CompileContext) -> set[int]:
    sql = audience_query(parse_rule(rule, catalogue=ctx.catalogue), context=ctx)
    return {int(r[0]) for r in con.execute(sql).fetchall()}


def _thresholds(con: duckdb.DuckDBPyConnection, metric: str, days: int) -> list[float]:
    """Values sitting exactly on some subscriber's sums (the N-day sum and the stored
    shorter window), where a bound that is off by a rounding step would show."""
    total = "count(*)" if metric == "active_days" else f"sum({metric})"
    rows = con.execute(f"""
        SELECT round({total} * 1000000) / 1000000.0 FROM usage_daily
        WHERE day > DATE '2026-10-31' - {days} GROUP BY msisdn ORDER BY hash(msisdn) LIMIT 2
    """).fetchall()
    stored = con.execute(f"SELECT {metric}_7d FROM profile ORDER BY hash(msisdn) LIMIT 1"
                         ).fetchall()
    return sorted({float(r[0]) for r in [*rows, *stored]} | {0.0})


@pytest.mark.parametrize(("metric", "days"), [
    ("voice_min", 14), ("voice_min", 3), ("data_mb", 45), ("active_days", 10),
    ("sms_count", 20), ("charge", 60), ("voice_min", 10), ("data_mb", 21),
    ("charge", 75),
])
def test_bounded_windows_equal_the_plain_sums(con: duckdb.DuckDBPyConnection,
                                             ctx: CompileContext, metric: str,
                                             days: int) -> None:
    assert ctx.catalogue.usage_columns  # the fixture's profile has the stored windows
    plain = replace(ctx, catalogue=Catalogue(fields=ctx.catalogue.fields))
    for v in _thresholds(con, metric, days):
        for op, value in (("=", v), ("!=", v), (">=", v), (">", v), ("<", v), ("<=", v),
                          ("between", [v, v + 3]), ("between", [0, v])):
            rule = {"usage": metric, "days": days, "op": op, "value": value}
            got, want = _members(con, rule, ctx), _members(con, rule, plain)
            assert got == want, (rule, len(got), len(want))


def test_bounds_skip_usage_daily_for_decided_subscribers(ctx: CompileContext) -> None:
    rule = parse_rule({"usage": "voice_min", "days": 10, "op": ">=", "value": 5},
                      catalogue=ctx.catalogue)
    sql = audience_query(rule, context=ctx)
    # surely in when the 7 days already reach it (margin folded into the constant: a scan
    # filter), surely out when the 14 days (the nearest longer window, not 30) do not
    assert '"p"."voice_min_7d" >= 5.00001' in sql, sql
    assert '"pf"."voice_min_14d" >= 4.99999' in sql and "voice_min_30d" not in sql, sql
    # the undecided add the 3 days before the 7-day window to it (2026-10-31 is as-of), in
    # whole seconds: minutes need no band summed over all 10 days (one read of usage_daily),
    # and only the days' rows with some voice are joined and summed
    assert "BETWEEN CAST('2026-10-22' AS DATE) AND CAST('2026-10-24' AS DATE)" in sql, sql
    assert 'ROUND("d"."a" * 60) + ROUND("d"."s" * 60)' in sql, sql
    assert '"u"."voice_min" <> 0 AND' in sql, sql
    assert sql.count("usage_daily") == 1, sql


def test_a_window_nearer_the_longer_one_subtracts_from_it(ctx: CompileContext) -> None:
    rule = parse_rule({"usage": "sms_count", "days": 12, "op": "<", "value": 4},
                      catalogue=ctx.catalogue)
    sql = audience_query(rule, context=ctx)
    # 12 days = the 14-day column minus its first 2 days; a whole-number metric needs no
    # band summed over the whole window
    assert "BETWEEN CAST('2026-10-18' AS DATE) AND CAST('2026-10-19' AS DATE)" in sql, sql
    assert '"d"."a" - "d"."s"' in sql and sql.count("usage_daily") == 1, sql


@pytest.mark.parametrize("days", [14, 30])
def test_a_stored_window_reads_its_column(ctx: CompileContext, days: int) -> None:
    rule = parse_rule({"usage": "voice_min", "days": days, "op": ">=", "value": 5},
                      catalogue=ctx.catalogue)
    sql = audience_query(rule, context=ctx)
    assert f'"p"."voice_min_{days}d" >= 5' in sql and "usage_daily" not in sql, sql


def test_a_profile_without_the_window_sums_usage_daily(con: duckdb.DuckDBPyConnection,
                                                       ctx: CompileContext) -> None:
    """A profile built before the 14-day window was stored (no <metric>_14d columns): a
    14-day leaf is bounded by 7 and 30 days and summed, and still exact."""
    from telcamp.segments.catalogue import from_columns, profile_columns

    plain = replace(ctx, catalogue=Catalogue(fields=ctx.catalogue.fields))
    want = {v: _members(con, {"usage": "voice_min", "days": 14, "op": ">=", "value": v},
                        plain) for v in (5, 60)}
    for (name,) in con.execute("SELECT column_name FROM (DESCRIBE profile) "
                               "WHERE ends_with(column_name, '_14d')").fetchall():
        con.execute(f'ALTER TABLE profile DROP COLUMN "{name}"')
    old = replace(ctx, catalogue=from_columns(profile_columns(con)))
    assert "voice_min_14d" not in old.catalogue.usage_columns
    assert "voice_min_14d" not in old.catalogue.fields  # nor a field of its own
    for v, members in want.items():
        rule = {"usage": "voice_min", "days": 14, "op": ">=", "value": v}
        sql = audience_query(parse_rule(rule, catalogue=old.catalogue), context=old)
        assert "usage_daily" in sql and '"pf"."voice_min_30d"' in sql, sql
        assert _members(con, rule, old) == members


def test_stored_windows_of_another_day_are_not_used_as_bounds(
        con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    """TELCAMP_AS_OF_DATE set after the rebuild: the stored windows end on another day, so
    a 14-day leaf must sum usage_daily for the configured day, not trust the bounds."""
    from telcamp.core.security import system_principal
    from telcamp.core.settings import reset_settings
    from telcamp.segments import audience

    monkeypatch.setenv("TELCAMP_AS_OF_DATE", "2026-10-20")  # built for 2026-10-31
    reset_settings()
    try:
        ctx = audience.make_context(None, principal=system_principal(), con=con)
        assert ctx.as_of_date.isoformat() == "2026-10-20"
        assert not ctx.catalogue.usage_columns
        rule = {"usage": "voice_min", "days": 14, "op": ">=", "value": 30}
        want = {int(r[0]) for r in con.execute(
            "SELECT msisdn FROM usage_daily WHERE day BETWEEN DATE '2026-10-07' AND "
            "DATE '2026-10-20' GROUP BY msisdn HAVING round(sum(voice_min) * 1000000) "
            "/ 1000000.0 >= 30").fetchall()}
        assert want and _members(con, rule, ctx) == want
    finally:
        monkeypatch.delenv("TELCAMP_AS_OF_DATE")
        reset_settings()


def test_windows_past_the_loaded_days_are_pinned_exactly(con: duckdb.DuckDBPyConnection,
                                                         ctx: CompileContext) -> None:
    """Usage of the last 30 days only: the 30- and 90-day windows are equal, so every
    window between them is pinned (no margin, no usage rows summed), and still exact."""
    from telcamp.segments.catalogue import from_columns, profile_columns
    from telcamp.segments.synthetic import build_profile

    con.execute("DELETE FROM usage_daily WHERE day <= DATE '2026-10-31' - 30")
    build_profile(con)
    trimmed = replace(ctx, catalogue=from_columns(profile_columns(con)))
    plain = replace(ctx, catalogue=Catalogue(fields=ctx.catalogue.fields))
    for metric in ("voice_min", "sms_count"):
        for v in _thresholds(con, metric, 45):
            for op, value in ((">=", v), ("<", v), ("=", v), ("!=", v), ("between", [0, v])):
                rule = {"usage": metric, "days": 45, "op": op, "value": value}
                assert _members(con, rule, trimmed) == _members(con, rule, plain), rule


def test_a_window_past_the_first_usage_day_is_a_stored_column(
        con: duckdb.DuckDBPyConnection, ctx: CompileContext) -> None:
    """Usage of the last 30 days only: a 45-day window holds all of it, as the 30-day one
    does, so it reads that column (no usage_daily) and equals the plain sum."""
    from telcamp.core.security import system_principal
    from telcamp.segments import audience
    from telcamp.segments.catalogue import from_columns, profile_columns
    from telcamp.segments.synthetic import build_profile

    con.execute("DELETE FROM usage_daily WHERE day <= DATE '2026-10-31' - 30")
    build_profile(con)
    made = audience.make_context(None, principal=system_principal(), con=con)
    assert made.usage_first_day is not None
    assert made.usage_first_day.isoformat() == "2026-10-02"
    trimmed = replace(ctx, catalogue=from_columns(profile_columns(con)),
                      usage_first_day=made.usage_first_day)
    plain = replace(ctx, catalogue=Catalogue(fields=ctx.catalogue.fields))
    for days, column in ((45, "voice_min_30d"), (30, "voice_min_30d"), (29, None)):
        rule = parse_rule({"usage": "voice_min", "days": days, "op": ">=", "value": 60},
                          catalogue=trimmed.catalogue)
        sql = audience_query(rule, context=trimmed)
        if column:
            assert f'"p"."{column}" >= 60' in sql and "usage_daily" not in sql, sql
        else:  # 29 days miss the first usage day: bounded and summed as before
            assert "usage_daily" in sql, sql
    for v in _thresholds(con, "voice_min", 45):
        for op, value in ((">=", v), ("<", v), ("=", v), ("between", [0, v])):
            rule = {"usage": "voice_min", "days": 45, "op": op, "value": value}
            assert _members(con, rule, trimmed) == _members(con, rule, plain), rule
