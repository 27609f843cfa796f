"""Time the profile rebuild (features + scores) and report its peak memory.

    .venv/bin/python bench/features.py --warehouse var/bench.duckdb --make 1000000 --days 90
    .venv/bin/python bench/features.py --warehouse var/warehouse.duckdb   # existing data

--make N fills the file with synthetic rows (DuckDB range()/random(), no Python loop):
N subscribers on a 1-province/10-city/40-county tree, usage_daily for --days days with
each subscriber active on --active-share of them, monthly-ish payments, a few products.
The rebuild itself runs in a child process so its peak RSS is measured alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb


def make(path: Path, subscribers: int, days: int, active_share: float, end: date) -> None:
    from telcamp.warehouse.schema import METRICS, ensure_schema

    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    ensure_schema(con)
    for t in ("profile", "usage_daily", "subscribers", "payments", "product_events",
              "regions", "tariffs"):
        if t != "profile":
            con.execute(f"DELETE FROM {t}")
    con.execute("SELECT setseed(0.42)")
    con.execute("INSERT INTO regions VALUES ('P01', 'Province', NULL, 'province', 'UTC')")
    con.execute("""INSERT INTO regions SELECT printf('C%02d', i), printf('City %d', i), 'P01',
                   'city', 'UTC' FROM range(1, 11) t(i)""")
    con.execute("""INSERT INTO regions SELECT printf('K%03d', i), printf('County %d', i),
                   printf('C%02d', 1 + i % 10), 'county', 'UTC' FROM range(1, 41) t(i)""")
    con.execute("""INSERT INTO tariffs VALUES ('PRE1', 'Prepaid S', 'prepaid', 0),
                   ('PRE2', 'Prepaid M', 'prepaid', 5), ('POST1', 'Postpaid M', 'postpaid', 30),
                   ('POST2', 'Postpaid L', 'postpaid', 60)""")
    t0 = time.perf_counter()
    con.execute(f"""INSERT INTO subscribers
      SELECT 8613800000000 + i,
        printf('K%03d', 1 + (hash(i) % 40)::INTEGER),
        ['PRE1', 'PRE2', 'POST1', 'POST2'][1 + (hash(i * 7) % 4)::INTEGER],
        DATE '{end}' - (random() * 3000)::INTEGER,
        CASE WHEN random() < 0.03 THEN 'suspended' WHEN random() < 0.02 THEN 'churned'
             ELSE 'active' END,
        CASE WHEN random() < 0.1 THEN NULL ELSE DATE '{end}' - (6000 + random() * 20000)::INTEGER
        END,
        ['m', 'f', 'u'][1 + (hash(i * 3) % 3)::INTEGER], 'ru', 'android', NULL
      FROM range({subscribers}) t(i)""")
    metric_values = ", ".join(
        "(random() * 10)::INTEGER" if m.integer else "random() * 50" for m in METRICS
    )
    # One day at a time keeps usage_daily ordered by (day, msisdn) like a daily load.
    for d in range(days - 1, -1, -1):
        con.execute(f"""INSERT INTO usage_daily
          SELECT 8613800000000 + i, DATE '{end}' - {d}, {metric_values}, 3
          FROM range({subscribers}) t(i) WHERE random() < {active_share}""")
    con.execute(f"""INSERT INTO payments
      SELECT 8613800000000 + i,
             (DATE '{end}' - (random() * 90)::INTEGER)::TIMESTAMP AT TIME ZONE 'UTC',
             10 + random() * 50, 'recharge'
      FROM range({subscribers}) t(i), range(2) k(j) WHERE random() < 0.8""")
    con.execute(f"""INSERT INTO product_events
      SELECT 8613800000000 + i,
             (DATE '{end}' - (random() * 300)::INTEGER)::TIMESTAMP AT TIME ZONE 'UTC',
             printf('PR%d', (hash(i) % 5)::INTEGER),
             CASE WHEN random() < 0.7 THEN 'subscribe' ELSE 'unsubscribe' END, 'sms'
      FROM range({subscribers}) t(i) WHERE random() < 0.3""")
    rows = con.execute("SELECT count(*) FROM usage_daily").fetchone()
    con.execute("CHECKPOINT")
    con.close()
    print(f"made {subscribers:,} subscribers, {rows[0] if rows else 0:,} usage_daily rows "
          f"in {time.perf_counter() - t0:.1f} s", file=sys.stderr)


def child(path: Path, as_of: str | None, threads: int | None, memory_limit: str | None) -> None:
    from telcamp.warehouse.build import rebuild

    con = duckdb.connect(str(path))
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute("SET memory_limit = ?", [memory_limit])
    cpu = time.process_time()
    report = rebuild(con, as_of=date.fromisoformat(as_of) if as_of else None)
    cpu = time.process_time() - cpu
    con.execute("CHECKPOINT")
    con.close()
    print(json.dumps({"subscribers": report.subscribers, "seconds": report.seconds,
                      "cpu_seconds": cpu, "steps": report.steps,
                      "as_of_date": report.as_of_date.isoformat()}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warehouse", type=Path, required=True, help="DuckDB warehouse file.")
    ap.add_argument("--make", type=int, metavar="N", help="First fill it with N synthetic "
                    "subscribers (replaces the data in the file).")
    ap.add_argument("--days", type=int, default=90, help="Days of usage for --make.")
    ap.add_argument("--active-share", type=float, default=0.5,
                    help="Share of days each subscriber has usage, for --make.")
    ap.add_argument("--end", default="2026-06-30", help="Last usage day for --make.")
    ap.add_argument("--as-of", help="As-of date of the rebuild (default: last usage day).")
    ap.add_argument("--repeat", type=int, default=1, help="Rebuilds to run (best is kept).")
    ap.add_argument("--threads", type=int, help="DuckDB threads (default: all cores).")
    ap.add_argument("--memory-limit", default=os.environ.get("TELCAMP_WAREHOUSE_MEMORY_LIMIT"),
                    help="DuckDB memory_limit, e.g. 6GB (default: "
                    "TELCAMP_WAREHOUSE_MEMORY_LIMIT, else DuckDB's 80%% of RAM).")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.warehouse, args.as_of, args.threads, args.memory_limit)
        return
    if args.make:
        make(args.warehouse, args.make, args.days, args.active_share,
             date.fromisoformat(args.end))
    best: dict[str, float] | None = None
    peak_kb = 0
    for _ in range(args.repeat):
        cmd = [sys.executable, __file__, "--child", "--warehouse", str(args.warehouse)]
        for flag, value in (("--as-of", args.as_of), ("--threads", args.threads),
                            ("--memory-limit", args.memory_limit)):
            if value:
                cmd += [flag, str(value)]
        wall = time.perf_counter()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        wall = time.perf_counter() - wall
        result = json.loads(out.strip().splitlines()[-1])
        result["wall_seconds"] = wall
        # ru_maxrss of children: the largest child so far (kB on Linux).
        peak_kb = max(peak_kb, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        if best is None or result["seconds"] < best["seconds"]:
            best = result
    assert best is not None
    con = duckdb.connect(str(args.warehouse), read_only=True)
    usage_rows = con.execute("SELECT count(*) FROM usage_daily").fetchone()
    con.close()
    print(json.dumps({
        **best, "usage_daily_rows": usage_rows[0] if usage_rows else 0,
        "peak_rss_mb": round(peak_kb / 1024), "duckdb": duckdb.__version__,
        "machine": f"{platform.machine()}, {platform.processor() or '?'}, "
                   f"{_cpu_count()} cores",
    }, indent=2))


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    main()
