"""Segment rules: the JSON of DESIGN.md ("Segment rules") as typed Pydantic models.

`parse_rule(obj)` checks the whole tree against the warehouse catalogue and raises
ValidationFailed naming the node's path, e.g. `all[2].any[0]: unknown field 'agee'`, with
the field's type and the operators it takes, so a marketer can fix the rule.
"""

from __future__ import annotations

import difflib
import json
from datetime import date, datetime
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from telcamp.campaigns.schemas import CHANNELS  # a constant module: no import cycle
from telcamp.core.errors import ValidationFailed
from telcamp.segments.catalogue import (
    ALL_OPS,
    LEVEL_FIELDS,
    REGION_FIELDS,
    USAGE_OPS,
    Catalogue,
    FieldInfo,
    MetricInfo,
)

Op = Literal["=", "!=", "<", "<=", ">", ">=", "in", "not_in", "between", "is_null"]
Scalar = str | int | float | bool
Value = Scalar | list[Scalar] | None
MAX_CONTACT_DAYS = 3650


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FieldLeaf(_Node):
    field: str
    op: Op
    value: Value = None


class UsageLeaf(_Node):
    usage: str
    days: int
    op: Op
    value: Value = None


class InList(_Node):
    in_list: str | int


class InSegment(_Node):
    in_segment: str | int


class ContactedSpec(_Node):
    days: int
    campaign: int | None = None
    channel: str | None = None


class Contacted(_Node):
    contacted: ContactedSpec


class AllOf(_Node):
    all: list[Rule]


class AnyOf(_Node):
    any: list[Rule]


class NotOf(_Node):
    not_: Rule = Field(alias="not")



def references(rule: Any, key: str) -> set[str]:
    """Every value of `key` ("in_list", "in_segment") in a rule's raw JSON, as text (ids
    and names alike): what a stored rule names, read without parsing it (a saved rule may
    no longer parse against today's warehouse)."""
    found: set[str] = set()
    if isinstance(rule, dict):
        if key in rule:
            found.add(str(rule[key]).strip())
        for value in rule.values():
            found |= references(value, key)
    elif isinstance(rule, list):
        for value in rule:
            found |= references(value, key)
    return found

# Union, not |, because AllOf/AnyOf/NotOf refer to Rule before it exists.
Rule = Union[AllOf, AnyOf, NotOf, FieldLeaf, UsageLeaf, InList, InSegment, Contacted]  # noqa: UP007
for _model in (AllOf, AnyOf, NotOf):
    _model.model_rebuild()

LEAF_KEYS = {
    "field": {"field", "op", "value"},
    "usage": {"usage", "days", "op", "value"},
    "in_list": {"in_list"},
    "in_segment": {"in_segment"},
    "contacted": {"contacted"},
}
COMBINATORS = ("all", "any", "not")


def to_json(rule: Rule) -> dict[str, Any]:
    """The rule back in its JSON form (as stored and sent)."""
    out: dict[str, Any] = rule.model_dump(by_alias=True, exclude_none=True)
    if isinstance(rule, FieldLeaf | UsageLeaf) and rule.value is None and rule.op != "is_null":
        out["value"] = None
    return out


def _where(path: str) -> str:
    return path or "rule"


class NotAllowedValue(ValidationFailed):
    """A value of the right type outside the field's closed set (value_tier 'hihg'):
    a template parameter filled later may still pick an allowed one (criteria._fillable)."""


