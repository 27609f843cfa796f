"""The profile's grouping by cached per-row codes: the same counts as SQL's GROUP BY, for
any set of rows, keys of any number and NULLs, and never stale after a rebuild."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from telcamp.segments import audience, grouping
from telcamp.segments.rules import parse_rule
from telcamp.warehouse.build import rebuild

DIMS = {"county": "p.region_code", "tier": "p.value_tier",
        "age": "CASE WHEN p.age < 30 THEN 'young' WHEN p.age >= 30 THEN 'older' END",
        "msisdn": "p.msisdn"}  # 2,000 keys: codes wider than one byte


def _sql(con: duckdb.DuckDBPyConnection, where: str) -> dict[tuple[int, str] | None, int]:
    out: dict[tuple[int, str] | None, int] = {}
    for i, expr in enumerate(DIMS.values()):
        for k, n in con.execute(f"SELECT coalesce(CAST({expr} AS VARCHAR), 'unknown'), "
                                f"count(*) FROM profile p WHERE {where} GROUP BY 1").fetchall():
            out[(i, str(k))] = int(n)
    out[None] = int(con.execute(f"SELECT count(*) FROM profile p WHERE {where}")
                    .fetchone()[0])  # type: ignore[index]
    return out


def _rows(where: str) -> str:
    return f"SELECT p.rowid FROM profile p WHERE {where}"


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    grouping.forget(None)


@pytest.mark.parametrize("where", ["TRUE", "p.value_tier = 'high'", "p.age > 40 AND "
                                   "p.region_code LIKE 'C01%'", "FALSE"])
def test_counts_equal_sql_group_by(con: duckdb.DuckDBPyConnection, where: str) -> None:
    con.execute("UPDATE profile SET age = NULL WHERE msisdn % 10 = 7")  # NULL → 'unknown'
    version = audience.warehouse_version(con)
    assert version is not None
    got = grouping.grouped(con, DIMS, _rows(where), version)
    assert got == _sql(con, where)
    if where == "TRUE":
        assert got[(2, "unknown")] > 0


def test_an_in_memory_warehouse_is_grouped_without_a_cache() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE profile AS SELECT i AS msisdn, "
                "['C01-01', 'C02-01', NULL][i % 3 + 1] AS region_code, "
                "['low', 'high'][i % 2 + 1] AS value_tier, 20 + i % 50 AS age "
                "FROM range(300) t(i)")
    assert audience.warehouse_version(con) is None
    assert grouping.grouped(con, DIMS, _rows("p.age < 40"), None) == _sql(con, "p.age < 40")
    assert grouping._CODES == {}


def test_codes_follow_a_rebuild(con: duckdb.DuckDBPyConnection) -> None:
    before = grouping.grouped(con, DIMS, _rows("TRUE"), audience.warehouse_version(con))
    con.execute("DELETE FROM subscribers WHERE region_code = 'C02-01'")
    rebuild(con)
    after = grouping.grouped(con, DIMS, _rows("TRUE"), audience.warehouse_version(con))
    assert after == _sql(con, "TRUE")
    assert (0, "C02-01") in before and (0, "C02-01") not in after


def test_codes_of_another_table_are_not_used(con: duckdb.DuckDBPyConnection) -> None:
    """A rebuild landing between the version check and the rowid query leaves cached codes
    shorter than the new table: they are built again, not indexed out of range."""
    version = audience.warehouse_version(con)
    assert version is not None
    con.execute("CREATE TABLE small AS SELECT * FROM profile LIMIT 10")
    con.execute("ALTER TABLE profile RENAME TO full_profile")
    con.execute("ALTER TABLE small RENAME TO profile")
    grouping.grouped(con, DIMS, _rows("TRUE"), version)  # codes of the 10-row table, under version
    con.execute("DROP TABLE profile")
    con.execute("ALTER TABLE full_profile RENAME TO profile")
    assert grouping.grouped(con, DIMS, _rows("TRUE"), version) == _sql(con, "TRUE")


def test_a_dimension_of_many_keys_ends_with_an_others_row(con: duckdb.DuckDBPyConnection,
                                                           ctx: Any) -> None:
    """The profile shows PROFILE_ITEMS rows at most; the rest are one "others" row, so
    the rows still add up to the whole audience and base (no category silently left out)."""
    rule = parse_rule({"field": "value_tier", "op": "!=", "value": "low"},
                      catalogue=ctx.catalogue)
    got = audience.profile(con, rule, ctx, [], field="email")  # 1,477 addresses + unknown
    rows = got["dimensions"]["field:email"]
    assert len(rows) == audience.PROFILE_ITEMS
    others = rows[-1]
    assert others["key"] == audience.OTHERS and others["name"] == f"+{others['others']}"
    assert sum(r["base"] for r in rows) == got["base"] == 2000
    assert sum(r["count"] for r in rows) == got["audience"]
    county = got["dimensions"]["county"]
    assert all(r["key"] != audience.OTHERS for r in county)  # a few counties: all shown
