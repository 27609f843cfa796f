"""Stored channel settings: read, save (audited), and merged over the environment.

Sections: 'smtp' and 'webhooks' (this package's ChannelSettings), 'smpp_binds' and
'sms_source' (dispatch's SMS channel), 'windows' (default send window per channel) and
'unit_prices' (cost per contact). Secrets stay stored when a form leaves them blank and
are never returned to a page (`redacted`).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from telcamp.channels.models import ChannelConfig
from telcamp.channels.settings import ChannelSettings, effective
from telcamp.core import clock
from telcamp.core.db import session_scope
from telcamp.core.security import Principal

log = logging.getLogger(__name__)
SECTIONS = ("smtp", "webhooks", "smpp_binds", "sms_source", "windows", "unit_prices")
SECRET_KEYS = ("password", "secret")


def load(session: Session) -> dict[str, Any]:
    return {c.section: c.value for c in session.scalars(sa.select(ChannelConfig))}


def effective_settings() -> ChannelSettings:
    try:
        with session_scope() as s:
            stored = load(s)
    except SQLAlchemyError as exc:  # no table yet (not migrated): the environment alone
        log.info("channel settings: using the environment only (%s)", exc.__class__.__name__)
        stored = {}
    return effective({k: v for k, v in stored.items() if k in ("smtp", "webhooks")})


def _keep_secrets(new: Any, old: Any) -> Any:
    """A blank secret in the form means 'unchanged', never 'erase'."""
    if isinstance(new, dict):
        old_d = old if isinstance(old, dict) else {}
        return {k: (old_d.get(k) if k in SECRET_KEYS and not v and old_d.get(k) else
                    _keep_secrets(v, old_d.get(k))) for k, v in new.items()}
    if isinstance(new, list):
        old_l = old if isinstance(old, list) else []
        return [_keep_secrets(v, old_l[i] if i < len(old_l) else None)
                for i, v in enumerate(new)]
    return new


def redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("" if k in SECRET_KEYS else redacted(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(v) for v in value]
    return value


def save(session: Session, *, actor: Principal, section: str, value: Any) -> None:
    """Store one section (validated by the caller); audited with secrets redacted."""
    from telcamp.audit import service as audit_service

    if section not in SECTIONS:
        raise ValueError(f"unknown channel settings section {section!r}")
    row = session.get(ChannelConfig, section)
    before = None if row is None else row.value
    value = _keep_secrets(value, before)
    if row is None:
        row = ChannelConfig(section=section, value=value, updated_by=actor.username,
                            updated_at=clock.now())
        session.add(row)
    else:
        row.value = value
        row.updated_by = actor.username
        row.updated_at = clock.now()
    session.flush()
    audit_service.record(session, actor=actor, action="channels.configure",
                         object_type="channel_config", object_id=section,
                         before=None if before is None else {"value": redacted(before)},
                         after={"value": redacted(value)})
    from telcamp.dispatch import readiness

    readiness.forget()  # the campaign page and launch see the change at once


def clear(session: Session, *, actor: Principal, section: str) -> None:
    """Forget a stored section (back to the environment's value); audited."""
    from telcamp.audit import service as audit_service

    row = session.get(ChannelConfig, section)
    if row is None:
        return
    audit_service.record(session, actor=actor, action="channels.configure",
                         object_type="channel_config", object_id=section,
                         before={"value": redacted(row.value)}, after=None)
    session.delete(row)
    session.flush()


def stored_section(section: str) -> Any:
    """One stored section, or None (no table yet counts as nothing stored)."""
    try:
        with session_scope() as s:
            row = s.get(ChannelConfig, section)
            return None if row is None else row.value
    except SQLAlchemyError:
        return None


# -- unit prices and default send windows (sections 'unit_prices', 'windows') -----------

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def unit_prices() -> dict[str, float]:
    """Cost of one contact per channel: TELCAMP_CHANNEL_UNIT_PRICES with the admin's
    stored prices on top (what campaign rehearsal forecasts with)."""
    from telcamp.core.settings import get_settings

    prices = dict(get_settings().channel_unit_prices)
    stored = stored_section("unit_prices")
    if isinstance(stored, dict):
        prices.update({str(k): float(v) for k, v in stored.items()})
    return prices


def send_windows() -> dict[str, tuple[str, str]]:
    """Default send window (UTC, HH:MM start and end) per channel, for new waves."""
    stored = stored_section("windows")
    if not isinstance(stored, dict):
        return {}
    return {str(k): (str(v[0]), str(v[1])) for k, v in stored.items()
            if isinstance(v, list | tuple) and len(v) == 2}


def check_prices(value: Any) -> dict[str, float]:
    """{channel: price ≥ 0}; a clear error naming the channel otherwise."""
    if not isinstance(value, dict):
        raise ValueError("unit prices: a JSON object channel → price")
    out: dict[str, float] = {}
    for ch, price in value.items():
        if not str(ch).isidentifier():
            raise ValueError(f"unit price: channel name {ch!r} must be letters, digits, _")
        try:
            number = float(price)
        except (TypeError, ValueError):
            raise ValueError(f"unit price of {ch}: {price!r} is not a number") from None
        if not number >= 0 or number == float("inf"):
            raise ValueError(f"unit price of {ch}: {price!r} must be 0 or more")
        out[str(ch)] = number
    return out


def check_windows(value: Any) -> dict[str, list[str]]:
    """{channel: [start, end]} in HH:MM; start before end (windows are same-day, UTC)."""
    if not isinstance(value, dict):
        raise ValueError("send windows: a JSON object channel → [start, end]")
    out: dict[str, list[str]] = {}
    for ch, win in value.items():
        if not str(ch).isidentifier():
            raise ValueError(f"send window: channel name {ch!r} must be letters, digits, _")
        if not isinstance(win, list | tuple) or len(win) != 2:
            raise ValueError(f"send window of {ch}: give [start, end]")
        start, end = (str(x).strip() for x in win)
        for name, t in (("start", start), ("end", end)):
            if not _HHMM.match(t):
                raise ValueError(f"send window of {ch}: {name} {t!r} is not HH:MM")
        if end <= start:
            raise ValueError(f"send window of {ch}: it ends ({end}) before it starts ({start})")
        out[str(ch)] = [start, end]
    return out
