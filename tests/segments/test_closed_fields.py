"""`in` and `not_in` over an ENUM column (value_tier) compile to inequalities DuckDB
filters while scanning; they must select exactly what IN / NOT IN select, NULLs included
(three-valued logic, also under `not`)."""

from __future__ import annotations

from itertools import combinations

import duckdb
import pytest

from telcamp.segments.catalogue import from_columns, profile_columns
from telcamp.segments.compiler import CompileContext, audience_query
from telcamp.segments.rules import parse_rule
from telcamp.segments.synthetic import AS_OF, NOW

TIERS = ("low", "medium", "high")


@pytest.fixture
def tiers() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TYPE tier AS ENUM ('low', 'medium', 'high')")
    con.execute("CREATE TABLE profile (msisdn BIGINT, value_tier tier, note VARCHAR)")
    con.execute("INSERT INTO profile VALUES (1, 'low', 'a'), (2, 'medium', 'b'), "
                "(3, 'high', 'c'), (4, NULL, NULL), (5, 'high', 'a')")
    return con


def test_the_catalogue_knows_an_enum_columns_values(tiers: duckdb.DuckDBPyConnection
                                                    ) -> None:
    cat = from_columns(profile_columns(tiers))
    assert cat.fields["value_tier"].closed and cat.fields["value_tier"].values == TIERS
    assert not cat.fields["note"].closed


@pytest.mark.parametrize("size", [1, 2, 3])
def test_in_and_not_in_over_an_enum_select_what_in_selects(
        tiers: duckdb.DuckDBPyConnection, size: int) -> None:
    ctx = CompileContext(as_of_date=AS_OF, now=NOW,
                         catalogue=from_columns(profile_columns(tiers)))
    for values in combinations(TIERS, size):
        quoted = ", ".join(f"'{v}'" for v in values)
        for op, plain in (("in", f"value_tier IN ({quoted})"),
                          ("not_in", f"value_tier NOT IN ({quoted})")):
            leaf = {"field": "value_tier", "op": op, "value": list(values)}
            for rule, where in ((leaf, plain), ({"not": leaf}, f"NOT ({plain})")):
                sql = audience_query(parse_rule(rule, catalogue=ctx.catalogue), context=ctx)
                assert " IN (" not in sql, sql  # inequalities, not IN
                got = sorted(r[0] for r in tiers.execute(sql).fetchall())
                want = sorted(r[0] for r in tiers.execute(
                    f"SELECT msisdn FROM profile WHERE {where}").fetchall())
                assert got == want, (rule, sql)
