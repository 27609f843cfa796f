"""Quiet hours in the subscriber's local time.

A subscriber's time zone is its region's (`subscribers.region_code` → `regions.timezone`
in the warehouse, walking up `parent_code` when a node has none); its quiet hours are the
nearest override of its region or an ancestor (policy.region_quiet), else the policy's.
Lookups are one warehouse query per batch (set-based), never one per subscriber.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb

from telcamp.core import warehouse
from telcamp.policy.schemas import PolicyRead

_REGIONS_TTL_S = 60.0
_regions_cache: tuple[float, dict[str, tuple[str | None, str | None]]] | None = None


@dataclass(frozen=True)
class Quiet:
    tz: str
    start: str
    end: str


def _regions() -> dict[str, tuple[str | None, str | None]]:
    """code -> (parent_code, timezone); cached for a minute (the region tree rarely moves)."""
    global _regions_cache
    if _regions_cache is not None and time.monotonic() - _regions_cache[0] < _REGIONS_TTL_S:
        return _regions_cache[1]
    try:
        with warehouse.connect(read_only=True) as con:
            rows = con.execute("SELECT code, parent_code, timezone FROM regions").fetchall()
    except duckdb.CatalogException:
        rows = []
    table = {str(c): (p, tz or None) for c, p, tz in rows}
    _regions_cache = (time.monotonic(), table)
    return table


def forget_regions() -> None:
    global _regions_cache
    _regions_cache = None


def subscriber_regions(msisdns: Iterable[int]) -> dict[int, str]:
    """msisdn -> region_code for the given subscribers (one warehouse query)."""
    numbers = list(set(msisdns))
    if not numbers:
        return {}
    try:
        # A short wait: a long load holding the warehouse makes the claim fail (StoreBusy)
        # and the batch wait, rather than guess a time zone and send in quiet hours.
        with warehouse.connect(read_only=True, timeout_s=2.0) as con:
            rows = con.execute(
                "SELECT msisdn, region_code FROM subscribers WHERE msisdn IN "
                "(SELECT UNNEST(CAST(? AS BIGINT[])))", [numbers]).fetchall()
    except duckdb.CatalogException:
        return {}
    return {int(m): str(r) for m, r in rows}


def quiet_for(region: str | None, policy: PolicyRead) -> Quiet:
    regions = _regions()
    tz: str | None = None
    window: list[str] | None = None
    node, seen = region, 0
    while node is not None and seen < 20:  # the depth guard survives a cyclic tree
        parent, node_tz = regions.get(node, (None, None))
        tz = tz or node_tz
        if window is None and node in policy.region_quiet:
            window = policy.region_quiet[node]
        node, seen = parent, seen + 1
    start, end = window or [policy.quiet_start, policy.quiet_end]
    return Quiet(tz or policy.default_timezone, start, end)


def _hm(value: str) -> tuple[int, int]:
    h, m = value.split(":")
    return int(h), int(m)


def next_opening(quiet: Quiet, now: datetime) -> datetime | None:
    """None when `now` is outside quiet hours, else the UTC instant they end."""
    if quiet.start == quiet.end:
        return None  # an empty window: no quiet hours
    local = now.astimezone(ZoneInfo(quiet.tz))
    minute = local.hour * 60 + local.minute
    sh, sm = _hm(quiet.start)
    eh, em = _hm(quiet.end)
    start, end = sh * 60 + sm, eh * 60 + em
    inside = (start <= minute < end) if start < end else (minute >= start or minute < end)
    if not inside:
        return None
    opening = local.replace(hour=eh, minute=em, second=0, microsecond=0)
    if opening <= local:
        opening = (local + timedelta(days=1)).replace(hour=eh, minute=em, second=0,
                                                      microsecond=0)
    # Re-attach the zone after the date moved so a DST change lands on the local hour.
    opening = opening.replace(tzinfo=ZoneInfo(quiet.tz))
    return opening.astimezone(now.tzinfo)


_anywhere_cache: tuple[int, int, frozenset[Quiet]] | None = None


def all_quiets(policy: PolicyRead) -> frozenset[Quiet]:
    """Every (zone, window) a subscriber can have under `policy`: one per region node plus
    the default. Cached while the policy version and the region table stay the same."""
    global _anywhere_cache
    regions = _regions()
    key = (policy.version, id(regions))
    if _anywhere_cache is not None and _anywhere_cache[:2] == key:
        return _anywhere_cache[2]
    found = frozenset({quiet_for(code, policy) for code in regions} | {quiet_for(None, policy)})
    _anywhere_cache = (key[0], key[1], found)
    return found


def quiet_anywhere(policy: PolicyRead, now: datetime) -> bool:
    """False when no subscriber anywhere is in quiet hours now: the per-batch time-zone
    lookup in the warehouse is then skipped (the usual case in the day time)."""
    return any(next_opening(q, now) is not None for q in all_quiets(policy))

