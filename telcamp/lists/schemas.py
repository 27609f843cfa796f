"""API shapes of special lists, and the parsing of the two values users type: numbers
and expiries (shared by the API, the CLI, the pages and the CSV importer)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from telcamp.core.errors import ValidationFailed
from telcamp.core.settings import get_settings

ListType = Literal["blacklist", "greylist", "optout", "test", "custom"]
MSISDN_RE = re.compile(r"[0-9]{8,15}")


# A number as people write it: an optional '+', digits and the separators of the usual
# formats ("+7 912 000-00-03", "7912-000-004", "+7 (912) 000.00.03").
TYPED_MSISDN_RE = re.compile(r"\+?[0-9][0-9\s().\-]*")
_SEPARATORS_RE = re.compile(r"[\s().+\-]")
# a national form may open with the area code in brackets: (912) 000-00-03
_NATIONAL_RE = re.compile(r"[0-9(][0-9\s().\-]*")


def national_to_international(text: str) -> str:
    """A number typed in the operator's national form (settings msisdn_country_code,
    msisdn_national_digits, msisdn_trunk_prefix: 8 912 000-00-03 or 912 000-00-03 in
    Russia) as its international digits (79120000003); anything else as typed. Without a
    configured plan nothing is national. A '+' or 00 says the number is international."""
    settings = get_settings()
    code, digits_n = settings.msisdn_country_code, settings.msisdn_national_digits
    value = text.strip()
    if (not code or not digits_n or value.startswith(("+", "00"))
            or not _NATIONAL_RE.fullmatch(value)):
        return text
    digits = _SEPARATORS_RE.sub("", value)
    trunk = settings.msisdn_trunk_prefix
    if trunk and digits.startswith(trunk) and len(digits) == len(trunk) + digits_n:
        return code + digits[len(trunk):]
    if len(digits) == digits_n:
        return code + digits
    return text


def normalise_msisdn(text: str) -> str:
    """The digits of a number typed in a common format (E.164 without '+'; a leading 00
    international prefix dropped; a national form read as international when the operator's
    numbering plan is set); anything else is returned stripped, as typed, for
    msisdn_problem to explain. The importer's SQL (lists.importer) does the same."""
    value = national_to_international(text).strip()
    if not TYPED_MSISDN_RE.fullmatch(value):
        return value
    digits = _SEPARATORS_RE.sub("", value)
    return digits[2:] if digits.startswith("00") else digits


def msisdn_problem(text: str) -> str | None:
    """Why `text` is not a valid msisdn (E.164 digits, 8..15 long, after
    normalise_msisdn), or None."""
    value = normalise_msisdn(text)
    if not value:
        return "empty msisdn"
    if value.startswith("("):
        return (f"msisdn {value!r} has no country code; write it with one first, e.g. "
                "+7 (912) 000-00-03")
    if not value.isascii() or not value.isdigit():
        return (f"msisdn {value!r} must be digits only (E.164; spaces, - . ( ) and a "
                "leading + are allowed)")
    if not MSISDN_RE.fullmatch(value):
        return f"msisdn {value!r} must have 8 to 15 digits, not {len(value)}"
    if value.startswith("0"):
        return f"msisdn {value!r} must start with the country code, not 0"
    code = get_settings().msisdn_country_code
    if code and not value.startswith(code):
        if text.strip().startswith(("+", "00")):  # typed with a country code: another one
            return (f"msisdn {value!r} is a number of another country; only numbers of "
                    f"this operator's country (+{code}) can be listed")
        return (f"msisdn {value!r} is not a number of this operator's country (+{code}); "
                "write it with the country code")
    return None


def parse_msisdn(text: str, *, field: str = "msisdn") -> int:
    """A typed number (see normalise_msisdn) as an integer; ValidationFailed says why not."""
    problem = msisdn_problem(text)
    if problem:
        raise ValidationFailed(problem, field=field)
    return int(normalise_msisdn(text))


def expiry_problem(text: str) -> str | None:
    try:
        parse_expiry(text)
    except ValidationFailed as exc:
        return exc.message
    return None


