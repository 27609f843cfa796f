"""`telcamp warehouse rebuild` and `telcamp warehouse stats` on the configured warehouse."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from telcamp.cli import app
from telcamp.core import warehouse
from telcamp.warehouse import service
from telcamp.warehouse.schema import ensure_schema
from telcamp.warehouse.scoring import DEFAULT_CONFIG

from .builder import AS_OF, Warehouse

runner = CliRunner()


def fill() -> None:
    with warehouse.connect() as con:
        ensure_schema(con)
        wh = Warehouse(con)
        wh.region_tree()
        wh.subscriber(1)  # active, used yesterday: low churn risk
        wh.usage(1, AS_OF - timedelta(days=1), charge=3)
        wh.payment(1, AS_OF - timedelta(days=2))
        wh.subscriber(2, status="churned")  # risk 1
        wh.subscriber(3, status="suspended")  # never used, never paid: high risk
        wh.usage(2, AS_OF - timedelta(days=3))


def test_rebuild_then_stats_json() -> None:
    fill()
    result = runner.invoke(app, ["warehouse", "rebuild", "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    assert "3 subscribers" in result.output and AS_OF.isoformat() in result.output
    result = runner.invoke(app, ["warehouse", "stats", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["as_of_date"] == AS_OF.isoformat()
    assert figures["tables"]["subscribers"] == 3
    assert figures["tables"]["profile"] == 3
    assert figures["tables"]["usage_daily"] == 2
    assert sum(figures["tiers"].values()) == 3
    assert figures["churn_risk"] == {"low": 1, "medium": 0, "high": 2}
    assert figures["last_build"]


def test_rebuild_defaults_to_the_last_usage_day() -> None:
    fill()
    result = runner.invoke(app, ["warehouse", "rebuild"])
    assert result.exit_code == 0, result.output
    with warehouse.connect(read_only=True) as con:
        assert service.stats(con)["as_of_date"] == (AS_OF - timedelta(days=1)).isoformat()


def test_stats_table_output_and_empty_warehouse() -> None:
    result = runner.invoke(app, ["warehouse", "stats"])
    assert result.exit_code == 0, result.output
    assert "as-of date: -" in result.output and "usage_daily" not in result.output
    fill()
    result = runner.invoke(app, ["warehouse", "stats"])
    assert result.exit_code == 0, result.output
    assert "usage_daily" in result.output and "churn risk" in result.output


def test_bad_as_of_date_is_a_clear_error() -> None:
    result = runner.invoke(app, ["warehouse", "rebuild", "--as-of", "2026-13-01"])
    assert result.exit_code != 0
    assert "--as-of" in str(result.exception) or "--as-of" in result.output


def test_rebuild_with_a_config_file_says_loads_use_the_setting_and_stats_names_it(
    tmp_path: Path,
) -> None:
    # `rebuild --config` scores once: the next load rebuilds with the setting's file and
    # puts the previous tiers back; the user is told so, and stats shows the file in force
    fill()
    custom = tmp_path / "scoring.yaml"
    custom.write_text(DEFAULT_CONFIG.read_text(encoding="utf-8").replace(
        "high: 65", "high: 80"), encoding="utf-8")
    result = runner.invoke(app, ["warehouse", "rebuild", "--config", str(custom)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert (f"note: scored with {custom} for this rebuild only; every load rebuilds the "
            f"profile with {DEFAULT_CONFIG}. To keep these scores, set "
            f"TELCAMP_SCORING_CONFIG={custom}") in said
    stats = runner.invoke(app, ["warehouse", "stats"])
    assert f"scoring config: {custom}" in " ".join(stats.output.split())
    result = runner.invoke(app, ["warehouse", "rebuild"])  # as a load does
    assert "note:" not in result.output
    figures = json.loads(runner.invoke(app, ["warehouse", "stats", "--json"]).output)
    assert figures["scoring_config"] == str(DEFAULT_CONFIG)
