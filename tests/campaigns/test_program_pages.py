"""The console's program page: list + create form, region-scoped, audited, reachable from
the navigation and from the campaign wizard when no program exists."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from telcamp.core.db import session_scope

FORM = {"name": "Winter data", "goal": "grow data", "kpis": '{"conversion": 0.05}',
        "budget": "50000", "start_date": "2026-11-01", "end_date": "2027-03-31",
        "region_code": "C1"}


def test_fresh_wizard_links_to_the_program_page(world: str, login: Any) -> None:
    mk = login("marketer", "C1")
    wizard = mk.get("/campaigns/new").text
    assert 'data-testid="no-programs"' in wizard
    assert 'href="/programs?next=/campaigns/new"' in wizard
    assert 'href="/programs"' in mk.get("/campaigns").text  # navigation entry
    page = mk.get("/programs?next=/campaigns/new").text
    assert 'data-testid="programs-empty"' in page and 'data-testid="form-program"' in page
    assert 'name="next" value="/campaigns/new"' in page
    r = mk.post("/programs", data={**FORM, "next": "/campaigns/new"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/campaigns/new"
    wizard = mk.get("/campaigns/new").text
    assert "Winter data (C1)" in wizard and 'data-testid="no-programs"' not in wizard


def test_create_lists_audits_and_scopes(world: str, login: Any) -> None:
    from telcamp.audit.models import AuditEntry
    from telcamp.campaigns.models import Program

    mk = login("marketer", "C1")
    r = mk.post("/programs", data={**FORM, "next": "https://evil.example"},
                follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/programs"
    with session_scope() as s:
        p = s.scalars(select(Program)).one()
        assert (p.name, p.goal, p.kpis, p.budget, p.region_code) == (
            "Winter data", "grow data", {"conversion": 0.05}, 50000, "C1")
        assert str(p.start_date) == "2026-11-01" and str(p.end_date) == "2027-03-31"
        audited = s.scalars(select(AuditEntry).where(
            AuditEntry.action == "program.create")).all()
        assert [a.object_id for a in audited] == [str(p.id)]
    page = mk.get("/programs").text
    assert f'data-testid="program-{p.id}"' in page and "50,000.00" in page
    assert "conversion: 0.05" in page
    # another city neither sees it nor may create a program outside its region
    other = login("marketer", "C2")
    assert f'data-testid="program-{p.id}"' not in other.get("/programs").text
    r = other.post("/programs", data={**FORM, "name": "Not mine"})
    assert r.status_code == 403 and 'value="Not mine"' in r.text
    # the county below C1 sees the city's program (it runs campaigns under it)
    assert f'data-testid="program-{p.id}"' in login("marketer", "K1").get("/programs").text


def test_read_only_user_lists_but_cannot_create(world: str, login: Any) -> None:
    agent = login("agent", "C1")
    page = agent.get("/programs")
    assert page.status_code == 200 and 'data-testid="form-program"' not in page.text
    assert agent.post("/programs", data=FORM).status_code == 403


def test_bad_input_is_shown_with_the_typed_values(world: str, login: Any) -> None:
    mk = login("marketer", "C1")
    r = mk.post("/programs", data={**FORM, "budget": "lots", "goal": "keep me"})
    assert r.status_code == 422 and "budget: &#39;lots&#39; is not a number" in r.text
    assert 'value="keep me"' in r.text and 'value="lots"' in r.text
    r = mk.post("/programs", data={**FORM, "kpis": "[1]"})
    assert r.status_code == 422 and "JSON object" in r.text
    r = mk.post("/programs", data={**FORM, "end_date": "2026-10-01"})
    assert r.status_code == 422 and "ends before it starts" in r.text
    assert 'value="2026-10-01"' in r.text


def test_programs_page_in_russian(world: str, login: Any) -> None:
    assert "Новая программа" in login("marketer", "C1").get("/programs?lang=ru").text
