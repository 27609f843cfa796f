"""The profile's whole-base distribution is cached per warehouse version: equal to a
fresh grouping, and renewed when the profile is rebuilt."""

from __future__ import annotations

import duckdb

from telcamp.segments import audience
from telcamp.segments.compiler import CompileContext
from telcamp.segments.rules import parse_rule
from telcamp.warehouse.build import rebuild

HIGH = {"field": "value_tier", "op": "=", "value": "high"}


def _by(con: duckdb.DuckDBPyConnection, column: str, where: str = "TRUE") -> dict[str, int]:
    rows = con.execute(f"SELECT coalesce(CAST({column} AS VARCHAR), 'unknown'), count(*) "
                       f"FROM profile WHERE {where} GROUP BY 1").fetchall()
    return {str(k): int(n) for k, n in rows}


def _profile(con: duckdb.DuckDBPyConnection, ctx: CompileContext) -> dict[str, object]:
    rule = parse_rule(HIGH, catalogue=ctx.catalogue)
    return audience.profile(con, rule, ctx, [], field="segment_code")


def test_cached_base_equals_a_fresh_grouping_and_follows_a_rebuild(
        con: duckdb.DuckDBPyConnection, ctx: CompileContext) -> None:
    first = _profile(con, ctx)
    assert audience.warehouse_version(con) is not None  # a file with a built profile
    dims = first["dimensions"]
    assert isinstance(dims, dict)
    for name, column in (("county", "region_code"), ("tariff", "tariff_code"),
                         ("field:segment_code", "segment_code")):
        assert {it["key"]: it["base"] for it in dims[name]} == _by(con, column)
        assert {it["key"]: it["count"] for it in dims[name] if it["count"]} == _by(
            con, column, "value_tier = 'high'")
    assert first["base"] == 2000

    # a load changes the subscribers and rebuilds: the next profile sees the new base
    con.execute("DELETE FROM subscribers WHERE region_code = 'C02-01'")
    rebuild(con)
    second = _profile(con, ctx)
    dims2 = second["dimensions"]
    assert isinstance(dims2, dict)
    assert {it["key"]: it["base"] for it in dims2["county"]} == _by(con, "region_code")
    assert "C02-01" not in {it["key"] for it in dims2["county"]}
    assert second["base"] == int(con.execute("SELECT count(*) FROM profile").fetchone()[0])  # type: ignore[index]


def test_scopes_are_cached_apart(con: duckdb.DuckDBPyConnection, ctx: CompileContext
                                 ) -> None:
    from dataclasses import replace

    whole = _profile(con, ctx)
    city = _profile(con, replace(ctx, region_code="C02"))
    assert city["base"] == len(_by(con, "msisdn", "city_code = 'C02'")) < whole["base"]
