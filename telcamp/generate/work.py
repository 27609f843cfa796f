"""The units of work of a generation run and how a process carries one out.

A task writes whole files. Everything random in it is seeded from (seed, stream, block,
day), never from the task, so the bytes do not depend on which process runs which task or
in what order. Progress goes to a callback (inline) or a queue (worker processes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telcamp.generate import catalogue as cat
from telcamp.generate import events, profiles, usage
from telcamp.generate.columns import TableWriter, TimeTable, digits
from telcamp.generate.population import Block, make_block

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class Params:
    seed: int
    subscribers: int
    first_day: int
    days: int
    fmt: str
    events_per_day: float
    scale: float  # global usage factor (see usage.scale_for)

    @property
    def end_day(self) -> int:
        return self.first_day + self.days - 1


@dataclass(frozen=True)
class Task:
    kind: str  # "profiles" (subscribers, product_events, payments) or "usage"
    blocks: tuple[int, ...]
    days: tuple[int, ...] = ()  # usage: the days of this file
    path: Path | None = None  # usage: the file to write


@dataclass(frozen=True)
class Written:
    kind: str
    path: Path
    rows: int


def _block(params: Params, b: int) -> tuple[Block, Any]:
    block = make_block(seed=params.seed, block=b, subscribers=params.subscribers,
                       end_day=params.end_day)
    return block, digits(block.msisdn, 11)


# Rows of one generated batch at most (expected): bounds memory at high --events-per-day.
BATCH_ROWS = 2_000_000


def _parts(n: int, events_per_day: float) -> list[tuple[int, int]]:
    """Split a block's subscribers so one day's batch stays under BATCH_ROWS; depends on
    the arguments only, like everything that shapes the output."""
    size = max(1, min(n, int(BATCH_ROWS // events_per_day)))
    return [(lo, min(n, lo + size)) for lo in range(0, n, size)]


def run_task(task: Task, params: Params, out: Path, progress: Progress) -> list[Written]:
    times = TimeTable(params.first_day, params.days, cat.county_timezones())
    ext = params.fmt
    if task.kind == "usage":
        assert task.path is not None
        blocks = [_block(params, b) for b in task.blocks]
        with TableWriter(task.path, usage.SCHEMA, ext) as w:
            for day in task.days:
                for block, msisdn_bytes in blocks:
                    for lo, hi in _parts(len(block), params.events_per_day):
                        table = usage.usage_table(
                            seed=params.seed, block=block.part(lo, hi),
                            msisdn_bytes=msisdn_bytes[lo:hi], day=day,
                            first_day=params.first_day, days=params.days,
                            scale=params.scale, times=times)
                        w.write(table)
                        progress("usage", table.num_rows)
        return [Written("usage", task.path, w.rows)]

    subs = TableWriter(out / f"subscribers.{ext}", profiles.SUBSCRIBER_SCHEMA, ext)
    prods = TableWriter(out / f"product_events.{ext}", events.PRODUCT_SCHEMA, ext)
    pays = TableWriter(out / f"payments.{ext}", events.PAYMENT_SCHEMA, ext)
    with subs, prods, pays:
        for b in task.blocks:
            block, msisdn_bytes = _block(params, b)
            subs.write(profiles.subscriber_table(seed=params.seed, block=block,
                                                 msisdn_bytes=msisdn_bytes))
            progress("subscribers", len(block))
            common = {"seed": params.seed, "block": block, "msisdn_bytes": msisdn_bytes,
                      "first_day": params.first_day, "days": params.days, "times": times}
            p = events.product_table(**common)
            prods.write(p)
            q = events.payment_table(**common)
            pays.write(q)
            progress("events", p.num_rows + q.num_rows)
    return [Written("subscribers", subs.path, subs.rows),
            Written("product_events", prods.path, prods.rows),
            Written("payments", pays.path, pays.rows)]


# Worker processes report progress through a queue handed over at start-up.
_queue: Any = None


def init_worker(queue: Any) -> None:
    global _queue
    _queue = queue


def _to_queue(kind: str, rows: int) -> None:
    if _queue is not None:
        _queue.put((kind, rows))


def run_in_worker(task: Task, params: Params, out: Path) -> list[Written]:
    return run_task(task, params, out, _to_queue)
