"""`telcamp serve`, `telcamp migrate` and `telcamp demo`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console()


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Run the console, the API and the background workers in one process."""
    import uvicorn

    from telcamp.app import create_app
    from telcamp.core.settings import get_settings

    get_settings().var_dir.mkdir(parents=True, exist_ok=True)
    console.print(f"Telcamp on http://{host}:{port}/  (API docs at /docs)")
    uvicorn.run(create_app(), host=host, port=port, log_level="info")


def migrate_cmd() -> None:
    """Apply the operational database's migrations."""
    from telcamp.core.db import migrate

    migrate()
    console.print("operational database is up to date")


def demo(
    subscribers: int = typer.Option(100_000, help="Subscribers of the demo operator."),
    days: int = typer.Option(30, help="Days of usage."),
    seed: int = typer.Option(42, help="Random seed."),
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
    no_serve: bool = typer.Option(False, "--no-serve", help="Prepare the demo and stop."),
) -> None:
    """Generate and load a demo operator (once), create demo users, then serve."""
    import os

    from telcamp.core import warehouse
    from telcamp.core.db import migrate
    from telcamp.core.settings import get_settings, reset_settings
    from telcamp.warehouse import service as warehouse_service

    # The synthetic operator numbers its subscribers as a Russian one does (+7, ten
    # national digits, trunk prefix 8): a number typed onto a list as 8 912 000-00-03 is
    # read as +7 912 000-00-03, as it would be at a real operator so configured. A plan
    # set in the environment wins.
    if get_settings().msisdn_country_code is None:
        os.environ.update({"TELCAMP_MSISDN_COUNTRY_CODE": "7",
                           "TELCAMP_MSISDN_NATIONAL_DIGITS": "10",
                           "TELCAMP_MSISDN_TRUNK_PREFIX": "8"})
        reset_settings()
    settings = get_settings()
    migrate()
    with warehouse.connect() as con:
        loaded = warehouse_service.stats(con)["tables"].get("subscribers", 0)
    if not loaded:
        from telcamp.generate import service as generate_service
        from telcamp.load import service as load_service

        out = Path(settings.var_dir) / "demo-data"
        generate_service.generate(
            subscribers=subscribers, days=days, seed=seed, out=out, fmt="parquet",
            progress=True,
        )
        load_service.load_dir(out, progress=True)
    else:
        console.print(f"demo data already loaded ({loaded:,} subscribers)")
    try:
        from telcamp.access import demo as access_demo
    except ImportError:
        access_demo = None  # type: ignore[assignment]
    if access_demo is not None:
        access_demo.ensure_demo_users(console)
    from telcamp.lists import demo as lists_demo

    lists_demo.ensure_demo_lists(console)
    if not no_serve:
        # Without an SMSC a launched campaign stays 'queued': give the demo a simulated
        # one (and a mail sink), unless those channels are configured.
        from telcamp.simulator.demo import start_demo_channels

        start_demo_channels(console)
        serve(host=host, port=port)


def config(
    markdown: bool = typer.Option(False, "--markdown", help="Print the settings reference."),
) -> None:
    """Show the settings in force (environment variables TELCAMP_*)."""
    from telcamp.core.settings import Settings, get_settings
    from telcamp.web.settings_doc import settings_markdown

    if markdown:
        typer.echo(settings_markdown(), nl=False)
        return
    current = get_settings()
    for name in Settings.model_fields:
        value = getattr(current, name)
        if name == "secret_key":
            value = "(set)" if value != Settings.model_fields[name].default else "(default)"
        console.print(f"TELCAMP_{name.upper()} = {value}", highlight=False)


def register(app: typer.Typer) -> None:
    def cli_doc() -> None:
        """Print the command-line reference (docs/cli.md) in Markdown."""
        from telcamp.web.cli_doc import cli_markdown

        typer.echo(cli_markdown(app), nl=False)

    app.command("cli-doc")(cli_doc)
    app.command("config")(config)
    app.command("serve")(serve)
    app.command("migrate")(migrate_cmd)
    app.command("demo")(demo)
