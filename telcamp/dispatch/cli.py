"""`telcamp dispatch run|reconcile|progress|sync-history`."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging

import typer

from telcamp.core.db import session_scope
from telcamp.dispatch import history, outbox, progress, registry
from telcamp.dispatch.config import get_dispatch_settings
from telcamp.dispatch.worker import Worker

NAME = "dispatch"
app = typer.Typer(help="The outbox: send due contacts through their channel, reconcile, "
                       "watch progress.", no_args_is_help=True)


@app.command()
def run(channel: str = typer.Option("sms", help="Channel to dispatch."),
        once: bool = typer.Option(False, "--once", help="Stop when nothing is due."),
        batch: int = typer.Option(0, help="Contacts per claim (default: settings)")) -> None:
    """Run one worker for CHANNEL (several may run on PostgreSQL; one on SQLite)."""
    logging.basicConfig(level=logging.INFO)
    settings = get_dispatch_settings()
    built = registry.build(channel, settings)
    if built is None:
        raise typer.BadParameter(f"channel {channel!r} is not configured "
                                 "(e.g. TELCAMP_DISPATCH_SMPP_BINDS for sms)")
    worker = Worker(built, batch_max=batch or settings.batch_max, lease_s=settings.lease_s,
                    resend_unknown=settings.resend_unknown, grace_s=settings.receipt_grace_s,
                    history_every_s=settings.history_every_s)
    stats = asyncio.run(worker.run(once=once))
    typer.echo(json.dumps(dataclasses.asdict(stats)))


@app.command()
def reconcile(resend: bool = typer.Option(False, help="Plan unknown ones again.")) -> None:
    """Mark contacts of dead workers (expired leases) 'unknown' (or plan them again)."""
    typer.echo(json.dumps({"reconciled": outbox.reconcile(resend_unknown=resend)}))


@app.command("progress")
def show_progress(campaign: int = typer.Argument(..., help="Campaign id")) -> None:
    """Contacts of a campaign by wave, channel and state."""
    with session_scope() as s:
        typer.echo(json.dumps(progress.campaign_progress(s, campaign_id=campaign), indent=2))


@app.command("sync-history")
def sync_history() -> None:
    """Copy outcomes to the warehouse contact history now."""
    typer.echo(json.dumps({"copied": history.sync()}))
