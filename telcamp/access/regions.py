"""The region tree (warehouse table `regions`: code, parent_code, level) and scoping.

A principal at node X sees subscribers with X IN (region_code, city_code, province_code)
and operational objects (lists, segments, campaigns) owned by X or any node below X.
A principal with region_code None (operator-wide admin, CLI, jobs) sees everything.
"""

from __future__ import annotations

from typing import Any

import duckdb

from telcamp.core import warehouse
from telcamp.core.errors import NotFound
from telcamp.core.security import Principal

_SUBTREE = """
WITH RECURSIVE t(code) AS (
  SELECT code FROM regions WHERE code = ?
  UNION
  SELECT r.code FROM regions r JOIN t ON r.parent_code = t.code
)
SELECT code FROM t
"""


def _with_con(con: duckdb.DuckDBPyConnection | None, sql: str, params: list[Any]) -> list[Any]:
    # No regions table yet (nothing loaded) reads as an empty tree.
    try:
        if con is not None:
            return con.execute(sql, params).fetchall()
        with warehouse.connect() as own:
            return own.execute(sql, params).fetchall()
    except duckdb.CatalogException:
        return []


def region_subtree(code: str, *, con: duckdb.DuckDBPyConnection | None = None) -> set[str]:
    """`code` and every node below it. Pass `con` when you already hold the warehouse
    (DuckDB refuses a second connection with another configuration in one process)."""
    return {code} | {r[0] for r in _with_con(con, _SUBTREE, [code])}


def region_info(
    code: str, *, con: duckdb.DuckDBPyConnection | None = None
) -> dict[str, Any] | None:
    rows = _with_con(
        con, "SELECT code, name, parent_code, level FROM regions WHERE code = ?", [code]
    )
    if not rows:
        return None
    c, name, parent, level = rows[0]
    return {"code": c, "name": name, "parent_code": parent, "level": level}


def list_regions(*, con: duckdb.DuckDBPyConnection | None = None) -> list[dict[str, Any]]:
    rows = _with_con(con, "SELECT code, name, parent_code, level FROM regions ORDER BY code", [])
    return [{"code": c, "name": n, "parent_code": p, "level": lv} for c, n, p, lv in rows]


def resolve_region(code: str | None) -> tuple[str | None, str | None]:
    """Check a region code for a user or token; give (code, name).

    Before the first load the regions table is empty and any code is accepted as given
    (an operator may set up users first); once regions are loaded an unknown code is an error.
    """
    if code is None or code == "":
        return None, None
    info = region_info(code)
    if info is not None:
        return code, str(info["name"])
    if list_regions():
        raise NotFound(f"unknown region {code!r}", field="region_code")
    return code, None


def scope_codes(
    principal: Principal, *, con: duckdb.DuckDBPyConnection | None = None
) -> set[str] | None:
    """Region codes the principal may see, or None for 'everything'. Use it to filter
    objects by their owning region: `Model.region_code.in_(codes)`."""
    if principal.region_code is None:
        return None
    return region_subtree(principal.region_code, con=con)


def in_scope(
    principal: Principal,
    region_code: str | None,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> bool:
    """May the principal see an object owned by `region_code`? Operator-wide objects
    (region None) are visible only to operator-wide principals."""
    if principal.region_code is None:
        return True
    if region_code is None:
        return False
    if region_code == principal.region_code:
        return True
    return region_code in region_subtree(principal.region_code, con=con)


def subscriber_predicate(principal: Principal, alias: str = "") -> tuple[str, list[Any]]:
    """SQL condition (with bound parameters) limiting profile/subscriber rows to the
    principal's subtree; ('TRUE', []) when unrestricted. `alias` is a trusted table alias."""
    if principal.region_code is None:
        return "TRUE", []
    p = f"{alias}." if alias else ""
    return f"(? IN ({p}region_code, {p}city_code, {p}province_code))", [principal.region_code]


def subscriber_rule(principal: Principal) -> dict[str, Any] | None:
    """The same limit as a segment rule, to AND into any audience the principal builds."""
    if principal.region_code is None:
        return None
    code = principal.region_code
    return {"any": [
        {"field": "region_code", "op": "=", "value": code},
        {"field": "city_code", "op": "=", "value": code},
        {"field": "province_code", "op": "=", "value": code},
    ]}
