"""Documentation that must stay in step with the code."""

from __future__ import annotations

from pathlib import Path

from telcamp.warehouse.contracts import CONTRACTS

DOCS = Path(__file__).parent.parent.parent / "docs"


def test_every_contract_column_is_documented() -> None:
    text = (DOCS / "data-contracts.md").read_text(encoding="utf-8")
    for kind, contract in CONTRACTS.items():
        assert f"## `{kind}`" in text, kind
        section = text.split(f"## `{kind}`", 1)[1].split("\n## ", 1)[0]
        for col in contract.columns:
            assert f"| `{col.name}` |" in section, f"{kind}.{col.name} undocumented"


def test_settings_reference_is_generated_from_the_code() -> None:
    from telcamp.web.settings_doc import SECTIONS, env_names, settings_markdown

    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    assert text == settings_markdown(), "run: telcamp config --markdown > docs/settings.md"
    for _heading, model, _where in SECTIONS:
        for env in env_names(model):
            assert f"`{env}`" in text, f"{env} missing from docs/settings.md"


def test_every_setting_has_a_description() -> None:
    from telcamp.web.settings_doc import SECTIONS

    missing = [f"{model.__name__}.{n}" for _h, model, _w in SECTIONS
               for n, f in model.model_fields.items() if not f.description]
    assert not missing, missing


def test_cli_reference_lists_every_command() -> None:
    from telcamp.cli import app
    from telcamp.web.cli_doc import cli_markdown

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert text == cli_markdown(app), "run: .venv/bin/telcamp cli-doc > docs/cli.md"
    for command in ("telcamp load", "telcamp generate", "telcamp segment count",
                    "telcamp campaign launch", "telcamp audit verify"):
        assert f"| `{command}` |" in text, command
