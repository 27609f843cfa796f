"""Subscribers and their latent traits, one block of subscribers at a time.

A block's traits depend only on (seed, block index), so any process can rebuild any block
and the output does not depend on how the work was scheduled. Days are integers counted
from 1970-01-01 (numpy-friendly); the window is [end_day - days + 1, end_day].
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from telcamp.generate import catalogue as cat

SUB_BLOCK = 250_000  # subscribers per block (the unit of determinism for subscriber traits)
MSISDN_BASE = 79_000_000_000  # Russian mobile range: 79 + nine digits (E.164 without '+')
MSISDN_SPACE = 1_000_000_000
_MSISDN_STEP = 618_033_989  # coprime with 10^9: i -> (step*i + offset) mod 10^9 is a bijection
STREAM_SUBSCRIBERS = 1
NEVER = 2**31 - 1  # churn day of subscribers who have not churned

# Age bands: lower bound and share of the base (adults dominate; a few teenagers).
_AGE_BANDS = np.array([14, 18, 25, 35, 45, 55, 65, 75, 91])
_AGE_SHARE = np.array([0.04, 0.11, 0.19, 0.20, 0.17, 0.14, 0.10, 0.05])
# Tariff preference per age group (rows: <18, 18-34, 35-54, 55-64, 65+), columns = TARIFFS.
_TARIFF_BY_AGE = np.array([
    [.10, .15, .10, .02, .55, .00, .02, .06, .00, .00],
    [.06, .16, .20, .12, .22, .00, .03, .08, .07, .06],
    [.08, .18, .22, .14, .01, .00, .03, .14, .12, .08],
    [.15, .22, .18, .07, .00, .15, .02, .12, .06, .03],
    [.25, .15, .07, .02, .00, .42, .01, .06, .01, .01],
])
_TARIFF_MODEM = np.array([.05, .00, .05, .05, .00, .00, .75, .00, .10, .00])
_TARIFF_TABLET = np.array([.00, .10, .15, .10, .00, .00, .45, .10, .00, .10])
# Device per age group (columns = DEVICES).
_DEVICE_BY_AGE = np.array([
    [.92, .03, .03, .00, .02],
    [.90, .02, .03, .03, .02],
    [.85, .05, .04, .04, .02],
    [.72, .18, .05, .04, .01],
    [.50, .42, .05, .02, .01],
])
# Service mix per device (columns = SERVICES: voice, sms, mms, data, ringback, vas).
_MIX_BY_DEVICE = np.array([
    [.33, .13, .01, .43, .02, .08],
    [.58, .30, .02, .04, .03, .03],
    [.02, .05, .00, .88, .00, .05],
    [.00, .02, .00, .98, .00, .00],
    [.25, .15, .00, .55, .00, .05],
])
_VOICE_BY_AGE = np.array([0.5, 0.8, 1.0, 1.3, 1.5])
_DATA_BY_AGE = np.array([1.6, 1.4, 1.0, 0.6, 0.3])
_ACTIVITY_BY_AGE = np.array([1.2, 1.15, 1.0, 0.85, 0.7])


def rng_for(seed: int, *stream: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *stream])))


def pick(rng: np.random.Generator, cum: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Draw one category per row; row r uses the cumulative probabilities cum[group[r]]."""
    u = rng.random(len(group), dtype=np.float32)
    drawn = np.minimum((u[:, None] >= cum[group]).sum(axis=1), cum.shape[1] - 1)
    return np.asarray(drawn, dtype=np.int8)


def _cum(p: np.ndarray) -> np.ndarray:
    p = p / p.sum(axis=-1, keepdims=True)
    return np.asarray(np.cumsum(p, axis=-1), dtype=np.float32)


