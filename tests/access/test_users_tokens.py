"""Users and API tokens through the service and the API; regional admins; production."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from telcamp.access import service, tokens
from telcamp.access.models import ApiToken, User
from telcamp.access.web import InsecureConfiguration
from telcamp.app import create_app
from telcamp.core.db import session_scope
from telcamp.core.errors import Conflict, NotFound, ValidationFailed
from telcamp.core.security import system_principal
from telcamp.core.settings import reset_settings


def test_passwords_are_argon2_and_validated(db: str) -> None:
    with session_scope() as session:
        user = service.create_user(session, username="ann", password="long-enough-1",
                                   role="analyst", region_code=None, actor=system_principal())
        assert user.password_hash.startswith("$argon2id$")
        assert "long-enough-1" not in user.password_hash
    with pytest.raises(ValidationFailed) as short, session_scope() as session:
        service.create_user(session, username="bo", password="short", role="analyst",
                            region_code=None, actor=system_principal())
    assert short.value.field == "password"
    with pytest.raises(Conflict), session_scope() as session:
        service.create_user(session, username="ann", password="long-enough-1", role="analyst",
                            region_code=None, actor=system_principal())
    with pytest.raises(ValidationFailed) as role, session_scope() as session:
        service.create_user(session, username="cy", password="long-enough-1", role="boss",
                            region_code=None, actor=system_principal())
    assert role.value.field == "role"


def test_unknown_region_refused_once_regions_are_loaded(db: str, test_regions) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound) as err, session_scope() as session:
        service.create_user(session, username="zed", password="long-enough-1",
                            role="marketer", region_code="C99", actor=system_principal())
    assert err.value.field == "region_code"
    with session_scope() as session:
        user = service.create_user(session, username="zed", password="long-enough-1",
                                   role="marketer", region_code="C02", actor=system_principal())
        assert user.region_name == "City Two"


def test_token_shown_once_stored_hashed_and_revocable(db: str, login) -> None:  # type: ignore[no-untyped-def]
    admin = login("admin", None)
    created = admin.post("/api/access/tokens", json={"name": "store-desk", "role": "channel"})
    assert created.status_code == 201
    text = created.json()["token"]
    with session_scope() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.name == "store-desk"))
        assert row is not None and text not in (row.token_hash, row.prefix)
    listed = admin.get("/api/access/tokens").json()
    assert all("token" not in t for t in listed)
    with TestClient(create_app(), headers={"Authorization": f"Bearer {text}"}) as machine:
        me = machine.get("/api/access/whoami")
        assert me.status_code == 200 and me.json()["role"] == "channel"
        assert machine.get("/api/access/me").status_code == 403
        token_id = created.json()["id"]
        assert admin.delete(f"/api/access/tokens/{token_id}").status_code == 200
        assert machine.get("/api/access/whoami").status_code == 401


def test_regional_admin_manages_only_their_subtree(db: str, login, test_regions) -> None:  # type: ignore[no-untyped-def]
    with session_scope() as session:
        for name, region in (("in-city", "C01-01"), ("other-city", "C02")):
            service.create_user(session, username=name, password="long-enough-1",
                                role="marketer", region_code=region, actor=system_principal())
    city_admin = login("admin", "C01")
    names = {u["username"] for u in city_admin.get("/api/access/users").json()}
    assert "in-city" in names and "other-city" not in names
    # users elsewhere do not exist for them: 404, no hint
    r = city_admin.patch("/api/access/users/other-city", json={"disabled": True})
    assert r.status_code == 404
    out = city_admin.post("/api/access/users", json={
        "username": "p-user", "password": "long-enough-1", "role": "marketer",
        "region_code": "P01"})
    assert out.status_code == 422 and out.json()["field"] == "region_code"
    ok = city_admin.patch("/api/access/users/in-city", json={"role": "approver"})
    assert ok.status_code == 200 and ok.json()["role"] == "approver"
    with session_scope() as session:
        other = session.scalar(select(User).where(User.username == "other-city"))
        assert other is not None and not other.disabled


def test_token_for_channel_scoped_to_region(db: str, test_regions) -> None:  # type: ignore[no-untyped-def]
    with session_scope() as session:
        text, _row = tokens.create(session, name="ivr", role="channel", region_code="C02",
                                  actor=system_principal())
        principal = tokens.resolve(session, token=text)
    assert principal is not None and principal.region_code == "C02"
    assert principal.region_name == "City Two"


def test_production_refuses_the_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELCAMP_MODE", "production")
    reset_settings()
    with pytest.raises(InsecureConfiguration):
        create_app()
    monkeypatch.setenv("TELCAMP_SECRET_KEY", "x" * 48)
    reset_settings()
    create_app()


def test_token_create_command_says_the_tokens_scope(db: str, test_regions) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from telcamp.cli import app

    runner = CliRunner()
    scoped = runner.invoke(app, ["token", "create", "pos-c01", "--role", "channel",
                                 "--region", "C01"])
    assert scoped.exit_code == 0, scoped.output
    assert "(pos-c01, role channel, region C01)" in scoped.output
    wide = runner.invoke(app, ["token", "create", "crm", "--role", "channel"])
    assert wide.exit_code == 0 and "(crm, role channel, operator-wide)" in wide.output
