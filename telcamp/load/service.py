"""Loading operator files into the warehouse: `load_file` (one file) and `load_dir`.

Each file is one DuckDB transaction: validated and written whole, or rolled back whole
(FileRejected lists the first problems). A registry of fingerprints (sha256 of the kind
and the file's bytes) makes a second load of the same file a no-op. After the data of a
command is in, the profile is rebuilt once.

The warehouse is opened per file (core.warehouse.connect waits while another process,
e.g. the running server, holds it), so a long folder load never locks others out for
its whole length.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from telcamp.core import clock
from telcamp.core import warehouse as wh
from telcamp.core.errors import FileRejected, RowError, ValidationFailed
from telcamp.core.settings import get_settings
from telcamp.load import mapping as mapping_mod
from telcamp.load import writers
from telcamp.load.source import REJECTS, REJECTS_SCAN, open_source, q
from telcamp.warehouse.contracts import CONTRACTS, LOAD_ORDER
from telcamp.warehouse.schema import ensure_schema

ORPHAN_POLICIES = ("reject", "keep")
_TEMP_TABLES = ("_load_in", "_load_agg", "_load_msisdns", "_load_orphans", "_load_lines",
                "_load_flags", REJECTS, REJECTS_SCAN)


@dataclass
class FileReport:
    kind: str
    file: str
    rows: int = 0  # rows loaded (usage: records, orphans excluded)
    orphans: int = 0  # rows of unknown subscribers kept aside (orphans=keep)
    duplicate: bool = False  # skipped: this very file was loaded before
    seconds: float = 0.0

    @property
    def status(self) -> str:
        return "already loaded" if self.duplicate else "loaded"


@dataclass
class LoadReport:
    files: list[FileReport] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # files in DIR of no known kind
    rebuilt: bool = False
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)


def fingerprint(kind: str, path: Path) -> str:
    """sha256 of the kind and the file's bytes, streamed (files can be gigabytes)."""
    digest = hashlib.sha256(kind.encode() + b"\0")
    with path.open("rb") as fh:
        while chunk := fh.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def kind_of(path: Path) -> str | None:
    """The kind a file name announces: the part before the first '-' or '.'."""
    stem = path.name.split(".", 1)[0].split("-", 1)[0].lower()
    return stem if stem in CONTRACTS else None


def _policy(orphans: str | None) -> str:
    value = orphans or get_settings().orphan_usage
    if value not in ORPHAN_POLICIES:
        raise ValidationFailed(
            f"orphans must be one of {', '.join(ORPHAN_POLICIES)}, got {value!r}", field="orphans"
        )
    return value


def _registered(con: duckdb.DuckDBPyConnection, fp: str) -> bool:
    row = con.execute("SELECT 1 FROM load_registry WHERE fingerprint = ?", [fp]).fetchone()
    return row is not None


def _load_one(
    con: duckdb.DuckDBPyConnection, *, kind: str, path: Path, mp: mapping_mod.Mapping,
    orphans: str,
) -> FileReport:
    started = time.perf_counter()
    contract = CONTRACTS[kind]
    report = FileReport(kind=kind, file=str(path))
    if not path.is_file():
        raise ValidationFailed(f"{path}: no such file", field="file")
    # Hashing a multi-gigabyte file costs a fifth of its load. When no file of this name
    # was loaded before (the usual case), hash it in a thread (hashlib releases the GIL)
    # while DuckDB loads, and decide before the commit; a name seen before is most likely
    # the same file again, so hash first and skip the load.
    seen_name = con.execute(
        "SELECT 1 FROM load_registry WHERE kind = ? AND file_name = ?", [kind, path.name]
    ).fetchone()
    pool = ThreadPoolExecutor(max_workers=1)
    pending = pool.submit(fingerprint, kind, path)
    pool.shutdown(wait=False)
    if seen_name and _registered(con, pending.result()):
        report.duplicate = True
        return report
    con.execute("SET enable_progress_bar = false")  # our own bar, not DuckDB's on stdout
    con.execute("BEGIN TRANSACTION")
    try:
        for t in _TEMP_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {q(t)}")
        source = open_source(con, path=path, contract=contract, mapping=mp.for_kind(kind))
        write = writers.write_usage if kind == "usage" else writers.write_table
        try:
            written = write(con, source, contract, orphans)
        except (duckdb.InvalidInputException, duckdb.ConversionException) as exc:
            # the reader gave up on the file as a whole (e.g. mixed line endings)
            reason = "cannot be read: " + str(exc).split("\n", 1)[0]
            raise FileRejected(file=path.name, errors=[RowError(path.name, None, None, reason)],
                               total=1) from exc
        fp = pending.result()
        if _registered(con, fp):
            con.execute("ROLLBACK")
            report.duplicate = True
            return report
        con.execute(
            "INSERT INTO load_registry VALUES (?, ?, ?, ?, ?, ?)",
            [fp, kind, path.name, written.rows, written.orphans, clock.now()],
        )
        for t in _TEMP_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {q(t)}")
        con.execute("COMMIT")
    except FileRejected:
        con.execute("ROLLBACK")
        if _registered(con, pending.result()):  # e.g. loaded before with --orphans keep
            report.duplicate = True
            return report
        raise
    except BaseException:
        con.execute("ROLLBACK")
        raise
    report.rows, report.orphans = written.rows, written.orphans
    report.seconds = time.perf_counter() - started
    return report


