"""Rebuild of the `profile` table: derived features, usage windows and scores.

One set-based statement builds the whole table (CREATE OR REPLACE), so readers see either
the old profile or the new one, never a half-built one. Called by the loader after each
load and by `telcamp warehouse rebuild`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from telcamp.core import clock
from telcamp.core.settings import get_settings
from telcamp.warehouse import scoring
from telcamp.warehouse.schema import ALL_METRICS, METRICS, WINDOWS, ensure_schema, set_meta

# Profile columns computed here; a loader extra column with one of these names is dropped
# from the profile so the derived value wins (the raw one stays in `subscribers`).
DERIVED_COLUMNS: tuple[str, ...] = (
    "city_code", "province_code", "payment_type", "age", "tenure_days", "is_new",
    *(f"{m.name}_{w}d" for m in ALL_METRICS for w in WINDOWS),
    "arpu_3m", "days_since_last_activity", *scoring.SCORE_COLUMNS,
)


@dataclass(frozen=True)
class BuildReport:
    as_of_date: date
    subscribers: int
    seconds: float


def resolve_as_of(con: duckdb.DuckDBPyConnection, as_of: date | None = None) -> date:
    """The as-of date: the argument, else settings.as_of_date, else the last usage day,
    else today. An explicit argument wins over the setting (the caller asked for it)."""
    if as_of is not None:
        return as_of
    configured = get_settings().as_of_date
    if configured is not None:
        return configured
    row = con.execute("SELECT max(day) FROM usage_daily").fetchone()
    if row is not None and row[0] is not None:
        last: date = row[0]
        return last
    return clock.today()


def _subscriber_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'subscribers' AND table_schema = current_schema() "
        "ORDER BY ordinal_position"
    ).fetchall()
    return [str(r[0]) for r in rows if str(r[0]) not in DERIVED_COLUMNS]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def daily_rows_sql(source: str) -> str:
    """SELECT turning raw usage records into `usage_daily` rows (one per msisdn and day).

    `source` is a relation with the usage contract's columns plus `day` (the date written
    in event_time). The metric definitions live in schema.METRICS; the loader may reuse
    this so daily rows and the documented definitions cannot drift apart.
    """
    metric_cols = ",\n  ".join(
        f"sum({m.sql})::{'INTEGER' if m.integer else 'DOUBLE'} AS {m.name}" for m in METRICS
    )
    return (
        f"SELECT msisdn, day,\n  {metric_cols},\n  count(*)::INTEGER AS records\n"
        f"FROM {source} GROUP BY msisdn, day"
    )


def _window_sums() -> str:
    """One pass over the last 90 days of usage_daily gives every metric x window."""
    parts: list[str] = []
    for w in WINDOWS:
        # Days (as_of - w, as_of]: the w calendar days ending with the as-of date.
        cond = f"day > $as_of - INTERVAL {int(w)} DAY"
        for m in METRICS:
            parts.append(f"sum(CASE WHEN {cond} THEN {m.name} ELSE 0 END) AS {m.name}_{w}d")
        parts.append(f"count(*) FILTER (WHERE {cond}) AS active_days_{w}d")
    return ",\n    ".join(parts)


def profile_sql(subscriber_columns: list[str], config: scoring.ScoringConfig) -> str:
    """The CREATE statement; parameters: $as_of (DATE), $new_days (INTEGER)."""
    max_w = max(WINDOWS)
    sub_cols = ", ".join(f"s.{_quote(c)}" for c in subscriber_columns)
    usage_cols = ",\n  ".join(
        f"coalesce(u.{m.name}_{w}d, 0)::{'BIGINT' if m.integer else 'DOUBLE'} "
        f"AS {m.name}_{w}d"
        for m in ALL_METRICS for w in WINDOWS
    )
    return f"""
