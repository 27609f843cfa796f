"""Benchmark: time from "launch" to the last submit of a wave, against node-smpp.

    .venv/bin/python bench/wave.py --contacts 1000000 --binds 2 --workers 4 --db postgresql \
        --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

A scratch var/ (SQLite) or scratch PostgreSQL database holds one running campaign with
one SMS wave of N planned contacts (as materialisation leaves them; materialising itself
is bench/materialise.py). The node-smpp SMSC (tests/channels/smpp/node_smsc.js, quiet, no
receipts) listens on 127.0.0.1. `--workers` dispatch worker processes (each a
`telcamp.dispatch.worker.Worker` with the SMS channel, `--binds` binds of its own, window
64, no TPS limit, contact policy on; several only on PostgreSQL, where SKIP LOCKED shares
the outbox) run until nothing is due; the clock starts when every worker has imported,
connected and bound, and stops when the last one returns (every submit_sm answered and
recorded). Prints one JSON line: contacts/s, the database's check (every contact
'submitted', none claimed more than once: max attempts 1), and the CPU seconds spent by the workers,
the PostgreSQL backends and the SMSC per 1,000 contacts — on a loaded machine the CPU
figures say what the wall time cannot (the rate the two cores would allow).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from outbox import _env, setup

from tests.channels.smpp.peers import NodeSmsc, node_available


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of a live process (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker(url: str, var: str, port: int, binds: int, batch: int, out: Any,
           ready: Any, go: Any, leave: Any) -> None:
    _env(url, Path(var))
    from telcamp.channels.smpp import BindConfig
    from telcamp.channels.sms import SmsChannel
    from telcamp.dispatch.worker import Worker

    async def main() -> Any:
        channel = SmsChannel([BindConfig("127.0.0.1", port, "telcamp", "secret", window=64,
                                         name=f"b{os.getpid()}-{i}") for i in range(binds)])
        w = Worker(channel, batch_max=batch, history_every_s=3600)
        ready.put(os.getpid())
        await asyncio.to_thread(go.wait)
        cpu[0] = _cpu()
        return await w.run(once=True)

    def _cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    cpu = [0.0]
    stats = asyncio.run(main())
    out.put({"sent": stats.sent, "unknown": stats.unknown, "failed": stats.failed,
             "claimed": stats.claimed, "cpu": _cpu() - cpu[0]})
    leave.wait(60)  # keep the backends alive until the parent has read their CPU


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--contacts", type=int, default=20_000)
    ap.add_argument("--binds", type=int, default=2, help="SMPP binds per worker")
    ap.add_argument("--workers", type=int, default=1, help="worker processes (PostgreSQL)")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--pg-url", default=os.environ.get(
        "TELCAMP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = ap.parse_args()
    ok, why = node_available()
    if not ok:
        raise SystemExit(why)
    if args.db == "sqlite" and args.workers > 1:
        raise SystemExit("--workers > 1 needs --db postgresql (SQLite has one writer)")

    import sqlalchemy as sa

    admin = None
    name = f"telcamp_bench_{uuid.uuid4().hex[:10]}"
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/telcamp.db"
        if args.db == "postgresql":
            admin = sa.create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(sa.text(f'CREATE DATABASE "{name}"'))
            url = f"{args.pg_url.rsplit('/', 1)[0]}/{name}"
        smsc = NodeSmsc({"quiet": True, "dlr": None})
        try:
            setup(url, Path(tmp), args.contacts)
            from telcamp.core.db import reset_engine

            reset_engine()  # the workers are fresh processes; no connection to inherit
            ctx = mp.get_context("spawn")
            out, ready, go, leave = ctx.Queue(), ctx.Queue(), ctx.Event(), ctx.Event()
            procs = [ctx.Process(target=worker, args=(url, tmp, smsc.port, args.binds,
                                                      args.batch, out, ready, go, leave))
                     for _ in range(args.workers)]
            for p in procs:
                p.start()
            for _ in procs:
                ready.get()

            def backends() -> dict[int, float]:
                if admin is None:
                    return {}
                with admin.connect() as c:
                    pids = [int(r[0]) for r in c.execute(sa.text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": name})]
                return {p: _cpu_of(p) for p in pids}

            pg0, smsc0 = backends(), _cpu_of(smsc.proc.pid)
            load0 = os.getloadavg()
            started, launched = time.perf_counter(), datetime.now(UTC)
            go.set()
            results = [out.get() for _ in procs]
            seconds = time.perf_counter() - started
            # backends live until the workers exit: read them first
            pg1, smsc1 = backends(), _cpu_of(smsc.proc.pid)
            leave.set()
            for p in procs:
                p.join()
            load1 = os.getloadavg()
            _env(url, Path(tmp))
            from telcamp.core.db import session_scope

            with session_scope() as s:  # every contact submitted, none claimed twice
                check = s.execute(sa.text(
                    "SELECT count(*) FILTER (WHERE state = 'submitted'), count(*), "
                    "max(attempts), max(sent_at) FROM contact")).one()
            # the last submit's record, without the workers' final housekeeping (the
            # contact-history copy of every event, once at the end with this bench)
            last = check[3] if check[3].tzinfo else check[3].replace(tzinfo=UTC)
            to_last = (last - launched).total_seconds()
        finally:
            smsc.stop()
            if admin is not None:
                from telcamp.core.db import reset_engine

                reset_engine()
                with admin.connect() as c:
                    c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    sent = sum(r["sent"] for r in results)
    k = max(sent, 1) / 1000
    pg_cpu = sum(max(0.0, pg1.get(p, 0.0) - pg0.get(p, 0.0)) for p in pg1)
    print(json.dumps({
        "bench": "wave_launch_to_last_submit", "db": args.db, "contacts": args.contacts,
        "workers": args.workers, "binds_per_worker": args.binds, "batch": args.batch,
        "sent": sent, "unknown": sum(r["unknown"] for r in results),
        "failed": sum(r["failed"] for r in results), "db_submitted": int(check[0]),
        "db_contacts": int(check[1]), "max_attempts": int(check[2] or 0),
        "seconds": round(seconds, 2), "contacts_per_s": round(sent / seconds),
        "seconds_to_last_recorded_submit": round(to_last, 2),
        "contacts_per_s_to_last_submit": round(sent / max(to_last, 1e-9)),
        "seconds_for_7M_at_this_rate": round(7_000_000 / max(sent / seconds, 1)),
        "cpu_s_per_1000": {"workers": round(sum(r["cpu"] for r in results) / k, 3),
                           "postgres": round(pg_cpu / k, 3),
                           "smsc": round((smsc1 - smsc0) / k, 3)},
        "load_avg_before_after": [round(load0[0], 2), round(load1[0], 2)],
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
    }), flush=True)


if __name__ == "__main__":
    main()
