"""`telcamp load DIR` and `telcamp load KIND FILE`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from telcamp.core.errors import FileRejected, ValidationFailed
from telcamp.warehouse.contracts import CONTRACTS

if TYPE_CHECKING:  # the service (DuckDB and all) is imported when a command runs
    from telcamp.load.service import LoadReport

console = Console()


def load(
    target: list[str] = typer.Argument(
        ..., metavar="DIR | KIND FILE",
        help="A folder (every known file in it), a file whose name gives its kind "
        "(usage-0001.csv), or a kind and one file "
        f"(kinds: {', '.join(CONTRACTS)}).",
    ),
    mapping: Path | None = typer.Option(
        None, "--mapping", help="YAML column mapping (operator names -> contract names)."
    ),
    orphans: str | None = typer.Option(
        None, "--orphans",
        help="Usage, product events and payments of unknown subscribers: 'reject' the file "
        "or 'keep' the rows aside (<kind>_orphans tables). "
        "Default: the orphan_usage setting.",
    ),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar."),
) -> None:
    """Validate and load operator files (CSV or Parquet) into the warehouse."""
    from telcamp.load import service

    one = Path(target[0]) if len(target) == 1 else None
    if one is not None and one.is_file():  # `telcamp load usage-0001.csv`: kind from the name
        kind = service.kind_of(one)
        if kind is None:
            raise ValidationFailed(
                f"{one}: the file name does not say its kind (one of {', '.join(CONTRACTS)}, "
                f"e.g. usage-0001.csv); give it: telcamp load KIND {one}", field="target")
        target = [kind, str(one)]
    if len(target) == 1:
        try:
            report = service.load_dir(
                Path(target[0]), mapping=mapping, orphans=orphans, progress=not no_progress
            )
        except FileRejected as exc:
            partial = exc.partial
            if partial is not None and partial.files:  # what did go in before the stop
                _print(partial)
                console.print("the files above were loaded; the load stopped at the "
                              "rejected file below")
            if partial is not None and partial.not_attempted:
                # what the user must load once the file is fixed (loading the folder
                # again does it: the files already loaded are skipped as such)
                names = ", ".join(Path(n).name for n in partial.not_attempted)
                console.print(f"not attempted after the rejected file: {names}; fix it and "
                              "load the folder again (files already loaded are skipped)",
                              markup=False, highlight=False)
            raise
    elif len(target) == 2:
        report = service.load_file(
            target[0], Path(target[1]), mapping=mapping, orphans=orphans,
            progress=not no_progress,
        )
    else:
        raise ValidationFailed("give a folder, or a kind and a file", field="target")
    _print(report)


def _print(report: LoadReport) -> None:
    notes = any(f.notes for f in report.files)
    table = Table("kind", "file", "rows", "orphans", "status", "seconds",
                  *(["notes"] if notes else []))
    for f in report.files:
        table.add_row(f.kind, Path(f.file).name, f"{f.rows:,}", f"{f.orphans:,}", f.status,
                      f"{f.seconds:.2f}", *(["; ".join(f.notes)] if notes else []))
    console.print(table, highlight=False)
    from telcamp.load import service

    for name in report.ignored:
        if service.kind_of(Path(name)) is None:
            console.print(f"ignored (no known kind): {name}", markup=False, highlight=False)
        else:  # a kind's name with another ending: a backup or a transfer in progress
            console.print(f"ignored (not {', '.join(service.DATA_SUFFIXES)}): {name}",
                          markup=False, highlight=False)
    console.print(
        f"{report.rows:,} rows in {report.seconds:.1f} s"
        + ("; profile rebuilt" if report.rebuilt else "")
    )


def register(app: typer.Typer) -> None:
    app.command("load")(load)
