"""Loading operator files into the warehouse: `load_file` (one file) and `load_dir`.

Each file is one DuckDB transaction: validated and written whole, or rolled back whole
(FileRejected lists the first problems). A registry of fingerprints (sha256 of the kind
and the file's bytes) makes a second load of the same file a no-op; for the kinds that
add up (usage, product events, payments) a content fingerprint of the validated rows
does the same for the same records in other bytes (another format, delimiter, order).
After the data of a command is in, the profile is rebuilt once.

The warehouse is opened per file (core.warehouse.connect waits while another process,
e.g. the running server, holds it), so a long folder load never locks others out for
its whole length.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb

from telcamp.core import clock
from telcamp.core import warehouse as wh
from telcamp.core.errors import FileRejected, RowError, ValidationFailed
from telcamp.core.settings import get_settings
from telcamp.load import mapping as mapping_mod
from telcamp.load import writers
from telcamp.load.source import (
    CSV_SUFFIXES,
    PARQUET_SUFFIXES,
    REJECTS,
    REJECTS_SCAN,
    open_source,
    q,
)
from telcamp.warehouse.contracts import CONTRACTS, LOAD_ORDER
from telcamp.warehouse.schema import ensure_schema

ORPHAN_POLICIES = ("reject", "keep")
_TEMP_TABLES = ("_load_in", "_load_agg", "_load_msisdns", "_load_orphans", "_load_lines",
                "_load_flags", REJECTS, REJECTS_SCAN)


@dataclass
class DayOverlap:
    """Days of a loaded additive file that an earlier file of the same kind also had."""

    file: str  # the earlier file's name
    days: list[date]


def day_ranges(days: list[date]) -> str:
    """2026-11-20..2026-11-22, 2026-11-25: consecutive days as one range."""
    spans: list[list[date]] = []
    for d in sorted(days):
        if spans and d - spans[-1][1] == timedelta(days=1):
            spans[-1][1] = d
        else:
            spans.append([d, d])
    return ", ".join(a.isoformat() if a == b else f"{a.isoformat()}..{b.isoformat()}"
                     for a, b in spans)


def some_names(names: list[str], shown: int = 2) -> str:
    """a.csv, b.csv and c.csv; a.csv, b.csv and 3 more: a list that stays one short line."""
    unique = list(dict.fromkeys(names))  # a name loaded twice (re-sent changed) once
    if len(unique) <= shown + 1:
        head, tail = unique[:-1], unique[-1:]
    else:
        head, tail = unique[:shown], [f"{len(unique) - shown} more"]
    return " and ".join(x for x in (", ".join(head), *tail) if x)


@dataclass
class FileReport:
    kind: str
    file: str
    rows: int = 0  # rows loaded (usage: records, orphans excluded)
    orphans: int = 0  # rows of unknown subscribers kept aside (orphans=keep)
    duplicate: bool = False  # skipped: this file, or the same records (same_as), is loaded
    seconds: float = 0.0
    same_as: str | None = None  # skipped: its records are those of this loaded file
    # Loaded, but its days were also in these earlier files of the kind: not refused
    # (hourly or split files of one day are normal), said, since a re-sent file with a
    # change is not recognised as the same and its records are then counted twice.
    overlaps: list[DayOverlap] = field(default_factory=list)
    summed_into: int = 0  # usage: existing subscriber-days its records were added to
    # subscribers: kept orphans of these subscribers moved in (rows per kind)
    attached: dict[str, int] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.same_as:
            return f"already loaded (same records as {self.same_as})"
        return "already loaded" if self.duplicate else "loaded"

    @property
    def notes(self) -> list[str]:
        """Warnings and facts about this file, in English (CLI and report)."""
        out: list[str] = []
        # Usage files split by subscriber share their days with no subscriber-day in
        # common: the normal case of a generated or per-region export, and nothing to
        # check, so only a file summed into subscriber-days already there is warned about
        # (the days stay in `overlaps` either way).
        if self.overlaps and (self.kind != "usage" or self.summed_into):
            # one line for all the earlier files: a file of a day loaded in many hourly
            # files would otherwise get a line per file, a wall of the same words
            shared = sorted({d for o in self.overlaps for d in o.days})
            said = ("day {} was" if len(shared) == 1 else "days {} were").format(
                day_ranges(shared))
            out.append(f"warning: {said} already loaded from "
                       + some_names([o.file for o in self.overlaps]))
        if self.overlaps and self.kind == "usage" and self.summed_into:
            days = "subscriber-day" if self.summed_into == 1 else "subscriber-days"
            out.append(f"its records were added to {self.summed_into:,} {days} already there")
        if self.attached:
            words = {"usage": ("usage record", "usage records"),
                     "product_events": ("product event", "product events"),
                     "payments": ("payment", "payments")}
            out.append("attached kept orphans: " + ", ".join(
                f"{n:,} {words.get(k, (k, k))[n != 1]}" for k, n in self.attached.items()))
        return out


@dataclass
class LoadReport:
    files: list[FileReport] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # files in DIR of no known kind
    # stopped by a refused file: the files after it, not read (what to load once it is fixed)
    not_attempted: list[str] = field(default_factory=list)
    rebuilt: bool = False
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)


def fingerprint(kind: str, path: Path, stop: threading.Event | None = None) -> str:
    """sha256 of the kind and the file's bytes, streamed (files can be gigabytes).
    Returns "" when `stop` is set before the end (the answer is no longer wanted)."""
    digest = hashlib.sha256(kind.encode() + b"\0")
    with path.open("rb") as fh:
        while chunk := fh.read(8 << 20):
            if stop is not None and stop.is_set():
                return ""
            digest.update(chunk)
    return digest.hexdigest()


def kind_of(path: Path) -> str | None:
    """The kind a file name announces: the part before the first '-' or '.'."""
    stem = path.name.split(".", 1)[0].split("-", 1)[0].lower()
    return stem if stem in CONTRACTS else None


DATA_SUFFIXES = CSV_SUFFIXES + PARQUET_SUFFIXES


def is_data_name(path: Path) -> bool:
    """Whether a folder load takes the file: its name ends in a CSV or Parquet suffix.

    Only for folders: a backup (usage-0001.csv.bak, usage.csv~) or a transfer still in
    progress (usage-0002.csv.part, .tmp) has its kind's name too, and loading it would
    count its records a second time or load half a file. A file named on the command
    line is read whatever its name.
    """
    return path.name.lower().endswith(DATA_SUFFIXES)


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


def _overlaps(con: duckdb.DuckDBPyConnection, kind: str, days: list[date]) -> list[DayOverlap]:
    """Earlier files of `kind` that had any of `days`, from the day lists kept in the
    registry (the range first, so only files whose span meets these days are looked at).
    Files loaded before the registry kept days have none and are not found."""
    rows = con.execute(
        "SELECT file_name, list_intersect(days, ?::DATE[]) FROM load_registry "
        "WHERE kind = ? AND first_day <= ? AND last_day >= ? ORDER BY loaded_at, file_name",
        [days, kind, days[-1], days[0]],
    ).fetchall()
    return [DayOverlap(str(name), sorted(shared)) for name, shared in rows if shared]


def _load_one(
    con: duckdb.DuckDBPyConnection, *, kind: str, path: Path, mp: mapping_mod.Mapping,
    orphans: str,
) -> FileReport:
    started = time.perf_counter()
    contract = CONTRACTS[kind]
    report = FileReport(kind=kind, file=str(path))
    if path.is_dir():  # `telcamp load usage exports/`: say what to type, not "no such file"
        raise ValidationFailed(
            f"{path}: a folder, not a file; load every known file in it with: "
            f"telcamp load {path}", field="file")
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
    unwanted = threading.Event()
    pending = pool.submit(fingerprint, kind, path, unwanted)
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
        content = written.content
        if content is not None and content.same_as:
            # The same records in other bytes: as for the same file, nothing is added
            # (and the file's bytes need no hash: stop reading them for it).
            unwanted.set()
            con.execute("ROLLBACK")
            report.duplicate, report.same_as = True, content.same_as
            report.seconds = time.perf_counter() - started
            return report
        fp = pending.result()
        if _registered(con, fp):
            con.execute("ROLLBACK")
            report.duplicate = True
            return report
        if kind == "subscribers":
            report.attached = writers.attach_orphans(con, CONTRACTS)
        days = content.days if content is not None else []
        if days:
            report.overlaps = _overlaps(con, kind, days)
        report.summed_into = written.summed_into
        con.execute(
            "INSERT INTO load_registry (fingerprint, kind, file_name, rows, orphans, loaded_at,"
            " content_fingerprint, first_day, last_day, days) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [fp, kind, path.name, written.rows, written.orphans, clock.now(),
             content.fingerprint if content is not None else None,
             days[0] if days else None, days[-1] if days else None, days or None],
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
    if not path.exists():  # a mistyped file or folder name: say that, not "not a folder"
        raise ValidationFailed(f"{path}: no such file or folder", field="dir")
    if not path.is_dir():
        raise ValidationFailed(f"{path}: not a folder", field="dir")
    known: list[tuple[str, Path]] = []
    ignored: list[str] = []
    for p in sorted(path.iterdir()):
        if not p.is_file() or p.name.startswith("."):
            continue
        kind = kind_of(p)
        if kind is None or not is_data_name(p):
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
        for i, (kind, p) in enumerate(files):
            report.not_attempted = [str(later) for _k, later in files[i + 1:]]
            with wh.connect() as con:
                ensure_schema(con)
                fr = _load_one(con, kind=kind, path=p, mp=mp, orphans=policy)
            report.files.append(fr)
            tick(fr)
    except FileRejected as exc:
        if rebuild and any(not f.duplicate for f in report.files):
            with wh.connect() as con:
                report.rebuilt = _rebuild(con)
        # the files before the rejected one are loaded, the ones after it not read: the
        # caller must be able to say both, and how long it took
        report.seconds = time.perf_counter() - started
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
