"""The command line: `telcamp load DIR`, `telcamp load KIND FILE`, exit code 2 on bad input;
and the generator's output passing every check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import ROWS, counts, query, write_csv

TELCAMP = str(Path(sys.executable).parent / "telcamp")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TELCAMP, "load", *args, "--no-progress"], capture_output=True,
                          text=True, timeout=300, env=None)


def test_cli_loads_a_folder_then_a_single_file(data_dir: Path, tmp_path: Path) -> None:
    (data_dir / "readme.md").write_text("x", encoding="utf-8")
    (data_dir / "usage-0001.csv.bak").write_text("x", encoding="utf-8")
    done = _run(str(data_dir))
    assert done.returncode == 0, done.stderr
    assert "usage-0001.csv" in done.stdout and "ignored (no known kind): readme.md" in done.stdout
    assert ("ignored (not .csv, .csv.gz, .txt, .parquet, .pq): usage-0001.csv.bak"
            in done.stdout)
    more = write_csv(tmp_path / "extra.csv", "usage",
                     ["79000000003,2026-11-22T09:00:00+03:00,sms,out,0,0,0,0,0.1"])
    done = _run("usage", str(more))
    assert done.returncode == 0, done.stderr
    assert counts()["usage_daily"] == 4
    again = _run("usage", str(more))
    assert "already loaded" in again.stdout


def test_cli_bad_file_exits_2_and_names_file_line_column_reason(
    data_dir: Path, tmp_path: Path
) -> None:
    assert _run(str(data_dir)).returncode == 0
    before = counts()
    rows = [*ROWS["usage"], "79000000001,2026-11-20T10:00:00+03:00,fax,out,0,0,1,0,0"]
    bad = write_csv(tmp_path / "usage-bad.csv", "usage", rows)
    done = _run("usage", str(bad))
    assert done.returncode == 2
    err = " ".join(done.stderr.split())  # Rich wraps long lines
    assert "usage-bad.csv rejected, nothing loaded" in err
    assert "usage-bad.csv:6 [service]: unknown value" in err
    assert "Traceback" not in done.stderr
    assert counts() == before


def test_cli_says_which_files_of_a_folder_went_in_before_a_rejected_one(tmp_path: Path) -> None:
    from .conftest import make_dir

    d = make_dir(tmp_path / "in")
    write_csv(d / "tariffs.csv", "tariffs", ["T1,Basic,prepaid,-1"])
    done = _run(str(d))
    assert done.returncode == 2
    out = " ".join(done.stdout.split())
    assert "regions.csv" in out and "the files above were loaded" in out, done.stdout
    # what the user must load once the file is fixed, in the order they would have loaded
    assert ("not attempted after the rejected file: subscribers.csv, usage-0001.csv, "
            "product_events.csv, payments.csv; fix it and load the folder again (files "
            "already loaded are skipped)") in out, done.stdout
    assert "tariffs.csv rejected, nothing loaded" in " ".join(done.stderr.split())
    assert counts()["regions"] == 4 and counts()["tariffs"] == 0
    assert counts()["subscribers"] == 0 and counts()["usage_daily"] == 0


def test_cli_names_the_files_not_attempted_when_the_first_is_rejected(tmp_path: Path) -> None:
    from .conftest import make_dir

    d = make_dir(tmp_path / "in", skip=("usage", "product_events", "payments"))
    write_csv(d / "regions.csv", "regions", ["P01,Province,,planet,Europe/Moscow"])
    before = counts()
    done = _run(str(d))
    assert done.returncode == 2
    out = " ".join(done.stdout.split())
    assert "the files above were loaded" not in out  # none were
    assert "not attempted after the rejected file: tariffs.csv, subscribers.csv;" in out
    assert "regions.csv rejected, nothing loaded" in " ".join(done.stderr.split())
    assert counts() == before


def test_a_refused_folder_load_reports_the_files_it_did_not_read(tmp_path: Path) -> None:
    from telcamp.core.errors import FileRejected
    from telcamp.load import service

    from .conftest import make_dir

    d = make_dir(tmp_path / "in")
    write_csv(d / "usage-0002.csv", "usage", ["79000000001,2026-11-20T10:00:00+03:00,fax,"
                                              "out,0,0,1,0,0"])
    try:
        service.load_dir(d)
    except FileRejected as exc:
        partial = exc.partial
    else:
        raise AssertionError("usage-0002.csv must be refused")
    assert [Path(f.file).name for f in partial.files] == [
        "regions.csv", "tariffs.csv", "subscribers.csv", "usage-0001.csv"]
    assert [Path(n).name for n in partial.not_attempted] == [
        "product_events.csv", "payments.csv"]
    assert partial.seconds > 0  # timed to the refusal, for callers other than the CLI


def test_cli_takes_the_kind_from_a_files_name(data_dir: Path, tmp_path: Path) -> None:
    assert _run(str(data_dir)).returncode == 0
    pay = write_csv(tmp_path / "payments-extra.csv", "payments",
                    ["79000000001,2026-11-20T11:00:00+03:00,50,recharge"])
    before = counts()["payments"]
    done = _run(str(pay))
    assert done.returncode == 0, done.stderr
    assert counts()["payments"] == before + 1
    odd = write_csv(tmp_path / "export.csv", "payments", ROWS["payments"])
    done = _run(str(odd))
    assert done.returncode == 2 and "does not say its kind" in " ".join(done.stderr.split())


def test_cli_needs_one_or_two_arguments(tmp_path: Path) -> None:
    done = subprocess.run([TELCAMP, "load", "a", "b", "c"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert "give a folder, or a kind and a file" in " ".join(done.stderr.split())


def test_generated_operator_loads_without_a_single_problem(tmp_path: Path) -> None:
    """The generator and the loader agree on the data contracts (both formats)."""
    from datetime import date

    from telcamp.generate import service as generate
    from telcamp.load import service

    records = []
    for fmt in ("csv", "parquet"):
        out = tmp_path / fmt
        made = generate.generate(subscribers=300, days=3, seed=7, out=out, fmt=fmt,
                                 end_date=date(2026, 11, 21), workers=1)
        report = service.load_dir(out)
        assert not report.ignored
        loaded = {f.kind: f.rows + f.orphans for f in report.files if f.kind != "usage"}
        assert loaded["subscribers"] == 300
        records.append(int(str(query("SELECT sum(records) FROM usage_daily")[0][0])))
        assert made is not None
    assert records[0] > 0
    # the second format's files are different bytes but the same operator: subscribers
    # replaced by msisdn, so still 300, and its usage, product events and payments are
    # the records already loaded, recognised by content and not added a second time
    assert query("SELECT count(*) FROM subscribers") == [(300,)]
    assert records[1] == records[0]
    assert all(f.same_as == f"{Path(f.file).stem}.csv" for f in report.files
               if f.kind in ("usage", "product_events", "payments"))
    assert query("SELECT max(day)::VARCHAR FROM usage_daily") == [("2026-11-21",)]


def test_load_waits_while_another_process_holds_the_warehouse(data_dir: Path) -> None:
    """A load started while another process (e.g. a request of `telcamp serve`) has the
    DuckDB file open waits for it instead of failing with 'database is locked'."""
    import time

    from telcamp.core.settings import get_settings
    from telcamp.load import service

    wh_file = get_settings().warehouse_file
    holder = subprocess.Popen([
        sys.executable, "-c",
        "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('held', flush=True);"
        " time.sleep(2); con.close()", str(wh_file),
    ], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        report = service.load_dir(data_dir)
        waited = time.monotonic() - started
    finally:
        holder.wait(timeout=30)
    assert report.files[0].rows == 4
    assert waited > 0.5  # it did wait for the other process


def test_cli_says_same_records_and_warns_of_days_loaded_before(
    data_dir: Path, tmp_path: Path
) -> None:
    import os

    def run(*args: str) -> str:
        done = subprocess.run([TELCAMP, "load", *args, "--no-progress"], capture_output=True,
                              text=True, timeout=300, env={**os.environ, "COLUMNS": "400"})
        assert done.returncode == 0, done.stderr
        return " ".join(done.stdout.split())

    run(str(data_dir))
    before = counts()
    resent = tmp_path / "usage-resent.csv"
    resent.write_bytes((data_dir / "usage-0001.csv").read_bytes().replace(b"\n", b"\r\n"))
    out = run("usage", str(resent))
    assert "already loaded (same records as usage-0001.csv)" in out
    assert counts() == before
    more = write_csv(tmp_path / "usage-more.csv", "usage", [
        *ROWS["usage"], "79000000003,2026-11-21T09:00:00+03:00,sms,out,0,0,0,0,0.1"])
    out = run("usage", str(more))
    assert "warning: days 2026-11-20..2026-11-21 were already loaded from usage-0001.csv" in out
    assert "its records were added to 3 subscriber-days already there" in out


def test_a_missing_path_is_said_to_be_missing(tmp_path: Path) -> None:
    done = subprocess.run([TELCAMP, "load", str(tmp_path / "nosuch.csv"), "--no-progress"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "nosuch.csv: no such file or folder" in " ".join((done.stdout + done.stderr).split())
