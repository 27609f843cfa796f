"""Warehouse connection (DuckDB by default) and the `Warehouse` interface.

A DuckDB file has one writing process at a time. The server therefore opens the warehouse
only for the length of one request or job (`connect()` as a context manager), and every
opener waits for a busy file (retrying) instead of failing with "database is locked";
after `warehouse_lock_timeout_s` it gives a clear StoreBusy error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import duckdb
import pyarrow as pa

from telcamp.core.errors import StoreBusy
from telcamp.core.settings import get_settings

# Opening and closing the file are serialised within the process. DuckDB shares one
# database instance among a process's connections to a file and shuts it down when the
# last one closes; a request opening the file while another closes the last connection
# got "Unique file handle conflict: Cannot attach … already attached" (a 500 in about 1
# of 50 concurrent builder requests). Queries themselves run in parallel as before.
_OPEN_CLOSE = threading.Lock()


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
            with _OPEN_CLOSE:
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
        with _OPEN_CLOSE:
            con.close()


# ---- the warehouse interface -----------------------------------------------------------
#
# The warehouse is DuckDB today. `Warehouse` is the small surface a PostgreSQL (or other)
# warehouse would implement; docs/warehouse.md says what such an implementation must do
# and which modules still speak DuckDB through the raw connection.

Params = Mapping[str, Any] | Sequence[Any] | None
"""Bound parameters: a mapping for `$name` placeholders, a sequence for `?` ones. Values
are always bound, never pasted into the SQL."""


@runtime_checkable
class Warehouse(Protocol):
    """What the warehouse domain needs from a store (build, stats, readers).

    SQL passed in is written in `dialect` (SQLGlot's name for it), so a caller either
    writes portable SQL or compiles for `dialect` (the segment compiler does). Placeholders
    are `$name` (with a mapping) or `?` (with a sequence); an implementation whose driver
    uses another style translates them (for PostgreSQL, SQLGlot turns `$name` into
    `%(name)s` and `?` into `%s`).
    """

    @property
    def dialect(self) -> str:
        """SQLGlot dialect of the SQL this warehouse runs: "duckdb", "postgres", …"""
        ...

    @property
    def tables(self) -> tuple[str, ...]:
        """The contract's table names (telcamp.warehouse.schema.TABLES)."""
        ...

    def rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        """Run a read query and return all its rows."""
        ...

    def scalar(self, sql: str, params: Params = None) -> Any:
        """First column of the first row, None without rows."""
        ...

    def arrow(self, sql: str, params: Params = None) -> pa.Table:
        """Run a read query and return its result as an Arrow table (columnar, for large
        results and for moving data between stores)."""
        ...

    def execute(self, sql: str, params: Params = None) -> None:
        """Run one statement (DDL or DML) with bound parameters."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """A write transaction: committed when the block ends, rolled back when it raises.
        Inside an open transaction it joins it (the outer owner commits or rolls back)."""
        ...

    def append(self, table: str, data: pa.Table) -> int:
        """Bulk-append an Arrow table to `table` (columns matched by name); rows added."""
        ...

    def has_table(self, name: str) -> bool:
        """Whether a table (or view) of that name exists in the warehouse's schema."""
        ...


def _contract_tables() -> tuple[str, ...]:
    from telcamp.warehouse.schema import TABLES  # the warehouse domain owns the contract

    return TABLES


class DuckDBWarehouse:
    """`Warehouse` over one DuckDB connection. `con` stays public: modules not yet routed
    through the interface (and DuckDB-only steps such as the profile build's SET
    statements) use it directly."""

    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self._depth = 0  # nesting of transaction() blocks we opened or joined

    @property
    def tables(self) -> tuple[str, ...]:
        return _contract_tables()

    def rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: Params = None) -> Any:
        # fetchall, not fetchone: DuckDB keeps a half-read result open and refuses the
        # next relation (arrow()) on the connection until it is finished.
        rows = self.con.execute(sql, params).fetchall()
        return rows[0][0] if rows else None

    def arrow(self, sql: str, params: Params = None) -> pa.Table:
        # A relation, not a DB-API result: DuckDB hands its vectors to Arrow without the
        # extra copy of the rows execute().to_arrow_table() makes.
        table: pa.Table = self.con.sql(sql, params=params).to_arrow_table()
        return table

    def execute(self, sql: str, params: Params = None) -> None:
        self.con.execute(sql, params)

    def in_transaction(self) -> bool:
        """True when the connection is inside an explicit transaction (ours or a caller's
        that began it on the raw connection): in autocommit mode every statement gets a new
        transaction id, inside a transaction it stays."""
        ids = [self.scalar("SELECT txid_current()") for _ in range(2)]
        return bool(ids[0] == ids[1])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # A BEGIN inside a transaction would abort the caller's: join it instead.
        own = self._depth == 0 and not self.in_transaction()
        if own:
            self.con.execute("BEGIN TRANSACTION")
        self._depth += 1
        try:
            yield
        except BaseException:
            if own:
                self.con.execute("ROLLBACK")
            raise
        else:
            if own:
                self.con.execute("COMMIT")
        finally:
            self._depth -= 1

    def append(self, table: str, data: pa.Table) -> int:
        if not self.has_table(table):
            raise ValueError(f"append: the warehouse has no table {table!r}")
        source = f"_append_{id(data):x}"
        self.con.register(source, data)
        try:
            cols = ", ".join(_quote(c) for c in data.column_names)
            self.con.execute(
                f"INSERT INTO {_quote(table)} ({cols}) SELECT {cols} FROM {_quote(source)}"
            )
        finally:
            self.con.unregister(source)
        return int(data.num_rows)

    def has_table(self, name: str) -> bool:
        n = self.scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ? "
            "AND table_catalog = current_database() AND table_schema = current_schema()",
            [name],
        )
        return bool(n)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def as_warehouse(target: Warehouse | duckdb.DuckDBPyConnection) -> Warehouse:
    """A `Warehouse` for either a Warehouse or a raw DuckDB connection (callers that still
    hold one, e.g. the loader passing its connection to the rebuild)."""
    if isinstance(target, duckdb.DuckDBPyConnection):
        return DuckDBWarehouse(target)
    return target


@contextmanager
def open_warehouse(
    *, read_only: bool = False, path: Path | None = None, timeout_s: float | None = None
) -> Iterator[Warehouse]:
    """`connect()` behind the interface: the configured warehouse for one unit of work."""
    with connect(read_only=read_only, path=path, timeout_s=timeout_s) as con:
        yield DuckDBWarehouse(con)
