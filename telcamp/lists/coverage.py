"""Which of a list's numbers are subscribers of the warehouse.

A list may name numbers not loaded yet (a complaint before the next billing export), so
nothing is refused. But a number typed the national way (`8 912 345-67-89`) while no
numbering plan is configured is stored as `89123456789` and never matches the subscriber
`79123456789`: an opt-out that silently does not apply. The import and add reports say
how many numbers are not subscribers, and how many of those read as a subscriber's
number written nationally, pointing at the settings that fix it (docs/lists.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from telcamp.core import warehouse
from telcamp.core.errors import StoreBusy
from telcamp.core.settings import get_settings

PLAN_SETTINGS = ("TELCAMP_MSISDN_COUNTRY_CODE", "TELCAMP_MSISDN_NATIONAL_DIGITS",
                 "TELCAMP_MSISDN_TRUNK_PREFIX")


@dataclass(frozen=True)
class Coverage:
    not_subscribers: int  # distinct numbers of the batch no subscriber has
    national_like: int  # of those, the ones that read as a subscriber's national form
    plan_configured: bool


# One statement: the numbers no subscriber has, then, for those, a national reading of
# each compared with the subscribers' numbers by their last digits. A national form is
# the subscriber's number with its country code (1 to 3 digits) replaced by a trunk
# prefix (one digit: 8 912 … for 7 912 …) or dropped (138 … for 86 138 …): so either
# the number without its first digit, or the number itself, equals a subscriber's number
# modulo 10^digits. Only the few distinct lengths of the batch are tried.
_SQL = """
WITH n AS (SELECT DISTINCT msisdn FROM batch),
missing AS (
  SELECT msisdn, length(CAST(msisdn AS VARCHAR)) AS len FROM n
  WHERE NOT EXISTS (SELECT 1 FROM subscribers s WHERE s.msisdn = n.msisdn)
),
cand AS (
  SELECT msisdn, msisdn % CAST(10 ** (len - 1) AS BIGINT) AS national, len - 1 AS digits
  FROM missing WHERE $national AND len > 7
  UNION ALL
  SELECT msisdn, msisdn, len FROM missing WHERE $national AND len > 6
),
lengths AS (SELECT DISTINCT digits FROM cand),
keyed AS (
  SELECT DISTINCT s.msisdn % CAST(10 ** l.digits AS BIGINT) AS national, l.digits
  FROM subscribers s, lengths l
  WHERE s.msisdn >= CAST(10 ** l.digits AS BIGINT)
    AND s.msisdn < CAST(10 ** (l.digits + 3) AS BIGINT)
)
SELECT (SELECT count(*) FROM missing),
       (SELECT count(DISTINCT c.msisdn) FROM cand c
        JOIN keyed k ON k.national = c.national AND k.digits = c.digits)
"""


def check(numbers: pa.Array | pa.ChunkedArray | list[int]) -> Coverage | None:
    """How many of `numbers` are not subscribers, and how many of those look national
    (only looked for when no numbering plan is set: with one, national forms were already
    read as international). None when there are no subscribers to compare with (nothing
    loaded yet) or the warehouse is busy with a load: the report then says nothing."""
    plan = bool(get_settings().msisdn_country_code)
    batch = pa.table({"msisdn": pa.array(numbers, pa.int64()) if isinstance(numbers, list)
                      else numbers.cast(pa.int64())})
    if batch.num_rows == 0:
        return None
    try:
        with warehouse.connect(timeout_s=2) as con:
            if not _has_subscribers(con):
                return None
            con.register("batch", batch)
            try:
                rows = con.execute(_SQL, {"national": not plan}).fetchall()
            finally:
                con.unregister("batch")
    except StoreBusy:
        return None
    if not rows:
        return None
    return Coverage(int(rows[0][0]), int(rows[0][1] or 0), plan)


def _has_subscribers(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        rows = con.execute("SELECT EXISTS (SELECT 1 FROM subscribers)").fetchall()
    except duckdb.CatalogException:
        return False
    return bool(rows and rows[0][0])


def summary(cov: Coverage | None) -> list[str]:
    """The report's lines (English: the CLI; the pages say them through the catalogue)."""
    if cov is None or not cov.not_subscribers:
        return []
    lines = [f"{cov.not_subscribers:,} of the numbers are not subscribers in the warehouse "
             "(kept: they will count once such a subscriber is loaded)"]
    if cov.national_like:
        lines.append(
            f"{cov.national_like:,} of them look like subscribers' numbers written the "
            "national way (trunk prefix instead of the country code) and will never match: "
            f"no numbering plan is configured; set {', '.join(PLAN_SETTINGS)} "
            "(docs/lists.md) and add them again")
    return lines
