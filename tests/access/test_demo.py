"""`telcamp demo` users: one per role, printed logins, idempotent, development only."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from sqlalchemy import select

from telcamp.access import demo
from telcamp.access.models import ApiToken, User
from telcamp.core.db import migrate, session_scope
from telcamp.core.settings import reset_settings


def _run() -> str:
    out = io.StringIO()
    demo.ensure_demo_users(Console(file=out, width=200))
    return out.getvalue()


def test_demo_users_one_per_role_and_idempotent(test_regions) -> None:  # type: ignore[no-untyped-def]
    migrate()
    first = _run()
    assert "marketer-demo-2026" in first and "tc_" in first
    second = _run()
    assert "tc_" not in second  # a token is shown once only
    with session_scope() as session:
        users = {u.username: (u.role, u.region_code) for u in session.scalars(select(User))}
        assert users == {name: (role, region) for name, role, region in demo.DEMO_USERS}
        assert len(list(session.scalars(select(ApiToken)))) == 1


def test_no_demo_users_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELCAMP_MODE", "production")
    reset_settings()
    migrate()
    assert "development mode only" in _run()
    with session_scope() as session:
        assert list(session.scalars(select(User))) == []