def _rebuild(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        from telcamp.warehouse.build import rebuild
    except ImportError:  # pragma: no cover - only before the warehouse build existed
        return False
    rebuild(con)
    return True


def _check_kind(kind: str) -> str:
    kind = kind.lower()
    if kind not in CONTRACTS:
        raise ValidationFailed(
            f"unknown kind {kind!r}; kinds: {', '.join(CONTRACTS)}", field="kind"
        )
    return kind


def load_file(
    kind: str, path: Path, *, mapping: Path | None = None, orphans: str | None = None,
    progress: bool = False, rebuild: bool = True,
) -> LoadReport:
    """Validate and load one file of `kind`, then rebuild the profile."""
    return load_files(
        [(_check_kind(kind), Path(path))], mapping=mapping, orphans=orphans,
        progress=progress, rebuild=rebuild,
    )


def plan_dir(path: Path) -> tuple[list[tuple[str, Path]], list[str]]:
    """Known files of a folder in LOAD_ORDER (then by name), and the ignored ones."""
    if not path.is_dir():
        raise ValidationFailed(f"{path}: not a folder", field="dir")
    known: list[tuple[str, Path]] = []
    ignored: list[str] = []
    for p in sorted(path.iterdir()):
        if not p.is_file() or p.name.startswith("."):
            continue
        kind = kind_of(p)
        if kind is None:
            ignored.append(p.name)
        else:
            known.append((kind, p))
    known.sort(key=lambda kp: (LOAD_ORDER.index(kp[0]), kp[1].name))
    return known, ignored


def load_dir(
    path: Path, *, mapping: Path | None = None, orphans: str | None = None,
    progress: bool = False, rebuild: bool = True,
) -> LoadReport:
    """Load every known file of a folder, references first (LOAD_ORDER)."""
    known, ignored = plan_dir(Path(path))
    if not known:
        raise ValidationFailed(
            f"{path}: no files of a known kind ({', '.join(LOAD_ORDER)}) found", field="dir"
        )
    report = load_files(known, mapping=mapping, orphans=orphans, progress=progress,
                        rebuild=rebuild)
    report.ignored = ignored
    return report


def load_files(
    files: list[tuple[str, Path]], *, mapping: Path | None = None, orphans: str | None = None,
    progress: bool = False, rebuild: bool = True,
) -> LoadReport:
    """Load files in the order given; stop at the first rejected file (the files before
    it stay loaded, and the profile is rebuilt for them before the error is raised)."""
    started = time.perf_counter()
    mp = mapping_mod.load(mapping)
    policy = _policy(orphans)
    report = LoadReport()
    tick: Callable[[FileReport], None] = lambda _r: None  # noqa: E731
    bar = None
    if progress:
        from rich.progress import Progress

        bar = Progress(transient=True)
        task = bar.add_task("loading", total=len(files))
        bar.start()

        def tick(r: FileReport) -> None:
            bar.update(task, advance=1, description=f"{r.kind}: {Path(r.file).name}")

    try:
        for kind, p in files:
            with wh.connect() as con:
                ensure_schema(con)
                fr = _load_one(con, kind=kind, path=p, mp=mp, orphans=policy)
            report.files.append(fr)
            tick(fr)
    except FileRejected as exc:
        if rebuild and any(not f.duplicate for f in report.files):
            with wh.connect() as con:
                report.rebuilt = _rebuild(con)
        # the files before the rejected one are loaded: the caller must be able to say so
        exc.partial = report
        raise
    finally:
        if bar is not None:
            bar.stop()
    if rebuild and any(not f.duplicate for f in report.files):
        with wh.connect() as con:
            ensure_schema(con)
            report.rebuilt = _rebuild(con)
    report.seconds = time.perf_counter() - started
    return report
