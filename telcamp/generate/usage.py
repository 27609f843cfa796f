"""Usage records (CDRs) for one subscriber block on one local day.

The model, per subscriber and day: records ~ Poisson(scale * activity * weekday factor *
trend), zero outside [activation, churn) and nearly zero while suspended. Each record
draws its service from the subscriber's mix (device, age, tariff), a local time from a
daily rhythm, and volumes from log-normal laws scaled by the subscriber's tastes, so that
tariff, age and device show in the totals. Charges follow the tariff's prices and bundle.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from telcamp.generate import catalogue as cat
from telcamp.generate.columns import TimeTable, dictionary, fixed_strings, seconds_of_day
from telcamp.generate.population import Block, rng_for

STREAM_USAGE = 2
# Monday..Sunday; 1970-01-01 (epoch day 0) was a Thursday.
_WEEKDAY = np.array([1.0, 1.0, 1.0, 1.0, 1.08, 0.92, 0.85])
_OUT_SHARE = np.array([0.55, 0.5, 0.5, 1.0, 0.0, 1.0])  # per service: share 'out'
_VAS_PRICES = np.array([0.0, 5.0, 10.0, 15.0, 30.0])
_VAS_CUM = np.cumsum([0.3, 0.3, 0.2, 0.12, 0.08])

SCHEMA = pa.schema([
    ("msisdn", pa.string()),
    ("event_time", pa.string()),
    ("service", pa.dictionary(pa.int8(), pa.string())),
    ("direction", pa.dictionary(pa.int8(), pa.string())),
    ("long_distance", pa.int8()),
    ("roaming", pa.int8()),
    ("duration_s", pa.int32()),
    ("volume_kb", pa.float64()),
    ("charge", pa.float64()),
])


def weekday_factor(day: int) -> float:
    return float(_WEEKDAY[(day + 3) % 7])


def expected_rate(block: Block, day: int, first_day: int, days: int) -> np.ndarray:
    """Relative expected records of each subscriber on `day` (before the global scale)."""
    alive = (block.activation_day <= day) & (day < block.churn_day)
    t = (day - first_day) / max(days - 1, 1)
    trend = 1.0 + (block.fade_to - 1.0) * t
    # Churners fade out over the three weeks before they leave.
    before_churn = np.clip((block.churn_day.astype(np.int64) - day) / 21.0, 0.15, 1.0)
    status = np.where(block.status == 1, 0.04, 1.0)
    rate = block.activity * trend * before_churn * status * weekday_factor(day)
    return np.asarray(np.where(alive, rate, 0.0), dtype=np.float64)


def scale_for(block: Block, first_day: int, days: int, events_per_day: float) -> float:
    """The global factor making the mean records per subscriber per day = events_per_day,
    estimated on one block (deterministic, cheap)."""
    total = sum(float(expected_rate(block, d, first_day, days).sum())
                for d in range(first_day, first_day + days))
    if total <= 0.0:
        return events_per_day
    return events_per_day * len(block) * days / total


def usage_table(*, seed: int, block: Block, msisdn_bytes: np.ndarray, day: int,
                first_day: int, days: int, scale: float, times: TimeTable) -> pa.Table:
    rng = rng_for(seed, STREAM_USAGE, day, block.start)
    counts = rng.poisson(expected_rate(block, day, first_day, days) * scale)
    idx = np.repeat(np.arange(len(block), dtype=np.int32), counts)
    n = len(idx)

    u = rng.random(n, dtype=np.float32)
    service = np.minimum((u[:, None] >= block.mix_cum[idx]).sum(axis=1), 5).astype(np.int8)
    is_voice, is_data = service == 0, service == 3
    direction = (rng.random(n, dtype=np.float32) >= _OUT_SHARE[service]).astype(np.int8)
    out = direction == 0
    roaming = rng.random(n, dtype=np.float32) < block.roam_p[idx]
    long_distance = is_voice & ~roaming & (rng.random(n, dtype=np.float32) < block.ld_p[idx])

    duration = np.zeros(n, dtype=np.int32)
    v = np.flatnonzero(is_voice)
    calls = rng.lognormal(np.log(75.0), 1.0, len(v)) * block.voice_taste[idx[v]]
    duration[v] = np.clip(calls, 1, 7200).astype(np.int32)

    volume = np.zeros(n, dtype=np.float64)
    dmask = np.flatnonzero(is_data)
    volume[dmask] = np.round(np.minimum(
        rng.lognormal(np.log(30_000.0), 1.3, len(dmask)) * block.data_taste[idx[dmask]],
        20_000_000.0), 1)
    mms = np.flatnonzero(service == 2)
    volume[mms] = np.round(rng.uniform(30.0, 600.0, len(mms)), 1)

    charge = _charges(rng, block, idx, service, out, roaming, long_distance, duration, volume)
    # A subscriber's records come out in time order: sorting the times inside each
    # subscriber's run is enough, since the other fields are drawn independently of them.
    key = idx.astype(np.int64) * 86_400 + seconds_of_day(rng, n)
    key.sort()
    seconds = key - idx.astype(np.int64) * 86_400
    times = times.strings(np.full(n, day - first_day, dtype=np.int32), block.county[idx],
                          seconds)
    return pa.Table.from_arrays([
        fixed_strings(msisdn_bytes[idx]),
        times,
        dictionary(service, cat.SERVICES),
        dictionary(direction, cat.DIRECTIONS),
        pa.array(long_distance.astype(np.int8)),
        pa.array(roaming.astype(np.int8)),
        pa.array(duration),
        pa.array(volume),
        pa.array(charge),
    ], schema=SCHEMA)


def _charges(rng: np.random.Generator, block: Block, idx: np.ndarray, service: np.ndarray,
             out: np.ndarray, roaming: np.ndarray, long_distance: np.ndarray,
             duration: np.ndarray, volume: np.ndarray) -> np.ndarray:
    """Prices of the subscriber's tariff; records inside the bundle cost nothing."""
    tariff = block.tariff[idx]
    bundled = rng.random(len(idx), dtype=np.float32) < cat.tariff_array("bundle_share")[tariff]
    minutes = np.ceil(duration / 60.0)
    mb = volume / 1024.0
    price_min = cat.tariff_array("price_min")[tariff]
    price_mb = cat.tariff_array("price_mb")[tariff]
    charge = np.zeros(len(idx))
    voice, sms, mms = service == 0, service == 1, service == 2
    data, ringback, vas = service == 3, service == 4, service == 5
    home_voice = voice & out & ~roaming & ~bundled
    charge = np.where(home_voice, minutes * price_min * np.where(long_distance, 2.0, 1.0), charge)
    charge = np.where(voice & roaming, minutes * np.where(out, 29.0, 19.0), charge)
    charge = np.where(sms & out, np.where(roaming, 12.0, np.where(bundled, 0.0, 2.5)), charge)
    charge = np.where(mms & out, 7.0, charge)
    charge = np.where(data & ~bundled & ~roaming, mb * price_mb, charge)
    charge = np.where(data & roaming, np.minimum(mb * 2.0, 990.0), charge)
    charge = np.where(ringback, 1.5, charge)
    vas_price = _VAS_PRICES[np.minimum(np.searchsorted(_VAS_CUM, rng.random(len(idx))), 4)]
    charge = np.where(vas, vas_price, charge)
    return np.round(charge, 2)
