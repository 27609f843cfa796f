"""`telcamp channels show|set-price|set-window|clear-window` (unit prices and default send
windows, stored and audited like the channel settings page) and `telcamp bounce-server`
(the e-mail bounce receiver in the foreground)."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import replace
from typing import Any

import typer

from telcamp.channels import config_store
from telcamp.core.db import session_scope
from telcamp.core.security import system_principal

NAME = "channels"
app = typer.Typer(help="Channel unit prices and default send windows (JSON out).",
                  no_args_is_help=True)


def _show() -> None:
    typer.echo(json.dumps({"unit_prices": config_store.unit_prices(),
                           "windows": config_store.send_windows()}, indent=2))


def _save(section: str, change: Any) -> None:
    current = config_store.stored_section(section) or {}
    value = change(dict(current))
    try:
        value = (config_store.check_prices(value) if section == "unit_prices"
                 else config_store.check_windows(value))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    with session_scope() as s:
        config_store.save(s, actor=replace(system_principal(), username="cli"),
                          section=section, value=value)


@app.command()
def show() -> None:
    """Unit prices (stored over the environment's) and default send windows."""
    _show()


@app.command("set-price")
def set_price(channel: str = typer.Argument(..., help="Channel name (sms, email, ivr, ...)"),
              price: str = typer.Argument(..., help="Cost of one contact (0 or more); "
                                          "'default' = the environment's")) -> None:
    """Set CHANNEL's unit price (campaign rehearsal's cost forecast); audited."""
    def change(d: dict[str, Any]) -> dict[str, Any]:
        if price == "default":
            d.pop(channel, None)
        else:
            d[channel] = price
        return d

    _save("unit_prices", change)
    _show()


@app.command("set-window")
def set_window(channel: str = typer.Argument(..., help="Channel name"),
               start: str = typer.Argument(..., help="HH:MM (UTC)"),
               end: str = typer.Argument(..., help="HH:MM (UTC), after START")) -> None:
    """Set CHANNEL's default send window for new waves; audited."""
    _save("windows", lambda d: {**d, channel: [start, end]})
    _show()


@app.command("clear-window")
def clear_window(channel: str = typer.Argument(..., help="Channel name")) -> None:
    """Forget CHANNEL's default send window (new waves use the wave default); audited."""
    _save("windows", lambda d: {k: v for k, v in d.items() if k != channel})
    _show()


def bounce_server(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(2526, help="Port to listen on (route the bounce domain's "
                             "mail here)."),
) -> None:
    """Receive e-mail bounces (DSNs) for VERP addresses (SMTP setting return_path): the
    contact becomes undelivered; a hard bounce stops e-mail to that address."""
    from telcamp.channels.bounces import BounceServer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = BounceServer(host, port)
    server.start()
    typer.echo(f"bounce server on {host}:{port} (Ctrl-C stops it)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        typer.echo(f"bounces stored {server.handler.stored}, refused {server.handler.refused}")


def register(app: typer.Typer) -> None:
    app.command("bounce-server")(bounce_server)
