"""The one clock. Everything that needs 'now' or 'today' asks here, so tests can freeze it."""

from __future__ import annotations

from datetime import UTC, date, datetime

_frozen: datetime | None = None


def freeze(at: datetime | None) -> None:
    """Freeze the clock at an aware instant (None thaws it)."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("the clock takes aware datetimes only")
    _frozen = at


def now() -> datetime:
    if _frozen is not None:
        return _frozen
    from telcamp.core.settings import get_settings

    configured = get_settings().clock
    if configured is not None:
        return configured if configured.tzinfo else configured.replace(tzinfo=UTC)
    return datetime.now(UTC)


def today() -> date:
    return now().date()
