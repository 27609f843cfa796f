"""Rebuild of the `profile` table: derived features, usage windows and scores.

Set-based SQL in one transaction (readers see the old profile or the new one, never a
half-built one): the features and, when the scoring config needs no figure over all
subscribers, the scores too, in one CREATE TABLE; otherwise the scores are computed over a
narrow projection (percent ranks sort only the factor columns) and written back with one
UPDATE. The new table then replaces `profile`. Called by the loader after each load and by
`telcamp warehouse rebuild`.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import duckdb

from telcamp.core import clock
from telcamp.core.settings import get_settings
from telcamp.core.warehouse import DuckDBWarehouse, Warehouse, as_warehouse
from telcamp.warehouse import scoring
from telcamp.warehouse.schema import ALL_METRICS, METRICS, WINDOWS, ensure_schema, set_meta

# Profile columns computed here; a loader extra column with one of these names is dropped
# from the profile so the derived value wins (the raw one stays in `subscribers`).
DERIVED_COLUMNS: tuple[str, ...] = (
    "city_code", "province_code", "payment_type", "age", "tenure_days", "is_new",
    *(f"{m.name}_{w}d" for m in ALL_METRICS for w in WINDOWS),
    "arpu_3m", "days_since_last_activity", "days_since_last_payment", "payments_90d",
    "active_products", *scoring.SCORE_COLUMNS,
)


@dataclass(frozen=True)
class BuildReport:
    as_of_date: date
    subscribers: int
    seconds: float
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step


def resolve_as_of(target: Warehouse | duckdb.DuckDBPyConnection,
                  as_of: date | None = None) -> date:
    """The as-of date: the argument, else settings.as_of_date, else the last usage day,
    else today. An explicit argument wins over the setting (the caller asked for it)."""
    if as_of is not None:
        return as_of
    configured = get_settings().as_of_date
    if configured is not None:
        return configured
    last = as_warehouse(target).scalar("SELECT max(day) FROM usage_daily")
    if last is not None:
        assert isinstance(last, date)
        return last
    return clock.today()


def _subscriber_columns(wh: Warehouse) -> list[str]:
    rows = wh.rows(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'subscribers' AND table_schema = current_schema() "
        "AND table_catalog = current_database() "
        "ORDER BY ordinal_position"
    )
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


def _segments(as_of: date, first_day: date | None) -> list[tuple[str, str]]:
    """Usage per subscriber in disjoint day segments, one scan each: (cte name, SELECT).

    The windows nest (7 in 30 in 90), so each segment (as_of - 7, as_of],
    (as_of - 30, as_of - 7], (as_of - 90, as_of - 30] is summed once, with one aggregate
    per metric, and a window is the sum of its segments (joined on msisdn). Measured
    faster than one GROUP BY with a FILTERed aggregate per metric and window (see
    docs/performance.md): DuckDB pays per aggregate and row, and the segments do a third
    of those updates. usage_daily being ordered by day lets each scan skip the row groups
    outside its segment. A last segment before the longest window gives only the last
    usage day (days_since_last_activity). A segment wholly before `first_day` (the first
    day in usage_daily; None when it is empty) has no rows and is left out, with its join.
    """
    sums = ", ".join(f"sum({m.name}) AS {m.name}" for m in METRICS)

    def has_rows(newest_back: int) -> bool:  # a segment's newest day is as_of - newest_back
        return first_day is not None and as_of - timedelta(days=newest_back) >= first_day

    out: list[tuple[str, str]] = []
    upper = 0
    for w in sorted(WINDOWS):
        if has_rows(upper):
            out.append((
                f"seg_{int(w)}",
                f"SELECT msisdn, {sums}, count(*) AS active_days, max(day) AS last_day "
                f"FROM usage_daily WHERE day > $as_of - {int(w)} AND day <= $as_of - {upper} "
                f"GROUP BY msisdn",
            ))
        upper = int(w)
    if has_rows(upper):
        out.append(("seg_before", "SELECT msisdn, max(day) AS last_day FROM usage_daily "
                    f"WHERE day <= $as_of - {upper} GROUP BY msisdn"))
    return out


def _window_columns(segments: list[str]) -> str:
    """<metric>_<w>d = the sum of the segments inside the window, 0 without usage."""
    ordered = [w for w in sorted(WINDOWS) if f"seg_{w}" in segments]
    parts: list[str] = []
    for m in ALL_METRICS:
        for w in WINDOWS:
            terms = " + ".join(f"coalesce(seg_{x}.{m.name}, 0)" for x in ordered if x <= w)
            terms = terms or "0"
            if m.integer:
                parts.append(f"({terms})::BIGINT AS {m.name}_{w}d")
            else:
                # Rounded to 6 decimals: sums of doubles depend on the order DuckDB adds them
                # in, and a subscriber exactly on a rule's threshold must not flip between runs.
                parts.append(f"(round(({terms}) * 1000000) / 1000000.0)::DOUBLE AS {m.name}_{w}d")
    return ",\n    ".join(parts)


def _features_select(subscriber_columns: list[str], *, as_of: date,
                     first_day: date | None) -> str:
    """SELECT of every profile column but the scores, one row per subscriber.

    `first_day` is the first day in `usage_daily` (None when empty): usage segments
    wholly before it are left out. Parameters: $as_of (DATE), $new_days (INTEGER),
    $ts_end and $ts_90d (TIMESTAMPTZ: the instant after the as-of date and the start of the
    90-day window, in UTC).
    """
    sub_cols = ", ".join(f"s.{_quote(c)}" for c in subscriber_columns)
    segs = _segments(as_of, first_day)
    names = [name for name, _sql in segs]
    segments = "".join(f"\n{name} AS (\n  {sql}\n)," for name, sql in segs)
    seg_joins = "".join(f"\nLEFT JOIN {name} ON {name}.msisdn = s.msisdn" for name in names)
    last_day = ("greatest(" + ", ".join(f"{n}.last_day" for n in names) + ")") if names else (
        "NULL::DATE")
    charge_90d = " + ".join(
        f"coalesce(seg_{x}.charge, 0)" for x in sorted(WINDOWS) if f"seg_{x}" in names) or "0"
    return f"""
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
),{segments}
pay AS (
  -- Compared as instants (no per-row time-zone conversion): payments up to the end of the
  -- as-of date in UTC. The day of the last one as days since 1970-01-01 in UTC, from the
  -- epoch: the same as its UTC date, without a time-zone conversion per subscriber.
  SELECT msisdn, floor(epoch_us(max(event_time)) / 86400000000.0)::BIGINT AS last_payment_day,
         count(*) FILTER (WHERE event_time >= $ts_90d) AS payments_90d
  FROM payments WHERE event_time < $ts_end
  GROUP BY msisdn
),
prod AS (
  -- Products whose latest event up to the as-of date is a subscription.
  SELECT msisdn, count(*) AS active_products FROM (
    SELECT msisdn, product_code, arg_max(action, event_time) AS last_action
    FROM product_events WHERE event_time < $ts_end
    GROUP BY msisdn, product_code
  ) WHERE last_action = 'subscribe' GROUP BY msisdn
)
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
    {_window_columns(names)},
    -- rounded to 6 decimals like the usage windows: the charges are doubles summed in a
    -- thread-dependent order, and ARPU feeds rules, the value score and its percent ranks
    -- (a last-bit difference re-ordered ties and moved scores between two builds)
    (round((({charge_90d}) / 3.0 + coalesce(t.monthly_fee, 0)) * 1000000)
     / 1000000.0)::DOUBLE AS arpu_3m,
    date_diff('day', {last_day}, $as_of)::INTEGER AS days_since_last_activity,
    (($as_of - DATE '1970-01-01') - pay.last_payment_day)::INTEGER AS days_since_last_payment,
    coalesce(pay.payments_90d, 0)::INTEGER AS payments_90d,
    coalesce(prod.active_products, 0)::INTEGER AS active_products
