"""GET /health: public, 200 while the operational database answers, 503 when it does not."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from telcamp.app import create_app


def test_health_answers_without_credentials() -> None:
    with TestClient(create_app()) as client:
        r = client.get("/health")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "ok" and r.json()["database"] == "ok"


def test_health_says_unavailable_when_the_database_is_down(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from telcamp.core import db

    with TestClient(create_app()) as client:
        def down() -> object:
            raise ConnectionError("database unreachable")

        monkeypatch.setattr(db.get_engine(), "connect", down)
        r = client.get("/health")
        assert r.status_code == 503
        assert r.json() == {"status": "unavailable", "database": "ConnectionError",
                            "version": r.json()["version"]}
