"""The `Warehouse` interface (core.warehouse) and its DuckDB implementation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from telcamp.core.warehouse import (
    DuckDBWarehouse,
    Params,
    Warehouse,
    as_warehouse,
    open_warehouse,
)
from telcamp.warehouse import service
from telcamp.warehouse.build import rebuild
from telcamp.warehouse.schema import TABLES, ensure_schema

from .builder import AS_OF
from .builder import Warehouse as Builder


@pytest.fixture
def dwh() -> Iterator[DuckDBWarehouse]:
    con = duckdb.connect()
    ensure_schema(con)
    try:
        yield DuckDBWarehouse(con)
    finally:
        con.close()


def test_duckdb_warehouse_implements_the_protocol(dwh: DuckDBWarehouse) -> None:
    assert isinstance(dwh, Warehouse)
    assert dwh.dialect == "duckdb"
    assert as_warehouse(dwh.con).dialect == "duckdb"
    assert as_warehouse(dwh) is dwh


def test_tables_are_the_contract_and_exist_after_schema_and_build(wh: Builder) -> None:
    dwh = DuckDBWarehouse(wh.con)
    assert dwh.tables == TABLES
    assert [t for t in dwh.tables if not dwh.has_table(t)] == ["profile"]
    wh.region_tree()
    wh.subscriber(8613800000001)
    rebuild(dwh, as_of=AS_OF)
    assert all(dwh.has_table(t) for t in dwh.tables)
    assert not dwh.has_table("no_such_table")


def test_reads_bind_named_and_positional_parameters(dwh: DuckDBWarehouse) -> None:
    dwh.execute("INSERT INTO tariffs VALUES ($code, 'X', 'prepaid', $fee)",
                {"code": "T1", "fee": 5.5})
    dwh.execute("INSERT INTO tariffs VALUES (?, ?, ?, ?)", ["T2", "Y", "postpaid", 30])
    assert dwh.rows("SELECT code, monthly_fee FROM tariffs ORDER BY code") == [
        ("T1", 5.5), ("T2", 30.0)]
    assert dwh.scalar("SELECT name FROM tariffs WHERE code = $c", {"c": "T2"}) == "Y"
    assert dwh.scalar("SELECT name FROM tariffs WHERE code = ?", ["none"]) is None
    # A value that looks like SQL stays a value.
    assert dwh.scalar("SELECT count(*) FROM tariffs WHERE code = ?", ["T1' OR '1'='1"]) == 0
    table = dwh.arrow("SELECT code, monthly_fee FROM tariffs WHERE monthly_fee > ?", [10])
    assert isinstance(table, pa.Table)
    assert table.to_pydict() == {"code": ["T2"], "monthly_fee": [30.0]}


def test_transaction_commits_or_rolls_back_everything(dwh: DuckDBWarehouse) -> None:
    with dwh.transaction():
        dwh.execute("INSERT INTO meta VALUES ('a', '1')")
    assert dwh.scalar("SELECT value FROM meta WHERE key = 'a'") == "1"
    with pytest.raises(RuntimeError), dwh.transaction():
        dwh.execute("INSERT INTO meta VALUES ('b', '2')")
        raise RuntimeError("boom")
    assert dwh.scalar("SELECT count(*) FROM meta WHERE key = 'b'") == 0
    assert not dwh.in_transaction()


def test_nested_transaction_joins_the_outer_one(dwh: DuckDBWarehouse) -> None:
    with pytest.raises(RuntimeError), dwh.transaction():
        with dwh.transaction():  # joins: its end commits nothing
            dwh.execute("INSERT INTO meta VALUES ('inner', '1')")
        assert dwh.in_transaction()
        raise RuntimeError("outer fails")
    assert dwh.scalar("SELECT count(*) FROM meta") == 0


def test_transaction_joins_a_callers_raw_transaction(dwh: DuckDBWarehouse) -> None:
    """The loader begins on the raw connection, then the rebuild's transaction joins it."""
    dwh.con.execute("BEGIN TRANSACTION")
    with dwh.transaction():
        dwh.execute("INSERT INTO meta VALUES ('k', 'v')")
    assert dwh.in_transaction()  # still the caller's, not committed by us
    dwh.con.execute("ROLLBACK")
    assert dwh.scalar("SELECT count(*) FROM meta") == 0


def test_append_arrow_matches_columns_by_name(dwh: DuckDBWarehouse) -> None:
    data = pa.table({"monthly_fee": [0.0, 9.5], "payment_type": ["prepaid", "postpaid"],
                     "name": ["A", "B"], "code": ["A1", "B1"]})
    assert dwh.append("tariffs", data) == 2
    assert dwh.rows("SELECT code, name, payment_type, monthly_fee FROM tariffs "
                    "ORDER BY code") == [("A1", "A", "prepaid", 0.0),
                                         ("B1", "B", "postpaid", 9.5)]


def test_append_refuses_an_unknown_table_and_adds_nothing_on_bad_rows(
        dwh: DuckDBWarehouse) -> None:
    with pytest.raises(ValueError, match="no table 'nope'"):
        dwh.append("nope", pa.table({"a": [1]}))
    bad = pa.table({"code": ["C1", None], "name": ["a", "b"],
                    "payment_type": ["prepaid", "prepaid"], "monthly_fee": [1.0, 2.0]})
    with pytest.raises(duckdb.ConstraintException):
        dwh.append("tariffs", bad)
    assert dwh.scalar("SELECT count(*) FROM tariffs") == 0


def test_stats_and_rebuild_through_the_interface(wh: Builder) -> None:
    wh.region_tree()
    wh.subscriber(8613800000001)
    wh.subscriber(8613800000002)
    dwh = DuckDBWarehouse(wh.con)
    report = rebuild(dwh, as_of=AS_OF)
    assert report.subscribers == 2
    figures = service.stats(dwh)
    assert figures["tables"]["profile"] == 2
    assert figures["as_of_date"] == AS_OF.isoformat()
    assert sum(figures["tiers"].values()) == 2
    assert service.stats(wh.con) == figures  # a raw connection still works


def test_open_warehouse_opens_the_configured_file(tmp_path: Path) -> None:
    target = tmp_path / "wh.duckdb"
    with open_warehouse(path=target) as opened:
        ensure_schema(opened)
        opened.execute("INSERT INTO meta VALUES ('as_of_date', ?)", [date(2026, 1, 2).isoformat()])
    with open_warehouse(path=target, read_only=True) as again:
        assert service.stats(again)["as_of_date"] == "2026-01-02"


class _OtherDialect:
    """A stand-in for a non-DuckDB warehouse: enough to reach the build's dialect check."""

    dialect = "postgres"
    tables = TABLES

    def rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        return []

    def scalar(self, sql: str, params: Params = None) -> Any:
        return None

    def arrow(self, sql: str, params: Params = None) -> pa.Table:
        return pa.table({})

    def execute(self, sql: str, params: Params = None) -> None:
        raise AssertionError("the build must not run DuckDB SQL on another warehouse")

    def transaction(self) -> AbstractContextManager[None]:
        return nullcontext()

    def append(self, table: str, data: pa.Table) -> int:
        return 0

    def has_table(self, name: str) -> bool:
        return False


def test_build_refuses_a_warehouse_of_another_dialect() -> None:
    other = _OtherDialect()
    assert isinstance(other, Warehouse)
    with pytest.raises(NotImplementedError, match="postgres warehouse needs its own build"):
        rebuild(other, as_of=AS_OF)
