"""`telcamp bounce-server`: the e-mail bounce receiver in the foreground."""

from __future__ import annotations

import logging
import threading

import typer


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
