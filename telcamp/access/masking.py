"""PII masking: full phone numbers and e-mail addresses only for roles with pii.read.

Used by pages, API responses and exports alike, so one rule decides what a role sees.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from telcamp.core.security import Principal

PII_FIELDS = ("msisdn", "email")


def _mask_digits(text: str) -> str:
    # '79123456567' -> '7912****567': the country/operator prefix and the last digits stay
    # readable so an agent or marketer can still tell numbers apart.
    if len(text) >= 8:
        return text[:4] + "*" * (len(text) - 7) + text[-3:]
    if len(text) > 2:
        return "*" * (len(text) - 2) + text[-2:]
    return "*" * len(text)


def mask_msisdn(value: str | int | None, principal: Principal) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if principal.has_pii else _mask_digits(text)


def mask_typed_number(value: str, principal: Principal) -> str:
    """A number as someone typed it, valid or not ("+7 912 000-00-03", "7912ab00003"),
    masked like mask_msisdn on its digits while the rest stays readable, so a report can
    still show why a row was refused. Text with fewer than 5 digits is no phone number
    and shows as typed."""
    digits = [i for i, c in enumerate(value) if c.isdigit()]
    if principal.has_pii or len(digits) < 5:
        return value
    kept = _mask_digits("0" * len(digits))  # which digit positions stay visible
    chars = list(value)
    for pos, keep in zip(digits, kept, strict=True):
        if keep == "*":
            chars[pos] = "*"
    return "".join(chars)


def mask_email(value: str | None, principal: Principal) -> str | None:
    if value is None or principal.has_pii:
        return value
    local, at, domain = value.partition("@")
    if not at:
        return "***"
    return (local[:1] or "") + "***@" + domain


def mask_row(
    row: Mapping[str, Any], principal: Principal, fields: Iterable[str] = PII_FIELDS
) -> dict[str, Any]:
    """A copy of `row` with its PII fields masked for this principal."""
    out = dict(row)
    if principal.has_pii:
        return out
    for name in fields:
        if name in out:
            out[name] = mask_email(out[name], principal) if "email" in name else (
                mask_msisdn(out[name], principal)
            )
    return out


def msisdn_sql(principal: Principal, column: str = "msisdn") -> str:
    """A DuckDB/PostgreSQL expression giving the column as the principal may see it.

    For set-based exports: mask in SQL rather than per row in Python. `column` must be a
    trusted identifier (a column name from code), never user input.
    """
    text = f"CAST({column} AS VARCHAR)"
    if principal.has_pii:
        return text
    return (
        f"CASE WHEN {column} IS NULL THEN NULL WHEN length({text}) >= 8 THEN "
        f"substr({text}, 1, 4) || repeat('*', length({text}) - 7) || "
        f"substr({text}, length({text}) - 2) WHEN length({text}) > 2 THEN "
        f"repeat('*', length({text}) - 2) || substr({text}, length({text}) - 1) "
        f"ELSE repeat('*', length({text})) END"
    )


def email_sql(principal: Principal, column: str = "email") -> str:
    """SQL counterpart of mask_email (trusted column name only)."""
    if principal.has_pii:
        return column
    return (
        f"CASE WHEN {column} IS NULL THEN NULL WHEN strpos({column}, '@') > 0 THEN "
        f"substr({column}, 1, 1) || '***@' || split_part({column}, '@', 2) ELSE '***' END"
    )
