"""Benchmark: what the race-free cap check costs the PostgreSQL outbox claim.

    flock /work/bench-data/bench.lock .venv/bin/python bench/cap_lock.py \
        --contacts 200000 --workers 1 4 --batch 1000

Same set-up and workers as bench/outbox.py (one running campaign, N planned contacts,
each worker a process claiming with the contact policy applied). Three policies:
`no caps` (nothing to race on: no locks taken), `caps` (24 h cap 3, 7 d cap 5: the
claim takes one advisory lock per subscriber, telcamp/policy/serialise.py) and
`caps, no lock` (the same caps with the locks switched off: the lock's own cost).
Every subscriber has one contact, so nothing is suppressed and every run claims all.
Prints one JSON line per policy and worker count.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
_spec = importlib.util.spec_from_file_location("bench_outbox",
                                               Path(__file__).with_name("outbox.py"))
assert _spec is not None and _spec.loader is not None
bo: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bo)


def set_policy(url: str, var: Path, caps: dict[str, int]) -> None:
    bo._env(url, var)
    from telcamp.core.db import session_scope
    from telcamp.core.security import system_principal
    from telcamp.policy import service
    from telcamp.policy.schemas import PolicyUpdate

    with session_scope() as s:
        service.update(session=s, actor=system_principal(),
                       policy_in=PolicyUpdate(caps=caps, arbitration_hours=0,
                                              quiet_start="00:00", quiet_end="00:00"))


def run(url: str, var: Path, n: int, batch: int) -> tuple[int, int, float]:
    bo.reset(url, var)
    q: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    ready: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    go, leave = mp.Event(), mp.Event()
    procs = [mp.Process(target=bo.worker, args=(url, str(var), batch, True, q, ready, go,
                                                 leave))
             for _ in range(n)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get()
    started = time.perf_counter()
    go.set()
    results = [q.get() for _ in procs]
    seconds = time.perf_counter() - started
    leave.set()
    for p in procs:
        p.join()
    ids = [i for claimed, *_ in results for i in claimed]
    return len(ids), len(ids) - len(set(ids)), seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--contacts", type=int, default=200_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--pg-url", default=os.environ.get(
        "TELCAMP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = ap.parse_args()
    mp.set_start_method("fork")  # children inherit the lock switch below

    import sqlalchemy as sa

    from telcamp.dispatch import outbox

    name = f"telcamp_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = f"{args.pg_url.rsplit('/', 1)[0]}/{name}"
    real_lock = outbox.lock_subscribers
    try:
        with tempfile.TemporaryDirectory() as tmp:
            var = Path(tmp)
            bo.setup(url, var, args.contacts)
            for label, caps, lock in (("no caps", {}, True), ("caps", {"24h": 3, "7d": 5}, True),
                                      ("caps, no lock", {"24h": 3, "7d": 5}, False)):
                set_policy(url, var, caps)
                outbox.lock_subscribers = real_lock if lock else (lambda *a, **k: 0)
                for n in args.workers:
                    claimed, twice, seconds = run(url, var, n, args.batch)
                    print(json.dumps({
                        "bench": "claim_cap_lock", "policy": label, "workers": n,
                        "batch": args.batch, "contacts": args.contacts, "claimed": claimed,
                        "claimed_twice": twice, "seconds": round(seconds, 2),
                        "rows_per_s": round(claimed / seconds),
                        "load": os.getloadavg()[0]}), flush=True)
    finally:
        outbox.lock_subscribers = real_lock
        from telcamp.core.db import reset_engine

        reset_engine()
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
