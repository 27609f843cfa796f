"""A small deterministic warehouse for the segment tests, the browser test and the bench.

It fills the real warehouse tables (schema.py) with pseudo-random but reproducible rows,
set-based in DuckDB (hash of the row number, no Python loop per subscriber), and builds
the `profile` from them, so the precomputed 7/30/90-day
columns agree exactly with sums over usage_daily (the real `warehouse.build.rebuild`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb

from telcamp.warehouse.schema import METRICS, ensure_schema

AS_OF = date(2026, 10, 31)
# A fixed 'now' the day after the as-of date (list expiry, contact recency in tests).
NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
REGIONS = (
    ("P01", "Province One", None, "province", "Europe/Moscow"),
    ("C01", "City One", "P01", "city", "Europe/Moscow"),
    ("C02", "City Two", "P01", "city", "Europe/Moscow"),
    ("C01-01", "County 1-1", "C01", "county", "Europe/Moscow"),
    ("C01-02", "County 1-2", "C01", "county", "Europe/Moscow"),
    ("C02-01", "County 2-1", "C02", "county", "Europe/Moscow"),
)
TARIFFS = (("T1", "Basic", "prepaid", 10.0), ("T2", "Plus", "prepaid", 25.0),
           ("T3", "Business", "postpaid", 60.0))
BASE_MSISDN = 79_000_000_000


def _r(i: str, k: int, mod: int) -> str:
    """A reproducible pseudo-random integer in [0, mod) from row number i and stream k."""
    return f"CAST(hash({i} * 1000003 + {k}) % {mod} AS BIGINT)"


def create(con: duckdb.DuckDBPyConnection, *, subscribers: int = 2000, days: int = 90,
           as_of: date = AS_OF, active_share: float = 0.35) -> None:
    """Fill an empty warehouse with `subscribers` subscribers and `days` days of usage."""
    ensure_schema(con)
    con.executemany("INSERT INTO regions VALUES (?, ?, ?, ?, ?)", [list(r) for r in REGIONS])
    con.executemany("INSERT INTO tariffs VALUES (?, ?, ?, ?)", [list(t) for t in TARIFFS])
    con.execute(f"""
INSERT INTO subscribers
SELECT {BASE_MSISDN} + i,
  ['C01-01', 'C01-02', 'C02-01'][1 + {_r('i', 1, 3)}],
  ['T1', 'T2', 'T3'][1 + {_r('i', 2, 3)}],
  DATE '{as_of.isoformat()}' - CAST({_r('i', 3, 3000)} AS INTEGER),
  CASE WHEN {_r('i', 4, 20)} = 0 THEN 'suspended' WHEN {_r('i', 4, 20)} = 1 THEN 'churned'
       ELSE 'active' END,
  CASE WHEN {_r('i', 5, 25)} = 0 THEN NULL
       ELSE DATE '{as_of.isoformat()}' - CAST(6570 + {_r('i', 6, 18000)} AS INTEGER) END,
  ['m', 'f', 'u'][1 + {_r('i', 7, 3)}],
  ['ru', 'en', 'zh'][1 + {_r('i', 8, 3)}],
  ['android', 'ios', 'feature'][1 + {_r('i', 9, 3)}],
  CASE WHEN {_r('i', 10, 4)} = 0 THEN NULL ELSE 'user' || i || '@example.org' END
FROM range({subscribers}) t(i)""")
    # An extra column the operator sent: the profile carries it and rules can target it.
    con.execute("ALTER TABLE subscribers ADD COLUMN IF NOT EXISTS segment_code VARCHAR")
    con.execute(f"UPDATE subscribers SET segment_code = "
                f"['mass', 'youth', 'vip'][1 + {_r('msisdn', 11, 3)}]")
    active = int(active_share * 1000)
    metric_values = {
        "voice_min": f"{_r('s.msisdn * 97 + d', 20, 600)} / 10.0",
        "voice_out_min": f"{_r('s.msisdn * 97 + d', 20, 600)} / 20.0",
        "sms_count": _r("s.msisdn * 97 + d", 21, 6),
        "mms_count": _r("s.msisdn * 97 + d", 22, 2),
        "data_mb": f"{_r('s.msisdn * 97 + d', 23, 40000)} / 100.0",
        "roaming_min": f"CASE WHEN {_r('s.msisdn * 97 + d', 24, 30)} = 0 THEN 5.5 ELSE 0 END",
        "long_distance_count": _r("s.msisdn * 97 + d", 25, 3),
        "ringback_count": _r("s.msisdn * 97 + d", 26, 2),
        "charge": f"{_r('s.msisdn * 97 + d', 27, 500)} / 100.0",
    }
    cols = ", ".join(metric_values[m.name] for m in METRICS)
    con.execute(f"""
INSERT INTO usage_daily
SELECT s.msisdn, DATE '{as_of.isoformat()}' - CAST(d AS INTEGER), {cols}, 1
FROM subscribers s, range({days}) r(d)
WHERE {_r('s.msisdn * 97 + d', 30, 1000)} < {active}
  AND s.status <> 'churned'
ORDER BY 2, 1""")
    con.execute("INSERT INTO meta VALUES ('as_of_date', ?) ON CONFLICT (key) DO UPDATE "
                "SET value = excluded.value", [as_of.isoformat()])
    build_profile(con, as_of=as_of)


def build_profile(con: duckdb.DuckDBPyConnection, *, as_of: date = AS_OF) -> None:
    """The real profile build (warehouse.build.rebuild) over the synthetic rows."""
    from telcamp.warehouse.build import rebuild

    rebuild(con, as_of=as_of)
