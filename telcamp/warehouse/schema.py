"""Warehouse tables (DuckDB dialect). The contract every other module reads.

- msisdn is BIGINT inside the warehouse (E.164 digits fit in 15 digits; integer joins are
  several times faster than string joins at 10M rows) and a digit string at the edges.
- `usage_daily` holds one row per subscriber and day with any record; the day is the date
  written in the record's event_time (its local date, not converted to UTC).
- `profile` is rebuilt after each load: every subscriber column (extra ones included),
  the derived features, usage per metric over the WINDOWS (7/14/30/90 days) ending with
  the as-of date, and the scores. Segment rules query it; other windows are bounded by
  the stored ones and summed from `usage_daily` where those bounds do not decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:  # core.warehouse reads TABLES from here at run time
    from telcamp.core.warehouse import Warehouse


@dataclass(frozen=True)
class Metric:
    name: str
    sql: str  # expression over one raw usage record (columns of the usage contract)
    agg: str  # how daily values combine: always sum here
    unit: str
    label: str
    integer: bool = False
    # Every daily value is a whole number of 1/scale units: the minute metrics are whole
    # seconds (duration_s is BIGINT) / 60. A sum of such doubles is recovered exactly as
    # round(sum * scale) / scale, which lets segment rules add a rounded stored window to
    # a few days' sum without losing exactness (segments.compiler.usage_delta).
    scale: int | None = None


METRICS: tuple[Metric, ...] = (
    Metric("voice_min", "CASE WHEN service='voice' THEN duration_s/60.0 ELSE 0 END", "sum",
           "min", "voice minutes, both directions", scale=60),
    Metric("voice_out_min",
           "CASE WHEN service='voice' AND direction='out' THEN duration_s/60.0 ELSE 0 END",
           "sum", "min", "outgoing voice minutes", scale=60),
    Metric("sms_count", "CASE WHEN service='sms' AND direction='out' THEN 1 ELSE 0 END", "sum",
           "count", "SMS sent", integer=True),
    Metric("mms_count", "CASE WHEN service='mms' AND direction='out' THEN 1 ELSE 0 END", "sum",
           "count", "MMS sent", integer=True),
    Metric("data_mb", "CASE WHEN service='data' THEN volume_kb/1024.0 ELSE 0 END", "sum", "MB",
           "mobile data"),
    Metric("roaming_min",
           "CASE WHEN service='voice' AND roaming=1 THEN duration_s/60.0 ELSE 0 END", "sum",
           "min", "voice minutes in roaming", scale=60),
    Metric("long_distance_count",
           "CASE WHEN service='voice' AND long_distance=1 AND direction='out' THEN 1 ELSE 0 END",
           "sum", "count", "long-distance calls made", integer=True),
    Metric("ringback_count", "CASE WHEN service='ringback' THEN 1 ELSE 0 END", "sum", "count",
           "ringback-tone records", integer=True),
    Metric("charge", "charge", "sum", "currency", "charges"),
)
# active_days is not a daily sum: it is the count of usage_daily rows in the window.
ACTIVE_DAYS = Metric("active_days", "1", "count", "days", "days with any usage", integer=True)
ALL_METRICS: tuple[Metric, ...] = (*METRICS, ACTIVE_DAYS)
# 14 days for segment rules (issue 4): a two-week window is then a column filter instead of
# a sum over usage_daily (1.4 s at 10M), and other windows of 8-29 days are bounded by
# windows a week or two apart. Each window is one more usage segment in the rebuild.
WINDOWS: tuple[int, ...] = (7, 14, 30, 90)
MAX_WINDOW_DAYS = 90


def _metric_cols() -> str:
    return ",\n  ".join(
        f"{m.name} {'INTEGER' if m.integer else 'DOUBLE'} NOT NULL" for m in METRICS
    )


DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS regions(
  code VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, parent_code VARCHAR,
  level VARCHAR NOT NULL, timezone VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS tariffs(
  code VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, payment_type VARCHAR NOT NULL,
  monthly_fee DOUBLE NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS subscribers(
  msisdn BIGINT NOT NULL, region_code VARCHAR NOT NULL, tariff_code VARCHAR NOT NULL,
  activation_date DATE NOT NULL, status VARCHAR NOT NULL, birth_date DATE,
  gender VARCHAR NOT NULL, language VARCHAR, device_type VARCHAR, email VARCHAR)""",
    f"""CREATE TABLE IF NOT EXISTS usage_daily(
  msisdn BIGINT NOT NULL, day DATE NOT NULL,
  {_metric_cols()},
  records INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS usage_orphans(
  msisdn BIGINT NOT NULL, event_time VARCHAR NOT NULL, service VARCHAR, direction VARCHAR,
  long_distance INTEGER, roaming INTEGER, duration_s BIGINT, volume_kb DOUBLE, charge DOUBLE,
  source_file VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS product_events(
  msisdn BIGINT NOT NULL, event_time TIMESTAMPTZ NOT NULL, product_code VARCHAR NOT NULL,
  action VARCHAR NOT NULL, channel VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS payments(
  msisdn BIGINT NOT NULL, event_time TIMESTAMPTZ NOT NULL, amount DOUBLE NOT NULL,
  kind VARCHAR NOT NULL)""",
    # Product events and payments of unknown subscribers (only with --orphans keep), kept
    # aside as usage_orphans are: out of the features, not lost.
    """CREATE TABLE IF NOT EXISTS product_events_orphans(
  msisdn BIGINT NOT NULL, event_time TIMESTAMPTZ NOT NULL, product_code VARCHAR NOT NULL,
  action VARCHAR NOT NULL, channel VARCHAR, source_file VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS payments_orphans(
  msisdn BIGINT NOT NULL, event_time TIMESTAMPTZ NOT NULL, amount DOUBLE NOT NULL,
  kind VARCHAR NOT NULL, source_file VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS meta(key VARCHAR PRIMARY KEY, value VARCHAR)""",
    # fingerprint: sha256 of the kind and the file's bytes. For the additive kinds (usage,
    # product_events, payments) also content_fingerprint, the file's validated records
    # whatever their format and order (telcamp.load.writers.content_key), and the days
    # they cover (first_day..last_day, and each day), for the load's overlap warning.
    """CREATE TABLE IF NOT EXISTS load_registry(
  fingerprint VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, file_name VARCHAR NOT NULL,
  rows BIGINT NOT NULL, orphans BIGINT NOT NULL DEFAULT 0, loaded_at TIMESTAMPTZ NOT NULL,
  content_fingerprint VARCHAR, first_day DATE, last_day DATE, days DATE[])""",
    # Registries made before the content fingerprint get its columns here (no-ops once
    # there); their earlier rows keep NULLs: those files are recognised by bytes only.
    "ALTER TABLE load_registry ADD COLUMN IF NOT EXISTS content_fingerprint VARCHAR",
    "ALTER TABLE load_registry ADD COLUMN IF NOT EXISTS first_day DATE",
    "ALTER TABLE load_registry ADD COLUMN IF NOT EXISTS last_day DATE",
    "ALTER TABLE load_registry ADD COLUMN IF NOT EXISTS days DATE[]",
    # Filled by dispatch (telcamp.dispatch.history); read by the `contacted` segment rule,
    # the recency exclusion and the subscriber lookup. `reason`: why a contact was
    # suppressed, deferred or failed (docs/policy.md, "Reason codes"), or the network's code.
    """CREATE TABLE IF NOT EXISTS contact_history(
  msisdn BIGINT NOT NULL, campaign_id BIGINT, wave_id BIGINT, contact_id BIGINT,
  channel VARCHAR NOT NULL, contacted_at TIMESTAMPTZ NOT NULL, outcome VARCHAR NOT NULL,
  reason VARCHAR)""",
    # Warehouses made before `reason` existed get it here (a no-op once it is there).
    "ALTER TABLE contact_history ADD COLUMN IF NOT EXISTS reason VARCHAR",
    # Members of special lists, a projection of the operational DB kept in sync by
    # telcamp.lists.sync (list metadata stays in the operational DB). A member counts while
    # expires_at IS NULL OR expires_at > now (core.clock). Read by the in_list rule and the
    # default exclusions.
    """CREATE TABLE IF NOT EXISTS list_members(
  list_id BIGINT NOT NULL, msisdn BIGINT NOT NULL, reason VARCHAR,
  expires_at TIMESTAMPTZ, added_at TIMESTAMPTZ NOT NULL)""",
    # Which version (change counter) of each list list_members holds; see telcamp.lists.sync.
    """CREATE TABLE IF NOT EXISTS list_sync(
  list_id BIGINT PRIMARY KEY, version BIGINT NOT NULL, synced_at TIMESTAMPTZ NOT NULL)""",
    # Immutable member lists of segment snapshots (telcamp.segments.service.take_snapshot);
    # the snapshot's counts and funnel are in the operational table segment_snapshot.
    # Campaigns materialise their audience from here.
    """CREATE TABLE IF NOT EXISTS segment_snapshot_members(
  snapshot_id BIGINT NOT NULL, msisdn BIGINT NOT NULL)""",
)


