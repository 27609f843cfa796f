"""bench/features.py runs end to end at a tiny scale (the lead runs it at 10M)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb

BENCH = Path(__file__).parent.parent.parent / "bench" / "features.py"


def test_bench_makes_a_warehouse_and_times_the_rebuild(tmp_path: Path) -> None:
    target = tmp_path / "bench.duckdb"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--warehouse", str(target), "--make", "3000",
         "--days", "12", "--end", "2026-03-31", "--repeat", "2"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["subscribers"] == 3000
    assert result["as_of_date"] == "2026-03-31"
    assert 0 < result["usage_daily_rows"] <= 3000 * 12
    assert result["peak_rss_mb"] > 0 and result["seconds"] > 0
    assert set(result["steps"]) >= {"features", "scores"}
    with duckdb.connect(str(target), read_only=True) as con:
        tiers = dict(con.execute("SELECT value_tier, count(*) FROM profile GROUP BY 1").fetchall())
    assert sum(tiers.values()) == 3000 and set(tiers) <= {"low", "medium", "high"}
