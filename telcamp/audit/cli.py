"""`telcamp audit [--object TYPE:ID] [--user NAME]` and `telcamp audit verify`."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from telcamp.audit import service
from telcamp.core.db import migrate, session_scope
from telcamp.core.errors import ValidationFailed

NAME = "audit"
app = typer.Typer(help="Read and verify the audit log.", invoke_without_command=True)
console = Console()


@app.callback()
def show(
    ctx: typer.Context,
    object_: str | None = typer.Option(None, "--object", help="TYPE:ID, e.g. user:alice"),
    user: str | None = typer.Option(None, "--user", help="Entries made by this user."),
    action: str | None = typer.Option(None, "--action", help="e.g. user.create"),
    limit: int = typer.Option(50, help="Newest entries to show."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Show audit entries, newest first (or run a subcommand)."""
    if ctx.invoked_subcommand is not None:
        return
    object_type = object_id = None
    if object_:
        object_type, sep, object_id = object_.partition(":")
        if not sep or not object_type or not object_id:
            raise ValidationFailed("--object takes TYPE:ID, e.g. user:alice", field="object")
    migrate()
    with session_scope() as session:
        entries = service.search(session, object_type=object_type, object_id=object_id,
                                 user=user, action=action, limit=limit)
        rows = [service.to_dict(e) for e in entries]
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    table = Table("id", "when", "user", "action", "object", "before", "after")
    for r in rows:
        table.add_row(str(r["id"]), str(r["at"])[:19], str(r["actor"]), str(r["action"]),
                      f"{r['object_type']}:{r['object_id']}",
                      json.dumps(r["before"], ensure_ascii=False) if r["before"] else "",
                      json.dumps(r["after"], ensure_ascii=False) if r["after"] else "")
    console.print(table)


@app.command("verify")
def verify_cmd() -> None:
    """Check the hash chain; name the first entry that was edited, removed or forged."""
    migrate()
    with session_scope() as session:
        result = service.verify(session)
    if result.ok:
        console.print(f"audit log intact: {result.checked} entries, chain verified")
        return
    console.print(f"[bold red]audit log BROKEN[/] at {result.broken} "
                  f"({result.checked} entries before it are intact)", highlight=False)
    raise typer.Exit(1)
