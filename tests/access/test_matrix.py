"""The permission matrix: docs equal code; every route declares a permission; each role
is allowed exactly where the matrix says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount

from telcamp.access import routes
from telcamp.access.matrix import render
from telcamp.access.permissions import PERMISSIONS, ROLES
from telcamp.access.routes import declared
from telcamp.app import create_app

ROOT = Path(__file__).parent.parent.parent
# Routes anyone may reach: logging in and out, the API docs, health checks.
PUBLIC = {"/login", "/logout", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc",
          "/health", "/healthz", "/api/health",
          # the e-mail unsubscribe link: its signed token is the credential (RFC 8058)
          "/api/channels/unsubscribe/{token}"}


def all_routes() -> list[BaseRoute]:
    return routes.all_routes(create_app(run_migrations=False))


def api_routes() -> list[APIRoute]:
    return routes.api_routes(create_app(run_migrations=False))


def test_the_walk_sees_the_routers() -> None:
    paths = {r.path for r in api_routes()}
    assert {"/", "/login", "/api/audit", "/api/access/users", "/admin/users"} <= paths


def test_docs_permissions_md_is_generated_from_the_code() -> None:
    text = (ROOT / "docs" / "permissions.md").read_text(encoding="utf-8")
    assert text == render(), "run: python -m telcamp.access.matrix > docs/permissions.md"
    for name in PERMISSIONS:
        assert f"`{name}`" in text


def test_every_role_uses_known_permissions() -> None:
    for role, perms in ROLES.items():
        assert perms <= set(PERMISSIONS), role


def test_every_route_declares_a_permission() -> None:
    missing = [
        f"{sorted(getattr(r, 'methods', None) or [])} {getattr(r, 'path', r)}"
        for r in all_routes()
        if not isinstance(r, Mount) and getattr(r, "path", None) not in PUBLIC
        and not (isinstance(r, APIRoute) and declared(r))
    ]
    assert not missing, "routes without Depends(require(...)):\n" + "\n".join(missing)


def _dummy_path(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "999999", path)


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_is_allowed_exactly_where_the_matrix_says(
    role: str, login  # type: ignore[no-untyped-def]
) -> None:
    # Database-independent, so it runs on the default SQLite only.
    client = login(role, None, via="token" if role == "channel" else "session")
    wrong: list[str] = []
    for route in api_routes():
        perms = declared(route)
        if not perms or route.path in PUBLIC:
            continue
        allowed = all(p in ROLES[role] for p in perms)
        for method in sorted(route.methods - {"HEAD"}):
            r = client.request(method, _dummy_path(route.path), json={},
                               follow_redirects=False)
            refused = r.status_code in (401, 403) or (
                # the home page sends a role without it to its own landing page
                route.path == "/" and r.status_code == 303
                and r.headers["location"] != "/")
            if allowed == refused:
                wrong.append(f"{method} {route.path} {perms}: {r.status_code}")
    assert not wrong, f"role {role}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("role", list(ROLES))
def test_every_role_lands_on_a_page_it_may_see(
    role: str, login  # type: ignore[no-untyped-def]
) -> None:
    """The logo and "/" lead each role to a page it may see (the agent to the subscriber
    lookup, a channel system to the API docs), never to a 403."""
    client = login(role, None, via="token" if role == "channel" else "session")
    r = client.get("/", follow_redirects=True)
    assert r.status_code == 200, (role, r.status_code, r.url)
    expected = {"agent": "/subscribers", "channel": "/docs"}.get(role, "/")
    assert r.url.path == expected, role
    if role != "channel":  # a console page: the logo points at the same place
        match = re.search(r'<a class="brand" href="([^"]+)"', r.text)
        assert match is not None and match.group(1) == expected, role
        assert client.get(match.group(1)).status_code == 200
