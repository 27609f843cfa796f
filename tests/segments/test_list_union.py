"""Sibling list leaves compile to one membership test (not on any of the lists in `all`,
on one of them in `any`) with the same answer as one test per list, expiry included."""

from __future__ import annotations

from datetime import timedelta

import duckdb

from telcamp.segments.compiler import CompileContext, audience_query
from telcamp.segments.rules import parse_rule
from telcamp.segments.synthetic import NOW


def _ids(con: duckdb.DuckDBPyConnection, sql: str) -> set[int]:
    return {int(r[0]) for r in con.execute(sql).fetchall()}


def _members(con: duckdb.DuckDBPyConnection, ctx: CompileContext, rule: object) -> set[int]:
    return _ids(con, audience_query(parse_rule(rule, catalogue=ctx.catalogue), context=ctx))


def test_sibling_lists_are_one_test_with_the_same_answer(con: duckdb.DuckDBPyConnection,
                                                         ctx: CompileContext) -> None:
    everyone = sorted(_ids(con, "SELECT msisdn FROM profile"))
    on_1, on_2, expired_2 = everyone[:40], everyone[30:90], everyone[90:120]
    con.executemany("INSERT INTO list_members VALUES (?, ?, NULL, NULL, ?)",
                    [[1, m, NOW] for m in on_1] + [[2, m, NOW] for m in on_2])
    con.executemany("INSERT INTO list_members VALUES (2, ?, NULL, ?, ?)",
                    [[m, NOW - timedelta(hours=1), NOW] for m in expired_2])
    high = {"field": "value_tier", "op": "=", "value": "high"}
    is_high = _ids(con, "SELECT msisdn FROM profile WHERE value_tier = 'high'")
    on_either = set(on_1) | set(on_2)  # the expired members count on neither

    rule = {"all": [{"not": {"in_list": 1}}, high, {"not": {"in_list": 2}}]}
    sql = audience_query(parse_rule(rule, catalogue=ctx.catalogue), context=ctx)
    assert sql.count("list_members") == 1 and "IN (1, 2)" in sql
    assert _members(con, ctx, rule) == is_high - on_either

    anyof = {"any": [{"in_list": 2}, {"in_list": 1}, high]}
    assert _members(con, ctx, anyof) == is_high | on_either

    # a single list leaf and lists under other nodes keep their own test
    nested = {"all": [{"not": {"in_list": 1}}, {"any": [{"not": {"in_list": 2}}, high]}]}
    got = _members(con, ctx, nested)
    assert got == (set(everyone) - set(on_1)) & ((set(everyone) - set(on_2)) | is_high)


def test_a_list_change_and_an_expiry_show_in_the_next_count(
        con: duckdb.DuckDBPyConnection, ctx: CompileContext) -> None:
    from dataclasses import replace

    rule = {"all": [{"not": {"in_list": 1}}, {"not": {"in_list": 2}}]}
    everyone = _ids(con, "SELECT msisdn FROM profile")
    assert _members(con, ctx, rule) == everyone
    one, two = sorted(everyone)[:2]
    con.execute("INSERT INTO list_members VALUES (2, ?, NULL, ?, ?)",
                [one, NOW + timedelta(hours=2), NOW])
    con.execute("INSERT INTO list_members VALUES (1, ?, NULL, NULL, ?)", [two, NOW])
    assert _members(con, ctx, rule) == everyone - {one, two}  # no rebuild in between
    later = replace(ctx, now=NOW + timedelta(hours=3))  # the entry on list 2 expired
    assert _members(con, later, rule) == everyone - {two}
