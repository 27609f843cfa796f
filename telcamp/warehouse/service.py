"""Warehouse services: figures about what is loaded."""

from __future__ import annotations

from typing import Any

import duckdb

from telcamp.core.i18n import _
from telcamp.warehouse.schema import get_meta

STATS_TABLES = (
    "regions", "tariffs", "subscribers", "usage_daily", "usage_orphans", "product_events",
    "payments", "profile", "contact_history", "load_registry", "list_members", "list_sync",
)
TIERS = (_("low"), _("medium"), _("high"))
# churn_risk bands for the figures: [0, 0.3) low, [0.3, 0.7) medium, [0.7, 1] high.
CHURN_BANDS: tuple[tuple[str, float, float], ...] = (
    ("low", 0.0, 0.3), ("medium", 0.3, 0.7), ("high", 0.7, float("inf")),
)


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ? "
        "AND table_catalog = current_database() AND table_schema = current_schema()", [name]
    ).fetchone()
    return bool(row and row[0])


def _is_root(con: duckdb.DuckDBPyConnection, code: str) -> bool:
    if not _has_table(con, "regions"):
        return False
    row = con.execute("SELECT parent_code FROM regions WHERE code = ?", [code]).fetchone()
    return row is not None and not row[0]


def stats(con: duckdb.DuckDBPyConnection, *, region_code: str | None = None) -> dict[str, Any]:
    """Row counts per table, the as-of date, the value-tier distribution and the
    churn-risk bands (subscribers per band).

    With `region_code` (a user at that node) the figures cover its subtree only: the
    subscriber and profile counts, tiers and bands of subscribers with region_code IN
    (region_code, city_code, province_code); other tables' counts are operator-wide
    figures and are left out.
    """
    counts: dict[str, int] = {}
    where, params = "", []
    if region_code is not None and _is_root(con, region_code):
        region_code = None  # the top of the tree sees the whole operator
    if region_code is not None:
        where = " WHERE ? IN (region_code, city_code, province_code)"
        params = [region_code]
        if _has_table(con, "profile"):
            row = con.execute(f"SELECT count(*) FROM profile{where}", params).fetchone()
            counts["subscribers"] = counts["profile"] = int(row[0]) if row else 0
    else:
        for table in STATS_TABLES:
            if _has_table(con, table):
                row = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()
                counts[table] = int(row[0]) if row else 0
    tiers = {t: 0 for t in TIERS}
    if _has_table(con, "profile"):
        for tier, n in con.execute(
            f"SELECT value_tier, count(*) FROM profile{where} GROUP BY value_tier", params
        ).fetchall():
            if tier is not None:
                tiers[str(tier)] = int(n)
    churn = {band: 0 for band, _lo, _hi in CHURN_BANDS}
    if _has_table(con, "profile"):
        cases = " ".join(
            f"WHEN churn_risk < {hi!r} THEN '{band}'" for band, _lo, hi in CHURN_BANDS[:-1]
        )
        for band, n in con.execute(
            f"SELECT CASE {cases} ELSE '{CHURN_BANDS[-1][0]}' END AS band, count(*) "
            f"FROM profile{where or ' WHERE true'} AND churn_risk IS NOT NULL GROUP BY band",
            params,
        ).fetchall():
            churn[str(band)] = int(n)
    has_meta = _has_table(con, "meta")
    return {
        "tables": counts,
        "as_of_date": get_meta(con, "as_of_date") if has_meta else None,
        "tiers": tiers,
        "churn_risk": churn,
        "last_build": get_meta(con, "last_build") if has_meta else None,
    }
