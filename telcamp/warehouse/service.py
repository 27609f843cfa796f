"""Warehouse services: figures about what is loaded.

Written against the `Warehouse` interface (core.warehouse) in SQL that DuckDB and
PostgreSQL both accept, so a PostgreSQL warehouse can serve these figures unchanged.
"""

from __future__ import annotations

from typing import Any

import duckdb

from telcamp.core.i18n import _
from telcamp.core.warehouse import Warehouse, as_warehouse

STATS_TABLES = (
    "regions", "tariffs", "subscribers", "usage_daily", "usage_orphans", "product_events",
    "payments", "product_events_orphans", "payments_orphans", "profile", "contact_history",
    "load_registry", "list_members", "list_sync",
)
TIERS = (_("low"), _("medium"), _("high"))
# churn_risk bands for the figures: [0, 0.3) low, [0.3, 0.7) medium, [0.7, 1] high.
CHURN_BANDS: tuple[tuple[str, float, float], ...] = (
    ("low", 0.0, 0.3), ("medium", 0.3, 0.7), ("high", 0.7, float("inf")),
)


def _is_root(wh: Warehouse, code: str) -> bool:
    if not wh.has_table("regions"):
        return False
    rows = wh.rows("SELECT parent_code FROM regions WHERE code = ?", [code])
    return bool(rows) and not rows[0][0]


def _meta(wh: Warehouse, key: str) -> str | None:
    value = wh.scalar("SELECT value FROM meta WHERE key = ?", [key])
    return None if value is None else str(value)


def stats(target: Warehouse | duckdb.DuckDBPyConnection, *,
          region_code: str | None = None) -> dict[str, Any]:
    """Row counts per table, the as-of date, the value-tier distribution and the
    churn-risk bands (subscribers per band).

    With `region_code` (a user at that node) the figures cover its subtree only: the
    subscriber and profile counts, tiers and bands of subscribers with region_code IN
    (region_code, city_code, province_code); other tables' counts are operator-wide
    figures and are left out.
    """
    wh = as_warehouse(target)
    counts: dict[str, int] = {}
    where, params = "", []
    if region_code is not None and _is_root(wh, region_code):
        region_code = None  # the top of the tree sees the whole operator
    if region_code is not None:
        where = " WHERE ? IN (region_code, city_code, province_code)"
        params = [region_code]
        if wh.has_table("profile"):
            n = wh.scalar(f"SELECT count(*) FROM profile{where}", params)
            counts["subscribers"] = counts["profile"] = int(n or 0)
    else:
        for table in STATS_TABLES:
            if wh.has_table(table):
                counts[table] = int(wh.scalar(f'SELECT count(*) FROM "{table}"') or 0)
    tiers = {t: 0 for t in TIERS}
    if wh.has_table("profile"):
        for tier, n in wh.rows(
            f"SELECT value_tier, count(*) FROM profile{where} GROUP BY value_tier", params
        ):
            if tier is not None:
                tiers[str(tier)] = int(n)
    churn = {band: 0 for band, _lo, _hi in CHURN_BANDS}
    if wh.has_table("profile"):
        cases = " ".join(
            f"WHEN churn_risk < {hi!r} THEN '{band}'" for band, _lo, hi in CHURN_BANDS[:-1]
        )
        for band, n in wh.rows(
            f"SELECT CASE {cases} ELSE '{CHURN_BANDS[-1][0]}' END AS band, count(*) "
            f"FROM profile{where or ' WHERE true'} AND churn_risk IS NOT NULL GROUP BY band",
            params,
        ):
            churn[str(band)] = int(n)
    has_meta = wh.has_table("meta")
    return {
        "tables": counts,
        "as_of_date": _meta(wh, "as_of_date") if has_meta else None,
        "tiers": tiers,
        "churn_risk": churn,
        "last_build": _meta(wh, "last_build") if has_meta else None,
        "scoring_config": _meta(wh, "scoring_config") if has_meta else None,
    }
