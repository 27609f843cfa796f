"""The latent traits behind a generated operator, for simulations that need the truth.

They are not in the contract files (an operator would not know them), but later parts of
the simulated operator (subscribers who answer campaigns with a known propensity, an
uplift planted for analytics to find) can rebuild them from the same arguments.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pyarrow as pa

from telcamp.generate import catalogue as cat
from telcamp.generate.columns import digits, epoch_day, fixed_strings
from telcamp.generate.population import block_count, make_block

SCHEMA = pa.schema([
    ("msisdn", pa.string()),
    ("propensity", pa.float32()),  # readiness to take offers, Beta(2, 8)
    ("activity", pa.float32()),  # relative records per day, before the global scale
    ("fade_to", pa.float32()),  # < 1: cooling, usage falls to this share by the end date
    ("roaming_share", pa.float32()),
    ("churn_date", pa.date32()),  # null unless churned
])


def latent_traits(*, subscribers: int, seed: int, end_date: date) -> Iterator[pa.Table]:
    """One table per block of subscribers, in the order of subscribers.<ext>; pass the
    same subscribers, seed and end date as the generate run."""
    end_day = epoch_day(end_date)
    for b in range(block_count(subscribers)):
        block = make_block(seed=seed, block=b, subscribers=subscribers, end_day=end_day)
        churned = block.status == cat.STATUSES.index("churned")
        yield pa.Table.from_arrays([
            fixed_strings(digits(block.msisdn, 11)),
            pa.array(block.propensity), pa.array(block.activity), pa.array(block.fade_to),
            pa.array(block.roam_p),
            pa.array(block.churn_day, type=pa.date32(), mask=~churned),
        ], schema=SCHEMA)
