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


def test_a_stored_window_plus_the_days_beyond_it_stays_exact() -> None:
    """A 10-day data_mb leaf reads the 7-day column (rounded to 6 decimals) plus the 3 days
    before it. Subscriber 1's 7 days sum to 0.3333334 (stored 0.333333) and the 3 days to 0.6666666:
    exactly 1 in all, which that total (0.9999996) would miss. Near a threshold the whole
    window is summed, so he counts; subscriber 2, clear of it, is decided by the total."""
    from telcamp.segments.catalogue import Catalogue

    con = duckdb.connect()
    con.execute("CREATE TABLE usage_daily (msisdn BIGINT, day DATE, data_mb DOUBLE)")
    con.execute("INSERT INTO usage_daily VALUES (1, DATE '2026-11-20', 0.3333334), "
                "(1, DATE '2026-11-12', 0.6666666), (2, DATE '2026-11-19', 0.5), "
                "(2, DATE '2026-11-11', 0.75), (3, DATE '2026-11-15', 2.0)")
    con.execute("""CREATE TABLE profile AS SELECT msisdn,
        round(sum(data_mb) FILTER (WHERE day > DATE '2026-11-13') * 1e6) / 1e6
            AS data_mb_7d,
        round(sum(data_mb) FILTER (WHERE day > DATE '2026-11-06') * 1e6) / 1e6
            AS data_mb_14d
        FROM usage_daily GROUP BY msisdn""")
    cat = Catalogue(usage_columns=frozenset({"data_mb_7d", "data_mb_14d"}))
    ctx = CompileContext(as_of_date=AS_OF, now=datetime(2026, 11, 21, tzinfo=UTC),
                         catalogue=cat)
    for op, expected in ((">=", [1, 2, 3]), ("<", []), ("=", [1]), ("!=", [2, 3]),
                         ("between", [1])):
        value: object = [0.9, 1.0] if op == "between" else 1
        rule = parse_rule({"usage": "data_mb", "days": 10, "op": op, "value": value},
                          catalogue=cat)
        sql = audience_query(rule, context=ctx)
        # the 3 days, and the band summed over all 10 days
        assert "2026-11-13" in sql and sql.count("usage_daily") == 2, sql
        got = sorted(r[0] for r in con.execute(sql).fetchall())
        assert got == expected, (op, sql)


def _minutes_warehouse(rows: list[tuple[int, str, int]]) -> tuple[duckdb.DuckDBPyConnection,
                                                                  CompileContext]:
    """usage_daily of voice seconds / 60 (as the loader writes it) and a profile with the
    7- and 14-day windows rounded to 6 decimals (as the rebuild writes them)."""
    from telcamp.segments.catalogue import Catalogue

    con = duckdb.connect()
    con.execute("CREATE TABLE usage_daily (msisdn BIGINT, day DATE, voice_min DOUBLE)")
    for msisdn, day, seconds in rows:
        con.execute("INSERT INTO usage_daily VALUES (?, CAST(? AS DATE), ? / 60.0)",
                    [msisdn, day, seconds])
    con.execute("""CREATE TABLE profile AS SELECT msisdn,
        coalesce(round(sum(voice_min) FILTER (WHERE day > DATE '2026-11-13') * 1e6) / 1e6, 0)
            AS voice_min_7d,
        round(sum(voice_min) FILTER (WHERE day > DATE '2026-11-06') * 1e6) / 1e6
            AS voice_min_14d
        FROM usage_daily GROUP BY msisdn""")
    cat = Catalogue(usage_columns=frozenset({"voice_min_7d", "voice_min_14d"}))
    return con, CompileContext(as_of_date=AS_OF, now=datetime(2026, 11, 21, tzinfo=UTC),
                               catalogue=cat)


def test_minutes_of_whole_seconds_are_added_exactly_without_the_band() -> None:
    """Minutes are whole seconds / 60, so the rounded stored window and the days' sum are
    both recovered as whole seconds. Subscriber 1: 20 s in the 7 days (stored 0.333333, a
    third of a millionth low) and 2 s three days before: 22 s = 0.366667 at 6 decimals,
    where the stored window plus the days (0.3666663) would round to 0.366666."""
    con, ctx = _minutes_warehouse([(1, "2026-11-20", 20), (1, "2026-11-12", 2),
                                   (2, "2026-11-19", 21), (2, "2026-11-11", 2),
                                   (3, "2026-11-12", 5)])
    for op, expected in (("=", [1]), (">=", [1, 2]), ("<", [3]), (">", [2]),
                         ("between", [1])):
        value: object = [0.366667, 0.366667] if op == "between" else 0.366667
        rule = parse_rule({"usage": "voice_min", "days": 10, "op": op, "value": value},
                          catalogue=ctx.catalogue)
        sql = audience_query(rule, context=ctx)
        # the 3 days, no band
        assert "2026-11-13" in sql and sql.count("usage_daily") == 1, sql
        got = sorted(r[0] for r in con.execute(sql).fetchall())
        plain = sorted(r[0] for r in con.execute(_plain_sql(op, value)).fetchall())
        assert got == expected == plain, (op, sql)


def _plain_sql(op: str, value: object) -> str:
    """The leaf summed over all 10 days for everyone, at 6 decimals."""
    total = "round(sum(voice_min) * 1e6) / 1e6"
    cond = (f"{total} BETWEEN {value[0]} AND {value[1]}" if isinstance(value, list)
            else f"{total} {op} {value}")
    return ("SELECT msisdn FROM usage_daily WHERE day > DATE '2026-11-10' GROUP BY msisdn "
            f"HAVING {cond}")
