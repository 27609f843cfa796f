"""Segment benchmarks: count, funnel, profile and a 1M-member snapshot through the rule
layer, each next to the same query written by hand in plain DuckDB SQL (same run, same
warehouse), so the overhead of the rule layer shows as a ratio.

    .venv/bin/python bench/segments.py --warehouse var/warehouse.duckdb
    .venv/bin/python bench/segments.py --warehouse /tmp/seg1m.duckdb --synthesize 1000000

The warehouse must have a built profile (`telcamp generate` + `telcamp load`, or
--synthesize N to make a synthetic one at FILE if it does not exist). Two bench lists
(ids 990001, 990002) and one snapshot are written and removed again.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb

LIST_A, LIST_B = 990001, 990002


def timed_pair(a: Callable[[], Any], b: Callable[[], Any], repeat: int
               ) -> tuple[float, Any, float, Any, float, float]:
    """Median times of a and b, run alternately so a busy machine slows both alike; also
    the median CPU seconds of this process (all DuckDB threads) for each, which a shared
    machine inflates far less than wall time: CPU / cores ~ wall time on an idle box."""
    a(), b()  # warm-up: first touch of the file's pages
    ta: list[float] = []
    tb: list[float] = []
    ca: list[float] = []
    cb: list[float] = []
    out_a = out_b = None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out_a = a()
        t1, c1 = time.perf_counter(), time.process_time()
        out_b = b()
        t2, c2 = time.perf_counter(), time.process_time()
        ta.append(t1 - t0)
        tb.append(t2 - t1)
        ca.append(c1 - c0)
        cb.append(c2 - c1)
    return (statistics.median(ta), out_a, statistics.median(tb), out_b,
            statistics.median(ca), statistics.median(cb))


def setup_lists(con: duckdb.DuckDBPyConnection, now: Any) -> None:
    con.execute("DELETE FROM list_members WHERE list_id IN (?, ?)", [LIST_A, LIST_B])
    con.execute("INSERT INTO list_members SELECT ?, msisdn, 'bench', NULL, ? FROM profile "
                "WHERE hash(msisdn) % 100 = 7", [LIST_A, now])
    con.execute("INSERT INTO list_members SELECT ?, msisdn, 'bench', ?, ? FROM profile "
                "WHERE hash(msisdn) % 200 = 11", [LIST_B, now + timedelta(days=30), now])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warehouse", required=True, type=Path, help="DuckDB warehouse file")
    ap.add_argument("--synthesize", type=int, default=0, metavar="N",
                    help="create a synthetic warehouse of N subscribers at FILE if missing")
    ap.add_argument("--repeat", type=int, default=7, help="timed runs per figure (median)")
    ap.add_argument("--snapshot-size", type=int, default=1_000_000,
                    help="members of the snapshot audience (capped at the base)")
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (0: default)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--windows", type=int, nargs="+", default=[14], metavar="N",
                    help="the voice window of the count's other-window figure, one figure "
                         "each (the first one is also the funnel's, profile's and "
                         "refresh's); default 14")
    ap.add_argument("--only", nargs="+", default=[], metavar="WORD",
                    help="run only the figures whose name contains one of these words "
                         "(count, funnel, profile, refresh, snapshot), to keep a run short")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-segments-"))
    os.environ["TELCAMP_WAREHOUSE_PATH"] = str(args.warehouse.resolve())
    # a throwaway operational DB: the bench segment never lands in a real one
    os.environ["TELCAMP_DATABASE_URL"] = f"sqlite:///{tmp / 'ops.db'}"
    os.environ["TELCAMP_VAR_DIR"] = str(tmp)

    from telcamp.core import clock
    from telcamp.core.db import migrate, session_scope
    from telcamp.core.security import system_principal
    from telcamp.segments import audience, service, synthetic
    from telcamp.segments.compiler import resolve
    from telcamp.segments.rules import Contacted, ContactedSpec, InList, parse_rule
    from telcamp.segments.schemas import SegmentCreate

    if not args.warehouse.exists():
        if not args.synthesize:
            ap.error(f"{args.warehouse} does not exist (use --synthesize N to create one)")
        t0 = time.perf_counter()
        with duckdb.connect(str(args.warehouse)) as c:
            synthetic.create(c, subscribers=args.synthesize)
        print(f"synthesized {args.synthesize:,} subscribers in {time.perf_counter() - t0:.1f} s",
              file=sys.stderr)
    migrate()
    principal = system_principal()
    con = duckdb.connect(str(args.warehouse))
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    subs = int(con.execute("SELECT count(*) FROM profile").fetchone()[0])  # type: ignore[index]
    usage_rows = int(con.execute("SELECT count(*) FROM usage_daily").fetchone()[0])  # type: ignore[index]
    as_of = audience.as_of_date(con)
    now = clock.now()
    setup_lists(con, now)
    odd = args.windows[0]
    a = str(as_of)
    ts = now.isoformat()

    def wanted(name: str) -> bool:
        return not args.only or any(w in name for w in args.only)

    six = {"all": [
        {"field": "age", "op": "between", "value": [20, 60]},
        {"field": "value_tier", "op": "in", "value": ["medium", "high"]},
        {"usage": "data_mb", "days": 30, "op": ">=", "value": 100},
        {"usage": "voice_min", "days": odd, "op": ">=", "value": 5},
        {"not": {"in_list": LIST_A}},
        {"not": {"in_list": LIST_B}},
    ]}
    six_std = json.loads(json.dumps(six))
    six_std["all"][3] = {"usage": "voice_min", "days": 30, "op": ">=", "value": 5}

    lists_sql = (f"NOT EXISTS (SELECT 1 FROM list_members l WHERE l.msisdn = p.msisdn AND "
                 f"l.list_id IN ({LIST_A}, {LIST_B}) AND (l.expires_at IS NULL OR "
                 f"l.expires_at > TIMESTAMPTZ '{ts}'))")
    cheap = ("p.age BETWEEN 20 AND 60 AND p.value_tier IN ('medium', 'high') AND "
             "p.data_mb_30d >= 100")
    hand_std = (f"SELECT count(*) FROM profile p WHERE {cheap} AND p.voice_min_30d >= 5 "
                f"AND {lists_sql}")

    def hand_window(days: int) -> str:
        """The fastest hand form found: join the survivors to their usage rows, then sum
        (what a DBA would write without the stored windows)."""
        b = str(as_of - timedelta(days=days - 1))
        return f"""
        SELECT count(*) FROM (
          SELECT p.msisdn FROM profile p JOIN usage_daily u ON u.msisdn = p.msisdn
            AND u.day BETWEEN DATE '{b}' AND DATE '{a}'
          WHERE {cheap} AND {lists_sql}
          GROUP BY p.msisdn HAVING round(sum(u.voice_min) * 1000000) / 1000000.0 >= 5)"""
    hand_odd = hand_window(odd)
    b = str(as_of - timedelta(days=odd - 1))

    def rule_count(rule: dict[str, Any]) -> Callable[[], int]:
        return lambda: service.count(None, rule=rule, principal=principal, con=con)

    def hand(sql: str) -> Callable[[], int]:
        return lambda: int(con.execute(sql).fetchone()[0])  # type: ignore[index]

    figures: list[dict[str, Any]] = []

    def record(name: str, rule_fn: Callable[[], Any], hand_fn: Callable[[], Any],
               check: Callable[[Any, Any], bool] = lambda x, y: x == y) -> None:
        if not wanted(name):
            return
        t_rule, r_out, t_hand, h_out, c_rule, c_hand = timed_pair(rule_fn, hand_fn,
                                                                  args.repeat)
        if not check(r_out, h_out):
            raise SystemExit(f"{name}: rule layer and hand-written SQL disagree: "
                             f"{r_out!r} vs {h_out!r}")
        # the rule layer again, run after itself as a marketer's successive edits are:
        # alternating with a hand query that aggregates GBs (seconds for another window)
        # leaves the next query cold caches and freshly returned memory to fault back in
        alone = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            rule_fn()
            alone.append(time.perf_counter() - t0)
        figures.append({"figure": name, "rule_ms": round(1000 * t_rule, 1),
                        "rule_alone_ms": round(1000 * statistics.median(alone), 1),
                        "hand_ms": round(1000 * t_hand, 1),
                        "ratio": round(t_rule / t_hand, 2) if t_hand else None,
                        "rule_cpu_ms": round(1000 * c_rule, 1),
                        "hand_cpu_ms": round(1000 * c_hand, 1)})
        print(f"{name}: {figures[-1]}", file=sys.stderr, flush=True)

    record("count, 6 leaves, 7/30/90-day windows, 2 lists", rule_count(six_std), hand(hand_std))
    for days in args.windows:
        rule = json.loads(json.dumps(six))
        rule["all"][3]["days"] = days
        record(f"count, 6 leaves, one {days}-day window, 2 lists", rule_count(rule),
               hand(hand_window(days)))

    # DESIGN.md's example rule starts with two cities: the same rule for C01 and C02 (41 %
    # of the generated base, its two largest cities), with the other-window voice leaf
    cities = ("C01", "C02")
    for days in args.windows:
        rule = json.loads(json.dumps(six))
        rule["all"][3]["days"] = days
        rule["all"].insert(0, {"field": "city_code", "op": "in", "value": list(cities)})
        sql = hand_window(days).replace("WHERE p.age", f"WHERE p.city_code IN {cities} AND p.age")
        record(f"count, 7 leaves with two cities, one {days}-day window, 2 lists",
               rule_count(rule), hand(sql))

    # funnel: the 4 profile/usage leaves, minus two lists and recent contacts in turn
    base_rule = {"all": six["all"][:4]}
    excl = [audience.Exclusion("blacklist", "list", InList(in_list=LIST_A)),
            audience.Exclusion("greylist", "list", InList(in_list=LIST_B)),
            audience.Exclusion("contacted 7 days", "recent_contact",
                               Contacted(contacted=ContactedSpec(days=7)))]

    since = (now - timedelta(days=7)).isoformat()

    def ex(list_id: int) -> str:
        return (f"EXISTS (SELECT 1 FROM list_members l WHERE l.list_id = {list_id} AND "
                f"l.msisdn = m.msisdn AND (l.expires_at IS NULL OR "
                f"l.expires_at > TIMESTAMPTZ '{ts}'))")
    contacted = (f"EXISTS (SELECT 1 FROM contact_history c WHERE c.msisdn = m.msisdn AND "
                 f"c.contacted_at >= TIMESTAMPTZ '{since}' AND c.outcome <> 'suppressed')")
    bands = ("CASE WHEN p.age IS NULL THEN 'unknown' WHEN p.age < 18 THEN '<18' WHEN p.age < 25 "
             "THEN '18-24' WHEN p.age < 35 THEN '25-34' WHEN p.age < 45 THEN '35-44' WHEN "
             "p.age < 55 THEN '45-54' WHEN p.age < 65 THEN '55-64' ELSE '65+' END")
    arpu = ("CASE WHEN p.arpu_3m IS NULL THEN 'unknown' WHEN p.arpu_3m < 10 THEN '<10' WHEN "
            "p.arpu_3m < 30 THEN '10-30' WHEN p.arpu_3m < 60 THEN '30-60' WHEN p.arpu_3m < 100 "
            "THEN '60-100' ELSE '100+' END")
    matched_std = f"""
        WITH m AS (SELECT p.msisdn FROM profile p WHERE {cheap} AND p.voice_min_30d >= 5)"""
    matched_odd = f"""
        WITH m AS (
          SELECT p.msisdn FROM profile p JOIN usage_daily u ON u.msisdn = p.msisdn
            AND u.day BETWEEN DATE '{b}' AND DATE '{a}'
          WHERE {cheap} GROUP BY p.msisdn
          HAVING round(sum(u.voice_min) * 1000000) / 1000000.0 >= 5)"""

    def funnel_and_profile(window: str, rule_json: dict[str, Any], matched_sql: str
                           ) -> tuple[str, Callable[[], int]]:
        """Record the funnel and the profile of a rule; give the hand-written funnel SQL
        and profile function (the builder refresh reuses them)."""
        def prepared() -> tuple[Any, Any]:
            ctx = audience.make_context(None, principal=principal, con=con)
            return resolve(parse_rule(rule_json, catalogue=ctx.catalogue), ctx)

        def rule_funnel() -> Any:
            rule, ctx = prepared()
            f = audience.funnel(con, rule, ctx, excl)
            return [f["matched"], *[s["remaining"] for s in f["steps"]]]

        hand_funnel_sql = f"""{matched_sql}
            SELECT count(*), count(*) FILTER (WHERE NOT {ex(LIST_A)}),
                   count(*) FILTER (WHERE NOT {ex(LIST_A)} AND NOT {ex(LIST_B)}),
                   count(*) FILTER (WHERE NOT {ex(LIST_A)} AND NOT {ex(LIST_B)} AND NOT {contacted})
            FROM m"""
        record(f"funnel, 4 leaves ({window}) then 2 lists and recent contacts", rule_funnel,
               lambda: list(con.execute(hand_funnel_sql).fetchone()))  # type: ignore[arg-type]

        def rule_profile() -> Any:
            rule, ctx = prepared()
            return audience.profile(con, rule, ctx, excl)["audience"]

        hand_profile_sql = f"""{matched_sql.replace('m AS (', 'mm AS (')},
            fin AS (SELECT m.msisdn FROM mm m WHERE NOT {ex(LIST_A)} AND NOT {ex(LIST_B)}
                    AND NOT {contacted}),
            b AS (SELECT p.region_code d0, p.city_code d1, p.value_tier d2, p.tariff_code d3,
                         {bands} d4, {arpu} d5, (f.msisdn IS NOT NULL)::INT hit
                  FROM profile p LEFT JOIN fin f ON f.msisdn = p.msisdn)
            SELECT d0, d1, d2, d3, d4, d5, sum(hit), count(*) FROM b
            GROUP BY GROUPING SETS ((d0), (d1), (d2), (d3), (d4), (d5), ())"""

        def hand_profile() -> Any:
            rows = con.execute(hand_profile_sql).fetchall()
            return next(int(r[6]) for r in rows if all(v is None for v in r[:6]))
        record(f"profile, 6 dimensions vs the base ({window})", rule_profile, hand_profile)
        return hand_funnel_sql, hand_profile

    base_std = {"all": six_std["all"][:4]}
    funnel_and_profile("30-day window", base_std, matched_std)
    hand_funnel_sql, hand_profile = funnel_and_profile(f"{odd}-day window", base_rule,
                                                       matched_odd)

    # one builder refresh (what the page asks after each edit): count, funnel, profile
    # and sample of the other-window rule; the hand side runs its three queries in turn
    def rule_refresh() -> int:
        out = service.evaluate(None, rule=base_rule, principal=principal, con=con, size=20)
        return int(out["profile"]["audience"])

    def hand_refresh() -> int:
        con.execute(hand_odd).fetchone()
        con.execute(hand_funnel_sql).fetchone()
        return int(hand_profile())
    record(f"builder refresh: count+funnel+profile+sample, {odd}-day window", rule_refresh,
           hand_refresh, check=lambda x, y: x >= y)  # the page's funnel has no bench lists

    # snapshot of ~1M members (the top of the value score), through the real service
    size = min(args.snapshot_size, subs)
    q = con.execute("SELECT quantile_disc(value_score, ?) FROM profile",
                    [max(0.0, 1 - size / subs)]).fetchone()[0]  # type: ignore[index]
    snap_rule = {"field": "value_score", "op": ">=", "value": float(q)}
    con.close()  # the service opens the warehouse itself, as the server does
    with session_scope() as s:
        seg = service.create(s, segment_in=SegmentCreate(name="bench snapshot", rule=snap_rule),
                             principal=principal)
    snap_ids: list[int] = []

    def rule_snapshot() -> int:
        with session_scope() as s:
            snap = service.take_snapshot(s, segment_id=seg.id, principal=principal)
        snap_ids.append(snap.id)
        return snap.count

    def hand_snapshot() -> int:
        with duckdb.connect(str(args.warehouse)) as c:
            c.execute(f"SELECT count(*), count(*) FILTER (WHERE NOT {contacted}) FROM profile m "
                      f"WHERE value_score >= {float(q)}").fetchone()
            c.execute("BEGIN TRANSACTION")
            c.execute("DELETE FROM segment_snapshot_members WHERE snapshot_id = -1")
            c.execute(f"INSERT INTO segment_snapshot_members SELECT -1, msisdn FROM profile m "
                      f"WHERE value_score >= {float(q)} AND NOT {contacted}")
            n = int(c.execute("SELECT count(*) FROM segment_snapshot_members "
                              "WHERE snapshot_id = -1").fetchone()[0])  # type: ignore[index]
            c.execute("COMMIT")
            return n
    record(f"snapshot of {size:,} members (funnel + insert)", rule_snapshot, hand_snapshot)

    with duckdb.connect(str(args.warehouse)) as c:
        c.execute("DELETE FROM segment_snapshot_members WHERE snapshot_id = -1 OR snapshot_id "
                  "IN (SELECT unnest(?))", [snap_ids])
        c.execute("DELETE FROM list_members WHERE list_id IN (?, ?)", [LIST_A, LIST_B])

    from telcamp.core.db import reset_engine

    reset_engine()
    shutil.rmtree(tmp, ignore_errors=True)  # the throwaway operational DB
    meta = {"subscribers": subs, "usage_daily_rows": usage_rows, "as_of": str(as_of),
            "repeat": args.repeat, "cpus": os.cpu_count()}
    if args.json:
        print(json.dumps({"meta": meta, "figures": figures}, indent=2))
    else:
        print(f"{subs:,} subscribers, {usage_rows:,} usage_daily rows, as of {as_of}, "
              f"median of {args.repeat}")
        print(f"{'figure':<60} {'rule layer':>11} {'alone':>10} {'hand SQL':>10} {'ratio':>6} "
              f"{'CPU rule / hand':>18}")
        for f in figures:
            print(f"{f['figure']:<60} {f['rule_ms']:>8.1f} ms {f['rule_alone_ms']:>7.1f} ms "
                  f"{f['hand_ms']:>7.1f} ms "
                  f"{f['ratio']:>6} {f['rule_cpu_ms']:>8.0f} / {f['hand_cpu_ms']:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
