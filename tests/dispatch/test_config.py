"""get_dispatch_settings() is cached: the fixtures reset it, so one test's
TELCAMP_DISPATCH_* does not leak into the next (these two run in file order)."""

from __future__ import annotations

import pytest

from telcamp.dispatch.config import get_dispatch_settings


def test_a_test_sets_its_own_dispatch_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELCAMP_DISPATCH_BATCH_MAX", "7")
    get_dispatch_settings.cache_clear()
    assert get_dispatch_settings().batch_max == 7


def test_the_next_test_sees_the_defaults_again() -> None:
    assert get_dispatch_settings().batch_max == 1000
