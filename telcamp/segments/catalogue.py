"""What a segment rule may talk about: fields and usage metrics, with types, units,
allowed values, the operators each type takes, and a human sentence per operator.

The field list is read from the warehouse `profile` table at run time, so extra profile
columns an operator loads (e.g. `segment_code`) can be targeted without code changes. The
static table below only adds labels, units and allowed values to the columns we know.
Like Datasette's filters, each operator is one row that yields both the SQL (in
compiler.py) and a sentence ("ARPU over 3 months ≥ 50") used in funnels and the console.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import duckdb

from telcamp.campaigns.schemas import CHANNELS  # a constant module: no import cycle
from telcamp.core.i18n import _
from telcamp.warehouse.schema import ALL_METRICS, MAX_WINDOW_DAYS, WINDOWS

# Value types a field can have. "date" values are ISO strings in rules.
FieldType = str  # "str" | "int" | "float" | "date" | "bool" | "timestamp"

OPS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "str": ("=", "!=", "in", "not_in", "is_null"),
    "bool": ("=", "!=", "is_null"),
    "int": ("=", "!=", "<", "<=", ">", ">=", "in", "not_in", "between", "is_null"),
    "float": ("=", "!=", "<", "<=", ">", ">=", "between", "is_null"),
    "date": ("=", "!=", "<", "<=", ">", ">=", "in", "not_in", "between", "is_null"),
    "timestamp": ("<", "<=", ">", ">=", "between", "is_null"),
}
USAGE_OPS: tuple[str, ...] = ("=", "!=", "<", "<=", ">", ">=", "between")
ALL_OPS: tuple[str, ...] = (
    "=", "!=", "<", "<=", ">", ">=", "in", "not_in", "between", "is_null",
)

# One sentence per operator (msgids: telcamp.segments.describe translates them); {f} is
# the field's label, {v} the value(s).
OP_SENTENCES: dict[str, str] = {
    "=": _("{f} is {v}"),
    "!=": _("{f} is not {v}"),
    "<": _("{f} below {v}"),
    "<=": _("{f} at most {v}"),
    ">": _("{f} above {v}"),
    ">=": _("{f} at least {v}"),
    "in": _("{f} is one of {v}"),
    "not_in": _("{f} is none of {v}"),
    "between": _("{f} between {v}"),
    "is_null": _("{f} is unknown"),
}


# How the builder heads each group of fields (msgids; the API translates them).
GROUP_LABELS: dict[str, str] = {
    "profile": _("subscriber profile"), "derived": _("derived features"),
    "score": _("scores"), "usage": _("usage"), "extra": _("extra columns"),
}


@dataclass(frozen=True)
class FieldInfo:
    name: str
    type: FieldType
    label: str
    unit: str | None = None
    values: tuple[str, ...] | None = None  # closed set of allowed values, if any
    group: str = "profile"  # profile | derived | score | usage | extra
    # the column cannot hold anything else (a DuckDB ENUM): `in` may be compiled as
    # "none of the other values", which DuckDB filters while scanning (see compiler)
    closed: bool = False

    @property
    def ops(self) -> tuple[str, ...]:
        return OPS_BY_TYPE[self.type]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "type": self.type, "label": self.label, "unit": self.unit,
            "values": list(self.values) if self.values else None, "group": self.group,
            "ops": list(self.ops),
        }


def _f(name: str, type_: str, label: str, group: str, unit: str | None = None,
       values: tuple[str, ...] | None = None) -> FieldInfo:
    return FieldInfo(name, type_, label, unit, values, group)


# Columns every warehouse offers (DESIGN.md "Fields and usage metrics").
KNOWN_FIELDS: dict[str, FieldInfo] = {f.name: f for f in (
    _f("msisdn", "int", _("phone number"), "profile"),
    _f("region_code", "str", _("region"), "profile"),  # any level: compiler.in_region
    _f("city_code", "str", _("city"), "derived"),
    _f("province_code", "str", _("province"), "derived"),
    _f("tariff_code", "str", _("tariff"), "profile"),
    _f("payment_type", "str", _("payment type"), "derived", values=("prepaid", "postpaid")),
    _f("activation_date", "date", _("activation date"), "profile"),
    _f("status", "str", _("status"), "profile", values=("active", "suspended", "churned")),
    _f("birth_date", "date", _("birth date"), "profile"),
    _f("age", "int", _("age"), "derived", unit="years"),
    _f("gender", "str", _("gender"), "profile", values=("m", "f", "u")),
    _f("language", "str", _("language"), "profile"),
    _f("device_type", "str", _("device type"), "profile"),
    _f("email", "str", _("e-mail"), "profile"),
    _f("tenure_days", "int", _("tenure"), "derived", unit="days"),
    _f("is_new", "bool", _("new subscriber"), "derived"),
    _f("arpu_3m", "float", _("ARPU over 3 months"), "derived", unit="currency"),
    _f("days_since_last_activity", "int", _("days since last activity"), "derived",
       unit="days"),
    _f("days_since_last_payment", "int", _("days since last payment"), "derived",
       unit="days"),
    _f("payments_90d", "int", _("payments over 90 days"), "derived", unit="count"),
    _f("active_products", "int", _("active products"), "derived", unit="count"),
    _f("value_score", "float", _("value score"), "score", unit="0-100"),
    _f("value_tier", "str", _("value tier"), "score", values=("low", "medium", "high")),
    _f("churn_risk", "float", _("churn risk"), "score", unit="0-1"),
)}


@dataclass(frozen=True)
class MetricInfo:
    name: str
    unit: str
    label: str
    integer: bool
    windows: tuple[int, ...] = WINDOWS
    max_days: int = MAX_WINDOW_DAYS

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "unit": self.unit, "label": self.label,
                "type": "int" if self.integer else "float", "ops": list(USAGE_OPS),
                "precomputed_windows": list(self.windows), "max_days": self.max_days}


METRICS: dict[str, MetricInfo] = {
    m.name: MetricInfo(m.name, m.unit, m.label, m.integer) for m in ALL_METRICS
}
# Precomputed columns <metric>_<N>d are reached through usage leaves, not as fields. Any N
# of 1..90 counts, not only today's schema.WINDOWS: a profile built with other windows
# (before a window was added, or after one was dropped) is read as it is.
_USAGE_COLUMN = re.compile(
    rf"^({'|'.join(sorted(METRICS, key=len, reverse=True))})_([1-9][0-9]?)d$")
# Windows every profile has had since the first build; read even when usage_columns is
# empty (a profile built for another as-of date, see audience.make_context).
ALWAYS_STORED: tuple[int, ...] = (7, 30, 90)


def _is_usage_column(name: str) -> bool:
    found = _USAGE_COLUMN.match(name)
    return found is not None and 1 <= int(found.group(2)) <= MAX_WINDOW_DAYS


_ENUM_VALUE = re.compile(r"'((?:[^']|'')*)'")


def _enum_values(duck_type: str) -> tuple[str, ...] | None:
    """The values of an ENUM('a', 'b') column type, None for any other type."""
    if not duck_type.upper().startswith("ENUM("):
        return None
    return tuple(v.replace("''", "'") for v in _ENUM_VALUE.findall(duck_type))


def _type_of(duck_type: str) -> FieldType:
    t = duck_type.upper()
    if t == "BOOLEAN":
        return "bool"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP"):
        return "timestamp"
    if t.startswith("DECIMAL"):
        return "int" if t.endswith(",0)") else "float"
    if "INT" in t:
        return "int"
    if t in {"DOUBLE", "FLOAT", "REAL"}:
        return "float"
    return "str"


@dataclass
class Catalogue:
    """Fields (by column name) and metrics a rule may use in one warehouse."""

    fields: dict[str, FieldInfo] = field(default_factory=lambda: dict(KNOWN_FIELDS))
    metrics: dict[str, MetricInfo] = field(default_factory=lambda: dict(METRICS))
    # The precomputed <metric>_<w>d columns this profile has (usage leaves of other windows
    # use them as bounds; empty when the table is not known, e.g. a hand-made test table)
    usage_columns: frozenset[str] = frozenset()
    # The codes each region field may hold, with the region's name, from the warehouse's
    # regions table ({"city_code": {"C01": "Москва"}}): a code typed wrong ("c01", the
    # city's name) would otherwise count no one, silently. Empty before regions are
    # loaded (nothing to check against).
    regions: dict[str, dict[str, str]] = field(default_factory=dict)
    # The whole region tree ({code: (name, level, parent)}): why a code of the tree is not
    # one a field may hold (another level, another region) is said, not "unknown"
    region_tree: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)
    region_scope: str | None = None  # the user's region the codes above are limited to
    region_allowed: frozenset[str] = frozenset()  # its subtree and the regions above it

    def stored_window(self, metric: str, days: int) -> str | None:
        """The profile column holding `metric` over exactly `days` days, if any: one this
        profile has, or one of the windows every profile has (7, 30, 90)."""
        name = f"{metric}_{days}d"
        return name if name in self.usage_columns or days in ALWAYS_STORED else None

    def stored_days(self, metric: str) -> list[int]:
        """The windows of `metric` this profile stores (and may bound other windows by)."""
        prefix = f"{metric}_"
        return sorted(int(c[len(prefix):-1]) for c in self.usage_columns
                      if c.startswith(prefix) and c[len(prefix):-1].isdigit())

    def to_dict(self) -> dict[str, Any]:
        fields = []
        for f in self.fields.values():
            item = f.to_dict()
            known = self.regions.get(f.name)
            if known:  # offered in the builder, code with its name (rules.py checks them)
                item["regions"] = [{"code": c, "name": n} for c, n in sorted(known.items())]
            fields.append(item)
        return {
            "fields": fields,
            "metrics": [m.to_dict() for m in self.metrics.values()],
            "ops": {op: OP_SENTENCES[op] for op in ALL_OPS},
            # the names a `contacted` rule's channel may take (rules.py refuses others)
            "channels": list(CHANNELS),
        }


def profile_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(name, type) of each profile column; [] when no profile is built yet.

    DESCRIBE, not information_schema: it is one catalogue lookup, several times faster,
    and it runs on every count the builder asks for."""
    try:
        rows = con.execute("DESCRIBE profile").fetchall()
    except duckdb.CatalogException:
        return []
    return [(str(r[0]), str(r[1])) for r in rows]


