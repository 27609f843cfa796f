"""`telcamp warehouse stats` and `telcamp warehouse rebuild`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from telcamp.core.errors import ValidationFailed

NAME = "warehouse"
app = typer.Typer(help="The subscriber warehouse: figures and profile rebuild.",
                  no_args_is_help=True)
console = Console()


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed(f"--as-of: {value!r} is not a date (YYYY-MM-DD)",
                               field="as_of") from exc


@app.command("stats")
def stats_cmd(
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Row counts per table, as-of date, value-tier distribution and churn-risk bands."""
    from telcamp.core import warehouse
    from telcamp.warehouse import service

    with warehouse.open_warehouse(read_only=True) as wh:
        figures = service.stats(wh)
    if as_json:
        typer.echo(json.dumps(figures, indent=2, sort_keys=True))
        return
    table = Table("table", "rows", title="Warehouse")
    for name, n in figures["tables"].items():
        table.add_row(name, f"{n:,}")
    console.print(table)
    console.print(f"as-of date: {figures['as_of_date'] or '-'}   "
                  f"last build: {figures['last_build'] or '-'}", highlight=False)
    console.print(f"scoring config: {figures['scoring_config'] or '-'}", highlight=False,
                  markup=False, soft_wrap=True)
    for title, key in (("value tier", "tiers"), ("churn risk", "churn_risk")):
        dist = Table(title, "subscribers")
        for band, n in figures[key].items():
            dist.add_row(band, f"{n:,}")
        console.print(dist)


@app.command("rebuild")
def rebuild_cmd(
    as_of: str | None = typer.Option(
        None, "--as-of", help="As-of date YYYY-MM-DD (default: TELCAMP_AS_OF_DATE, else the "
        "last day of loaded usage)."),
    config: Path | None = typer.Option(
        None, "--config", help="Scoring config YAML (default: TELCAMP_SCORING_CONFIG, else "
        "the shipped scoring.yaml)."),
) -> None:
    """Recompute the profile: derived features, usage windows, value and churn scores."""
    from telcamp.core import warehouse
    from telcamp.warehouse.build import rebuild

    as_of_date = _parse_date(as_of)
    with warehouse.open_warehouse() as wh:
        report = rebuild(wh, as_of=as_of_date, config_path=config)
    console.print(
        f"profile rebuilt for {report.subscribers:,} subscribers as of "
        f"{report.as_of_date.isoformat()} in {report.seconds:.1f} s", highlight=False,
    )
    from telcamp.warehouse import scoring

    used, loads = scoring.config_path(config), scoring.config_path(None)
    if used.resolve() != loads.resolve():
        # --config is for this rebuild only: every load rebuilds the profile with the
        # setting's file, which would silently put the previous tiers back
        console.print(
            f"note: scored with {used} for this rebuild only; every load rebuilds the "
            f"profile with {loads}. To keep these scores, set TELCAMP_SCORING_CONFIG={used}",
            highlight=False, markup=False, soft_wrap=True)  # paths stay whole to copy
