"""Can a channel send? Asked by the campaign page (a warning per wave), rehearsal (a
warning at submit) and launch (refused while a wave's channel cannot send).

A channel is ready when its factory in the registry builds it from the settings in force
(environment plus what an admin saved on the channel settings page). Call lists need no
set-up (they are exported from the campaign page). Whether a worker runs is a separate,
softer matter: the server dispatches `TELCAMP_DISPATCH_CHANNELS` unless
`TELCAMP_DISPATCH_INTERVAL_S=0`, and `telcamp dispatch run --channel X` may run anywhere,
so a channel the server does not dispatch is a warning, never a refusal.

Answers are cached for a few seconds: the campaign page polls every second.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from telcamp.core.i18n import _

NO_SETUP = frozenset({"call"})
_TTL_S = 5.0
_cache: dict[str, tuple[float, str | None, str | None]] = {}

# Sentences shown on pages (msgids); {channel} is filled in after translation.
NOT_CONFIGURED = _("The {channel} channel is not configured (channel settings): "
                   "nothing will be sent on it.")
UNKNOWN = _("The {channel} channel is unknown to this server.")
BROKEN = _("The {channel} channel's settings are not usable: {error}")
NOT_DISPATCHED = _("This server does not dispatch the {channel} channel "
                   "(TELCAMP_DISPATCH_CHANNELS); a `telcamp dispatch run --channel {channel}` "
                   "worker must run.")


def forget() -> None:
    _cache.clear()


def _check(channel: str) -> tuple[str | None, str | None]:
    """(problem, warning) as (msgid, error detail) pairs folded into text later."""
    from telcamp.dispatch import registry
    from telcamp.dispatch.config import get_dispatch_settings

    if channel in NO_SETUP:
        return None, None
    settings = get_dispatch_settings()
    try:
        built = registry.build(channel, settings)
    except KeyError:
        return UNKNOWN, None
    except Exception as exc:  # a stored setting the channel refuses
        return f"{BROKEN}\x00{exc}", None
    if built is None:
        return NOT_CONFIGURED, None
    if settings.interval_s <= 0 or channel not in settings.channels:
        return None, NOT_DISPATCHED
    return None, None


def check(channel: str) -> tuple[str | None, str | None]:
    now = time.monotonic()
    hit = _cache.get(channel)
    if hit is not None and now - hit[0] < _TTL_S:
        return hit[1], hit[2]
    problem, warning = _check(channel)
    _cache[channel] = (now, problem, warning)
    return problem, warning


def _text(msgid: str, channel: str) -> str:
    msg, _sep, error = msgid.partition("\x00")
    return msg.replace("{channel}", channel).replace("{error}", error[:200])


def problems(channels: Iterable[str]) -> list[str]:
    """Why these channels cannot send, in English (empty: all can)."""
    out = []
    for ch in sorted(set(channels)):
        problem, _w = check(ch)
        if problem:
            out.append(_text(problem, ch))
    return out


def notes(channels: Iterable[str]) -> list[dict[str, str]]:
    """Problems and softer warnings for a page: {"msgid", "channel", "error", "level"};
    the template translates msgid and fills in channel and error."""
    out = []
    for ch in sorted(set(channels)):
        problem, warning = check(ch)
        note = problem or warning
        if note:
            msgid, _sep, error = note.partition("\x00")
            out.append({"msgid": msgid, "channel": ch, "error": error[:200],
                        "level": "error" if problem else "warning"})
    return out