@dataclass
class Block:
    """One block of subscribers: what the subscribers file shows and what drives usage."""

    start: int
    msisdn: np.ndarray  # int64
    county: np.ndarray  # int16 index into catalogue.county_codes()
    tariff: np.ndarray  # int8 index into catalogue.TARIFFS
    device: np.ndarray  # int8 index into catalogue.DEVICES
    gender: np.ndarray  # int8
    language: np.ndarray  # int8 index into catalogue.LANGUAGES
    status: np.ndarray  # int8 index into catalogue.STATUSES
    activation_day: np.ndarray  # int32 epoch day
    birth_day: np.ndarray  # int32 epoch day (true value, even where not disclosed)
    birth_known: np.ndarray  # bool: birth_date is written
    has_email: np.ndarray  # bool
    churn_day: np.ndarray  # int32: first day without service (NEVER if not churned)
    age_group: np.ndarray  # int8: 0 <18, 1 18-34, 2 35-54, 3 55-64, 4 65+
    activity: np.ndarray  # float32: relative records per day (before normalisation)
    data_taste: np.ndarray  # float32: multiplier of data session volumes
    voice_taste: np.ndarray  # float32: multiplier of call durations
    mix_cum: np.ndarray  # float32 [n, 6]: cumulative service mix
    roam_p: np.ndarray  # float32: share of records made in roaming
    ld_p: np.ndarray  # float32: share of calls that are long distance
    fade_to: np.ndarray  # float32: activity multiplier reached at the window's end (cooling)
    propensity: np.ndarray  # float32: latent readiness to take offers (for later simulation)

    def __len__(self) -> int:
        return len(self.msisdn)

    def part(self, lo: int, hi: int) -> Block:
        """Subscribers lo..hi of this block, as a block of their own (start moves on)."""
        arrays = {f.name: getattr(self, f.name)[lo:hi] for f in fields(self)
                  if f.name != "start"}
        return replace(self, start=self.start + lo, **arrays)


def msisdns(seed: int, index: np.ndarray) -> np.ndarray:
    offset = (seed * 7_919 + 12_345) % MSISDN_SPACE
    return MSISDN_BASE + (index.astype(np.int64) * _MSISDN_STEP + offset) % MSISDN_SPACE


