"""Every data contract's file, with its exact columns and values the contracts allow."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from telcamp.warehouse.contracts import CONTRACTS

from .conftest import END, open_generated

FORMATS = ["csv", "parquet"]
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")


def _header(path: Path) -> list[str]:
    if path.suffix == ".csv":
        return list(pacsv.read_csv(path).column_names)
    return list(pq.read_schema(path).names)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_contract_file_is_there_with_exact_columns(small_operator, fmt) -> None:
    out = small_operator(fmt)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([f"{k}.{fmt}" for k in CONTRACTS if k != "usage"]
                           + [f"usage-0001.{fmt}"])
    for path in out.iterdir():
        kind = re.split(r"[-.]", path.name, maxsplit=1)[0]
        assert _header(path) == CONTRACTS[kind].column_names, path.name


@pytest.mark.parametrize("fmt", FORMATS)
def test_values_are_inside_the_contracts(small_operator, fmt) -> None:
    con = open_generated(small_operator(fmt), fmt)
    for kind, contract in CONTRACTS.items():
        assert con.execute(f"SELECT count(*) FROM {kind}").fetchone()[0] > 0, kind
        for col in contract.columns:
            c = col.name
            if col.required:
                missing = con.execute(f"SELECT count(*) FROM {kind} WHERE {c} IS NULL OR {c} = ''")
                assert missing.fetchone()[0] == 0, f"{kind}.{c} empty"
            if col.values:
                bad = con.execute(f"SELECT DISTINCT {c} FROM {kind} WHERE {c} IS NOT NULL "
                                  f"AND NOT list_contains(?, {c})", [list(col.values)])
                assert bad.fetchall() == [], f"{kind}.{c}"
            if col.type == "msisdn":
                bad = con.execute(f"SELECT count(*) FROM {kind} WHERE NOT regexp_full_match({c}, "
                              f"'79[0-9]{{9}}')")
                assert bad.fetchone()[0] == 0, f"{kind}.{c}"
            if col.type in ("int", "float"):
                low = con.execute(f"SELECT min(CAST({c} AS DOUBLE)) FROM {kind}").fetchone()[0]
                assert col.min is None or low >= col.min, f"{kind}.{c}"
            if col.type == "flag":
                vals = {r[0] for r in con.execute(f"SELECT DISTINCT {c} FROM {kind}").fetchall()}
                assert vals <= {"0", "1"}, f"{kind}.{c}"
            if col.type == "date":
                rows = con.execute(f"SELECT {c} FROM {kind} WHERE {c} IS NOT NULL").fetchall()
                for (v,) in rows[:500]:
                    date.fromisoformat(v)
            if col.type == "timestamp":
                rows = con.execute(f"SELECT {c} FROM {kind} USING SAMPLE 500 ROWS").fetchall()
                assert all(TIME_RE.match(v) for (v,) in rows), f"{kind}.{c}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_keys_unique_and_references_resolve(small_operator, fmt) -> None:
    con = open_generated(small_operator(fmt), fmt)
    one = lambda q: con.execute(q).fetchone()[0]  # noqa: E731
    assert one("SELECT count(*) - count(DISTINCT msisdn) FROM subscribers") == 0
    assert one("SELECT count(*) FROM subscribers") == 3_000
    assert one("SELECT count(*) - count(DISTINCT code) FROM regions") == 0
    assert one("SELECT count(*) FROM regions r WHERE parent_code IS NOT NULL AND parent_code "
               "NOT IN (SELECT code FROM regions)") == 0
    assert one("SELECT count(*) FROM regions WHERE level = 'province'") == 1
    assert one("SELECT count(*) FROM regions WHERE level = 'city'") == 10
    assert one("SELECT count(*) FROM regions WHERE level = 'county'") == 40
    assert one("SELECT count(DISTINCT timezone) FROM regions") >= 4
    # Subscribers live in counties, on tariffs of the catalogue (both kinds of payment).
    assert one("SELECT count(*) FROM subscribers WHERE region_code NOT IN "
               "(SELECT code FROM regions WHERE level = 'county')") == 0
    assert one("SELECT count(*) FROM subscribers WHERE tariff_code NOT IN "
               "(SELECT code FROM tariffs)") == 0
    assert one("SELECT count(DISTINCT payment_type) FROM tariffs") == 2
    for kind in ("usage", "product_events", "payments"):
        assert one(f"SELECT count(*) FROM {kind} WHERE msisdn NOT IN "
                   "(SELECT msisdn FROM subscribers)") == 0, kind


def test_event_times_carry_the_subscribers_region_offset(small_operator) -> None:
    con = open_generated(small_operator("csv"), "csv")
    rows = con.execute("""
        SELECT DISTINCT substr(u.event_time, 1, 10), substr(u.event_time, 20), r.timezone
        FROM usage u JOIN subscribers s USING (msisdn) JOIN regions r ON r.code = s.region_code
    """).fetchall()
    assert {tz for _, _, tz in rows} >= {"Europe/Moscow", "Asia/Yekaterinburg",
                                         "Asia/Novosibirsk", "Asia/Shanghai"}
    for day, offset, tz in rows:
        d = date.fromisoformat(day)
        expected = datetime(d.year, d.month, d.day, 12, tzinfo=ZoneInfo(tz)).strftime("%z")
        assert offset.replace(":", "") == expected, (day, tz)


@pytest.mark.parametrize("fmt", FORMATS)
def test_dates_stay_inside_the_window_ending_with_end_date(small_operator, fmt) -> None:
    con = open_generated(small_operator(fmt), fmt)
    first = (END - timedelta(days=13)).isoformat()
    for kind in ("usage", "product_events", "payments"):
        lo, hi = con.execute(f"SELECT min(substr(event_time, 1, 10)), "
                             f"max(substr(event_time, 1, 10)) FROM {kind}").fetchone()
        assert first <= lo and hi <= END.isoformat(), kind
    days = con.execute("SELECT count(DISTINCT substr(event_time, 1, 10)), "
                   "max(substr(event_time, 1, 10)), min(substr(event_time, 1, 10)) "
                   "FROM usage").fetchone()
    assert days == (14, END.isoformat(), first)
    assert con.execute("SELECT max(activation_date) FROM subscribers").fetchone()[0] <= str(END)
