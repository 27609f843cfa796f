"""Console login, logout, cookies, CSRF on the login form, throttling, expiry, revocation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from telcamp.access import service, sessions
from telcamp.app import create_app
from telcamp.audit import service as audit_service
from telcamp.core import clock
from telcamp.core.db import session_scope
from telcamp.core.security import system_principal

PASSWORD = "correct-horse-1"


def _user(username: str = "mara", role: str = "marketer", region: str | None = "C01") -> None:
    with session_scope() as session:
        service.create_user(session, username=username, password=PASSWORD, role=role,
                            region_code=region, actor=system_principal())


def _login(client: TestClient, username: str, password: str, next_: str = "") -> object:
    form = client.get("/login" + (f"?next={next_}" if next_ else ""))
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, form.text
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token.group(1), "next": next_},
                       follow_redirects=False)


def test_login_sets_a_safe_cookie_and_lands_on_an_allowed_page(db: str) -> None:
    _user()
    with TestClient(create_app()) as client:
        r = _login(client, "mara", PASSWORD)
        assert r.status_code == 303
        assert r.headers["location"] == "/"
        cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith("telcamp_session=")]
        assert cookie and "HttpOnly" in cookie[0] and "SameSite=lax" in cookie[0]
        assert "Secure" not in cookie[0]  # plain http in the test; https sets Secure
        home = client.get("/")
        assert home.status_code == 200
        assert 'data-testid="who"' in home.text and "mara" in home.text


def test_secure_cookie_over_tls(db: str) -> None:
    _user()
    with TestClient(create_app(), base_url="https://testserver") as client:
        r = _login(client, "mara", PASSWORD)
        cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith("telcamp_session=")]
        assert "Secure" in cookie[0]


def test_next_is_followed_only_for_same_site_paths(db: str) -> None:
    _user()
    with TestClient(create_app()) as client:
        assert _login(client, "mara", PASSWORD, "/audit").headers["location"] == "/audit"
    with TestClient(create_app()) as client:
        r = _login(client, "mara", PASSWORD, "//evil.example/x")
        assert r.headers["location"] == "/"


def test_a_wrong_password_keeps_where_the_user_was_going(db: str) -> None:
    _user()
    with TestClient(create_app()) as client:
        refused = _login(client, "mara", "wrong-password", "/lists")
        assert refused.status_code == 401
        assert 'name="next" value="/lists"' in refused.text  # the form posts it again
        token = re.search(r'name="csrf_token" value="([^"]+)"', refused.text)
        assert token
        r = client.post("/login", data={"username": "mara", "password": PASSWORD,
                                        "csrf_token": token.group(1), "next": "/lists"},
                        follow_redirects=False)
        assert r.headers["location"] == "/lists"
        evil = _login(client, "mara", "wrong-password", "//evil.example/x")
        assert 'name="next" value=""' in evil.text


def test_wrong_password_and_login_form_csrf(db: str) -> None:
    _user()
    with TestClient(create_app()) as client:
        r = _login(client, "mara", "wrong-password")
        assert r.status_code == 401
        assert 'data-testid="login-error"' in r.text
        forged = client.post("/login", data={"username": "mara", "password": PASSWORD,
                                             "csrf_token": "forged"})
        assert forged.status_code == 403
        assert "telcamp_session" not in client.cookies


def test_five_failures_throttle_the_username_and_are_audited(db: str) -> None:
    _user()
    with TestClient(create_app()) as client:
        for _ in range(sessions.MAX_FAILURES_PER_USER):
            assert _login(client, "mara", "nope-nope").status_code == 401
        blocked = _login(client, "mara", PASSWORD)
        assert blocked.status_code == 429
        assert "telcamp_session" not in client.cookies
    with session_scope() as session:
        actions = [e.action for e in audit_service.search(session, object_id="mara")]
    assert "login.throttled" in actions
    # after the window the right password works again
    clock.freeze(datetime.now(UTC) + sessions.WINDOW + timedelta(seconds=5))
    with TestClient(create_app()) as client:
        assert _login(client, "mara", PASSWORD).status_code == 303


def test_logout_revokes_the_session_server_side(db: str) -> None:
    _user()
    with TestClient(create_app()) as client:
        _login(client, "mara", PASSWORD)
        stolen = client.cookies["telcamp_session"]
        page = client.get("/")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf
        out = client.post("/logout", data={"csrf_token": csrf.group(1)}, follow_redirects=False)
        assert out.status_code == 303 and out.headers["location"] == "/login"
    with TestClient(create_app(), cookies={"telcamp_session": stolen}) as replay:
        assert replay.get("/", follow_redirects=False).status_code == 303
        assert replay.get("/api/access/me").status_code == 401


def test_disable_and_expiry_end_sessions(db: str, login) -> None:  # type: ignore[no-untyped-def]
    client = login("analyst", None)
    assert client.get("/api/access/me").status_code == 200
    with session_scope() as session:
        service.set_disabled(session, username=client.principal.username, disabled=True,
                             actor=system_principal())
    assert client.get("/api/access/me").status_code == 401
    other = login("analyst", None)
    assert other.get("/api/access/me").status_code == 200
    clock.freeze(datetime.now(UTC) + timedelta(seconds=8 * 3600 + 5))
    assert other.get("/api/access/me").status_code == 401


def test_channel_role_cannot_log_in_to_the_console(db: str) -> None:
    _user("shopdesk", "channel", None)
    with TestClient(create_app()) as client:
        assert _login(client, "shopdesk", PASSWORD).status_code == 401


def test_page_post_without_csrf_is_refused(db: str, login) -> None:  # type: ignore[no-untyped-def]
    admin = login("admin", None)
    r = admin.post("/admin/users", data={"username": "x1", "password": "long-enough-1",
                                         "role": "analyst"}, headers={"X-CSRF-Token": ""})
    assert r.status_code == 403
    with session_scope() as session:
        assert all(u.username != "x1" for u in service.list_users(session))


def test_many_failures_from_one_address_throttle_it(db: str) -> None:
    _user()
    with session_scope() as session:
        for i in range(sessions.MAX_FAILURES_PER_IP):
            result = sessions.attempt_login(session, username=f"guess{i}", password="x" * 9,
                                            ip="203.0.113.9")
            assert result.error == "invalid"
        # the right password from that address waits too; another address does not
        assert sessions.attempt_login(session, username="mara", password=PASSWORD,
                                      ip="203.0.113.9").error == "throttled"
        ok = sessions.attempt_login(session, username="mara", password=PASSWORD,
                                    ip="198.51.100.1")
        assert ok.user is not None and ok.error is None


def test_region_name_is_picked_up_at_login_after_regions_load(db: str, request) -> None:  # type: ignore[no-untyped-def]
    _user("early", "marketer", "C01")  # no regions loaded yet: accepted as given
    request.getfixturevalue("test_regions")
    with TestClient(create_app()) as client:
        _login(client, "early", PASSWORD)
        assert "City One" in client.get("/").text


def test_login_page_when_already_logged_in_goes_on(db: str, login) -> None:  # type: ignore[no-untyped-def]
    analyst = login("analyst", None)
    r = analyst.get("/login?next=/audit", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/audit"
    assert analyst.get("/login", follow_redirects=False).headers["location"] == "/"
