"""The same rules give the same subscribers on DuckDB and on PostgreSQL.

The small synthetic warehouse (profile, usage_daily, list_members, contact_history) is
copied into a fresh PostgreSQL database; every rule of the corpus is compiled once per
dialect by SQLGlot and run on each engine, and the msisdn sets are compared.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import duckdb
import pytest

from telcamp.segments.compiler import CompileContext, audience_query
from telcamp.segments.rules import parse_rule
from telcamp.segments.synthetic import NOW

pytestmark = pytest.mark.pg

TABLES = ("profile", "usage_daily", "list_members", "contact_history")
PG_TYPES = {"BIGINT": "BIGINT", "INTEGER": "INTEGER", "VARCHAR": "TEXT", "DATE": "DATE",
            "DOUBLE": "DOUBLE PRECISION", "BOOLEAN": "BOOLEAN",
            "TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ", "HUGEINT": "NUMERIC"}

CORPUS: list[dict[str, Any]] = [
    {"field": "age", "op": "between", "value": [25, 40]},
    {"field": "value_tier", "op": "in", "value": ["high", "medium"]},
    {"field": "gender", "op": "not_in", "value": ["u"]},
    {"field": "region_code", "op": "in", "value": ["C01", "C02-01"]},  # a city, a county
    {"field": "region_code", "op": "!=", "value": "C02"},
    {"field": "birth_date", "op": "is_null"},
    {"field": "email", "op": "is_null", "value": False},
    {"field": "activation_date", "op": "<", "value": "2022-06-01"},
    {"field": "is_new", "op": "=", "value": False},
    {"field": "arpu_3m", "op": ">=", "value": 60.5},
    {"field": "segment_code", "op": "!=", "value": "mass"},
    {"field": "tenure_days", "op": "in", "value": [100, 200, 300, 400, 500]},
    {"field": "days_since_last_activity", "op": "<=", "value": 1},
    {"usage": "data_mb", "days": 30, "op": ">", "value": 2500},
    {"usage": "sms_count", "days": 7, "op": "between", "value": [3, 10]},
    {"usage": "voice_min", "days": 14, "op": "<", "value": 20},
    {"usage": "active_days", "days": 45, "op": ">=", "value": 18},
    {"usage": "charge", "days": 3, "op": "!=", "value": 0},
    {"usage": "roaming_min", "days": 60, "op": ">", "value": 10},
    {"in_list": 1},
    {"not": {"in_list": 2}},
    {"contacted": {"days": 7}},
    {"contacted": {"days": 30, "channel": "sms"}},
    {"any": [{"field": "value_tier", "op": "=", "value": "high"},
             {"usage": "long_distance_count", "days": 20, "op": ">=", "value": 15}]},
    {"all": [{"field": "city_code", "op": "=", "value": "C01"},
             {"not": {"any": [{"field": "status", "op": "=", "value": "suspended"},
                              {"usage": "mms_count", "days": 10, "op": ">", "value": 2}]}},
             {"usage": "data_mb", "days": 5, "op": "between", "value": [100, 2000]}]},
    {"all": [{"field": "language", "op": "=", "value": "ru"},
             {"field": "churn_risk", "op": "<", "value": 0.5},
             {"not": {"in_list": 1}},
             {"usage": "ringback_count", "days": 90, "op": ">=", "value": 5}]},
]


def _pg_type(duck: str) -> str:
    if duck.startswith("DECIMAL"):
        return "NUMERIC"
    if duck.startswith("ENUM("):  # value_tier: its labels travel as text
        return "TEXT"
    return PG_TYPES[duck]


def _copy_to_pg(con: duckdb.DuckDBPyConnection, pg: Any) -> None:
    with pg.cursor() as cur:
        for table in TABLES:
            cols = con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = ? ORDER BY ordinal_position", [table]).fetchall()
            ddl = ", ".join(f'"{c}" {_pg_type(t)}' for c, t in cols)
            cur.execute(f'CREATE TABLE "{table}" ({ddl})')
            names = ", ".join(f'"{c}"' for c, _t in cols)
            # timestamps travel as ISO text with offset (DuckDB needs pytz to hand out
            # aware datetimes, and PostgreSQL parses the text exactly)
            exprs = ", ".join(f'CAST("{c}" AS VARCHAR)' if t.startswith("TIMESTAMP")
                              else f'"{c}"' for c, t in cols)
            with cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for row in con.execute(f"SELECT {exprs} FROM {table}").fetchall():
                    copy.write_row(row)
    pg.commit()


@pytest.fixture
def engines(con: duckdb.DuckDBPyConnection, pg_url: str) -> Any:
    import psycopg

    con.execute("INSERT INTO list_members SELECT 1, msisdn, 'x', NULL, ? FROM profile "
                "WHERE msisdn % 7 = 0", [NOW])
    con.execute("INSERT INTO list_members SELECT 2, msisdn, 'x', "
                "CASE WHEN msisdn % 2 = 0 THEN ? END, ? FROM profile WHERE msisdn % 5 = 0",
                [NOW - timedelta(days=1), NOW])
    con.execute("INSERT INTO contact_history (msisdn, campaign_id, wave_id, contact_id, "
                "channel, contacted_at, outcome) SELECT msisdn, 1, 1, msisdn, "
                "CASE WHEN msisdn % 3 = 0 THEN 'sms' ELSE 'email' END, "
                "? - to_days(CAST(msisdn % 20 AS INTEGER)), "
                "CASE WHEN msisdn % 11 = 0 THEN 'suppressed' ELSE 'sent' END "
                "FROM profile WHERE msisdn % 4 = 0", [NOW])
    pg = psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"))
    _copy_to_pg(con, pg)
    yield con, pg
    pg.close()


def test_corpus_gives_the_same_answer_on_both_engines(engines: Any, ctx: CompileContext
                                                      ) -> None:
    con, pg = engines
    assert len(CORPUS) >= 20
    nontrivial = 0
    for scope in (None, "C02"):
        scoped = replace(ctx, region_code=scope)
        for obj in CORPUS:
            rule = parse_rule(obj, catalogue=ctx.catalogue)
            duck = {int(r[0]) for r in con.execute(
                audience_query(rule, context=scoped, dialect="duckdb")).fetchall()}
            with pg.cursor() as cur:
                cur.execute(audience_query(rule, context=scoped, dialect="postgres"))
                post = {int(r[0]) for r in cur.fetchall()}
            assert duck == post, f"{obj} (scope {scope}): {len(duck)} vs {len(post)}"
            nontrivial += 0 < len(duck) < 2000
    assert nontrivial >= 40  # the corpus discriminates: almost no rule is all or nothing
