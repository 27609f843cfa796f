"""Benchmark of the validating loader against a plain DuckDB read of the same files.

    .venv/bin/python bench/load.py --dir DIR [--warehouse FILE] [--repeat N]

DIR holds files made by `telcamp generate` (CSV or Parquet). The reference files
(regions, tariffs, subscribers) are loaded first (not timed as usage). Then, for every
usage file, in the same run: a plain DuckDB read of the file into a table (read_csv /
read_parquet with type detection, no checks), and the validated load (telcamp.load:
every check, aggregation to usage_daily, registry, one transaction), each the best of
--repeat runs on a fresh warehouse. Prints rows/s of both and their ratio, the profile
rebuild time and the peak RSS of the process.
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
    args = parser.parse_args()

    from telcamp.load import service

    known, _ignored = service.plan_dir(args.dir)
    refs = [(k, p) for k, p in known if k in ("regions", "tariffs", "subscribers")]
    usage = [p for k, p in known if k == "usage"]
    if not usage:
        sys.exit(f"{args.dir}: no usage files")
    work = args.work or Path(tempfile.mkdtemp(prefix="telcamp-bench-"))
    print(f"machine: {os.cpu_count()} cores; duckdb {duckdb.__version__}; files from {args.dir}")
    total_rows = 0
    total_plain = total_valid = cpu_plain = cpu_valid = 0.0
    for path in usage:
        best_plain = best_valid = best_cpu_plain = best_cpu_valid = float("inf")
        rows = 0
        for _ in range(max(1, args.repeat)):
            n, s, c = _plain(path)
            best_plain, best_cpu_plain = min(best_plain, s), min(best_cpu_plain, c)
            _fresh_env(work / "wh")
            service.load_files(refs, rebuild=False)
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
              f"{best_cpu_valid:.2f} CPU s) | ratio {best_plain / best_valid:.2f}", flush=True)
    print(f"usage total: {total_rows:,} rows | plain {total_rows / total_plain / 1e6:.2f} M rows/s"
          f" | validated {total_rows / total_valid / 1e6:.2f} M rows/s | ratio "
          f"{total_plain / total_valid:.2f} | CPU s plain {cpu_plain:.1f}, validated "
          f"{cpu_valid:.1f} (ratio {cpu_plain / cpu_valid:.2f})")
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