FROM subscribers s
LEFT JOIN region_codes rc ON rc.code = s.region_code
LEFT JOIN tariffs t ON t.code = s.tariff_code
{seg_joins}
LEFT JOIN pay ON pay.msisdn = s.msisdn
LEFT JOIN prod ON prod.msisdn = s.msisdn
"""


NEXT = "_profile_next"


def next_table_sql(subscriber_columns: list[str], config: scoring.ScoringConfig, *,
                   as_of: date, first_day: date | None) -> str:
    """CREATE the new profile table; scores included when they are row-local."""
    features = _features_select(subscriber_columns, as_of=as_of, first_day=first_day)
    if not scoring.needs_all_rows(config):
        return f"""CREATE OR REPLACE TABLE {NEXT} AS
SELECT * EXCLUDE (churn_risk), {scoring.tier_sql(config)} AS value_tier, churn_risk FROM (
  SELECT *, {scoring.value_score_sql(config)} AS value_score,
         {scoring.churn_risk_sql(config)} AS churn_risk
  FROM ({features}) f
) scored"""
    return f"""CREATE OR REPLACE TABLE {NEXT} AS
SELECT *, NULL::DOUBLE AS value_score, NULL::{scoring.TIER_TYPE} AS value_tier,
       {scoring.churn_risk_sql(config)} AS churn_risk
