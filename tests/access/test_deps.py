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
    r = agent.get("/segments")  # "/" itself sends the agent to the lookup (test_matrix)
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


def test_htmx_request_without_session_gets_hx_redirect(db: str) -> None:
    with TestClient(create_app()) as client:
        r = client.get("/audit?user=x", headers={"HX-Request": "true"}, follow_redirects=False)
        assert r.status_code == 401
        assert r.headers["HX-Redirect"] == "/login?next=%2Faudit%3Fuser%3Dx"


def test_http_errors_use_the_json_error_shape(db: str, login) -> None:  # type: ignore[no-untyped-def]
    admin = login("admin", None)
    missing = admin.get("/api/no-such-thing")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    bad = admin.post("/api/access/users", json={"username": "x"})
    assert bad.status_code == 422 and set(bad.json()) >= {"code", "message", "field"}
    with TestClient(create_app()) as anon:
        r = anon.get("/api/access/me", headers={"Authorization": "Basic abc"})
        assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


def test_password_reset_by_api_ends_the_users_sessions(db: str, login) -> None:  # type: ignore[no-untyped-def]
    analyst = login("analyst", None)
    admin = login("admin", None)
    r = admin.patch(f"/api/access/users/{analyst.principal.username}",
                    json={"password": "brand-new-pass-9"})
    assert r.status_code == 200
    assert analyst.get("/api/access/me").status_code == 401
    entries = admin.get("/api/audit", params={"object_id": analyst.principal.username}).json()
    assert any(e["action"] == "user.password" for e in entries)
    assert "brand-new-pass-9" not in str(entries)
