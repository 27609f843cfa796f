"""`telcamp policy` and `telcamp dispatch` from the command line (JSON in and out)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dispatch.world import add_contacts, make_campaign, setup_warehouse
from typer.testing import CliRunner

from telcamp.cli import app

runner = CliRunner()


def test_policy_set_show_versions_and_a_bad_file(db: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    setup_warehouse(1)
    good = tmp_path / "policy.json"
    good.write_text(json.dumps({"caps": {"24h": 1}, "quiet_start": "22:00",
                                "note": "launch"}), encoding="utf-8")
    r = runner.invoke(app, ["policy", "set", str(good)])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["version"] == 1
    shown = json.loads(runner.invoke(app, ["policy", "show"]).output)
    assert shown["caps"] == {"24h": 1} and shown["quiet_start"] == "22:00"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"quiet_end": "8 am"}), encoding="utf-8")
    # A relative name, so the error box (80 columns) cannot wrap it in two whatever the
    # temporary folder's length (longer under pytest-xdist).
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["policy", "set", "bad.json"])
    assert r.exit_code != 0
    assert "bad.json" in r.output and "quiet_end" in r.output
    assert len(json.loads(runner.invoke(app, ["policy", "versions"]).output)) == 1


def test_dispatch_run_once_with_the_fake_channel_and_progress(db: str) -> None:
    setup_warehouse(2)
    camp = make_campaign(channel="fake")
    add_contacts(camp, range(2), channel="fake")
    r = runner.invoke(app, ["dispatch", "run", "--channel", "fake", "--once"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output.strip().splitlines()[-1])["sent"] == 2
    rows = json.loads(runner.invoke(app, ["dispatch", "progress", str(camp[0])]).output)
    assert rows[0]["sent"] == 2
    r = runner.invoke(app, ["dispatch", "run", "--channel", "sms", "--once"])
    assert r.exit_code != 0 and "not configured" in r.output
