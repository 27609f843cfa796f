"""Benchmark: materialise one wave of an N-member campaign (3 cells, 10% control group).

    .venv/bin/python bench/materialise.py --members 1000000 --db sqlite
    .venv/bin/python bench/materialise.py --members 10000000 --db postgresql \
        --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Builds a synthetic warehouse profile and snapshot in a scratch var/ directory (and a
scratch PostgreSQL database, dropped afterwards), takes a campaign through approval and
launch, then times `materialise.materialise_wave` — the DuckDB cell/control query plus
the bulk insert and commit. Prints one JSON line.
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
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def build_warehouse(members: int) -> None:
    from telcamp.core import warehouse
    from telcamp.warehouse.schema import ensure_schema

    with warehouse.connect() as con:
        ensure_schema(con)
        con.executemany("INSERT INTO regions VALUES (?, ?, ?, ?, 'UTC')", [
            ["P1", "Province", None, "province"], ["C1", "City", "P1", "city"],
            ["K1", "County", "C1", "county"]])
        con.execute(f"""CREATE OR REPLACE TABLE profile AS SELECT
              CAST(79000000000 + i AS BIGINT) AS msisdn, 'K1' AS region_code,
              'C1' AS city_code, 'P1' AS province_code,
              ['low','medium','high'][1 + CAST(hash(i) % 3 AS INTEGER)] AS value_tier,
              CASE WHEN i % 4 = 0 THEN NULL ELSE 'u' || i || '@example.org' END AS email,
              CASE WHEN i % 2 = 0 THEN 'en' ELSE 'ru' END AS language,
              20 + i % 50 AS age, CAST(i % 100 AS DOUBLE) AS arpu_3m, 'active' AS status
            FROM range({members}) t(i)""")
        con.execute("DELETE FROM segment_snapshot_members WHERE snapshot_id = 1")
        con.execute("INSERT INTO segment_snapshot_members SELECT 1, msisdn FROM profile")


def run_campaign() -> int:
    from telcamp.access.permissions import ROLES
    from telcamp.campaigns import approvals, schedule, service
    from telcamp.campaigns.schemas import CampaignCreate, ProgramCreate
    from telcamp.core import clock
    from telcamp.core.db import session_scope
    from telcamp.core.security import Principal

    clock.freeze(datetime(2026, 11, 22, 10, tzinfo=UTC))
    mk = Principal("bench-marketer", "marketer", ROLES["marketer"], region_code="K1")
    head = Principal("bench-head", "approver", ROLES["approver"], region_code="C1")
    with session_scope() as s:
        pid = service.create_program(session=s, actor=Principal(
            "pm", "admin", ROLES["admin"]), program_in=ProgramCreate(
            name="bench", budget=1e9, start_date=date(2026, 1, 1), end_date=date(2027, 1, 1),
            region_code="P1")).id
    from telcamp.segments.models import Segment, SegmentSnapshot, SegmentVersion

    active = {"field": "status", "op": "=", "value": "active"}
    with session_scope() as s:  # the snapshot's row: campaigns check it exists in the region
        if s.get(SegmentSnapshot, 1) is None:
            at = clock.now()
            seg = Segment(name="bench", region_code="P1", created_by="bench", created_at=at,
                          updated_at=at)
            s.add(seg)
            s.flush()
            s.add(SegmentVersion(segment_id=seg.id, version=1, rule=active,
                                 created_by="bench", created_at=at))
            s.add(SegmentSnapshot(id=1, segment_id=seg.id, version=1, taken_at=at,
                                  taken_by="bench", matched=0, count=0, funnel=[],
                                  region_code="P1"))
    sms = {"sms": {"en": "Offer for you", "ru": "Предложение"}}
    with session_scope() as s:
        cid = service.create_campaign(session=s, actor=mk, campaign_in=CampaignCreate(
            program_id=pid, name="bench", snapshot_id=1, budget=1000,
            start_at=datetime(2026, 11, 23, tzinfo=UTC), end_at=datetime(2026, 12, 23, tzinfo=UTC),
            cells=[
                {"name": "high", "rule": {"value_tier": "high"}, "control_pct": 10,
                 "channels": ["sms"], "messages": sms},
                {"name": "medium", "rule": {"value_tier": "medium"}, "control_pct": 10,
                 "channels": ["sms"], "messages": sms},
                {"name": "rest", "control_pct": 10, "channels": ["sms"], "messages": sms},
            ])).id  # type: ignore[arg-type]
    with session_scope() as s:
        approvals.submit(session=s, actor=mk, campaign_id=cid)
    with session_scope() as s:
        approvals.approve(session=s, actor=head, campaign_id=cid)
    with session_scope() as s:
        c = schedule.launch(session=s, actor=mk, campaign_id=cid)
        return c.waves[0].id


def client_cpu() -> float:
    """CPU seconds of this process (all threads: DuckDB, the encoder, the COPY writer)."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def server_cpu(database: str | None) -> float:
    """CPU seconds used so far by the PostgreSQL backends of `database` (a local server:
    read from /proc). With the wall time this tells what the run costs on a busy machine,
    where wall time mostly measures the queue for the two cores."""
    if database is None:
        return 0.0
    from sqlalchemy import text

    from telcamp.core.db import get_engine

    with get_engine().connect() as conn:
        pids = [int(p) for p in conn.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": database}).scalars()]
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--members", type=int, default=1_000_000)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--pg-url", default=os.environ.get("TELCAMP_TEST_PG_URL"),
                    help="admin URL; a scratch database is created and dropped")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = ap.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="telcamp-bench-"))
    os.environ["TELCAMP_VAR_DIR"] = str(scratch)
    # Launch refuses a wave whose channel cannot send (telcamp.dispatch.readiness): give
    # SMS a bind that is never connected, as the campaign tests do; no dispatcher runs.
    os.environ["TELCAMP_DISPATCH_INTERVAL_S"] = "0"
    os.environ["TELCAMP_SCHEDULER_INTERVAL_S"] = "0"
    os.environ["TELCAMP_DISPATCH_SMPP_BINDS"] = (
        '[{"host": "127.0.0.1", "port": 9, "system_id": "bench", "password": "bench"}]')
    pg_name = None
    admin = None
    if args.db == "postgresql":
        import sqlalchemy as sa

        if not args.pg_url:
            ap.error("--pg-url (or TELCAMP_TEST_PG_URL) is needed for PostgreSQL")
        pg_name = f"telcamp_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{pg_name}"'))
        os.environ["TELCAMP_DATABASE_URL"] = args.pg_url.rsplit("/", 1)[0] + "/" + pg_name
    try:
        from telcamp.campaigns import materialise
        from telcamp.core.db import migrate, reset_engine

        migrate()
        t0 = time.monotonic()
        build_warehouse(args.members)
        t_build = time.monotonic() - t0
        wave_id = run_campaign()
        server_before = server_cpu(pg_name)
        client_before = client_cpu()
        t1 = time.monotonic()
        result = materialise.materialise_wave(wave_id=wave_id)
        elapsed = time.monotonic() - t1
        cpu = {"client_cpu_s": round(client_cpu() - client_before, 1)}
        if pg_name is not None:
            cpu["server_cpu_s"] = round(server_cpu(pg_name) - server_before, 1)
        print(json.dumps({
            "bench": "materialise", "db": args.db, "members": args.members,
            "contacts": result.contacts, "controls": result.controls,
            "seconds": round(elapsed, 1), "rows_per_s": int(args.members / elapsed),
            "phases": result.phases, "load_avg": os.getloadavg()[0], **cpu,
            "warehouse_build_s": round(t_build, 1), "cpus": os.cpu_count(),
            "python": platform.python_version(),
        }))
        reset_engine()
    finally:
        if admin is not None and pg_name:
            import sqlalchemy as sa

            from telcamp.core.db import reset_engine

            reset_engine()
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
        if not args.keep:
            import shutil

            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