def from_columns(columns: list[tuple[str, str]]) -> Catalogue:
    """The catalogue of a profile table with these (name, type) columns."""
    if not columns:
        return Catalogue()
    fields: dict[str, FieldInfo] = {}
    usage: set[str] = set()
    for name, duck_type in columns:
        if _is_usage_column(name):
            usage.add(name)
            continue
        known = KNOWN_FIELDS.get(name)
        enum = _enum_values(duck_type)
        if known is not None:
            # the table's real type wins (e.g. an INTEGER the static table calls float)
            fields[name] = FieldInfo(known.name, _type_of(duck_type), known.label, known.unit,
                                     enum or known.values, known.group, enum is not None)
        else:
            fields[name] = FieldInfo(name, _type_of(duck_type), name.replace("_", " "),
                                     values=enum, group="extra", closed=enum is not None)
    return Catalogue(fields=fields, usage_columns=frozenset(usage))


# The region fields of the profile and the level of the region tree each holds (None:
# region_code, the node a subscriber is attached to, which a rule reads as "in region X"
# at any level: see compiler.in_region).
REGION_FIELDS: dict[str, str | None] = {
    "region_code": None, "city_code": "city", "province_code": "province",
}
# The field that holds codes of a level (what a refusal tells the user to use instead)
LEVEL_FIELDS = {"county": "region_code", "city": "city_code", "province": "province_code"}


