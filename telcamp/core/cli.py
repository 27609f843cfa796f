"""CLI glue: turn deliberate errors into a clear message and exit code 2 (no traceback)."""

from __future__ import annotations

import sys

import pydantic
import typer
from rich.console import Console
from rich.markup import escape

from telcamp.core.errors import TelcampError

# soft_wrap: long paths in error messages must stay on one line (copyable, greppable)
err_console = Console(stderr=True, soft_wrap=True)


def run(app: typer.Typer) -> None:
    try:
        # Without standalone mode click returns typer.Exit's code instead of exiting.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except TelcampError as exc:
        # escape: messages carry "file:line [column]", which Rich would eat as markup
        err_console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
        sys.exit(2)
    except pydantic.ValidationError as exc:
        # a command building a schema from its arguments (e.g. an empty segment name):
        # the same plain reasons the API gives, not pydantic's traceback
        from telcamp.core.field_errors import describe

        for e in describe(exc.errors(), lambda m: m):
            err_console.print(f"[bold red]error:[/] {escape(e.message)}", highlight=False)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except Exception as exc:  # usage errors come through here with standalone off
        # Typer >= 0.20 vendors click (typer._click), so its BadParameter is not a
        # click.ClickException: recognise both by shape (show() and exit_code, i.e. 2).
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            sys.exit(code)
        raise
