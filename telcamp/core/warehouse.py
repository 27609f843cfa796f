"""Warehouse connection (DuckDB by default).

A DuckDB file has one writing process at a time. The server therefore opens the warehouse
only for the length of one request or job (`connect()` as a context manager), and every
opener waits for a busy file (retrying) instead of failing with "database is locked";
after `warehouse_lock_timeout_s` it gives a clear StoreBusy error.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from telcamp.core.errors import StoreBusy
from telcamp.core.settings import get_settings


def _open(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open the file read-write whatever `read_only` says.

    DuckDB refuses, within one process, a read-only and a read-write connection to the same
    file ("different configuration"): a page request and a scheduler tick of the server
    would collide. Across processes read-only buys nothing either, since any writer locks
    readers out. So `read_only` only states the caller's intent.
    """
    del read_only
    path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path))


@contextmanager
def connect(
    *, read_only: bool = False, path: Path | None = None, timeout_s: float | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse for one unit of work, waiting while another process holds it."""
    settings = get_settings()
    target = path or settings.warehouse_file
    wait = settings.warehouse_lock_timeout_s if timeout_s is None else timeout_s
    deadline = time.monotonic() + wait
    delay = 0.05
    while True:
        try:
            con = _open(target, read_only)
            break
        except duckdb.IOException as exc:  # lock held by another process
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                if "lock" in str(exc).lower():
                    raise StoreBusy(
                        f"the warehouse {target} is in use by another process and stayed busy "
                        f"for {wait:.0f} s; try again when the running load has finished"
                    ) from exc
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    try:
        if settings.warehouse_memory_limit:
            # Keeps a 10M-subscriber profile rebuild within the machine's budget (spilling).
            con.execute("SET memory_limit = ?", [settings.warehouse_memory_limit])
        yield con
    finally:
        con.close()
