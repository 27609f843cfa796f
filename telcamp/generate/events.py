"""Product events (subscriptions to add-ons) and payments (prepaid recharges, postpaid
bills) for one subscriber block over the whole window."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from telcamp.generate import catalogue as cat
from telcamp.generate.columns import (
    TimeTable,
    dictionary,
    epoch_day,
    fixed_strings,
    from_epoch_day,
    seconds_of_day,
)
from telcamp.generate.population import Block, rng_for

STREAM_PRODUCTS = 3
STREAM_PAYMENTS = 4

PRODUCT_SCHEMA = pa.schema([
    ("msisdn", pa.string()),
    ("event_time", pa.string()),
    ("product_code", pa.dictionary(pa.int8(), pa.string())),
    ("action", pa.dictionary(pa.int8(), pa.string())),
    ("channel", pa.dictionary(pa.int8(), pa.string())),
])
PAYMENT_SCHEMA = pa.schema([
    ("msisdn", pa.string()),
    ("event_time", pa.string()),
    ("amount", pa.float64()),
    ("kind", pa.dictionary(pa.int8(), pa.string())),
])
_PRODUCT_CODES = tuple(p for p, _ in cat.PRODUCTS)
_PRODUCT_CUM = np.cumsum([w for _, w in cat.PRODUCTS]) / sum(w for _, w in cat.PRODUCTS)
_CHANNELS = tuple(c for c, _ in cat.PRODUCT_CHANNELS)
_CHANNEL_CUM = np.cumsum([w for _, w in cat.PRODUCT_CHANNELS])
_AMOUNT_CUM = np.cumsum([0.12, 0.10, 0.18, 0.22, 0.20, 0.06, 0.09, 0.03])


def _live_span(block: Block, first_day: int, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Each subscriber's days of service inside the window: [lo, hi)."""
    lo = np.maximum(block.activation_day.astype(np.int64), first_day)
    hi = np.minimum(block.churn_day.astype(np.int64), first_day + days)
    return lo, np.maximum(hi, lo)


def _categorical(rng: np.random.Generator, cum: np.ndarray, n: int) -> np.ndarray:
    drawn = np.minimum(np.searchsorted(cum, rng.random(n) * cum[-1], side="right"),
                       len(cum) - 1)
    return np.asarray(drawn, dtype=np.int8)


def product_table(*, seed: int, block: Block, msisdn_bytes: np.ndarray, first_day: int,
                  days: int, times: TimeTable) -> pa.Table:
    rng = rng_for(seed, STREAM_PRODUCTS, block.start)
    lo, hi = _live_span(block, first_day, days)
    # Subscribers with a higher latent propensity try more add-ons.
    rate = 0.006 * (1.0 + 6.0 * block.propensity) * np.where(block.status == 1, 0.1, 1.0)
    counts = rng.poisson(rate * (hi - lo))
    idx = np.repeat(np.arange(len(block), dtype=np.int32), counts)
    n = len(idx)
    day = lo[idx] + (rng.random(n) * (hi - lo)[idx]).astype(np.int64)
    action = (rng.random(n) >= 0.68).astype(np.int8)  # two subscriptions per cancellation
    product = _categorical(rng, _PRODUCT_CUM, n)
    channel = _categorical(rng, _CHANNEL_CUM, n)
    when = times.strings((day - first_day).astype(np.int32), block.county[idx],
                         seconds_of_day(rng, n))
    return pa.Table.from_arrays([
        fixed_strings(msisdn_bytes[idx]), when, dictionary(product, _PRODUCT_CODES),
        dictionary(action, ("subscribe", "unsubscribe")), dictionary(channel, _CHANNELS),
    ], schema=PRODUCT_SCHEMA)


def payment_table(*, seed: int, block: Block, msisdn_bytes: np.ndarray, first_day: int,
                  days: int, times: TimeTable) -> pa.Table:
    rng = rng_for(seed, STREAM_PAYMENTS, block.start)
    lo, hi = _live_span(block, first_day, days)
    fee = cat.tariff_array("monthly_fee")[block.tariff]
    postpaid = np.array([t.payment_type == "postpaid" for t in cat.TARIFFS])[block.tariff]
    paying = block.status != 1  # suspended lines stopped paying: that is why they are

    # Prepaid: recharges every ~10 days for an average user, more for heavy users; a
    # cooling subscriber recharges less as the window goes on.
    prepaid = paying & ~postpaid
    rate = np.where(prepaid, 0.1 * np.sqrt(block.activity), 0.0)
    counts = rng.poisson(rate * (hi - lo))
    idx = np.repeat(np.arange(len(block), dtype=np.int32), counts)
    day = lo[idx] + (rng.random(len(idx)) * (hi - lo)[idx]).astype(np.int64)
    t = (day - first_day) / max(days - 1, 1)
    keep = rng.random(len(idx)) < 1.0 + (block.fade_to[idx] - 1.0) * t
    idx, day = idx[keep], day[keep]
    amount = cat.RECHARGE_AMOUNTS[_categorical(rng, _AMOUNT_CUM, len(idx))]
    amount = np.maximum(amount, np.ceil(fee[idx] / 50.0) * 50.0)

    # Postpaid: one bill a month, paid on the subscriber's own day of the month, for the
    # fee plus extras; a few bills go unpaid (payment gaps feed the churn risk).
    bill_dom = rng.integers(3, 21, len(block))
    b_idx, b_day = [], []
    first, last = from_epoch_day(first_day), from_epoch_day(first_day + days - 1)
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        month_start = epoch_day(date(y, m, 1))
        pay_day = month_start + bill_dom - 1
        due = paying & postpaid & (pay_day >= lo) & (pay_day < hi)
        due &= rng.random(len(block)) >= np.where(block.fade_to < 1.0, 0.35, 0.03)
        b_idx.append(np.flatnonzero(due).astype(np.int32))
        b_day.append(pay_day[due])
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    bi = np.concatenate(b_idx) if b_idx else np.zeros(0, dtype=np.int32)
    bd = np.concatenate(b_day) if b_day else np.zeros(0, dtype=np.int64)
    bills = np.round(fee[bi] * (1.0 + rng.lognormal(-2.0, 0.8, len(bi))), 2)

    all_idx = np.concatenate([idx, bi])
    all_day = np.concatenate([day, bd]).astype(np.int64)
    order = np.lexsort((all_day, all_idx))  # per subscriber, in time order
    all_idx, all_day = all_idx[order], all_day[order]
    kind = np.concatenate([np.zeros(len(idx), np.int8), np.ones(len(bi), np.int8)])[order]
    amounts = np.concatenate([amount, bills])[order]
    when = times.strings((all_day - first_day).astype(np.int32), block.county[all_idx],
                         seconds_of_day(rng, len(all_idx)))
    return pa.Table.from_arrays([
        fixed_strings(msisdn_bytes[all_idx]), when, pa.array(amounts),
        dictionary(kind, ("recharge", "bill")),
    ], schema=PAYMENT_SCHEMA)
