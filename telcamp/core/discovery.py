"""Find the domain packages and their optional modules (api, pages, cli, models).

Domains register themselves by existing: a package under telcamp/ with an `api.py`
exposing `router`, a `pages.py` exposing `router`, a `cli.py` exposing `app` (Typer), or a
`models.py`. This keeps the app factory, the CLI root and Alembic free of domain lists.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

import telcamp

_NOT_DOMAINS = {"core", "migrations", "locale"}


def domain_names() -> list[str]:
    root = Path(telcamp.__file__).parent
    return sorted(
        m.name
        for m in pkgutil.iter_modules([str(root)])
        if m.ispkg and m.name not in _NOT_DOMAINS
    )


def domain_modules(module: str) -> list[ModuleType]:
    """Import `telcamp.<domain>.<module>` for each domain that has it."""
    root = Path(telcamp.__file__).parent
    found = []
    for name in domain_names():
        if (root / name / f"{module}.py").exists():
            found.append(importlib.import_module(f"telcamp.{name}.{module}"))
    return found


def template_dirs() -> list[Path]:
    root = Path(telcamp.__file__).parent
    return [p for p in (root / n / "templates" for n in domain_names()) if p.is_dir()]
