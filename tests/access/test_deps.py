"""require(): 401 vs 403, login redirect, bearer tokens, CSRF, region scoping."""

from __future__ import annotations

from fastapi.testclient import TestClient

from telcamp.access import service as access_service
from telcamp.access.deps import Require
from telcamp.app import create_app
from telcamp.core.security import Principal


def test_anonymous_page_redirects_to_login_and_api_gets_401_json(db: str) -> None:
    with TestClient(create_app()) as client:
        r = client.get("/?lang=en", follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=")
        api = client.get("/api/audit")
        assert api.status_code == 401
        assert api.json()["code"] == "not_authenticated"
        assert "message" in api.json()


def test_role_without_permission_gets_403(db: str, login) -> None:  # type: ignore[no-untyped-def]
    agent = login("agent", None)
    r = agent.get("/")
    assert r.status_code == 403
    assert 'data-testid="forbidden"' in r.text
    api = agent.get("/api/audit")
    assert api.status_code == 403
    assert api.json()["code"] == "forbidden"


def test_allowed_role_sees_home_with_user_in_nav(db: str, login, test_regions) -> None:  # type: ignore[no-untyped-def]
    marketer = login("marketer", "C01")
    r = marketer.get("/")
    assert r.status_code == 200
    assert "City One" in r.text
    assert marketer.principal.username in r.text


def test_bearer_token_and_bad_token(db: str, login) -> None:  # type: ignore[no-untyped-def]
    admin = login("admin", None, via="token")
    assert admin.get("/api/audit").status_code == 200
    with TestClient(create_app()) as client:
        r = client.get("/api/audit", headers={"Authorization": "Bearer tc_nope"})
        assert r.status_code == 401
        assert r.json()["code"] == "not_authenticated"


def test_csrf_required_for_session_posts(db: str, login) -> None:  # type: ignore[no-untyped-def]
    admin = login("admin", None)
    r = admin.post("/api/access/users", json={
        "username": "u1", "password": "long-enough-1", "role": "analyst"},
        headers={"X-CSRF-Token": "wrong"})
    assert r.status_code == 403
    assert r.json()["code"] == "csrf_failed"
    ok = admin.post("/api/access/users", json={
        "username": "u1", "password": "long-enough-1", "role": "analyst"})
    assert ok.status_code == 201, ok.text


def test_require_carries_its_permission() -> None:
    dep = Require("segment.read")
    assert dep.permission == "segment.read"


def test_region_subtree_and_scope(test_regions) -> None:  # type: ignore[no-untyped-def]
    assert access_service.region_subtree("P01") == {"P01", "C01", "C02", "C01-01", "C02-01"}
    assert access_service.region_subtree("C01") == {"C01", "C01-01"}
    city = Principal(username="m", role="marketer", region_code="C01")
    assert access_service.in_scope(city, "C01-01")
    assert not access_service.in_scope(city, "C02")
    assert not access_service.in_scope(city, "P01")
    assert not access_service.in_scope(city, None)
    assert access_service.in_scope(Principal(username="a", role="admin"), "C02")
