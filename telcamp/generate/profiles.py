"""The reference files (regions, tariffs) and the subscribers file of one block."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from telcamp.generate import catalogue as cat
from telcamp.generate.columns import dates, dictionary, fixed_strings
from telcamp.generate.population import Block, rng_for

STREAM_EMAIL = 5

REGION_SCHEMA = pa.schema([
    ("code", pa.string()), ("name", pa.string()), ("parent_code", pa.string()),
    ("level", pa.string()), ("timezone", pa.string()),
])
TARIFF_SCHEMA = pa.schema([
    ("code", pa.string()), ("name", pa.string()), ("payment_type", pa.string()),
    ("monthly_fee", pa.float64()),
])
SUBSCRIBER_SCHEMA = pa.schema([
    ("msisdn", pa.string()),
    ("region_code", pa.dictionary(pa.int8(), pa.string())),
    ("tariff_code", pa.dictionary(pa.int8(), pa.string())),
    ("activation_date", pa.date32()),
    ("status", pa.dictionary(pa.int8(), pa.string())),
    ("birth_date", pa.date32()),
    ("gender", pa.dictionary(pa.int8(), pa.string())),
    ("language", pa.dictionary(pa.int8(), pa.string())),
    ("device_type", pa.dictionary(pa.int8(), pa.string())),
    ("email", pa.string()),
])
_STEMS = ("ivan", "olga", "alex", "maria", "dmitry", "elena", "sergey", "anna", "nikita",
          "irina", "pavel", "kate", "oleg", "tanya", "max", "yulia")
_STEMS_ZH = ("wang", "li", "zhang", "liu", "chen", "yang", "zhao", "huang")


def regions_table() -> pa.Table:
    return pa.Table.from_pylist(cat.region_rows(), schema=REGION_SCHEMA)


def tariffs_table() -> pa.Table:
    return pa.Table.from_pylist(cat.tariff_rows(), schema=TARIFF_SCHEMA)


def _emails(seed: int, block: Block) -> pa.Array:
    """name stem + number @ a mail domain of the subscriber's language; null for most."""
    rng = rng_for(seed, STREAM_EMAIL, block.start)
    n = len(block)
    zh = block.language == cat.LANGUAGES.index("zh")
    stems = pa.array(_STEMS + _STEMS_ZH)
    stem = np.where(zh, len(_STEMS) + rng.integers(0, len(_STEMS_ZH), n),
                    rng.integers(0, len(_STEMS), n))
    domains = pa.array(cat.EMAIL_DOMAINS_RU + cat.EMAIL_DOMAINS_ZH)
    k = len(cat.EMAIL_DOMAINS_RU)
    domain = np.where(zh, k + rng.integers(0, k, n), rng.integers(0, k, n))
    number = pc.cast(pa.array(block.msisdn % 1_000_000), pa.string())
    local = pc.binary_join_element_wise(stems.take(pa.array(stem)), number, ".")
    email = pc.binary_join_element_wise(local, domains.take(pa.array(domain)), "@")
    return pc.if_else(pa.array(block.has_email), email, pa.scalar(None, pa.string()))


def subscriber_table(*, seed: int, block: Block, msisdn_bytes: np.ndarray) -> pa.Table:
    return pa.Table.from_arrays([
        fixed_strings(msisdn_bytes),
        pa.DictionaryArray.from_arrays(pa.array(block.county), pa.array(cat.county_codes()))
        .cast(pa.dictionary(pa.int8(), pa.string())),
        dictionary(block.tariff, tuple(t.code for t in cat.TARIFFS)),
        dates(block.activation_day),
        dictionary(block.status, cat.STATUSES),
        dates(block.birth_day, block.birth_known),
        dictionary(block.gender, cat.GENDERS),
        dictionary(block.language, cat.LANGUAGES),
        dictionary(block.device, cat.DEVICES),
        _emails(seed, block),
    ], schema=SUBSCRIBER_SCHEMA)
