"""`telcamp subscriber lookup` — the customer-service lookup from the command line."""

from __future__ import annotations

from dataclasses import replace

import typer

from telcamp.core.db import session_scope
from telcamp.core.errors import NotFound, ValidationFailed
from telcamp.core.security import system_principal
from telcamp.subscribers import service

NAME = "subscriber"
app = typer.Typer(help="One subscriber: every contact and why.", no_args_is_help=True)


@app.command("lookup")
def lookup(msisdn: str = typer.Argument(..., help="The number, as people write it"),
           as_json: bool = typer.Option(False, "--json", help="The API's JSON instead of "
                                                               "tables")) -> None:
    """Every contact of MSISDN with its outcome and reason, the contact history (every
    outcome with time and reason, deferrals included), lists and replies."""
    try:
        with session_scope() as s:
            r = service.lookup(s, principal=replace(system_principal(), username="cli"),
                               msisdn=msisdn)
    except (NotFound, ValidationFailed) as exc:
        raise typer.BadParameter(exc.message) from exc
    if as_json:
        typer.echo(r.model_dump_json(indent=2))
        return
    typer.echo(f"{r.msisdn}: {'region ' + str(r.region_code) if r.found else 'not in the data'}"
               + (" · opted out" if r.opted_out else ""))
    for lst in r.lists:
        typer.echo(f"  list {lst.list_name} ({lst.list_type})"
                   + (f": {lst.reason}" if lst.reason else "")
                   + (" — expired" if lst.expired else ""))
    typer.echo(f"Contacts ({len(r.contacts)}):")
    for c in r.contacts:
        when = c.time.strftime("%Y-%m-%d %H:%M") if c.time else "-"
        typer.echo(f"  {when}  #{c.contact_id}  {c.campaign}  {c.channel}  {c.outcome}"
                   + (f"  {c.reason}" if c.reason else ""))
    typer.echo(f"History ({len(r.history)}):")
    for h in r.history:
        typer.echo(f"  {h.time:%Y-%m-%d %H:%M}  #{h.contact_id}  "
                   f"{h.campaign or h.campaign_id or '-'}  {h.channel}  {h.outcome}"
                   + (f"  {h.reason}" if h.reason else ""))
    for m in r.replies:
        typer.echo(f"  reply {m.time:%Y-%m-%d %H:%M}  {m.kind}  {m.text!r}"
                   + (f"  → {m.action}" if m.action else ""))
