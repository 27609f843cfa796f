"""Render the CLI reference (docs/cli.md) from the Typer application itself."""

from __future__ import annotations

from typing import Any

import typer

# Typer ships its own copy of click, so commands are recognised by shape, not class.


def _walk(cmd: Any, path: list[str]) -> list[tuple[str, Any]]:
    out = [(" ".join(path), cmd)]
    if hasattr(cmd, "commands"):
        for name in sorted(cmd.commands):
            out += _walk(cmd.commands[name], [*path, name])
    return out


def _options(cmd: Any) -> str:
    parts = []
    for p in cmd.params:
        if p.param_type_name == "argument":
            parts.append(str(p.name).upper())
        elif p.param_type_name == "option" and not p.hidden and p.name != "help":
            parts.append("/".join(p.opts))
    return ", ".join(f"`{x}`" for x in parts)


def cli_markdown(app: typer.Typer) -> str:
    root = typer.main.get_command(app)
    lines = [
        "# Command-line reference",
        "",
        "Every `telcamp` command, generated from the code by `telcamp cli-doc`; a test fails",
        "when this page and the commands disagree. `telcamp COMMAND --help` gives the details.",
        "",
        "| command | what it does | arguments and options |",
        "| --- | --- | --- |",
    ]
    for path, cmd in _walk(root, ["telcamp"])[1:]:
        text = (cmd.help or cmd.short_help or "").strip().split("\n\n")[0].replace("\n", " ")
        text = text.replace("|", "\\|")
        lines.append(f"| `{path}` | {text} | {_options(cmd)} |")
    lines.append("")
    return "\n".join(lines)
