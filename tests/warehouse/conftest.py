"""Fixture: a small in-memory warehouse with the schema tables."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from telcamp.warehouse.schema import ensure_schema

from .builder import Warehouse


@pytest.fixture
def wh() -> Iterator[Warehouse]:
    con = duckdb.connect()
    ensure_schema(con)
    try:
        yield Warehouse(con)
    finally:
        con.close()
