"""Documentation that must stay in step with the code."""

from __future__ import annotations

from pathlib import Path

from telcamp.core.settings import Settings
from telcamp.warehouse.contracts import CONTRACTS

DOCS = Path(__file__).parent.parent.parent / "docs"


def test_every_contract_column_is_documented() -> None:
    text = (DOCS / "data-contracts.md").read_text(encoding="utf-8")
    for kind, contract in CONTRACTS.items():
        assert f"## `{kind}`" in text, kind
        section = text.split(f"## `{kind}`", 1)[1].split("\n## ", 1)[0]
        for col in contract.columns:
            assert f"| `{col.name}` |" in section, f"{kind}.{col.name} undocumented"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    missing = [
        f"TELCAMP_{name.upper()}"
        for name in Settings.model_fields
        if f"`TELCAMP_{name.upper()}`" not in text
    ]
    assert not missing, f"settings missing from docs/settings.md: {missing}"


def test_every_setting_has_a_description() -> None:
    missing = [n for n, f in Settings.model_fields.items() if not f.description]
    assert not missing, missing


def test_cli_reference_lists_every_command() -> None:
    from telcamp.cli import app
    from telcamp.web.cli_doc import cli_markdown

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert text == cli_markdown(app), "run: .venv/bin/telcamp cli-doc > docs/cli.md"
    for command in ("telcamp load", "telcamp generate", "telcamp segment count",
                    "telcamp campaign launch", "telcamp audit verify"):
        assert f"| `{command}` |" in text, command
