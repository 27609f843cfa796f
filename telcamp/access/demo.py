"""Demo users (one per role) for `telcamp demo`, and credentials for tests.

Development mode only: demo passwords are printed, which is fine for a demo operator and
never acceptable in production.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from telcamp.access import service, sessions, tokens
from telcamp.access.csrf import HEADER
from telcamp.access.models import ApiToken, User
from telcamp.core.db import migrate, session_scope
from telcamp.core.security import Principal, system_principal
from telcamp.core.settings import get_settings

# username, role, region — the province office administers, a city office markets.
DEMO_USERS: list[tuple[str, str, str | None]] = [
    ("admin", "admin", "P01"),
    ("marketer", "marketer", "C01"),
    # The demo marketer works for a city (C01); a city campaign goes to the province head.
    ("approver", "approver", "P01"),
    ("analyst", "analyst", "P01"),
    ("agent", "agent", "P01"),
]
DEMO_PASSWORD_SUFFIX = "-demo-2026"  # noqa: S105 - demo only, printed on purpose
TEST_PASSWORD = "test-password-123"  # noqa: S105 - test users only


def ensure_demo_users(console: Any) -> None:
    """Create the demo users and a channel token once; print how to log in."""
    settings = get_settings()
    if settings.mode != "development":
        console.print("demo users are created in development mode only")
        return
    actor = system_principal()
    rows: list[tuple[str, str, str, str]] = []
    channel_token: str | None = None
    with session_scope() as session:
        for username, role, region in DEMO_USERS:
            password = username + DEMO_PASSWORD_SUFFIX
            if session.scalar(select(User.id).where(User.username == username)) is None:
                service.create_user(session, username=username, password=password, role=role,
                                    region_code=region, actor=actor)
            rows.append((username, password, role, region or "-"))
        if session.scalar(select(ApiToken.id).where(ApiToken.name == "demo-channel")) is None:
            channel_token, _row = tokens.create(session, name="demo-channel", role="channel",
                                                region_code="P01", actor=actor)
    console.print("demo logins (development only):")
    for username, password, role, region in rows:
        console.print(f"  {username:10} password {password:24} role {role:9} region {region}")
    if channel_token:
        console.print(f"  channel API token (shown once): {channel_token}")
    else:
        console.print("  channel API token 'demo-channel' exists (create another with "
                      "`telcamp token create`)")


def create_test_user(*, username: str, role: str, region_code: str | None) -> Principal:
    """A user with TEST_PASSWORD, for browser tests that log in through the form."""
    migrate()
    with session_scope() as session:
        user = service.create_user(session, username=username, password=TEST_PASSWORD,
                                   role=role, region_code=region_code, actor=system_principal())
        return service.principal_for(user)


def test_credentials(
    *, username: str, role: str, region_code: str | None, via: str = "session"
) -> tuple[Principal, dict[str, str], dict[str, str]]:
    """Create a user (or token) and return (principal, headers, cookies) for a client."""
    migrate()
    actor = system_principal()
    with session_scope() as session:
        if via == "token":
            text, token_row = tokens.create(session, name=username, role=role,
                                            region_code=region_code, actor=actor)
            return (tokens.principal_for_token(token_row),
                    {"Authorization": f"Bearer {text}"}, {})
        user = service.create_user(session, username=username, password=TEST_PASSWORD,
                                   role=role, region_code=region_code, actor=actor)
        token, row = sessions.start(session, user=user, ip="testclient")
        return (service.principal_for(user), {HEADER: row.csrf_token},
                {sessions.COOKIE: token})