FROM ({features}) f"""


def scores_update_sql(config: scoring.ScoringConfig) -> str:
    """UPDATE value_score and value_tier from window functions over a narrow projection."""
    return f"""
WITH scored AS (
  SELECT rowid AS rid, {scoring.value_score_sql(config)} AS value_score FROM {NEXT}
), tiered AS (
  SELECT rid, value_score, {scoring.tier_sql(config)} AS value_tier FROM scored
)
UPDATE {NEXT} SET value_score = tiered.value_score, value_tier = tiered.value_tier
FROM tiered WHERE tiered.rid = {NEXT}.rowid
"""


def rebuild(
    target: Warehouse | duckdb.DuckDBPyConnection, *, as_of: date | None = None,
    config_path: Path | None = None,
) -> BuildReport:
    """Recreate `profile` for the as-of date and record it in `meta`.

    `target` is the warehouse (or a raw DuckDB connection, as the loader passes it). The
    build's SQL is DuckDB's (arg_max, FILTER, rowid, CREATE OR REPLACE, SET): another
    warehouse needs its own version of these statements (docs/warehouse.md).
    """
    started = time.perf_counter()
    wh = as_warehouse(target)
    if not isinstance(wh, DuckDBWarehouse):
        raise NotImplementedError(
            f"the profile build is written in DuckDB SQL; a {wh.dialect} warehouse needs "
            "its own build statements (see docs/warehouse.md)")
    ensure_schema(wh)
    config = scoring.load_config(config_path)
    as_of_date = resolve_as_of(wh, as_of)
    end = datetime.combine(as_of_date + timedelta(days=1), dtime(0), tzinfo=UTC)
    params = {
        "as_of": as_of_date, "new_days": get_settings().new_subscriber_days,
        "ts_end": end, "ts_90d": end - timedelta(days=max(WINDOWS)),
    }
    features: list[tuple[str, str, dict[str, object] | None]] = [
        ("features", next_table_sql(_subscriber_columns(wh), config, as_of=as_of_date,
                                    first_day=wh.scalar("SELECT min(day) FROM usage_daily")),
         params),
    ]
    swap: list[tuple[str, str, dict[str, object] | None]] = []
    if scoring.needs_all_rows(config):
        swap.append(("scores", scores_update_sql(config), None))
    swap += [
        ("replace", "DROP TABLE IF EXISTS profile", None),
        ("rename", f"ALTER TABLE {NEXT} RENAME TO profile", None),
    ]
    steps: dict[str, float] = {}

    def run(batch: list[tuple[str, str, dict[str, object] | None]]) -> None:
        for step, sql, args in batch:
            t0 = time.perf_counter()
            wh.execute(sql, args)
            steps[step] = round(time.perf_counter() - t0, 3)

    # Row order of the profile carries no meaning; not keeping it lets DuckDB write the
    # new table from both threads without re-ordering.
    kept = wh.scalar("SELECT current_setting('preserve_insertion_order')")
    wh.execute("SET preserve_insertion_order = false")
    joined = wh.in_transaction()
    try:
        # Two transactions: the new table is committed under its own name first, then the
        # scores UPDATE and the swap. Readers still see the old profile or the new one,
        # and a failure leaves the old one (and meta) untouched. Why two: DuckDB writes an
        # UPDATE of a table created in the same transaction by rewriting it at COMMIT —
        # 12 s of a 50 s rebuild at 10M, where the same UPDATE of a committed table
        # commits in under a second (docs/performance.md). A caller already in a
        # transaction keeps ownership of it: both steps then join it.
        with wh.transaction():
            run(features)
        try:
            with wh.transaction():
                run(swap)
                subscribers = int(wh.scalar("SELECT count(*) FROM profile") or 0)
                set_meta(wh, "as_of_date", as_of_date.isoformat())
                set_meta(wh, "last_build", clock.now().isoformat())
                # which file the scores came from: a `rebuild --config` is undone by the
                # next load's rebuild (it reads the setting), and stats says so
                set_meta(wh, "scoring_config", str(scoring.config_path(config_path)))
        except BaseException:
            if not joined:  # the committed next table is of no use to anyone
                with contextlib.suppress(duckdb.Error):  # the first error is the one to see
                    wh.execute(f"DROP TABLE IF EXISTS {NEXT}")
            raise
    finally:  # the caller's setting, as it was
        wh.execute("SET preserve_insertion_order = ?", [bool(kept) if kept is not None else True])
    return BuildReport(
        as_of_date=as_of_date,
        subscribers=subscribers,
        seconds=time.perf_counter() - started,
        steps=steps,
    )
