"""`telcamp generate` as a user runs it: files written, bad arguments exit 2 with a reason."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TELCAMP = str(Path(sys.executable).parent / "telcamp")


def _run_in_process(capsys, monkeypatch, *args: str) -> tuple[int, str]:
    """The same entry point as the installed script (core.cli.run), without a new process."""
    from telcamp.cli import app
    from telcamp.core.cli import run

    monkeypatch.setattr(sys, "argv", ["telcamp", "generate", *args])
    with pytest.raises(SystemExit) as ended:
        run(app)
    return int(ended.value.code or 0), capsys.readouterr().err


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TELCAMP, "generate", *args], capture_output=True, text=True,
                          timeout=120)


def test_generate_writes_every_file(tmp_path) -> None:
    tmp_path = tmp_path / "out"
    res = _run("--subscribers", "300", "--days", "3", "--seed", "5", "--out", str(tmp_path),
               "--format", "parquet", "--end-date", "2026-11-21", "--events-per-day", "1.5")
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "payments.parquet", "product_events.parquet", "regions.parquet",
        "subscribers.parquet", "tariffs.parquet", "usage-0001.parquet"]
    assert "subscribers.parquet" in res.stdout and "300" in res.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--subscribers", "0"], "--subscribers must be between 1"),
    (["--subscribers", "abc"], "--subscribers"),
    (["--days", "500"], "--days must be between 1 and 400"),
    (["--format", "xml"], "--format must be one of csv, parquet"),
    (["--events-per-day", "-1"], "--events-per-day must be above 0"),
    (["--end-date", "21.11.2026"], "--end-date must be a date YYYY-MM-DD"),
    (["--workers", "0"], "--workers must be at least 1"),
])
def test_bad_arguments_exit_2_with_a_clear_reason(tmp_path, capsys, monkeypatch, args,
                                                  message) -> None:
    code, err = _run_in_process(capsys, monkeypatch, "--out", str(tmp_path / "out"), *args)
    assert code == 2, err
    assert message in " ".join(err.split())
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_the_installed_command_exits_2_on_a_bad_argument(tmp_path) -> None:
    res = _run("--out", str(tmp_path / "out"), "--days", "0")
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "--days must be between 1 and 400" in " ".join(res.stderr.split())
