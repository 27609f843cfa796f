"""`telcamp smsc-sim`: the demo's SMSC simulator in the foreground."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import typer
from rich.console import Console

console = Console()


def smsc_sim(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(2775, help="Port to listen on."),
    system_id: str = typer.Option("demo", help="system_id clients are expected to bind "
                                  "with (another one is logged, not refused)."),
    password: str = typer.Option("demo", help="Password to put in the client's binds "
                                 "(not checked: smpp34's server does not expose it)."),
    delivery_rate: float = typer.Option(0.95, min=0.0, max=1.0,
                                        help="Share of receipts saying DELIVRD; the rest "
                                        "say UNDELIV."),
    receipt_delay: float = typer.Option(1.0, min=0.0, help="Seconds before a receipt."),
) -> None:
    """Run a simulated SMSC (SMPP 3.4) that accepts messages and sends receipts."""
    import json

    from telcamp.simulator.demo import demo_binds
    from telcamp.simulator.smsc import SmscSimulator

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    sim = SmscSimulator(host=host, port=port, system_id=system_id,
                        delivery_rate=delivery_rate, receipt_delay=receipt_delay)
    binds = json.dumps(demo_binds(host, port, system_id, password))
    # Plain echo: rich would wrap the line and break copy-and-paste.
    typer.echo(f"SMSC simulator on {host}:{port}; point Telcamp at it with\n"
               f"  export TELCAMP_DISPATCH_SMPP_BINDS='{binds}'")
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is the way to stop it
        asyncio.run(sim.serve_forever())
    s = sim.stats
    console.print(f"binds {s.binds}, submits {s.submits}, delivered {s.delivered}, "
                  f"undelivered {s.undelivered}, receipts lost {s.receipts_lost}")


def register(app: typer.Typer) -> None:
    app.command("smsc-sim")(smsc_sim)