def _region_tree(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str, str | None]]:
    """{code: (name, level, parent)} of the warehouse's regions table; {} without one. One
    small read (a region tree is tens to a few thousand rows)."""
    try:
        rows = con.execute("SELECT code, name, level, parent_code FROM regions").fetchall()
    except duckdb.CatalogException:
        return {}
    return {str(c): (str(n), str(lv), None if p is None else str(p)) for c, n, lv, p in rows}


def _subtree_and_above(tree: dict[str, tuple[str, str, str | None]], scope: str) -> set[str]:
    out: set[str] = set()
    node: str | None = scope
    while node is not None and node not in out:  # the scope and its ancestors
        out.add(node)
        node = tree[node][2] if node in tree else None
    children: dict[str, list[str]] = {}
    for code, info in tree.items():
        if info[2] is not None:
            children.setdefault(info[2], []).append(code)
    todo = [scope]
    while todo:  # its descendants
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def with_regions(cat: Catalogue, con: duckdb.DuckDBPyConnection,
                 scope: str | None = None) -> Catalogue:
    """The catalogue with the region codes each region field it has may hold for a user
    of `scope` ({field: {code: name}}), and the whole tree for the refusals' wording. A
    scoped user may name the codes of their subtree and of the regions above it (a
    province rule covers their city)."""
    present = [f for f in REGION_FIELDS if f in cat.fields]
    tree = _region_tree(con) if present else {}
    if not tree:
        return cat
    allowed = frozenset(tree) if scope is None else frozenset(_subtree_and_above(tree, scope))
    regions: dict[str, dict[str, str]] = {}
    for name in present:
        level = REGION_FIELDS[name]
        known = {c: info[0] for c, info in tree.items()
                 if c in allowed and (level is None or info[1] == level)}
        if known:
            regions[name] = known
    return replace(cat, regions=regions, region_tree=tree, region_scope=scope,
                   region_allowed=allowed)


def load(con: duckdb.DuckDBPyConnection | None = None, scope: str | None = None
         ) -> Catalogue:
    """The catalogue of the current warehouse (the static one when no profile is built),
    with the region codes a user of `scope` may name."""
    if con is not None:
        return with_regions(from_columns(profile_columns(con)), con, scope)
    from telcamp.core import warehouse

    with warehouse.connect() as own:
        return with_regions(from_columns(profile_columns(own)), own, scope)

