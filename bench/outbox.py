"""Benchmark: claiming due contacts from the PostgreSQL outbox with 1 and N workers.

    .venv/bin/python bench/outbox.py --contacts 200000 --workers 1 4 --batch 1000 \
        --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Creates a scratch PostgreSQL database (dropped afterwards), one running campaign whose
wave is open all day, and N planned contacts (generate_series, one INSERT). Each worker
is a separate process calling `telcamp.dispatch.outbox.claim` (UPDATE … WHERE id IN
(SELECT … ORDER BY priority DESC, planned_at LIMIT b FOR UPDATE SKIP LOCKED), then COMMIT)
until nothing is left. `--policy` also runs the contact policy on each batch (opt-out,
caps, collisions, quiet hours), as the worker does before sending. Prints one JSON line
per worker count: rows claimed per second over the wall time of all workers, and a
check that no contact was claimed twice.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _env(url: str, var: Path) -> None:
    os.environ["TELCAMP_DATABASE_URL"] = url
    os.environ["TELCAMP_VAR_DIR"] = str(var)
    from telcamp.core.db import reset_engine
    from telcamp.core.settings import reset_settings

    reset_settings()
    reset_engine()


def setup(url: str, var: Path, contacts: int) -> None:
    _env(url, var)
    import sqlalchemy as sa

    from telcamp.campaigns.models import Campaign, Cell, Program, Wave
    from telcamp.core.db import migrate, session_scope

    migrate()
    from telcamp.core import warehouse
    from telcamp.core.security import system_principal
    from telcamp.policy import service as policy
    from telcamp.policy.schemas import PolicyUpdate
    from telcamp.warehouse.schema import ensure_schema

    with session_scope() as s:  # the default quiet hours (21-08 UTC here) defer everything
        policy.update(session=s, actor=system_principal(), policy_in=PolicyUpdate(
            quiet_start="00:00", quiet_end="00:00", note="bench: no quiet hours"))

    with warehouse.connect() as con:  # time zones for the policy's quiet hours
        ensure_schema(con)
        con.execute("INSERT INTO regions VALUES ('P1', 'Province', NULL, 'province', 'UTC')")
        con.execute("INSERT INTO subscribers SELECT 79000000000 + i, 'P1', 'T1', "
                    "DATE '2020-01-01', 'active', NULL, 'u', 'en', NULL, NULL "
                    f"FROM range(1, {int(contacts) + 1}) t(i)")
    now = datetime.now(UTC)
    with session_scope() as s:
        program = Program(name="bench", start_date=date(2000, 1, 1), end_date=date(2100, 1, 1),
                          region_code="P1", created_by="bench", created_at=now)
        s.add(program)
        s.flush()
        camp = Campaign(program_id=program.id, name="bench", region_code="P1", priority=50,
                        state="running", created_by="bench", created_at=now, updated_at=now)
        s.add(camp)
        s.flush()
        cell = Cell(campaign_id=camp.id, position=0, name="all", channels=["sms"],
                    messages={"sms": {"en": "Hello"}})
        wave = Wave(campaign_id=camp.id, channel="sms", window_start="00:00",
                    window_end="23:59", state="done")
        s.add_all([cell, wave])
        s.flush()
        if s.get_bind().dialect.name == "sqlite":  # no generate_series: Core executemany
            from telcamp.dispatch.tables import contact

            for lo in range(1, contacts + 1, 50_000):
                s.execute(sa.insert(contact), [
                    {"campaign_id": camp.id, "wave_id": wave.id, "cell_id": cell.id,
                     "run": 1, "msisdn": 79000000000 + i, "channel": "sms",
                     "priority": (i % 5) * 10, "state": "planned", "is_control": False,
                     "planned_at": now, "language": "en"}
                    for i in range(lo, min(lo + 50_000, contacts + 1))])
            return
        s.execute(sa.text(
            "INSERT INTO contact (campaign_id, wave_id, cell_id, run, msisdn, channel, "
            "priority, state, is_control, planned_at, language) "
            "SELECT :c, :w, :cell, 1, 79000000000 + i, 'sms', (i % 5) * 10, 'planned', false, "
            ":at, 'en' FROM generate_series(1, :n) AS i"),
            {"c": camp.id, "w": wave.id, "cell": cell.id, "at": now, "n": contacts})
        s.execute(sa.text("ANALYZE contact"))


def worker(url: str, var: str, batch: int, policy: bool, out: mp.Queue,  # type: ignore[type-arg]
           ready: mp.Queue, go: Any, leave: Any) -> None:  # type: ignore[type-arg]
    _env(url, Path(var))
    import sqlalchemy as sa

    from telcamp.core.db import get_engine
    from telcamp.dispatch import outbox

    with get_engine().connect() as conn:  # imports and the connection before the clock
        conn.execute(sa.text("SELECT 1"))
    ready.put(1)
    go.wait()
    cpu0 = _own_cpu()

    claimed: list[int] = []
    queries = 0
    while True:
        b = outbox.claim(channel="sms", limit=batch, lease_s=600, apply_policy=policy)
        queries += 1
        if not b.contacts:
            break
        claimed.extend(c.id for c in b.contacts)
    out.put((claimed, queries, _own_cpu() - cpu0))
    leave.wait(60)  # keep the backend alive until the parent has read its CPU


def _own_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def backend_cpu(admin: Any, name: str) -> dict[int, float]:
    """CPU seconds (user + system) of the PostgreSQL backends serving database `name`
    (Linux /proc; the server runs on this machine)."""
    import sqlalchemy as sa

    with admin.connect() as c:
        pids = [int(r[0]) for r in c.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": name})]
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def reset(url: str, var: Path) -> None:
    _env(url, var)
    import sqlalchemy as sa

    from telcamp.core.db import session_scope

    with session_scope() as s:
        s.execute(sa.text("UPDATE contact SET state = 'planned', lease_id = NULL, "
                          "lease_until = NULL"))
        s.execute(sa.text("DELETE FROM dispatch_send_log"))
    from telcamp.core.db import get_engine

    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE contact")  # a fair start for every run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--contacts", type=int, default=200_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--batch", type=int, default=1000, help="rows claimed per query")
    ap.add_argument("--policy", action="store_true", help="apply the contact policy per batch")
    ap.add_argument("--old-indexes", action="store_true",
                    help="for comparison: the contact indexes before migration "
                         "dispatch_0002_claim (full (state, channel, priority, planned_at))")
    ap.add_argument("--pg-url", default=os.environ.get(
        "TELCAMP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = ap.parse_args()

    import sqlalchemy as sa

    name = f"telcamp_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = f"{args.pg_url.rsplit('/', 1)[0]}/{name}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            var = Path(tmp)
            setup(url, var, args.contacts)
            if args.old_indexes:
                scratch = sa.create_engine(url)
                with scratch.begin() as c:
                    c.execute(sa.text("DROP INDEX ix_contact_sending"))
                    c.execute(sa.text("DROP INDEX ix_contact_dispatch"))
                    c.execute(sa.text("CREATE INDEX ix_contact_dispatch ON contact "
                                      "(state, channel, priority, planned_at)"))
                scratch.dispose()
            for n in args.workers:
                reset(url, var)
                q: mp.Queue = mp.Queue()  # type: ignore[type-arg]
                ready: mp.Queue = mp.Queue()  # type: ignore[type-arg]
                go, leave = mp.Event(), mp.Event()
                procs = [mp.Process(target=worker, args=(url, str(var), args.batch,
                                                         args.policy, q, ready, go, leave))
                         for _ in range(n)]
                for p in procs:
                    p.start()
                for _ in procs:
                    ready.get()
                cpu0, load0 = backend_cpu(admin, name), os.getloadavg()[0]
                started = time.perf_counter()
                go.set()
                results = [q.get() for _ in procs]
                seconds = time.perf_counter() - started
                cpu1, load1 = backend_cpu(admin, name), os.getloadavg()[0]
                pg_cpu = sum(max(0.0, v - cpu0.get(p, 0.0)) for p, v in cpu1.items())
                leave.set()
                for p in procs:
                    p.join()
                ids = [i for claimed, _, _ in results for i in claimed]
                client_cpu = sum(c for _, _, c in results)
                print(json.dumps({
                    "bench": "outbox_claim", "workers": n, "batch": args.batch,
                    "policy": args.policy, "old_indexes": args.old_indexes,
                    "contacts": args.contacts, "claimed": len(ids),
                    "claimed_twice": len(ids) - len(set(ids)),
                    "queries": sum(qn for _, qn, _ in results),
                    "seconds": round(seconds, 2), "rows_per_s": round(len(ids) / seconds),
                    # PostgreSQL backend CPU per claimed row: what the cores allow, when
                    # the wall time is shared with other work
                    "pg_cpu_us_per_row": round(pg_cpu / max(len(ids), 1) * 1e6, 1),
                    # the claiming processes' own CPU (Python, driver) per claimed row
                    "client_cpu_us_per_row": round(client_cpu / max(len(ids), 1) * 1e6, 1),
                    "load_avg_before_after": [round(load0, 2), round(load1, 2)],
                    "machine": f"{platform.machine()} {os.cpu_count()} cores",
                }), flush=True)
    finally:
        from telcamp.core.db import reset_engine

        reset_engine()
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
