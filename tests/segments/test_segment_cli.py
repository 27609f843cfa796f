"""`telcamp segment count|save|snapshot|list|show` against a synthetic warehouse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from telcamp.cli import app

HIGH = {"field": "value_tier", "op": "=", "value": "high"}


@pytest.fixture
def rules(tmp_path: Path, warehouse_file: str) -> Path:
    path = tmp_path / "high.json"
    path.write_text(json.dumps(HIGH), encoding="utf-8")
    return path


def test_count_plain_and_json(rules: Path) -> None:
    runner = CliRunner()
    plain = runner.invoke(app, ["segment", "count", str(rules)])
    assert plain.exit_code == 0, plain.output
    n = int(plain.output.strip())
    assert 0 < n < 2000
    out = runner.invoke(app, ["segment", "count", str(rules), "--json", "--region", "C02"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.output)
    assert 0 < body["count"] < n
    assert body["funnel"]["matched"] == body["count"]
    assert set(body["profile"]["dimensions"]) >= {"county", "city", "value_tier", "tariff",
                                                  "age_band", "arpu_band"}


def test_save_versions_snapshot_list_show(rules: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["segment", "save", "high", str(rules)])
    assert r.exit_code == 0 and "version 1" in r.output, r.output
    other = tmp_path / "f.json"
    other.write_text(json.dumps({"all": [HIGH, {"field": "gender", "op": "=", "value": "f"}]}))
    r = runner.invoke(app, ["segment", "save", "high", str(other), "--note", "women"])
    assert "version 2" in r.output, r.output
    r = runner.invoke(app, ["segment", "snapshot", "high", "--version", "1"])
    assert r.exit_code == 0 and r.output.startswith("snapshot 1: "), r.output
    assert "-0" not in r.output and "→" in r.output  # a step that removed no one says so
    r = runner.invoke(app, ["segment", "list", "--json"])
    assert [s["name"] for s in json.loads(r.output)] == ["high"]
    shown = json.loads(runner.invoke(app, ["segment", "show", "high", "--version", "1"]).output)
    assert shown["rule"] == HIGH and [v["version"] for v in shown["versions"]] == [1, 2]
    assert shown["snapshots"][0]["version"] == 1


def test_errors_are_clear_and_exit_2(tmp_path: Path, warehouse_file: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"all": [\n  {"field": "agee", "op": ">", "value": 1}\n]}')
    broken = tmp_path / "broken.json"
    broken.write_text('{"all": [\n  {"field": "age",, }\n]}')
    env = dict(os.environ)
    for path, expected in ((bad, "all[0]: unknown field 'agee'"),
                           (broken, f"{broken}:2:19: invalid JSON")):
        proc = subprocess.run([str(Path(sys.executable).parent / "telcamp"), "segment", "count",
                               str(path)], capture_output=True, text=True, env=env, check=False)
        assert proc.returncode == 2, proc.stderr
        assert expected in proc.stderr.replace("\n", "")
        assert "Traceback" not in proc.stderr
    good = tmp_path / "good.json"
    good.write_text('{"all": []}')
    proc = subprocess.run([str(Path(sys.executable).parent / "telcamp"), "segment", "save",
                           "  ", str(good)], capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "name: is required" in proc.stderr and "Traceback" not in proc.stderr
    for cmd in (["count", str(good)], ["save", "ghost", str(good)]):  # a mistyped region
        proc = subprocess.run([str(Path(sys.executable).parent / "telcamp"), "segment", *cmd,
                               "--region", "ZZZ"], capture_output=True, text=True, env=env,
                              check=False)
        assert proc.returncode == 2 and "region ZZZ not found" in proc.stderr, proc.stderr


def test_saving_an_unchanged_rule_says_no_version_was_made(rules: Path) -> None:
    runner = CliRunner()
    assert "version 1" in runner.invoke(app, ["segment", "save", "high", str(rules)]).output
    r = runner.invoke(app, ["segment", "save", "high", str(rules), "--note", "retry"])
    assert r.exit_code == 0, r.output
    assert "the rule is unchanged, no new version was made (still version 1)" in r.output
    assert "the note was not saved" in r.output
    quiet = runner.invoke(app, ["segment", "save", "high", str(rules)]).output
    assert "no new version" in quiet and "note" not in quiet
    shown = json.loads(runner.invoke(app, ["segment", "show", "high"]).output)
    assert [(v["version"], v["note"]) for v in shown["versions"]] == [(1, "created")]
