"""The data contracts: the files an operator sends (DESIGN.md, "Data contracts").

One source of truth for the generator, the loader and the docs. Column types are the
loader's target types; `values` lists the allowed values of enumerated columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # msisdn | str | date | timestamp | int | float | flag
    required: bool = True  # a value must be present (not empty)
    values: tuple[str, ...] = ()
    min: float | None = None


@dataclass(frozen=True)
class Contract:
    kind: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # unique within one file
    doc: str = ""
    extra_columns_allowed: bool = False
    names: tuple[str, ...] = field(default=())

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


REGIONS = Contract(
    "regions",
    (
        Column("code", "str"),
        Column("name", "str"),
        Column("parent_code", "str", required=False),
        Column("level", "str", values=("province", "city", "county")),
        Column("timezone", "str"),
    ),
    key=("code",),
    doc="Region tree: one province, its cities, their counties; IANA time zone each.",
)

TARIFFS = Contract(
    "tariffs",
    (
        Column("code", "str"),
        Column("name", "str"),
        Column("payment_type", "str", values=("prepaid", "postpaid")),
        Column("monthly_fee", "float", min=0),
    ),
    key=("code",),
    doc="Tariff catalogue.",
)

SUBSCRIBERS = Contract(
    "subscribers",
    (
        Column("msisdn", "msisdn"),
        Column("region_code", "str"),
        Column("tariff_code", "str"),
        Column("activation_date", "date"),
        Column("status", "str", values=("active", "suspended", "churned")),
        Column("birth_date", "date", required=False),
        Column("gender", "str", values=("m", "f", "u")),
        Column("language", "str", required=False),
        Column("device_type", "str", required=False),
        Column("email", "str", required=False),
    ),
    key=("msisdn",),
    doc="Subscriber profiles; extra columns are kept as extra profile fields.",
    extra_columns_allowed=True,
)

USAGE = Contract(
    "usage",
    (
        Column("msisdn", "msisdn"),
        Column("event_time", "timestamp"),
        Column("service", "str", values=("voice", "sms", "mms", "data", "ringback", "vas")),
        Column("direction", "str", values=("out", "in")),
        Column("long_distance", "flag"),
        Column("roaming", "flag"),
        Column("duration_s", "int", min=0),
        Column("volume_kb", "float", min=0),
        Column("charge", "float", min=0),
    ),
    doc="Usage records (CDRs). A record's day is the date written in its event_time.",
)

PRODUCT_EVENTS = Contract(
    "product_events",
    (
        Column("msisdn", "msisdn"),
        Column("event_time", "timestamp"),
        Column("product_code", "str"),
        Column("action", "str", values=("subscribe", "unsubscribe")),
        Column("channel", "str", required=False),
    ),
    doc="Product subscriptions and cancellations.",
)

PAYMENTS = Contract(
    "payments",
    (
        Column("msisdn", "msisdn"),
        Column("event_time", "timestamp"),
        Column("amount", "float", min=0),
        Column("kind", "str", values=("recharge", "bill")),
    ),
    doc="Recharges (prepaid) and bill payments (postpaid).",
)

CONTRACTS: dict[str, Contract] = {
    c.kind: c for c in (REGIONS, TARIFFS, SUBSCRIBERS, USAGE, PRODUCT_EVENTS, PAYMENTS)
}

# Order in which a folder is loaded: references first.
LOAD_ORDER = ("regions", "tariffs", "subscribers", "usage", "product_events", "payments")
