"""Admins configure the approval chain (levels per campaign level, budget threshold) over
the API, the CLI and /admin/approval-chain; validated, versioned, audited; submissions
follow it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from telcamp.campaigns import approvals
from telcamp.core.db import session_scope

from .conftest import MARKETER, make_campaign, make_program

TWO_STEP = {"levels": {"county": ["city", "province"], "city": ["province"],
                       "province": ["province"]}, "budget_threshold": 5000}


def _steps(cid: int) -> list[tuple[int, str]]:
    with session_scope() as s:
        c = approvals.submit(session=s, actor=MARKETER, campaign_id=cid)
        return [(a.step, a.approver_region) for a in c.approvals]


def test_api_sets_a_new_version_and_submissions_follow_it(world: str, login: Any) -> None:
    from telcamp.audit.models import AuditEntry

    admin = login("admin")
    r = admin.get("/api/approval-chain")
    assert r.json()["version"] == 0 and r.json()["levels"]["county"] == ["city"]
    r = admin.put("/api/approval-chain", json=TWO_STEP)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 1 and r.json()["budget_threshold"] == 5000
    pid = make_program()
    assert _steps(make_campaign(pid)) == [(1, "C1"), (2, "P1")]
    with session_scope() as s:
        [entry] = s.scalars(select(AuditEntry).where(
            AuditEntry.action == "approval_chain.set")).all()
        assert entry.before["version"] == 0 and entry.after["levels"]["county"] == [
            "city", "province"]
    # a threshold below the budget adds the above-threshold levels (here: the city)
    r = admin.put("/api/approval-chain", json={**TWO_STEP, "budget_threshold": 500,
                                                "levels": {"county": ["county"],
                                                           "city": ["city"],
                                                           "province": ["province"]},
                                                "above_threshold": ["city"]})
    assert r.json()["version"] == 2
    assert _steps(make_campaign(pid, name="second")) == [(1, "K1"), (2, "C1")]


def test_bad_chains_are_refused_naming_the_field(world: str, login: Any) -> None:
    admin = login("admin")
    r = admin.put("/api/approval-chain", json={"levels": {"county": ["city"],
                                                          "city": ["county"],
                                                          "province": ["province"]}})
    assert r.status_code == 422 and "city campaigns cannot be approved at county" in r.json()[
        "message"], r.text
    r = admin.put("/api/approval-chain", json={"levels": {"county": ["city"]}})
    assert r.status_code == 422 and "city, province" in r.json()["message"]
    r = admin.put("/api/approval-chain", json={**TWO_STEP, "budget_threshold": -1})
    assert r.status_code == 422 and r.json()["field"] == "budget_threshold"
    r = admin.put("/api/approval-chain", json={"levels": {"county": ["town"], "city": [],
                                                          "province": ["province"]}})
    assert r.status_code == 422 and "levels.county" in r.json()["message"]
    assert admin.get("/api/approval-chain").json()["version"] == 0  # nothing applied


def test_only_an_operator_wide_admin_may_set_it(world: str, login: Any) -> None:
    assert login("marketer", "C1").put("/api/approval-chain", json=TWO_STEP).status_code == 403
    r = login("admin", "P1").put("/api/approval-chain", json=TWO_STEP)
    assert r.status_code == 403 and "operator-wide" in r.json()["message"]
    assert login("approver", "C1").get("/api/approval-chain").status_code == 200


def test_cli_show_and_set(world: str) -> None:
    import json

    from telcamp.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["approval-chain", "set", json.dumps(TWO_STEP)])
    assert out.exit_code == 0, out.output
    out = runner.invoke(app, ["approval-chain", "show"])
    shown = json.loads(out.output)
    assert shown["version"] == 1 and shown["updated_by"] == "system"
    out = runner.invoke(app, ["approval-chain", "set", '{"levels": {}}'])
    assert "give the approvers of county, city, province" in str(out.exception)


def test_page_shows_and_changes_the_chain(world: str, login: Any) -> None:
    admin = login("admin")
    page = admin.get("/admin/approval-chain").text
    assert 'data-testid="form-chain"' in page and 'href="/admin/approval-chain"' in page
    form = {"levels_county": "city, province", "levels_city": "county",
            "levels_province": "province", "budget_threshold": "7000",
            "above_threshold": "province"}
    r = admin.post("/admin/approval-chain", data=form)
    assert r.status_code == 422 and "cannot be approved at county" in r.text
    assert 'value="city, province"' in r.text  # as typed
    r = admin.post("/admin/approval-chain", data={**form, "levels_city": "province"},
                   follow_redirects=False)
    assert r.status_code == 303
    page = admin.get("/admin/approval-chain").text
    assert "Version 1" in page and "7,000.00" in page
    assert 'data-testid="chain-history"' in page  # the versions, from the audit log
    # errors are said in the reader's language
    r = admin.post("/admin/approval-chain?lang=ru", data=form)
    assert "нельзя согласовывать на уровне «район»" in r.text
    assert login("marketer", "C1").get("/admin/approval-chain").status_code == 403
