"""docs/smpp.md keeps the per-status table the client really uses."""

from __future__ import annotations

from pathlib import Path

from telcamp.channels.smpp.status import STATUS_TABLE

DOC = Path(__file__).resolve().parents[3] / "docs" / "smpp.md"


def test_status_table_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for code, (name, action) in STATUS_TABLE.items():
        row = f"| `0x{code:02X}` | `{name}` | {action.value} |"
        assert row in text, f"docs/smpp.md lacks the row {row}"
