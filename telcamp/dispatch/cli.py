"""`telcamp dispatch run|reconcile|progress|sync-history`."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import multiprocessing as mp
import queue
import signal
from typing import Any

import typer

from telcamp.core.db import session_scope
from telcamp.dispatch import history, outbox, progress, registry
from telcamp.dispatch.config import get_dispatch_settings
from telcamp.dispatch.worker import Stats, Worker

NAME = "dispatch"
app = typer.Typer(help="The outbox: send due contacts through their channel, reconcile, "
                       "watch progress.", no_args_is_help=True)


def _build(channel: str, batch: int) -> Worker:
    settings = get_dispatch_settings()
    built = registry.build(channel, settings)
    if built is None:
        raise typer.BadParameter(f"channel {channel!r} is not configured "
                                 "(e.g. TELCAMP_DISPATCH_SMPP_BINDS for sms)")
    return Worker(built, batch_max=batch or settings.batch_max, lease_s=settings.lease_s,
                  resend_unknown=settings.resend_unknown, grace_s=settings.receipt_grace_s,
                  history_every_s=settings.history_every_s)


async def _run(worker: Worker, *, once: bool) -> Stats:
    # SIGTERM/SIGINT stop the worker between batches: the batches in flight are recorded
    # before it returns. Further signals change nothing (Ctrl-C reaches the children of
    # `--workers N` from the terminal and from the parent); SIGKILL is safe by the outbox
    # protocol (the leases in flight are reconciled).
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.stop.set)
    return await worker.run(once=once)


def _child(channel: str, batch: int, once: bool, start: Any, out: Any) -> None:
    """One worker process of `run --workers N` (spawned: a fresh interpreter with its own
    database connections and binds)."""
    logging.basicConfig(level=logging.INFO, format="[worker %(process)d] %(levelname)s "
                                                   "%(name)s: %(message)s")
    worker = _build(channel, batch)
    start.wait(120)  # every worker built: they start claiming together
    stats = asyncio.run(_run(worker, once=once))
    out.put(dataclasses.asdict(stats))


def merge(stats: list[dict[str, Any]]) -> dict[str, Any]:
    """The workers' Stats added up (ints summed, dicts of counts summed per key)."""
    total: dict[str, Any] = dataclasses.asdict(Stats())
    for one in stats:
        for key, value in one.items():
            if isinstance(value, dict):
                for k, v in value.items():
                    total[key][k] = total[key].get(k, 0) + v
            else:
                total[key] += value
    return total


@app.command()
def run(channel: str = typer.Option("sms", help="Channel to dispatch."),
        once: bool = typer.Option(False, "--once", help="Stop when nothing is due."),
        batch: int = typer.Option(0, help="Contacts per claim (default: settings)"),
        workers: int = typer.Option(1, min=1, max=64, help="Worker processes sharing the "
                                    "outbox (PostgreSQL only for more than one).")) -> None:
    """Run WORKERS worker processes for CHANNEL (one on SQLite). Prints the sent, failed
    and claimed counts as JSON when they stop (--once, SIGTERM or Ctrl-C)."""
    from telcamp.core.db import get_engine

    dialect = get_engine().dialect.name
    if workers > 1 and dialect != "postgresql":
        raise typer.BadParameter(
            f"{workers} workers need PostgreSQL (FOR UPDATE SKIP LOCKED shares the outbox); "
            f"this database is {dialect}, which has one writer: run one worker",
            param_hint="--workers")
    if workers == 1:
        logging.basicConfig(level=logging.INFO)
        stats = asyncio.run(_run(_build(channel, batch), once=once))
        typer.echo(json.dumps(dataclasses.asdict(stats)))
        return
    _build(channel, batch)  # a missing channel is said once, here, not by every child
    ctx = mp.get_context("spawn")  # no inherited connections, sockets or event loop
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_child, args=(channel, batch, once, start, out),
                         name=f"dispatch-{channel}-{i}") for i in range(workers)]
    for p in procs:
        p.start()

    def forward(_sig: int, _frame: Any) -> None:  # a stop for the parent stops every child
        for p in procs:
            if p.is_alive():
                p.terminate()  # SIGTERM: the child finishes its batches in flight

    old = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        start.set()
        results: list[dict[str, Any]] = []
        while len(results) < len(procs):
            try:
                results.append(out.get(timeout=1.0))
            except queue.Empty:  # a child that died without a result?
                if all(not p.is_alive() for p in procs) and out.empty():
                    break
        for p in procs:
            p.join()
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    failed = [p.exitcode for p in procs if p.exitcode]
    typer.echo(json.dumps({**merge(results), "workers": workers,
                           "per_worker": [{"sent": r["sent"], "claimed": r["claimed"]}
                                          for r in results]}))
    if failed:
        raise typer.Exit(1)


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
