"""`telcamp campaign …` takes and prints JSON; errors are clear, exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from .conftest import CITY_HEAD, campaign_in, program_in


def _cli(*args: str, ok: bool = True) -> Any:
    """In-process through Typer (fast); `ok=False` runs the real command in a subprocess
    so the exit code and message of an error are the user's."""
    if ok:
        from typer.testing import CliRunner

        from telcamp.cli import app

        result = CliRunner().invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)
    return subprocess.run([sys.executable, "-c", "from telcamp.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=120)


def _user(name: str, role: str, region: str) -> None:
    from telcamp.access.models import User
    from telcamp.core import clock
    from telcamp.core.db import session_scope

    with session_scope() as s:
        s.add(User(username=name, password_hash="x", role=role, region_code=region,
                   region_name=region, disabled=False, created_at=clock.now(),
                   password_changed_at=clock.now()))


def test_create_submit_approve_launch_from_the_cli(world: str, monkeypatch: Any) -> None:
    monkeypatch.setenv("TELCAMP_CLOCK", "2026-11-22T10:00:00+00:00")  # for the subprocess
    if not world.startswith("sqlite"):
        monkeypatch.setenv("TELCAMP_DATABASE_URL", world)
    _user("mk", "marketer", "C1")
    _user(CITY_HEAD.username, "approver", "C1")
    program = _cli("campaign", "program-create", program_in().model_dump_json())
    body = campaign_in(program["id"]).model_dump_json()
    created = _cli("campaign", "create", body, "--as", "mk")
    cid = str(created["id"])
    assert created["state"] == "draft"
    assert _cli("campaign", "rehearse", cid, "--as", "mk")["members"] == 300
    assert _cli("campaign", "submit", cid, "--as", "mk")["state"] == "submitted"
    bad = _cli("campaign", "approve", cid, "--as", "mk", ok=False)
    assert bad.returncode == 2 and "may not approve" in bad.stderr
    approved = _cli("campaign", "approve", cid, "--comment", "fine", "--as", CITY_HEAD.username)
    assert approved["state"] == "scheduled"
    launched = _cli("campaign", "launch", cid, "--as", "mk")
    assert launched["campaign"]["state"] == "running"
    assert sum(m["contacts"] + m["controls"] for m in launched["materialised"]) == 300
    assert _cli("campaign", "pause", cid, "--as", "mk")["state"] == "paused"
    assert _cli("campaign", "resume", cid, "--as", "mk")["state"] == "running"
    assert _cli("campaign", "cancel", cid, "--as", "mk")["state"] == "cancelled"
    shown = _cli("campaign", "show", cid)
    assert [a["decision"] for a in shown["approvals"]] == ["approved"]


def test_bad_json_is_a_clear_error(isolated_var: Any) -> None:
    proc = _cli("campaign", "create", '{"program_id": 1, "name": ', ok=False)
    assert proc.returncode == 2 and "not JSON" in proc.stderr
