"""`telcamp policy show|set|versions` (JSON in and out)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import typer
from pydantic import ValidationError

from telcamp.core.db import session_scope
from telcamp.core.security import system_principal
from telcamp.policy import service
from telcamp.policy.schemas import PolicyUpdate

NAME = "policy"
app = typer.Typer(help="The contact policy: caps, minimum gap, quiet hours, opt-out lists, "
                       "arbitration.", no_args_is_help=True)


@app.command()
def show() -> None:
    """Print the policy in force."""
    with session_scope() as s:
        typer.echo(service.current(s).model_dump_json(indent=2))


@app.command("set")
def set_policy(file: Path = typer.Argument(..., help="JSON file with the new policy "
                                                      "(every field; see docs/policy.md)")) -> None:
    """Save FILE as the next version of the policy."""
    try:
        policy_in = PolicyUpdate.model_validate_json(file.read_text(encoding="utf-8"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise typer.BadParameter(f"{file}: {where}: {first['msg']}") from exc
    with session_scope() as s:
        saved = service.update(session=s, actor=replace(system_principal(), username="cli"),
                               policy_in=policy_in)
    typer.echo(saved.model_dump_json(indent=2))


@app.command()
def versions() -> None:
    """Every saved version, newest first."""
    with session_scope() as s:
        typer.echo(json.dumps([p.model_dump(mode="json") for p in service.history(s)],
                              indent=2))
