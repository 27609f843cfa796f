"""Access and audit costs: password hashing, authenticated request overhead, audit
append and chain-verify rates.

    .venv/bin/python bench/access.py --entries 20000 [--requests 500]
        [--db-url postgresql+psycopg://postgres@127.0.0.1:5432/bench]

Uses a fresh var/ under a temporary folder (or the given database URL).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", type=int, default=20_000, help="audit entries to append")
    ap.add_argument("--batch", type=int, default=100, help="entries per transaction")
    ap.add_argument("--requests", type=int, default=500, help="authenticated API requests")
    ap.add_argument("--db-url", default=None, help="operational DB (default: SQLite in a temp dir)")
    args = ap.parse_args()

    os.environ["TELCAMP_VAR_DIR"] = tempfile.mkdtemp(prefix="telcamp-bench-access-")
    if args.db_url:
        os.environ["TELCAMP_DATABASE_URL"] = args.db_url

    from fastapi.testclient import TestClient

    from telcamp.access import passwords
    from telcamp.access.demo import test_credentials
    from telcamp.app import create_app
    from telcamp.audit import service as audit_service
    from telcamp.core.db import migrate, session_scope
    from telcamp.core.security import Principal

    migrate()
    t = time.perf_counter()
    h = passwords.hash_password("bench-password-1")
    hash_s = time.perf_counter() - t
    t = time.perf_counter()
    passwords.verify_password(h, "bench-password-1")
    verify_pw_s = time.perf_counter() - t
    print(f"argon2id hash {hash_s * 1000:.0f} ms, verify {verify_pw_s * 1000:.0f} ms")

    for via in ("session", "token"):
        _p, headers, cookies = test_credentials(username=f"bench-{via}", role="admin",
                                                region_code=None, via=via)
        with TestClient(create_app(), headers=headers, cookies=cookies) as client:
            client.get("/api/access/me")
            t = time.perf_counter()
            for _ in range(args.requests):
                assert client.get("/api/access/me").status_code == 200
            el = time.perf_counter() - t
        print(f"authenticated GET /api/access/me via {via}: {args.requests / el:,.0f} req/s "
              f"({el / args.requests * 1000:.2f} ms each)")

    actor = Principal(username="bench", role="admin")
    t = time.perf_counter()
    done = 0
    while done < args.entries:
        with session_scope() as session:
            for _ in range(min(args.batch, args.entries - done)):
                audit_service.record(session, actor=actor, action="bench.write",
                                     object_type="segment", object_id=str(done),
                                     before={"n": done}, after={"n": done + 1})
                done += 1
    el = time.perf_counter() - t
    print(f"audit append: {done:,} entries in {el:.1f} s = {done / el:,.0f}/s "
          f"({args.batch} per transaction)")
    t = time.perf_counter()
    with session_scope() as session:
        result = audit_service.verify(session)
    el = time.perf_counter() - t
    assert result.ok
    print(f"audit verify: {result.checked:,} entries in {el:.2f} s = "
          f"{result.checked / el:,.0f}/s")


if __name__ == "__main__":
    main()
