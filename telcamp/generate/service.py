"""`generate`: write a synthetic operator's files (every data contract) into a folder.

The plan is computed from the arguments alone (blocks of subscribers, which blocks and
days go to which usage file), then carried out inline or by a small process pool. Same
arguments, same bytes. See docs/generator.md for the model.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import queue as queue_mod
import re
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from telcamp.core import clock
from telcamp.core.errors import ValidationFailed
from telcamp.generate import profiles, usage
from telcamp.generate.columns import TableWriter, epoch_day, from_epoch_day
from telcamp.generate.population import SUB_BLOCK, block_count, make_block
from telcamp.generate.work import Params, Progress, Task, Written, init_worker, run_in_worker
from telcamp.generate.work import run_task as _run_task
from telcamp.warehouse.contracts import LOAD_ORDER

FORMATS = ("csv", "parquet")
MAX_SUBSCRIBERS = 100_000_000
MAX_DAYS = 400
ROWS_PER_USAGE_FILE = 10_000_000
# Below this many expected rows, starting worker processes costs more than it saves.
_POOL_THRESHOLD = 3_000_000


@dataclass
class GenerateReport:
    out: Path
    fmt: str
    seed: int
    subscribers: int
    days: int
    first_date: date
    end_date: date
    files: list[Written] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> dict[str, int]:
        """Rows written per kind, in load order."""
        totals = {k: 0 for k in LOAD_ORDER}
        for f in self.files:
            totals[f.kind] += f.rows
        return totals

    @property
    def total_rows(self) -> int:
        return sum(f.rows for f in self.files)


def validate(*, subscribers: int, days: int, seed: int, fmt: str,
             events_per_day: float) -> None:
    if not isinstance(subscribers, int) or not 1 <= subscribers <= MAX_SUBSCRIBERS:
        raise ValidationFailed(
            f"--subscribers must be between 1 and {MAX_SUBSCRIBERS:,}, got {subscribers}",
            field="subscribers")
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(f"--days must be between 1 and {MAX_DAYS}, got {days}",
                               field="days")
    if not isinstance(seed, int) or seed < 0:
        raise ValidationFailed(f"--seed must be a whole number >= 0, got {seed}", field="seed")
    if fmt not in FORMATS:
        raise ValidationFailed(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}",
                               field="format")
    if not (math.isfinite(events_per_day) and 0 < events_per_day <= 1000):
        raise ValidationFailed(
            f"--events-per-day must be above 0 and at most 1000, got {events_per_day}",
            field="events_per_day")


def plan_usage(*, subscribers: int, days: int, first_day: int, events_per_day: float,
               out: Path, fmt: str, rows_per_file: int) -> list[Task]:
    """Usage files of at most about `rows_per_file` expected rows: a group of subscriber
    blocks over the whole window, or one block over a range of days when one block is
    already more."""
    n_blocks = block_count(subscribers)
    per_block_day = min(subscribers, SUB_BLOCK) * events_per_day
    # At least two files once there is real work, so both cores of a 2-core box get some
    # (a constant, not the pool size: the files must not depend on the machine).
    rows_per_file = min(rows_per_file,
                        max(int(subscribers * days * events_per_day / 2), 1_000_000))
    if per_block_day * days <= rows_per_file:
        blocks_per_file = max(1, int(rows_per_file // (per_block_day * days)))
        days_per_file = days
    else:
        blocks_per_file = 1
        days_per_file = max(1, int(rows_per_file // per_block_day))
    tasks: list[Task] = []
    for d0 in range(0, days, days_per_file):
        day_range = tuple(range(first_day + d0, first_day + min(days, d0 + days_per_file)))
        for b0 in range(0, n_blocks, blocks_per_file):
            number = len(tasks) + 1
            tasks.append(Task("usage", tuple(range(b0, min(n_blocks, b0 + blocks_per_file))),
                              day_range, out / f"usage-{number:04d}.{fmt}"))
    return tasks


def _kind_of(name: str) -> str:
    return re.split(r"[-.]", name, maxsplit=1)[0]


def _clear_previous(out: Path) -> None:
    """Files of an earlier run would be loaded with the new ones (an old usage-0007 next
    to a new run of five files), so generated kinds are replaced, others left alone."""
    for f in out.iterdir():
        if f.is_file() and f.name.endswith((".csv", ".parquet", ".part")) \
                and _kind_of(f.name) in LOAD_ORDER:
            f.unlink()


def generate(*, subscribers: int, days: int, seed: int, out: Path, fmt: str = "csv",
             end_date: date | None = None, events_per_day: float = 3.0,
             progress: bool = False, workers: int | None = None,
             rows_per_file: int = ROWS_PER_USAGE_FILE) -> GenerateReport:
    """Write regions, tariffs, subscribers, usage-NNNN, product_events and payments files
    (CSV or Parquet, contract column order) for a synthetic operator into `out`.

    `end_date` is the last day of usage (default: yesterday by the product clock);
    `workers` caps the process pool (default: up to 2, the machine's cores)."""
    validate(subscribers=subscribers, days=days, seed=seed, fmt=fmt,
             events_per_day=events_per_day)
    started = time.perf_counter()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValidationFailed(f"--out {out} exists and is not a folder", field="out")
    end = end_date if end_date is not None else clock.today() - timedelta(days=1)
    end_day = epoch_day(end)
    first_day = end_day - days + 1
    out.mkdir(parents=True, exist_ok=True)
    _clear_previous(out)

    block0 = make_block(seed=seed, block=0, subscribers=subscribers, end_day=end_day)
    params = Params(seed=seed, subscribers=subscribers, first_day=first_day, days=days,
                    fmt=fmt, events_per_day=events_per_day,
                    scale=usage.scale_for(block0, first_day, days, events_per_day))
    del block0
    usage_tasks = plan_usage(subscribers=subscribers, days=days, first_day=first_day,
                             events_per_day=events_per_day, out=out, fmt=fmt,
                             rows_per_file=rows_per_file)
    profile_task = Task("profiles", tuple(range(block_count(subscribers))))
    report = GenerateReport(out=out, fmt=fmt, seed=seed, subscribers=subscribers, days=days,
                            first_date=from_epoch_day(first_day), end_date=end)
    for kind, table in (("regions", profiles.regions_table()),
                        ("tariffs", profiles.tariffs_table())):
        with TableWriter(out / f"{kind}.{fmt}", table.schema, fmt) as w:
            w.write(table)
        report.files.append(Written(kind, w.path, w.rows))

    expected_usage = subscribers * days * events_per_day
    # The profiles task (one pass over every block) is the longest single task: start it
    # first so the usage files fill the other worker meanwhile and both finish together.
    tasks = [profile_task, *usage_tasks]
    n_workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    use_pool = n_workers > 1 and len(tasks) > 1 and expected_usage >= _POOL_THRESHOLD
    with _progress_bars(progress, subscribers, int(expected_usage)) as advance:
        if use_pool:
            written = _run_pool(tasks, params, out, n_workers, advance)
        else:
            written = [w for t in tasks for w in _run_task(t, params, out, advance)]
    by_kind = {k: [w for w in written if w.kind == k] for k in LOAD_ORDER}
    report.files += [w for k in LOAD_ORDER[2:] for w in sorted(by_kind[k],
                                                               key=lambda w: w.path.name)]
    report.seconds = time.perf_counter() - started
    return report


def _run_pool(tasks: list[Task], params: Params, out: Path, n_workers: int,
              advance: Progress) -> list[Written]:
    # spawn, not fork: Arrow and NumPy keep thread pools that a fork would inherit broken.
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    written: list[Written] = []
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx, initializer=init_worker,
                             initargs=(q,)) as pool:
        pending: set[Future[list[Written]]] = {
            pool.submit(run_in_worker, t, params, out) for t in tasks}
        try:
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
                for fut in done:
                    written += fut.result()  # re-raises a worker's error here
                _drain(q, advance)
        except BaseException:
            # Do not write the remaining files of a run that has already failed.
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    _drain(q, advance)
    return written


def _drain(q: multiprocessing.queues.Queue[tuple[str, int]], advance: Progress) -> None:
    while True:
        try:
            kind, rows = q.get_nowait()
        except queue_mod.Empty:
            return
        advance(kind, rows)


@contextmanager
def _progress_bars(show: bool, subscribers: int, expected_usage: int) -> Iterator[Progress]:
    if not show:
        yield lambda kind, rows: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn()) as bars:
        ids = {"subscribers": bars.add_task("subscribers", total=subscribers),
               "usage": bars.add_task("usage", total=max(expected_usage, 1)),
               "events": bars.add_task("events", total=None)}

        def advance(kind: str, rows: int) -> None:
            bars.advance(ids[kind], rows)

        yield advance
        # Usage totals were estimates; show the bars complete at the true figure.
        for task_id in ids.values():
            t = bars.tasks[task_id]
            bars.update(task_id, total=t.completed)