def _fail(path: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{_where(path)}: {message}", field=_where(path))


def _whole(value: Any) -> Any:
    """30.0 or 1e2 as 30 or 100: JSON writes whole numbers that way too (a spreadsheet, a
    script dividing), and they are whole; 30.5 stays, to be refused."""
    if isinstance(value, list):
        return [_whole(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _type_ok(ftype: str, v: Any) -> bool:
    if ftype == "str":
        return isinstance(v, str)
    if ftype == "bool":
        return isinstance(v, bool)
    if ftype == "int":
        return isinstance(v, int) and not isinstance(v, bool)
    if ftype == "float":
        return isinstance(v, int | float) and not isinstance(v, bool)
    if ftype == "date":
        if not isinstance(v, str):
            return False
        try:
            date.fromisoformat(v)
        except ValueError:
            return False
        return True
    if ftype == "timestamp":
        if not isinstance(v, str):
            return False
        try:
            datetime.fromisoformat(v)
        except ValueError:
            return False
        return True
    return False


_TYPE_WORDS = {
    "str": "text", "int": "a whole number", "float": "a number", "bool": "true or false",
    "date": "an ISO date (YYYY-MM-DD)", "timestamp": "an ISO date-time",
}


def check_value(path: str, what: str, ftype: str, ops: tuple[str, ...], op: str, value: Any,
                allowed: tuple[str, ...] | None = None) -> None:
    """Check one leaf's operator and value against the type of what it compares."""
    about = f"{what} is {ftype} (ops: {', '.join(ops)})"
    if op not in ops:
        raise _fail(path, f"operator '{op}' does not apply: {about}")
    if op == "is_null":
        if value is not None and not isinstance(value, bool):
            raise _fail(path, f"is_null takes true, false or no value: {about}")
        return
    if op in {"in", "not_in"}:
        if not isinstance(value, list) or not value:
            raise _fail(path, f"'{op}' needs a non-empty list of values: {about}")
        items = value
    elif op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise _fail(path, f"'between' needs exactly two values [low, high]: {about}")
        items = value
    else:
        if isinstance(value, list) or value is None:
            raise _fail(path, f"'{op}' needs one value: {about}")
        items = [value]
    for v in items:
        if not _type_ok(ftype, v):
            raise _fail(path, f"value {_js(v)} is not {_TYPE_WORDS[ftype]}: {about}")
        if ftype == "str" and not v.strip():
            # "" matches no one (an unknown value is is_null): an unfinished rule, as the
            # builder treats it, not a silent empty audience
            raise _fail(path, f"an empty value: {about}")
        if allowed and v not in allowed:
            where = _where(path)
            raise NotAllowedValue(
                f"{where}: value {_js(v)} is not one of {', '.join(allowed)}: {about}",
                field=where)
    if op == "between":
        low, high = items
        if (date.fromisoformat(low) if ftype == "date" else low) > (
            date.fromisoformat(high) if ftype == "date" else high
        ):
            raise _fail(path, f"'between' needs low ≤ high, got {_js(low)} > {_js(high)}")


def region_hint(value: str, known: dict[str, str]) -> str | None:
    """The code a mistyped region value most likely means: the same code in another case
    ("c01"), the code of a region of that name ("Москва"), else the closest code or name."""
    typed = value.strip().casefold()
    for code, name in known.items():
        if code.casefold() == typed or name.strip().casefold() == typed:
            return code
    by_name = {name: code for code, name in known.items()}
    close = difflib.get_close_matches(value, [*known, *by_name], n=1)
    if not close:
        return None
    return close[0] if close[0] in known else by_name[close[0]]


def check_region(path: str, field: str, value: Any, cat: Catalogue) -> None:
    """A region field's value must be a code the field can hold, for this user: a city's
    name, a code in the wrong case or a county's code in city_code would all match no
    one, and the count would say 0 without a word (region_code takes any level: see
    compiler.in_region). NotAllowedValue: a template parameter may still pick a code."""
    known = cat.regions.get(field, {})
    if not isinstance(value, str) or value in known:
        return
    where = _where(path)
    info = cat.region_tree.get(value)
    if info is not None:
        region_name, level, _parent = info
        if cat.region_scope is not None and value not in cat.region_allowed:
            raise NotAllowedValue(f"{where}: value {_js(value)} is outside your region "
                                  f"{cat.region_scope}", field=where)
        use = LEVEL_FIELDS.get(level, "region_code")
        # the region of the field's level above it (a county's city), if the user may name it
        above = _ancestor_at(value, REGION_FIELDS.get(field), cat)
        hint = f"; did you mean '{above}' ({known[above]})?" if above in known else ""
        if use != field:
            raise NotAllowedValue(f"{where}: value {_js(value)} is the code of a {level} "
                                  f"({region_name}): use {use}{hint}", field=where)
    close = region_hint(value, known)
    hint = f"; did you mean '{close}' ({known[close]})?" if close else ""
    raise NotAllowedValue(f"{where}: value {_js(value)} is not a known "
                          f"{REGION_FIELDS.get(field) or 'region'} code{hint}", field=where)


def _ancestor_at(code: str, level: str | None, cat: Catalogue) -> str | None:
    """The region of `level` above `code` (a county's city), if any."""
    seen = {code}
    node = cat.region_tree[code][2]
    while level is not None and node in cat.region_tree and node not in seen:
        if cat.region_tree[node][1] == level:
            return node
        seen.add(node)
        node = cat.region_tree[node][2]
    return None


def _js(value: Any) -> str:
    """A value as the user wrote it in the rule's JSON (true, null, "x"), not as Python."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):  # not from JSON (a caller's Python object)
        return repr(value)


def _unknown(path: str, kind: str, name: Any, known: dict[str, Any]) -> ValidationFailed:
    close = difflib.get_close_matches(str(name), list(known), n=1)
    hint = ""
    if close:
        info = known[close[0]]
        if isinstance(info, FieldInfo):
            hint = f"; did you mean '{info.name}' ({info.type}, ops: {', '.join(info.ops)})?"
        elif isinstance(info, MetricInfo):
            hint = f"; did you mean '{info.name}' ({info.unit}, ops: {', '.join(USAGE_OPS)})?"
    return _fail(path, f"unknown {kind} '{name}'{hint}")


def _leaf_kind(obj: dict[str, Any], path: str) -> str:
    kinds = [k for k in (*COMBINATORS, *LEAF_KEYS) if k in obj]
    if len(kinds) != 1:
        expected = "all, any, not, field, usage, in_list, in_segment, contacted"
        if not kinds:
            raise _fail(path, f"a rule node needs one of {expected}; got keys {sorted(obj)}")
        raise _fail(path, f"a rule node has exactly one of {expected}; got {kinds}")
    kind = kinds[0]
    allowed = {kind} if kind in COMBINATORS else LEAF_KEYS[kind]
    extra = sorted(set(obj) - allowed)
    if extra:
        raise _fail(path, f"unexpected key(s) {extra} in a '{kind}' rule")
    return kind


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part


def _parse(obj: Any, path: str, cat: Catalogue) -> Rule:
    if not isinstance(obj, dict):
        raise _fail(path, f"a rule node must be a JSON object, got {type(obj).__name__}")
    kind = _leaf_kind(obj, path)
    if kind in {"all", "any"}:
        items = obj[kind]
        if not isinstance(items, list):
            raise _fail(path, f"'{kind}' takes a list of rules")
        if kind == "any" and not items:
            raise _fail(path, "'any' needs at least one rule")
        children = [_parse(c, _join(path, f"{kind}[{i}]"), cat) for i, c in enumerate(items)]
        return AllOf(all=children) if kind == "all" else AnyOf(any=children)
    if kind == "not":
        return NotOf(not_=_parse(obj["not"], _join(path, "not"), cat))
    if kind == "field":
        name = obj["field"]
        info = cat.fields.get(name) if isinstance(name, str) else None
        if info is None:
            raise _unknown(path, "field", name, cat.fields)
        op = obj.get("op")
        if op not in ALL_OPS:
            raise _fail(path, f"unknown operator {op!r}: field '{name}' is {info.type} "
                              f"(ops: {', '.join(info.ops)})")
        value = obj.get("value")
        if info.type == "int":
            value = _whole(value)
        check_value(path, f"field '{name}'", info.type, info.ops, op, value, info.values)
        if name in REGION_FIELDS and cat.region_tree and op != "is_null":
            for v in value if isinstance(value, list) else [value]:
                check_region(path, name, v, cat)
        return FieldLeaf(field=name, op=op, value=value)
    if kind == "usage":
        name = obj["usage"]
        metric = cat.metrics.get(name) if isinstance(name, str) else None
        if metric is None:
            raise _unknown(path, "usage metric", name, cat.metrics)
        days = _whole(obj.get("days"))
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= metric.max_days:
            raise _fail(path, f"'days' must be a whole number from 1 to {metric.max_days}, "
                              f"got {_js(days)}")
        op = obj.get("op")
        if op not in ALL_OPS:
            raise _fail(path, f"unknown operator {op!r}: usage '{name}' is a number "
                              f"(ops: {', '.join(USAGE_OPS)})")
        value = obj.get("value")
        check_value(path, f"usage '{name}'", "float", USAGE_OPS, op, value)
        return UsageLeaf(usage=name, days=days, op=op, value=value)
    if kind == "in_list":
        ref = obj["in_list"]
        if isinstance(ref, bool) or not isinstance(ref, str | int) or ref == "":
            raise _fail(path, "'in_list' takes a list name or id")
        return InList(in_list=ref)
    if kind == "in_segment":
        ref = obj["in_segment"]
        if isinstance(ref, bool) or not isinstance(ref, str | int) or ref == "":
            raise _fail(path, "'in_segment' takes a segment name or id")
        return InSegment(in_segment=ref)
    spec = obj["contacted"]
    if not isinstance(spec, dict):
        raise _fail(path, "'contacted' takes {\"days\": N, \"campaign\"?: id, \"channel\"?: name}")
    extra = sorted(set(spec) - {"days", "campaign", "channel"})
    if extra:
        raise _fail(path, f"unexpected key(s) {extra} in 'contacted'")
    days = spec.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_CONTACT_DAYS:
        raise _fail(path, f"'contacted.days' must be a whole number from 1 to "
                          f"{MAX_CONTACT_DAYS}, got {_js(days)}")
    campaign = spec.get("campaign")
    if campaign is not None and (isinstance(campaign, bool) or not isinstance(campaign, int)):
        raise _fail(path, f"'contacted.campaign' must be a campaign id, got {_js(campaign)}")
    channel = spec.get("channel")
    if channel is not None and channel not in CHANNELS:
        # a typo ("SMS", "pigeon") would otherwise match no one, silently
        raise _fail(path, f"'contacted.channel' must be one of {', '.join(CHANNELS)}, "
                          f"got {_js(channel)}")
    return Contacted(contacted=ContactedSpec(days=days, campaign=campaign, channel=channel))


def parse_rule(obj: Any, *, catalogue: Catalogue | None = None) -> Rule:
    """Validate a rule's JSON (a dict, or a Rule already parsed) into typed models.

    Without a catalogue the current warehouse's profile columns are read, so extra
    columns are known. Raises ValidationFailed naming the path of the first bad node.
    """
    if isinstance(obj, BaseModel):
        obj = to_json(obj)  # type: ignore[arg-type]
    if catalogue is None:
        from telcamp.segments import catalogue as catalogue_mod

        catalogue = catalogue_mod.load()
    return _parse(obj, "", catalogue)


def walk(rule: Rule) -> list[Rule]:
    """Every node of the tree, parents before children."""
    out: list[Rule] = [rule]
    if isinstance(rule, AllOf):
        for c in rule.all:
            out.extend(walk(c))
    elif isinstance(rule, AnyOf):
        for c in rule.any:
            out.extend(walk(c))
    elif isinstance(rule, NotOf):
        out.extend(walk(rule.not_))
    return out
