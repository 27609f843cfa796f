"""Benchmark: time from "launch" to the last submit of a wave, against node-smpp.

    .venv/bin/python bench/wave.py --contacts 1000000 --binds 4 --db postgresql \
        --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

A scratch var/ (SQLite) or scratch PostgreSQL database holds one running campaign with
one SMS wave of N planned contacts (as materialisation leaves them; materialising itself
is bench/materialise.py). The node-smpp SMSC (tests/channels/smpp/node_smsc.js, quiet, no
receipts) listens on 127.0.0.1. One dispatch worker (`telcamp.dispatch.worker.Worker`
with the SMS channel, `--binds` binds, window 64, no TPS limit, contact policy on) runs
until nothing is due; the figure is the wall time from its start to its return (every
submit_sm answered and recorded), and contacts/s. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
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

from outbox import setup

from tests.channels.smpp.peers import NodeSmsc, node_available


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--contacts", type=int, default=20_000)
    ap.add_argument("--binds", type=int, default=2)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--pg-url", default=os.environ.get(
        "TELCAMP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = ap.parse_args()
    ok, why = node_available()
    if not ok:
        raise SystemExit(why)

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
            from telcamp.channels.smpp import BindConfig
            from telcamp.channels.sms import SmsChannel
            from telcamp.dispatch.worker import Worker

            binds = [BindConfig("127.0.0.1", smsc.port, "telcamp", "secret", window=64,
                                name=f"b{i}") for i in range(args.binds)]
            worker = Worker(SmsChannel(binds), batch_max=args.batch, history_every_s=3600)
            started = time.perf_counter()
            stats = asyncio.run(worker.run(once=True))
            seconds = time.perf_counter() - started
        finally:
            smsc.stop()
            if admin is not None:
                from telcamp.core.db import reset_engine

                reset_engine()
                with admin.connect() as c:
                    c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(json.dumps({
        "bench": "wave_launch_to_last_submit", "db": args.db, "contacts": args.contacts,
        "binds": args.binds, "batch": args.batch, "sent": stats.sent,
        "unknown": stats.unknown, "failed": stats.failed, "seconds": round(seconds, 2),
        "contacts_per_s": round(stats.sent / seconds),
        "seconds_for_7M_at_this_rate": round(7_000_000 / max(stats.sent / seconds, 1)),
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
    }))


if __name__ == "__main__":
    main()