def block_count(subscribers: int) -> int:
    return -(-subscribers // SUB_BLOCK)


def make_block(*, seed: int, block: int, subscribers: int, end_day: int) -> Block:
    start = block * SUB_BLOCK
    n = min(SUB_BLOCK, subscribers - start)
    rng = rng_for(seed, STREAM_SUBSCRIBERS, block)
    index = np.arange(start, start + n, dtype=np.int64)

    county = _draw_county(rng, n)
    city = cat.county_city_index()[county]

    band = np.searchsorted(np.cumsum(_AGE_SHARE), rng.random(n), side="right")
    band = np.minimum(band, len(_AGE_SHARE) - 1)
    age_years = _AGE_BANDS[band] + rng.random(n) * (_AGE_BANDS[band + 1] - _AGE_BANDS[band])
    birth_day = (end_day - age_years * 365.25).astype(np.int32)
    age_group = np.searchsorted(np.array([18, 35, 55, 65]), age_years, side="right")
    age_group = age_group.astype(np.int8)
    birth_known = rng.random(n) >= 0.07

    device = pick(rng, _cum(_DEVICE_BY_AGE), age_group)
    tariff_p = np.concatenate([_TARIFF_BY_AGE, _TARIFF_MODEM[None], _TARIFF_TABLET[None]])
    tariff_group = np.where(device == 3, 5, np.where(device == 2, 6, age_group))
    tariff = pick(rng, _cum(tariff_p), tariff_group)
    gender = pick(rng, _cum(np.array([[0.47, 0.48, 0.05]])), np.zeros(n, dtype=np.int8))
    language = pick(rng, _cum(cat.city_language_matrix()), city)

    postpaid = np.array([t.payment_type == "postpaid" for t in cat.TARIFFS])[tariff]
    p_email = np.where(postpaid, 0.6, 0.25) * np.where(age_group == 4, 0.5, 1.0)
    has_email = rng.random(n) < p_email

    activation_day, status, churn_day = _tenure_and_status(rng, n, end_day, birth_day)

    tar_data = cat.tariff_array("data_mult")[tariff]
    tar_voice = cat.tariff_array("voice_mult")[tariff]
    activity = (rng.lognormal(0.0, 0.6, n) * cat.DEVICE_ACTIVITY[device]
                * _ACTIVITY_BY_AGE[age_group] * np.where(postpaid, 1.2, 1.0)
                * np.where(tariff == 0, 0.8, 1.0))
    data_taste = (rng.lognormal(0.0, 0.5, n) * cat.DEVICE_DATA[device] * tar_data
                  * _DATA_BY_AGE[age_group])
    voice_taste = rng.lognormal(0.0, 0.35, n) * _VOICE_BY_AGE[age_group] * np.maximum(
        tar_voice, 0.3)
    mix = _MIX_BY_DEVICE[device].copy()
    mix[:, 0] *= _VOICE_BY_AGE[age_group] * np.maximum(tar_voice, 0.05)
    mix[:, 3] *= np.sqrt(_DATA_BY_AGE[age_group] * tar_data)
    traveller = rng.random(n) < np.where(postpaid, 0.15, 0.05)
    roam_p = np.where(traveller, rng.uniform(0.1, 0.6, n), 0.002)
    ld_p = rng.uniform(0.02, 0.25, n)
    cooling = (rng.random(n) < 0.08) & (status == 0)
    fade_to = np.where(cooling, rng.uniform(0.05, 0.5, n), 1.0)
    propensity = rng.beta(2.0, 8.0, n)

    return Block(
        start=start, msisdn=msisdns(seed, index), county=county,
        tariff=tariff, device=device, gender=gender, language=language, status=status,
        activation_day=activation_day, birth_day=birth_day, birth_known=birth_known,
        has_email=has_email, churn_day=churn_day, age_group=age_group,
        activity=activity.astype(np.float32), data_taste=data_taste.astype(np.float32),
        voice_taste=voice_taste.astype(np.float32), mix_cum=_cum(mix),
        roam_p=roam_p.astype(np.float32), ld_p=ld_p.astype(np.float32),
        fade_to=fade_to.astype(np.float32), propensity=propensity.astype(np.float32),
    )


def _draw_county(rng: np.random.Generator, n: int) -> np.ndarray:
    cum = np.cumsum(cat.county_weights())
    idx = np.searchsorted(cum, rng.random(n), side="right")
    return np.asarray(np.minimum(idx, len(cum) - 1), dtype=np.int16)


def _tenure_and_status(
    rng: np.random.Generator, n: int, end_day: int, birth_day: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ten years of activations with a steady stream of recent joiners; some churners."""
    recent = rng.random(n) < 0.06  # joined within the last 60 days: ~3% are under 30 days
    tenure = np.where(
        recent,
        rng.integers(0, 60, n),
        60 + (rng.exponential(1500.0, n).astype(np.int64) % 3590),
    )
    activation = end_day - tenure
    # Nobody signs a contract before 14; recent joiners keep their recent date.
    adult = birth_day.astype(np.int64) + int(14 * 365.25)
    activation = np.where(recent, activation, np.minimum(np.maximum(activation, adult), end_day))
    u = rng.random(n)
    status = np.where(u < 0.90, 0, np.where(u < 0.93, 1, 2)).astype(np.int8)
    status = np.where(recent & (status == 2), 0, status).astype(np.int8)
    # Churners left at least a week ago (no recent usage); some inside a 30-day window.
    churn = end_day - 7 - rng.exponential(150.0, n).astype(np.int64)
    churn = np.maximum(churn, activation + 1)
    # A line activated too late to have churned a week ago simply stays active.
    status = np.where((status == 2) & (churn > end_day - 7), 0, status).astype(np.int8)
    churn_day = np.where(status == 2, churn, NEVER)
    return activation.astype(np.int32), status, churn_day.astype(np.int32)