CREATE OR REPLACE TABLE profile AS
WITH RECURSIVE
-- Every region with each of its ancestors (itself included), so a subscriber attached to a
-- county, a city or the province directly gets the right city and province codes.
anc(code, ancestor, level) AS (
  SELECT code, code, level FROM regions
  UNION ALL
  SELECT anc.code, r.parent_code, p.level
  FROM anc JOIN regions r ON r.code = anc.ancestor
  JOIN regions p ON p.code = r.parent_code
),
region_codes AS (
  SELECT code,
         max(ancestor) FILTER (WHERE level = 'city') AS city_code,
         max(ancestor) FILTER (WHERE level = 'province') AS province_code
  FROM anc GROUP BY code
),
win AS (
  SELECT msisdn,
    {_window_sums()},
    sum(charge) AS charge_90d_for_arpu
  FROM usage_daily
  WHERE day > $as_of - INTERVAL {max_w} DAY AND day <= $as_of
  GROUP BY msisdn
),
last_use AS (
  SELECT msisdn, max(day) AS last_day FROM usage_daily WHERE day <= $as_of GROUP BY msisdn
),
pay AS (
  SELECT msisdn,
         max(CAST(timezone('UTC', event_time) AS DATE)) AS last_payment_day,
         count(*) FILTER (WHERE CAST(timezone('UTC', event_time) AS DATE)
                          > $as_of - INTERVAL {max_w} DAY) AS payments_90d
  FROM payments WHERE CAST(timezone('UTC', event_time) AS DATE) <= $as_of
  GROUP BY msisdn
),
prod AS (
  -- Products whose latest event up to the as-of date is a subscription.
  SELECT msisdn, count(*) AS active_products FROM (
    SELECT msisdn, product_code,
           arg_max(action, event_time) AS last_action
    FROM product_events WHERE CAST(timezone('UTC', event_time) AS DATE) <= $as_of
    GROUP BY msisdn, product_code
  ) WHERE last_action = 'subscribe' GROUP BY msisdn
),
feat AS (
  SELECT {sub_cols},
    rc.city_code, rc.province_code,
    t.payment_type,
    CASE WHEN s.birth_date IS NULL THEN NULL ELSE
      (year($as_of) - year(s.birth_date)
       - CASE WHEN month($as_of) < month(s.birth_date)
                OR (month($as_of) = month(s.birth_date) AND day($as_of) < day(s.birth_date))
              THEN 1 ELSE 0 END)::INTEGER END AS age,
    date_diff('day', s.activation_date, $as_of)::INTEGER AS tenure_days,
    date_diff('day', s.activation_date, $as_of) < $new_days AS is_new,
    {usage_cols},
    (coalesce(u.charge_90d_for_arpu, 0) / 3.0 + coalesce(t.monthly_fee, 0))::DOUBLE AS arpu_3m,
    date_diff('day', lu.last_day, $as_of)::INTEGER AS days_since_last_activity,
    -- inputs of the scores only; not kept in the profile
    CASE WHEN pay.last_payment_day IS NULL THEN NULL
         ELSE date_diff('day', pay.last_payment_day, $as_of) END AS _days_since_payment,
    coalesce(pay.payments_90d, 0) AS _payments_90d,
    coalesce(prod.active_products, 0) AS _active_products
  FROM subscribers s
  LEFT JOIN region_codes rc ON rc.code = s.region_code
  LEFT JOIN tariffs t ON t.code = s.tariff_code
  LEFT JOIN win u ON u.msisdn = s.msisdn
  LEFT JOIN last_use lu ON lu.msisdn = s.msisdn
  LEFT JOIN pay ON pay.msisdn = s.msisdn
  LEFT JOIN prod ON prod.msisdn = s.msisdn
),
scored AS (
  SELECT *, {scoring.value_score_sql(config)} AS value_score,
         {scoring.churn_risk_sql(config)} AS churn_risk
  FROM feat
)
SELECT * EXCLUDE (_days_since_payment, _payments_90d, _active_products, churn_risk),
       {scoring.tier_sql(config)} AS value_tier, churn_risk
FROM scored
ORDER BY msisdn
"""


def rebuild(
    con: duckdb.DuckDBPyConnection, *, as_of: date | None = None,
    config_path: Path | None = None,
) -> BuildReport:
    """Recreate `profile` for the as-of date and record it in `meta`."""
    started = time.perf_counter()
    ensure_schema(con)
    config = scoring.load_config(config_path)
    as_of_date = resolve_as_of(con, as_of)
    sql = profile_sql(_subscriber_columns(con), config)
    con.execute(sql, {"as_of": as_of_date, "new_days": get_settings().new_subscriber_days})
    row = con.execute("SELECT count(*) FROM profile").fetchone()
    set_meta(con, "as_of_date", as_of_date.isoformat())
    set_meta(con, "last_build", clock.now().isoformat())
    # Window sums use the max window; keep the bound visible for the segment engine.
    set_meta(con, "usage_window_start", (as_of_date - timedelta(days=max(WINDOWS) - 1)).isoformat())
    return BuildReport(
        as_of_date=as_of_date,
        subscribers=int(row[0]) if row else 0,
        seconds=time.perf_counter() - started,
    )
