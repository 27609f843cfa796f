"""Benchmark of the validating loader against a plain DuckDB read of the same files.

    .venv/bin/python bench/load.py --dir DIR [--work DIR] [--repeat N] [--files N] [--no-dir]

DIR holds files made by `telcamp generate` (CSV or Parquet). The reference files
(regions, tariffs, subscribers) are loaded once into a base warehouse (not timed as
usage), copied for every run. Then, for every usage file (the first --files N), in the
same run: a plain DuckDB read of the file into a table (read_csv / read_parquet with type
detection, no checks), and the validated load (telcamp.load: every check, aggregation to
usage_daily, registry, one transaction), each the best of --repeat runs on a fresh copy
of the base. Prints rows/s of both and their ratio, wall and CPU seconds, the load
average, then (unless --no-dir) the whole folder as a user loads it, and the peak RSS.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, required=True, help="folder of generated files")
    parser.add_argument("--work", type=Path, default=None,
                        help="scratch folder for the warehouses (default: a temp folder)")
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs per file")
    parser.add_argument("--files", type=int, default=None, help="only the first N usage files")
    parser.add_argument("--no-dir", action="store_true",
                        help="skip the whole-folder load (every kind and the rebuild)")
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
