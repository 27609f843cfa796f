"""`telcamp demo` prepares a working product from nothing (the path `make demo` takes)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from telcamp.cli import app

pytestmark = pytest.mark.slow


def test_demo_generates_loads_scores_and_creates_users() -> None:
    from telcamp.core.settings import get_settings

    runner = CliRunner()
    result = runner.invoke(
        app, ["demo", "--subscribers", "3000", "--days", "10", "--no-serve"]
    )
    assert result.exit_code == 0, result.output
    settings = get_settings()  # the synthetic operator's Russian numbering plan (undone by
    # the isolated_var fixture after the test)
    assert (settings.msisdn_country_code, settings.msisdn_national_digits,
            settings.msisdn_trunk_prefix) == ("7", 10, "8")
    # one login per role is printed for the demo
    for role in ("admin", "marketer", "approver", "analyst", "agent"):
        assert role in result.output
    for name in ("blacklist", "greylist", "optout", "test numbers"):
        assert f"demo list {name!r}" in result.output
    stats = runner.invoke(app, ["warehouse", "stats", "--json"])
    assert stats.exit_code == 0, stats.output
    figures = json.loads(stats.output)
    assert figures["tables"]["subscribers"] == 3000
    assert figures["tables"]["profile"] == 3000
    assert figures["tables"]["usage_daily"] > 0
    assert sum(figures["tiers"].values()) == 3000
    assert all(figures["tiers"][t] > 0 for t in ("low", "medium", "high"))
    # a second run finds the data and does not load it twice
    again = runner.invoke(app, ["demo", "--no-serve"])
    assert again.exit_code == 0, again.output
    assert "already loaded" in again.output
    # the demo's special lists exist once, with members from the loaded base
    shown = runner.invoke(app, ["list", "show", "blacklist"])
    assert shown.exit_code == 0, shown.output
    assert "blacklist" in shown.output
