"""bench/materialise.py runs end to end at a small size, so the lead's 1M/10M runs do not
fail on the script itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get("TELCAMP_TEST_PG_URL")
BENCH = Path(__file__).parent.parent.parent / "bench" / "materialise.py"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_bench_script_reports_json(database: str) -> None:
    args = [sys.executable, str(BENCH), "--members", "3000", "--db", database]
    if database == "postgresql":
        if PG_ADMIN_URL is None:  # as conftest.need: in CI nothing skips
            if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
                pytest.fail("CI=true and TELCAMP_TEST_PG_URL is not set")
            pytest.skip("TELCAMP_TEST_PG_URL is not set")
        args += ["--pg-url", str(PG_ADMIN_URL)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert figures["members"] == 3000
    assert figures["contacts"] + figures["controls"] == 3000
    assert 0.05 < figures["controls"] / 3000 < 0.15
