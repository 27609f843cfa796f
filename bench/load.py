"""Benchmark of the validating loader against a plain DuckDB read of the same files.

    .venv/bin/python bench/load.py --dir DIR [--work DIR] [--repeat N] [--files N] [--no-dir]
                                   [--stages]

DIR holds files made by `telcamp generate` (CSV or Parquet). The reference files
(regions, tariffs, subscribers) are loaded once into a base warehouse (not timed as
usage), copied for every run. Then, for every usage file (the first --files N), in the
same run: a plain DuckDB read of the file into a table (read_csv / read_parquet with type
detection, no checks), and the validated load (telcamp.load: every check, aggregation to
usage_daily, registry, one transaction), each the best of --repeat runs on a fresh copy
of the base. Prints rows/s of both and their ratio, wall and CPU seconds, the load
average, then (unless --no-dir) the whole folder as a user loads it, and the peak RSS.

--stages first prints where a validated usage row's CPU goes, on the first usage file in a
copy of the base, with one DuckDB thread (CPU seconds of one thread are the steadiest
figure on a shared box; two threads take about half the wall time): the validated scan
alone, the aggregation to (msisdn, day) into a temporary table, that plus the append to
`usage_daily` (what the loader does), and the validated rows appended unaggregated (what
the load would cost if the daily aggregation moved to the rebuild). Each in a transaction
that is rolled back.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _fresh_env(root: Path) -> None:
    from telcamp.core.settings import reset_settings

    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    os.environ["TELCAMP_VAR_DIR"] = str(root)
    os.environ.pop("TELCAMP_WAREHOUSE_PATH", None)
    reset_settings()


def _cpu() -> float:
    """CPU seconds of this process, all threads: steadier than wall time on a busy box."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _plain(path: Path) -> tuple[int, float, float]:
    """The reference: DuckDB reading the file into a table, nothing checked."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    reader = "read_parquet" if path.suffix == ".parquet" else "read_csv"
    started, cpu = time.perf_counter(), _cpu()
    con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}(?)", [str(path)])
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    row = con.execute("SELECT count(*) FROM t").fetchone()
    con.close()
    return (int(row[0]) if row else 0), seconds, cpu


def _stages(base: Path, path: Path, work: Path) -> None:
    """CPU seconds of the stages of a validated usage load (see the module docstring)."""
    from telcamp.load import mapping, validate, writers
    from telcamp.load.source import open_source
    from telcamp.warehouse.contracts import CONTRACTS
    from telcamp.warehouse.schema import METRICS

    db = work / "stages.duckdb"
    shutil.copy(base, db)
    con = duckdb.connect(str(db))
    con.execute("SET enable_progress_bar = false")
    con.execute("SET threads = 1")
    con.execute("SET preserve_insertion_order = false")
    contract = CONTRACTS["usage"]
    source = open_source(con, path=path, contract=contract,
                         mapping=mapping.load(None).for_kind("usage"))
    typed = validate.typed_select(source, contract, numbered=False)
    bad = validate.any_bad(writers.usage_checks(source, contract, numbered=False))
    agg = writers._aggregate_sql(typed, bad, by_key=True)
    cols = ", ".join(["msisdn", "day", *(m.name for m in METRICS), "records"])
    metrics, _decoded = writers._metrics_packed()
    key = f"(msisdn::UBIGINT << {writers.KEY_DAY_BITS}) + (day - {writers.KEY_EPOCH})"
    raw = ("msisdn BIGINT, day DATE, service VARCHAR, direction VARCHAR, long_distance "
           "INTEGER, roaming INTEGER, duration_s BIGINT, volume_kb DOUBLE, charge DOUBLE")
    stages = [
        ("validated scan (checks, key, metrics; nothing kept)",
         [f"SELECT count_if({bad}), sum({key}), {metrics} FROM ({typed})"]),
        ("aggregated to (msisdn, day) into a temporary table",
         [f"CREATE TEMP TABLE _s AS {agg}"]),
        ("the same, then appended to usage_daily (the loader)",
         [f"CREATE TEMP TABLE _s AS {agg}",
          f"INSERT INTO usage_daily ({cols}) SELECT {cols} FROM _s"]),
        ("validated rows appended unaggregated (no daily sums)",
         [f"CREATE TABLE _raw({raw})",
          f"INSERT INTO _raw SELECT {', '.join(r.split()[0] for r in raw.split(', '))} "
          f"FROM ({typed}) WHERE NOT {bad}"]),
    ]
    print(f"stages of {path.name}, 1 DuckDB thread, CPU seconds:")
    for label, sqls in stages:
        con.execute("BEGIN TRANSACTION")
        started, cpu = time.perf_counter(), _cpu()
        for sql in sqls:
            con.execute(sql).fetchall()
        print(f"  {label}: {_cpu() - cpu:.2f} CPU s ({time.perf_counter() - started:.2f} s), "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
        con.execute("ROLLBACK")
    con.close()
    db.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, required=True, help="folder of generated files")
    parser.add_argument("--work", type=Path, default=None,
                        help="scratch folder for the warehouses (default: a temp folder)")
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs per file")
    parser.add_argument("--files", type=int, default=None, help="only the first N usage files")
    parser.add_argument("--no-dir", action="store_true",
                        help="skip the whole-folder load (every kind and the rebuild)")
    parser.add_argument("--stages", action="store_true",
                        help="first print the CPU of each stage of a usage load (1 thread)")
    args = parser.parse_args()

    from telcamp.load import service

    known, _ignored = service.plan_dir(args.dir)
    refs = [(k, p) for k, p in known if k in ("regions", "tariffs", "subscribers")]
    usage = [p for k, p in known if k == "usage"][: args.files]
    if not usage:
        sys.exit(f"{args.dir}: no usage files")
    work = args.work or Path(tempfile.mkdtemp(prefix="telcamp-bench-"))
    print(f"machine: {os.cpu_count()} cores; duckdb {duckdb.__version__}; files from {args.dir}")
    _fresh_env(work / "base")
    started = time.perf_counter()
    service.load_files(refs, rebuild=False)
    base = work / "base" / "warehouse.duckdb"
    print(f"reference files loaded in {time.perf_counter() - started:.1f} s", flush=True)
    if args.stages:
        _stages(base, usage[0], work)
    total_rows = 0
    total_plain = total_valid = cpu_plain = cpu_valid = 0.0
    for path in usage:
        best_plain = best_valid = best_cpu_plain = best_cpu_valid = float("inf")
        rows = 0
        for _ in range(max(1, args.repeat)):
            n, s, c = _plain(path)
            best_plain, best_cpu_plain = min(best_plain, s), min(best_cpu_plain, c)
            _fresh_env(work / "wh")
            shutil.copy(base, work / "wh" / "warehouse.duckdb")
            load_before = os.getloadavg()[0]
            started, cpu = time.perf_counter(), _cpu()
            report = service.load_file("usage", path, rebuild=False)
            best_valid = min(best_valid, time.perf_counter() - started)
            best_cpu_valid = min(best_cpu_valid, _cpu() - cpu)
            rows = report.files[0].rows + report.files[0].orphans
            assert rows == n, (rows, n)
        total_rows += rows
        total_plain += best_plain
        total_valid += best_valid
        cpu_plain += best_cpu_plain
        cpu_valid += best_cpu_valid
        print(f"{path.name}: {rows:,} rows | plain read {best_plain:.2f} s "
              f"({rows / best_plain / 1e6:.2f} M rows/s, {best_cpu_plain:.2f} CPU s) | validated "
              f"load {best_valid:.2f} s ({rows / best_valid / 1e6:.2f} M rows/s, "
              f"{best_cpu_valid:.2f} CPU s) | ratio {best_plain / best_valid:.2f} | load "
              f"{load_before:.1f}-{os.getloadavg()[0]:.1f}", flush=True)
    print(f"usage total: {total_rows:,} rows | plain {total_rows / total_plain / 1e6:.2f} M rows/s"
          f" | validated {total_rows / total_valid / 1e6:.2f} M rows/s | ratio "
          f"{total_plain / total_valid:.2f} | CPU s plain {cpu_plain:.1f}, validated "
          f"{cpu_valid:.1f} (ratio {cpu_plain / cpu_valid:.2f})")
    if args.no_dir:
        print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2:.2f} GiB")
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
        return
    # The whole folder as a user runs it: every file, then the profile rebuild.
    _fresh_env(work / "wh")
    started = time.perf_counter()
    report = service.load_dir(args.dir)
    whole = time.perf_counter() - started
    print(f"telcamp load DIR: {report.rows:,} rows in {whole:.1f} s "
          f"(profile rebuilt: {report.rebuilt})")
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS: {peak_kib / 1024 / 1024:.2f} GiB")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
