"""The `telcamp` command. Each domain's cli.py contributes a Typer app or commands."""

from __future__ import annotations

import typer

from telcamp.core.discovery import domain_modules

app = typer.Typer(
    name="telcamp",
    help="Telcamp: campaign management for mobile operators.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _register() -> None:
    for module in domain_modules("cli"):
        sub = getattr(module, "app", None)
        name = getattr(module, "NAME", None)
        if sub is not None and name:
            app.add_typer(sub, name=name)
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register()


def main() -> None:
    from telcamp.core.cli import run

    run(app)