def parse_expiry(text: str, *, field: str = "expires_at", tz: str = "UTC") -> datetime | None:
    """ISO date: the member counts through that whole day in the list's zone `tz` (the
    expiry is the next local midnight, as UTC) - the date the user typed is the date they
    see again (expiry_display). ISO datetime: naive = UTC. Empty means never expires."""
    value = text.strip()
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day + timedelta(days=1), time(0),
                                    tzinfo=ZoneInfo(tz)).astimezone(UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            f"expiry {value!r} is not an ISO date (2026-12-31) or datetime "
            "(2026-12-31T18:00:00+03:00)",
            field=field,
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def expiry_display(expires_at: datetime | None, tz: str) -> tuple[date | None, str | None]:
    """How to show an expiry in the list's zone: (the last day, None) when it is a local
    midnight - the member counts through that day, as typed - else (None, the local time
    "YYYY-MM-DD HH:MM")."""
    if expires_at is None:
        return None, None
    moment = expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC)
    local = moment.astimezone(ZoneInfo(tz))
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        return local.date() - timedelta(days=1), None
    return None, local.strftime("%Y-%m-%d %H:%M")


class ListCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    type: ListType
    region_code: str | None = Field(
        None, description="Owning region; default: the creator's region."
    )
    description: str = Field("", max_length=2000)

    @field_validator("name")
    @classmethod
    def _strip(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("name must not be blank")
        return v


class ListUpdate(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=2000)


class ListRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    type: str
    region_code: str | None
    description: str
    default_excluded: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    members: int = 0
    expired: int = 0
    writable: bool = False


class MemberCreate(BaseModel):
    msisdn: str
    reason: str | None = Field(None, max_length=500)
    expires_at: str | None = Field(
        None, description="ISO date (counts through that day, UTC) or datetime; empty = never."
    )


class MemberRead(BaseModel):
    msisdn: str
    reason: str | None
    expires_at: datetime | None
    expired: bool
    added_by: str
    added_at: datetime
    zone: str = "UTC"  # as in SearchHit
    expires_through: date | None = None
    expires_local: str | None = None
    added_local: str | None = None  # added_at in the list's zone


class SearchHit(BaseModel):
    msisdn: str
    list_id: int
    list_name: str
    list_type: str
    region_code: str | None
    default_excluded: bool
    reason: str | None
    expires_at: datetime | None
    expired: bool
    added_by: str
    added_at: datetime
    # the expiry in the list's time zone (schemas.expiry_display): the last day it counts
    # through when it is a date-only expiry, else the local time
    zone: str = "UTC"
    expires_through: date | None = None
    expires_local: str | None = None
    added_local: str | None = None  # added_at in the list's zone


class MemberAdded(SearchHit):
    """The number as it now stands on the list, and the import report's coverage fields
    for it: a number no subscriber has (typed the national way without a numbering
    plan, say) is kept but would silently never match."""

    not_subscribers: int | None = Field(
        None, description="1 when no subscriber in the warehouse has the number (kept); "
        "null: no subscribers loaded to compare with, or the warehouse busy with a load")
    national_like: int = Field(
        0, description="1 when it reads as a subscriber's number written the national way "
        "while no numbering plan is configured: it will never match")


class RejectedRow(BaseModel):
    line: int
    value: str = Field(description="what was typed in the column the reason is about")
    reason: str
    column: str | None = Field(None, description="msisdn, expiry or reason; none for a row "
                               "with too many columns")


class ImportReport(BaseModel):
    list_id: int
    file: str
    rows: int = Field(description="data rows read (header excluded)")
    valid: int
    rejected: list[RejectedRow] = Field(description="the first rejected rows")
    rejected_total: int
    applied: bool = Field(description="false: nothing imported (bad rows and no confirmation)")
    added: int = 0
    updated: int = 0
    not_subscribers: int | None = Field(
        None, description="valid numbers no subscriber in the warehouse has (kept; null: "
        "no subscribers loaded to compare with)")
    national_like: int = Field(
        0, description="of those, numbers that read as a subscriber's number written the "
        "national way while no numbering plan is configured: they will never match")


class OverrideCreate(BaseModel):
    campaign_id: int
    list_id: int
    reason: str = Field(min_length=1, max_length=2000)


class OverrideRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: int
    list_id: int
    reason: str
    created_by: str
    created_at: datetime