# contact_history outcomes that say the message never reached the subscriber: held back by
# the policy (suppressed, deferred), failed before the provider (rendering, no address),
# refused by the SMSC (rejected) or withdrawn with its campaign (cancelled). The `contacted`
# rule and the recent-contact exclusion count every other outcome; a contact that did go
# out has its own `sent` row whatever followed.
NOT_CONTACTED_OUTCOMES: tuple[str, ...] = (
    "suppressed", "deferred", "failed", "rejected", "cancelled")


# Table names of the contract: created by DDL above, plus `profile` (built by build.py).
# The `Warehouse` interface (core.warehouse) reports these as its `tables`.
TABLES: tuple[str, ...] = (
    "regions", "tariffs", "subscribers", "usage_daily", "usage_orphans", "product_events",
    "payments", "product_events_orphans", "payments_orphans", "meta", "load_registry",
    "contact_history", "list_members", "list_sync", "segment_snapshot_members", "profile",
)


def ensure_schema(con: Warehouse | duckdb.DuckDBPyConnection) -> None:
    for stmt in DDL:
        con.execute(stmt)


def get_meta(con: Warehouse | duckdb.DuckDBPyConnection, key: str) -> str | None:
    from telcamp.core.warehouse import as_warehouse

    value = as_warehouse(con).scalar("SELECT value FROM meta WHERE key = ?", [key])
    return None if value is None else str(value)


def set_meta(con: Warehouse | duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )
