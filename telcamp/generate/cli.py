"""`telcamp generate`: write a synthetic operator's data files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from telcamp.core.errors import ValidationFailed

console = Console()


def generate_cmd(
    subscribers: int = typer.Option(100_000, "--subscribers", "-n",
                                    help="Number of subscribers (1 to 100,000,000)."),
    days: int = typer.Option(30, "--days", "-d", help="Days of usage, ending with --end-date "
                             "(1 to 400)."),
    seed: int = typer.Option(42, "--seed", "-s", help="Random seed: same seed, same bytes."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the files into "
                             "(created if missing; earlier generated files are replaced)."),
    fmt: str = typer.Option("csv", "--format", "-f", help="csv or parquet."),
    end_date: str | None = typer.Option(None, "--end-date", help="Last day of usage, "
                                        "YYYY-MM-DD (default: yesterday)."),
    events_per_day: float = typer.Option(3.0, "--events-per-day", help="Mean usage records "
                                         "per subscriber per day."),
    workers: int | None = typer.Option(None, "--workers", help="Processes to use (default: "
                                       "up to 2)."),
) -> None:
    """Generate a synthetic operator: regions, tariffs, subscribers, usage, product events
    and payments, in the data contracts' format."""
    from telcamp.generate import service

    end: date | None = None
    if end_date is not None:
        try:
            end = date.fromisoformat(end_date)
        except ValueError:
            raise ValidationFailed(f"--end-date must be a date YYYY-MM-DD, got {end_date!r}",
                                   field="end_date") from None
    if workers is not None and workers < 1:
        raise ValidationFailed(f"--workers must be at least 1, got {workers}",
                               field="workers")
    report = service.generate(subscribers=subscribers, days=days, seed=seed, out=out,
                              fmt=fmt.lower(), end_date=end, events_per_day=events_per_day,
                              progress=True, workers=workers)
    table = Table(title=f"{report.out} ({report.first_date} .. {report.end_date}, "
                        f"seed {report.seed})")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for f in report.files:
        table.add_row(f.path.name, f"{f.rows:,}")
    console.print(table)
    console.print(f"{report.total_rows:,} rows in {report.seconds:.1f} s")


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_cmd)
