from datetime import UTC, datetime

import pytest

from telcamp.core import clock


def test_frozen_clock_is_the_only_now() -> None:
    at = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    clock.freeze(at)
    assert clock.now() == at
    assert clock.today().isoformat() == "2026-05-01"


def test_clock_refuses_naive_time() -> None:
    with pytest.raises(ValueError):
        clock.freeze(datetime(2026, 5, 1))


def test_clock_override_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from telcamp.core.settings import reset_settings

    monkeypatch.setenv("TELCAMP_CLOCK", "2026-01-02T03:04:05+03:00")
    reset_settings()
    assert clock.now().isoformat() == "2026-01-02T03:04:05+03:00"
