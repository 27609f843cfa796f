"""Benchmark `telcamp generate`: wall time, rows, rows/s, peak memory.

The issue's target: 10M subscribers with 100M usage rows in at most 3 minutes on this
2-core machine. The default --events-per-day is chosen so that N subscribers over D days
give 100M usage rows at N = 10M, D = 30 (1/3 record per subscriber per day).

    .venv/bin/python bench/generate.py --subscribers 10000000 --days 30 --out /tmp/gen10m
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import time
from datetime import date
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subscribers", type=int, default=10_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--out", type=Path, required=True, help="folder for the files")
    ap.add_argument("--format", default="csv", choices=["csv", "parquet"])
    ap.add_argument("--events-per-day", type=float, default=1 / 3,
                    help="mean usage records per subscriber per day (default 1/3)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--end-date", type=date.fromisoformat, default=date(2026, 11, 21))
    ap.add_argument("--workers", type=int, default=None, help="process pool size (default 2)")
    ap.add_argument("--keep", action="store_true", help="keep the files afterwards")
    args = ap.parse_args()

    from telcamp.generate import service

    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    report = service.generate(
        subscribers=args.subscribers, days=args.days, seed=args.seed, out=args.out,
        fmt=args.format, end_date=args.end_date, events_per_day=args.events_per_day,
        progress=True, workers=args.workers)
    wall = time.perf_counter() - started
    size = sum(f.path.stat().st_size for f in report.files)
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    rss_self, rss_child = me.ru_maxrss / 1024, children.ru_maxrss / 1024
    cpu = me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime
    rows = report.rows
    print(f"machine      : {os.cpu_count()} cores, {platform.python_implementation()} "
          f"{platform.python_version()}")
    print(f"arguments    : {args.subscribers:,} subscribers, {args.days} days, "
          f"{args.events_per_day:.3g} events/subscriber/day, {args.format}")
    for kind, n in rows.items():
        print(f"  {kind:<15}{n:>15,}")
    print(f"wall time    : {wall:.1f} s (CPU {cpu:.1f} s; load average before "
          f"{load_before:.1f}, after {os.getloadavg()[0]:.1f})")
    print(f"rows         : {report.total_rows:,} ({rows['usage']:,} usage)")
    print(f"rows/s       : {report.total_rows / wall:,.0f} (usage {rows['usage'] / wall:,.0f})")
    print(f"written      : {size / 2**30:.2f} GiB in {len(report.files)} files")
    print(f"peak RSS     : main {rss_self:,.0f} MiB, largest worker {rss_child:,.0f} MiB")
    if not args.keep:
        shutil.rmtree(args.out)


if __name__ == "__main__":  # the process pool (spawn) re-imports this module
    main()
