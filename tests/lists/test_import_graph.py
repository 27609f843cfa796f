"""telcamp.lists and telcamp.segments import each other without a cycle, counting the
imports made inside functions too: a cycle hidden behind a function-level import works
until someone moves that import to the top, then fails depending on import order."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("telcamp.lists", "telcamp.segments")


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg.replace(".", "/")).glob("*.py"):
            out[f"{pkg}.{path.stem}" if path.stem != "__init__" else pkg] = path
    return out


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Modules of the two packages that `path` imports anywhere (top level or in a body),
    except under `if TYPE_CHECKING:` (never executed)."""
    tree = ast.parse(path.read_text())
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for n in ast.walk(node)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module in modules:
                found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names
                      if f"{node.module}.{a.name}" in modules}
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                return [*stack[stack.index(n):], n]
            if n not in state and (found := visit(n)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_no_import_cycle_between_lists_and_segments_modules() -> None:
    modules = _modules()
    graph = {m: _imports(p, modules) - {m} for m, p in modules.items()}
    # the package __init__ is imported by every submodule; it imports nothing here
    assert _cycle(graph) is None, " → ".join(_cycle(graph) or [])


def test_cycle_finder_sees_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("first", ["telcamp.lists.exclusions", "telcamp.lists.service",
                                   "telcamp.segments.audience", "telcamp.segments.service"])
def test_any_import_order_works(first: str) -> None:
    others = ["telcamp.lists.exclusions", "telcamp.lists.service",
              "telcamp.segments.audience", "telcamp.segments.service", "telcamp.lists.api",
              "telcamp.segments.api"]
    code = "; ".join(f"import {m}" for m in [first, *others])
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)
