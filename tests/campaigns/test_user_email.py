"""Users carry an e-mail address: set by `telcamp user add|set --email`, the API and the
admin page; approval notifications go to it, a username that is an address is the
fallback, and approvers without either are named in a warning on the campaign page and
in the inbox."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from telcamp.campaigns import approvals
from telcamp.core.db import session_scope
from telcamp.core.errors import ValidationFailed

from .conftest import MARKETER, make_campaign, make_program
from .test_approvals import _Inbox, _wait, smtp  # noqa: F401  (the fixture)


def _user(username: str, region: str, email: str | None = None) -> None:
    from telcamp.access import service
    from telcamp.core.security import system_principal

    with session_scope() as s:
        service.create_user(s, username=username, password="secret-123", role="approver",
                            region_code=region, actor=system_principal(), email=email)


def test_cli_sets_and_clears_the_email(world: str) -> None:
    from telcamp.access.models import User
    from telcamp.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["user", "add", "chief", "--role", "approver", "--region", "C1",
                              "--password", "secret-123", "--email", "chief@op.example"])
    assert out.exit_code == 0, out.output
    with session_scope() as s:
        assert s.query(User).filter_by(username="chief").one().email == "chief@op.example"
    out = runner.invoke(app, ["user", "set", "chief", "--email", "not-an-address"])
    assert isinstance(out.exception, ValidationFailed)
    assert "not an e-mail address" in str(out.exception)
    out = runner.invoke(app, ["user", "set", "chief", "--email", ""])
    assert out.exit_code == 0, out.output
    with session_scope() as s:
        assert s.query(User).filter_by(username="chief").one().email is None


def test_api_and_admin_page(world: str, login: Any) -> None:
    admin = login("admin")
    r = admin.post("/api/access/users", json={"username": "boss", "password": "secret-123",
                                              "role": "approver", "region_code": "C1",
                                              "email": "boss@op.example"})
    assert r.status_code == 201 and r.json()["email"] == "boss@op.example", r.text
    r = admin.patch("/api/access/users/boss", json={"email": "b@op.example"})
    assert r.status_code == 200 and r.json()["email"] == "b@op.example"
    page = admin.get("/admin/users").text
    assert 'value="b@op.example"' in page
    r = admin.post("/admin/users/boss", data={"action": "update", "role": "approver",
                                              "region_code": "C1", "email": ""},
                   follow_redirects=False)
    assert r.status_code == 303
    assert 'data-testid="no-email-boss"' in admin.get("/admin/users").text
    r = admin.post("/admin/users", data={"username": "x2", "password": "secret-123",
                                         "role": "approver", "email": "bad"})
    assert r.status_code == 422 and "not an e-mail address" in r.text


def test_notification_goes_to_the_email_with_fallback_and_warning(
        world: str, smtp: _Inbox, login: Any) -> None:  # noqa: F811
    _user("head.c1", "C1", email="head@op.example")
    _user("deputy.c1", "C1")                    # no address at all: warned about
    _user("ops@op.example", "C1")               # username is an address: fallback
    cid = make_campaign(make_program())
    with session_scope() as s:
        approvals.submit(session=s, actor=MARKETER, campaign_id=cid)
    _wait(smtp, 1)
    [(rcpts, _body)] = smtp.mails
    assert sorted(rcpts) == ["head@op.example", "ops@op.example"]
    page = login("marketer", "C1").get(f"/campaigns/{cid}").text
    assert 'data-testid="mail-warning"' in page and "deputy.c1" in page
    inbox = login("approver", "C1").get("/approvals").text
    assert 'data-testid="mail-warning"' in inbox and "deputy.c1" in inbox


def test_nobody_reachable_is_said(world: str) -> None:
    _user("lonely", "C1")
    cid = make_campaign(make_program())
    with session_scope() as s:
        c = approvals.submit(session=s, actor=MARKETER, campaign_id=cid)
        warning = approvals.mail_warning(s, c)
    assert warning is not None and warning["nobody"] and "lonely" in warning["without_email"]


@pytest.mark.parametrize("bad", ["a b@x.org", "@x.org", "x@y"])
def test_bad_addresses_are_refused(world: str, bad: str) -> None:
    with pytest.raises(ValidationFailed, match="not an e-mail address"):
        _user("someone", "C1", email=bad)
