"""Programs can be edited (guarded by what their campaigns committed) and deleted (only
while their campaigns are drafts or cancelled) — over REST, the CLI and the page; audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from telcamp.core.db import session_scope

from .conftest import make_campaign, make_program


def _audited(action: str) -> list[Any]:
    from telcamp.audit.models import AuditEntry

    with session_scope() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_edit_is_guarded_and_audited(world: str, login: Any) -> None:
    pid = make_program(region_code="C1")
    make_campaign(pid, budget=3000)
    mk = login("marketer", "C1")
    r = mk.patch(f"/api/programs/{pid}", json={"budget": 2999})
    assert r.status_code == 422 and "3000" in r.json()["message"], r.text
    r = mk.patch(f"/api/programs/{pid}", json={"end_date": "2026-12-01"})
    assert r.status_code == 422 and "outside the new period" in r.json()["message"]
    r = mk.patch(f"/api/programs/{pid}", json={"end_date": "2026-10-01"})
    assert r.status_code == 422 and "ends before it starts" in r.json()["message"]
    r = mk.patch(f"/api/programs/{pid}", json={"budget": 3000, "goal": "more data"})
    assert r.status_code == 200 and r.json()["budget"] == 3000 and r.json()["goal"] == "more data"
    assert mk.get(f"/api/programs/{pid}").json()["remaining_budget"] == 0
    [entry] = _audited("program.update")
    assert entry.before["budget"] == 50000 and entry.after["budget"] == 3000
    # a sibling city may not edit it
    assert login("marketer", "C2").patch(f"/api/programs/{pid}",
                                         json={"budget": 9}).status_code == 404


def test_delete_only_with_draft_or_cancelled_campaigns(world: str, login: Any) -> None:
    from telcamp.campaigns import approvals
    from telcamp.campaigns.models import Campaign, Program

    from .conftest import MARKETER

    pid = make_program(region_code="C1")
    cid = make_campaign(pid)
    with session_scope() as s:
        approvals.submit(session=s, actor=MARKETER, campaign_id=cid)
    mk = login("marketer", "C1")
    r = mk.delete(f"/api/programs/{pid}")
    assert r.status_code == 409 and f"{cid} (submitted)" in r.json()["message"]
    with session_scope() as s:
        s.get(Campaign, cid).state = "draft"  # type: ignore[union-attr]
    assert mk.delete(f"/api/programs/{pid}").status_code == 204
    with session_scope() as s:
        assert s.get(Program, pid) is None and s.get(Campaign, cid) is None
    [entry] = _audited("program.delete")
    assert entry.before["campaigns"] == [cid] and entry.after is None
    assert mk.delete(f"/api/programs/{pid}").status_code == 404


def test_cli_edit_and_delete(world: str) -> None:
    from telcamp.cli import app

    pid = make_program()
    runner = CliRunner()
    out = runner.invoke(app, ["campaign", "program-edit", str(pid), '{"name": "Spring"}'])
    assert out.exit_code == 0, out.output
    assert '"name": "Spring"' in out.output
    out = runner.invoke(app, ["campaign", "program-edit", str(pid), '{"budget": -1}'])
    # (`telcamp` prints the error on one line and exits 2; the bare app raises it)
    assert "budget" in str(out.exception) and "greater than or equal to 0" in str(
        out.exception)
    out = runner.invoke(app, ["campaign", "program-delete", str(pid)])
    assert out.exit_code == 0 and f'"deleted": {pid}' in out.output


def test_page_edit_and_delete(world: str, login: Any) -> None:
    pid = make_program(region_code="C1")
    make_campaign(pid, budget=3000)
    mk = login("marketer", "C1")
    page = mk.get("/programs").text
    assert f'data-testid="form-program-{pid}"' in page
    form = {"name": "Winter data", "goal": "", "kpis": "", "budget": "100",
            "start_date": "2026-11-01", "end_date": "2027-03-31"}
    r = mk.post(f"/programs/{pid}/edit", data=form)
    assert r.status_code == 422 and "already committed" in r.text
    assert 'value="100"' in r.text  # what was typed stays
    r = mk.post(f"/programs/{pid}/edit", data={**form, "budget": "4000"},
                follow_redirects=False)
    assert r.status_code == 303
    assert "4,000.00" in mk.get("/programs").text
    r = mk.post(f"/programs/{pid}/delete", follow_redirects=False)
    assert r.status_code == 303
    assert f'data-testid="program-{pid}"' not in mk.get("/programs").text
