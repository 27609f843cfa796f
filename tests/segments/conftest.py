"""Fixtures of the segment tests: a small synthetic warehouse in each test's var/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from telcamp.segments import synthetic
from telcamp.segments.catalogue import Catalogue, from_columns, profile_columns
from telcamp.segments.compiler import CompileContext
from telcamp.segments.synthetic import NOW


@pytest.fixture
def warehouse_file(isolated_var: object) -> str:
    """The test's warehouse, filled with 2,000 synthetic subscribers."""
    from telcamp.core import warehouse
    from telcamp.core.settings import get_settings

    with warehouse.connect() as con:
        synthetic.create(con, subscribers=2000)
    return str(get_settings().warehouse_file)


@pytest.fixture
def con(warehouse_file: str) -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect(warehouse_file)
    yield c
    c.close()


@pytest.fixture
def cat(con: duckdb.DuckDBPyConnection) -> Catalogue:
    return from_columns(profile_columns(con))


@pytest.fixture
def ctx(cat: Catalogue) -> CompileContext:
    return CompileContext(as_of_date=synthetic.AS_OF, now=NOW, catalogue=cat)


@pytest.fixture
def api(db: str, warehouse_file: str, login: Any) -> Any:
    """The `login` client factory over the test's warehouse, the clock frozen at the
    synthetic data's NOW (on SQLite and, when configured, PostgreSQL)."""
    from telcamp.core import clock

    clock.freeze(NOW)
    return login
