"""bench/smtp.py runs end to end at a tiny scale, so the lead's full run does not fail on
the script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_bench_smtp_small() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "smtp.py"), "--messages", "120", "--pool", "4",
         "--batch", "50"], capture_output=True, text=True, timeout=300, check=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert figures["messages"] == 116 and figures["outcomes"] == {"submitted": 116}
    assert figures["server_received"] == 120 and figures["connections_opened"] == 4
    assert figures["messages_per_s"] > 0
