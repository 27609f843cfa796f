"""Benchmark: copying outcome events from the operational outbox to the warehouse
contact history (telcamp.dispatch.history.sync), the work every dispatch worker does
every `history_every_s` during a wave.

    .venv/bin/python bench/history.py --events 1000000 --db postgresql \
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--rounds 2]

A scratch database (SQLite in a temporary var/, or a scratch PostgreSQL database dropped
afterwards) gets N `sent` events of one wave, written straight into dispatch_event; each
round copies them into a warehouse that already holds the rounds before (history grows
as it does over a campaign's life). Prints one JSON line per round: events/s and µs per
event.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from outbox import _env


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    ap.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()

    import sqlalchemy as sa

    tmp = Path(tempfile.mkdtemp(prefix="bench-history-"))
    admin = None
    name = f"bench_history_{uuid.uuid4().hex[:8]}"
    if args.db == "postgresql":
        admin = sa.create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = args.pg_url.rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite:///{tmp / 'ops.db'}"
    try:
        _env(url, tmp)
        from telcamp.core.db import migrate, session_scope
        from telcamp.dispatch import history

        migrate()
        for r in range(args.rounds):
            with session_scope() as s:
                s.execute(sa.text(
                    "INSERT INTO dispatch_event (contact_id, msisdn, campaign_id, wave_id, "
                    "channel, at, outcome) WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
                    "FROM g WHERE i < :n) SELECT :base + i, 79000000000 + i, 1, 1, 'sms', "
                    "datetime(:at, '+' || i || ' seconds'), 'sent' FROM g"
                    if args.db == "sqlite" else
                    "INSERT INTO dispatch_event (contact_id, msisdn, campaign_id, wave_id, "
                    "channel, at, outcome) SELECT :base + i, 79000000000 + i, 1, 1, 'sms', "
                    "CAST(:at AS timestamptz) + i * interval '1 microsecond', 'sent' "
                    "FROM generate_series(1, :n) AS i"),
                    {"base": r * args.events, "n": args.events,
                     "at": f"2026-11-2{r} 10:00:00" + ("" if args.db == "sqlite" else "+00:00")})
            t0, c0 = time.perf_counter(), time.process_time()
            if os.environ.get("BENCH_PROFILE"):
                import cProfile
                prof = cProfile.Profile()
                copied = prof.runcall(history.sync)
                prof.dump_stats("/tmp/history.prof")
            else:
                copied = history.sync()
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
            print(json.dumps({
                "bench": "history_sync", "db": args.db, "round": r + 1,
                "events": args.events, "copied": copied, "seconds": round(seconds, 2),
                "events_per_s": round(copied / seconds), "client_cpu_us_per_event":
                round(cpu / max(copied, 1) * 1e6, 1), "load_avg": round(os.getloadavg()[0], 2),
                "machine": f"{platform.machine()} {os.cpu_count()} cores"}), flush=True)
    finally:
        if admin is not None:
            from telcamp.core.db import reset_engine

            reset_engine()
            with admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
