"""Time a special-list CSV import end to end: validate, apply, copy to the warehouse.

    .venv/bin/python bench/lists.py --rows 100000
    .venv/bin/python bench/lists.py --rows 1000000 --bad-every 1000
    .venv/bin/python bench/lists.py --rows 10000 --existing 1000000   # into a big list
    .venv/bin/python bench/lists.py --rows 100000 \
        --db-url postgresql+psycopg://postgres@127.0.0.1:5432/telcamp_bench

Runs in a fresh temporary var/ (SQLite operational DB + DuckDB warehouse) unless
--db-url names an existing (migrated here) database. With --bad-every N every Nth row is
malformed and the import is confirmed as partial. With --existing N the list first
holds N other numbers (copied to the warehouse), so the timed import measures the merge
into a large list. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000, help="numbers in the file")
    ap.add_argument("--bad-every", type=int, default=0, help="make every Nth row malformed")
    ap.add_argument("--existing", type=int, default=0,
                    help="numbers already on the list (and in its warehouse copy)")
    ap.add_argument("--db-url", default=None, help="operational DB (default: temp SQLite)")
    args = ap.parse_args()

    os.environ["TELCAMP_VAR_DIR"] = tempfile.mkdtemp(prefix="telcamp-bench-lists-")
    if args.db_url:
        os.environ["TELCAMP_DATABASE_URL"] = args.db_url

    from telcamp.core.db import migrate, session_scope
    from telcamp.core.security import system_principal
    from telcamp.lists import importer, service, sync
    from telcamp.lists.schemas import ListCreate

    migrate()
    who = system_principal()
    with session_scope() as s:
        lid = service.create_list(s, principal=who, list_in=ListCreate(
            name=f"bench {time.time_ns()}", type="optout")).id
    if args.existing:
        seed = "\n".join(f"7913{i:07d}" for i in range(args.existing)).encode()
        with session_scope() as s:
            importer.apply(s, principal=who, list_id=lid,
                           parsed=importer.parse(seed, file="seed.csv"))
        sync.sync_lists([lid], strict=True)
    lines = ["msisdn,reason,expiry"]
    for i in range(args.rows):
        bad = args.bad_every and i % args.bad_every == args.bad_every - 1
        lines.append(f"{'x' if bad else ''}7912{i:07d},bench,2099-12-31")
    data = "\n".join(lines).encode()

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    parsed = importer.parse(data, file="bench.csv")
    timings["validate_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    with session_scope() as s:
        report = importer.apply(s, principal=who, list_id=lid, parsed=parsed,
                                confirm_partial=bool(args.bad_every))
    timings["apply_s"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    if args.existing:
        sync.sync_import(lid, parsed.valid, strict=True)
    else:
        sync.sync_lists([lid], strict=True)
    timings["warehouse_copy_s"] = time.perf_counter() - t2
    timings["total_s"] = time.perf_counter() - t0
    print(json.dumps({
        "rows": args.rows, "existing": args.existing, "added": report.added,
        "rejected": report.rejected_total,
        "db": "postgresql" if args.db_url else "sqlite",
        **{k: round(v, 3) for k, v in timings.items()},
        "rows_per_s": round(args.rows / timings["total_s"]),
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
    }))


if __name__ == "__main__":
    main()
