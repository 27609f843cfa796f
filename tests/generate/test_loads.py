"""The generated operator is what the loader expects: every file loads, nothing orphaned,
and the warehouse sees the same rows and the same window."""

from __future__ import annotations

import pytest

from telcamp.core import warehouse
from telcamp.generate import service as generate_service
from telcamp.load import service as load_service

from .conftest import END


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_generated_files_load_whole(tmp_path, fmt) -> None:
    out = tmp_path / "gen"
    gen = generate_service.generate(subscribers=2_000, days=5, seed=8, out=out, fmt=fmt,
                                    end_date=END)
    loaded = load_service.load_dir(out, orphans="reject")
    assert loaded.ignored == []
    by_kind = {k: sum(f.rows for f in loaded.files if f.kind == k) for k in gen.rows}
    assert by_kind == gen.rows
    assert all(f.orphans == 0 for f in loaded.files)
    with warehouse.connect() as con:
        records, first, last = con.execute(
            "SELECT sum(records), min(day), max(day) FROM usage_daily").fetchone()
        subscribers = con.execute("SELECT count(*) FROM profile").fetchone()[0]
    assert records == gen.rows["usage"]
    assert (first, last) == (gen.first_date, END)
    assert subscribers == 2_000
