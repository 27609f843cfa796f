"""`telcamp list ...` end to end on the default SQLite database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from telcamp.cli import app
from telcamp.core import warehouse
from telcamp.core.db import migrate

from .conftest import make_campaign

runner = CliRunner()


def _ok(*args: str) -> str:
    result = runner.invoke(app, ["list", *args])
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def test_create_import_add_search_show_remove(regions, frozen, tmp_path: Path) -> None:
    migrate()
    assert "list 1 'dnd' (optout) owned by P01" in _ok("create", "dnd", "--type", "optout",
                                                       "--owner", "P01")
    csv_file = tmp_path / "dnd.csv"
    csv_file.write_text("msisdn,reason,expiry\n79120000001,STOP reply,\nbad,,\n"
                        "79120000002,,2027-03-01\n", encoding="utf-8")

    refused = runner.invoke(app, ["list", "import", "dnd", str(csv_file)])
    assert refused.exit_code != 0
    assert "dnd.csv:3" in str(refused.exception)
    assert "nothing imported yet; valid rows: 2, rejected: 1" in str(refused.exception)
    assert "0 members" in _ok("show", "dnd")
    # --json: the refusal, with its report, on stdout for a script; still exit 2
    as_json = runner.invoke(app, ["list", "import", "dnd", str(csv_file), "--json"])
    assert as_json.exit_code == 2
    body = json.loads(as_json.stdout)
    assert body["code"] == "partial_import_unconfirmed"
    assert body["report"]["rejected"][0]["line"] == 3 and body["report"]["valid"] == 2
    assert "0 members" in _ok("show", "dnd")

    out = _ok("import", "dnd", str(csv_file), "--accept-partial")
    assert "rejected dnd.csv:3 [msisdn] 'bad': must be digits only" in out
    assert "3 rows, 2 added, 0 updated, 1 rejected" in out

    _ok("add", "dnd", "79120000003", "--reason", "called the hotline", "--expires",
        "2027-01-31")
    out = _ok("search", "79120000003")
    # a date is shown as typed: the member counts through that day in the list's zone
    assert "list 1 'dnd' (optout): called the hotline; until the end of 2027-01-31" in out
    assert "is on no list" in _ok("search", "79129999999")
    hits = json.loads(_ok("search", "79120000001", "--json"))
    assert hits[0]["reason"] == "STOP reply"

    listing = json.loads(_ok("show", "--json"))
    assert [(x["name"], x["members"]) for x in listing] == [("dnd", 3)]
    assert "79120000003" in _ok("show", "1")
    _ok("remove", "dnd", "79120000003")
    assert "2 members" in _ok("show", "dnd")
    assert "1. optout: dnd" in _ok("exclusions")
    campaign = str(make_campaign("P01"))  # an override is for a campaign that exists
    _ok("override", campaign, "dnd", "--reason", "service message campaign")
    assert "optout" not in _ok("exclusions", "--campaign", campaign)
    assert "up to date" in _ok("sync")
    with warehouse.connect() as con:
        assert con.execute("SELECT count(*) FROM list_members").fetchone() == (2,)
    _ok("rename", "dnd", "do not disturb")
    _ok("delete", "do not disturb", "--yes")
    assert json.loads(_ok("show", "--json")) == []


def test_region_option_scopes_the_cli(regions, frozen) -> None:
    migrate()
    _ok("create", "c01 tests", "--type", "test", "--region", "C01")
    assert json.loads(_ok("show", "--json", "--region", "C02")) == []
    result = runner.invoke(app, ["list", "add", "c01 tests", "79120000001", "--region", "C02"])
    assert result.exit_code != 0 and "not found" in str(result.exception)


def test_bad_input_exits_2_with_a_clear_message(regions, tmp_path: Path) -> None:
    """Through the real `telcamp` entry point: no traceback, exit code 2."""
    migrate()
    _ok("create", "x", "--type", "custom")
    bad = tmp_path / "latin1.csv"
    bad.write_bytes("79120000001,r\u00e9clamation\n".encode("latin-1"))
    env = {**os.environ, "COLUMNS": "200"}  # no wrapping of the message by Rich
    result = subprocess.run(
        [sys.executable, "-c", "from telcamp.cli import main; main()", "list", "import", "x",
         str(bad)], capture_output=True, text=True, env=env, timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "latin1.csv:1: not UTF-8" in result.stderr
    assert "Traceback" not in result.stderr


def test_rejected_rows_name_their_column_and_show_its_value(regions, frozen,
                                                           tmp_path: Path) -> None:
    migrate()
    _ok("create", "dnd", "--type", "optout")
    csv_file = tmp_path / "dnd.csv"
    csv_file.write_text("msisdn,reason,expiry\n79000344943,,2020-01-01\n7900x,,\n"
                        "79000344944,,\n", encoding="utf-8")
    refused = runner.invoke(app, ["list", "import", "dnd", str(csv_file), "--json"])
    rows = json.loads(refused.stdout)["report"]["rejected"]
    assert [(r["line"], r["column"], r["value"]) for r in rows] == [
        (2, "expiry", "2020-01-01"), (3, "msisdn", "7900x")]
    # the error lines too: the expiry is the value, not the (valid) number beside it
    assert "dnd.csv:2 [expiry]: '2020-01-01': expiry 2020-01-01 is in the past" in str(
        runner.invoke(app, ["list", "import", "dnd", str(csv_file)]).exception)
    out = _ok("import", "dnd", str(csv_file), "--accept-partial")
    assert "rejected dnd.csv:2 [expiry] '2020-01-01': expiry 2020-01-01 is in the past" in out
    report = json.loads(_ok("import", "dnd", str(csv_file), "--accept-partial", "--json"))
    assert [r["column"] for r in report["rejected"]] == ["expiry", "msisdn"]


def test_search_says_no_expiry_plainly(regions, frozen) -> None:
    migrate()
    _ok("create", "dnd", "--type", "optout")
    _ok("add", "dnd", "79120000005", "--reason", "STOP")
    out = " ".join(_ok("search", "79120000005").split())
    assert "(optout): STOP; no expiry" in out and "until no expiry" not in out


def test_a_region_user_changing_an_operator_wide_list_is_told_who_can(regions,
                                                                       frozen) -> None:
    migrate()
    _ok("create", "blacklist", "--type", "blacklist")  # operator-wide: no --region
    result = runner.invoke(app, ["list", "add", "blacklist", "79120000001", "--region", "C01"])
    assert result.exit_code != 0
    message = str(result.exception)
    assert "list 1 is operator-wide; only users without a region" in message
    assert "region operator-wide" not in message
    _ok("create", "c01 black", "--type", "blacklist", "--region", "C01")
    result = runner.invoke(app, ["list", "add", "c01 black", "79120000001", "--region",
                                 "C01-01"])
    assert "list 2 belongs to region C01; only that region's users can change it" in str(
        result.exception)
