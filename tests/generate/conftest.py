"""Small generated operators shared by the generator's tests (generated once per module)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pytest

from telcamp.generate import service
from telcamp.warehouse.contracts import CONTRACTS

END = date(2026, 11, 21)


def open_generated(out: Path, fmt: str) -> duckdb.DuckDBPyConnection:
    """One view per contract kind over the generated files, every column as text (the way
    a loader sees a CSV), so the tests check exactly what was written."""
    con = duckdb.connect()
    for kind in CONTRACTS:
        pattern = str(out / (f"{kind}-*.{fmt}" if kind == "usage" else f"{kind}.{fmt}"))
        if fmt == "csv":
            src = f"read_csv('{pattern}', all_varchar=true, header=true)"
        else:
            src = f"read_parquet('{pattern}')"
        cols = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" for c in CONTRACTS[kind].column_names)
        con.execute(f"CREATE VIEW {kind} AS SELECT {cols} FROM {src}")
    return con


@pytest.fixture(scope="module")
def small_operator(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """3,000 subscribers, 14 days ending END, generated once per format."""
    made: dict[str, Path] = {}

    def get(fmt: str) -> Path:
        if fmt not in made:
            out = tmp_path_factory.mktemp(f"op-{fmt}")
            service.generate(subscribers=3_000, days=14, seed=11, out=out, fmt=fmt,
                             end_date=END, events_per_day=3.0)
            made[fmt] = out
        return made[fmt]

    return get
