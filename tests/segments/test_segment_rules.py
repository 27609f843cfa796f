"""Rule validation: every bad rule names its path, the field's type and allowed ops."""

from __future__ import annotations

from typing import Any

import pytest

from telcamp.core.errors import ValidationFailed
from telcamp.segments.catalogue import Catalogue, from_columns
from telcamp.segments.rules import AllOf, FieldLeaf, UsageLeaf, parse_rule, to_json

DESIGN_EXAMPLE = {"all": [
    {"field": "region_code", "op": "in", "value": ["C01", "C02"]},
    {"field": "age", "op": "between", "value": [20, 35]},
    {"usage": "data_mb", "days": 30, "op": ">=", "value": 1000},
    {"not": {"in_list": "blacklist"}},
    {"any": [{"field": "value_tier", "op": "=", "value": "high"},
             {"usage": "roaming_min", "days": 90, "op": ">", "value": 0}]},
]}


def _err(rule: Any, cat: Catalogue | None = None) -> str:
    with pytest.raises(ValidationFailed) as info:
        parse_rule(rule, catalogue=cat or Catalogue())
    return info.value.message


def test_design_example_parses_and_round_trips() -> None:
    rule = parse_rule(DESIGN_EXAMPLE, catalogue=Catalogue())
    assert isinstance(rule, AllOf)
    assert isinstance(rule.all[0], FieldLeaf)
    assert isinstance(rule.all[2], UsageLeaf)
    assert to_json(rule) == DESIGN_EXAMPLE


def test_unknown_field_names_path_type_and_ops() -> None:
    msg = _err({"all": [{"field": "age", "op": ">", "value": 1},
                        {"field": "age", "op": "<", "value": 90},
                        {"any": [{"field": "agee", "op": "=", "value": 3}]}]})
    assert msg.startswith("all[2].any[0]: unknown field 'agee'")
    assert "'age' (int, ops: =, !=, <, <=, >, >=, in, not_in, between, is_null)" in msg


@pytest.mark.parametrize(("rule", "expected"), [
    ({"field": "age", "op": "between", "value": [20]}, "rule: 'between' needs exactly two"),
    ({"field": "age", "op": "between", "value": [40, 20]}, "needs low ≤ high"),
    ({"field": "age", "op": "in", "value": []}, "'in' needs a non-empty list"),
    ({"field": "age", "op": "=", "value": "forty"}, 'value "forty" is not a whole number'),
    ({"field": "age", "op": "=", "value": True}, "value true is not a whole number"),
    ({"field": "age", "op": "between", "value": [20, None]}, "value null is not a whole number"),
    ({"usage": "data_mb", "days": None, "op": ">", "value": 1}, "got null"),
    ({"field": "arpu_3m", "op": "in", "value": [1.5]}, "operator 'in' does not apply"),
    ({"field": "value_tier", "op": "=", "value": "hihg"}, "not one of low, medium, high"),
    ({"field": "city_code", "op": "=", "value": ""}, "rule: an empty value: field 'city_code'"),
    ({"field": "city_code", "op": "in", "value": ["C01", " "]}, "an empty value"),
    ({"field": "value_tier", "op": ">", "value": "low"}, "operator '>' does not apply"),
    ({"field": "activation_date", "op": "<", "value": "2024-13-01"}, "not an ISO date"),
    ({"field": "age", "op": "like", "value": 1}, "unknown operator 'like'"),
    ({"usage": "data_mbb", "days": 30, "op": ">", "value": 1}, "unknown usage metric"),
    ({"usage": "data_mb", "days": 91, "op": ">", "value": 1}, "'days' must be a whole number"),
    ({"usage": "data_mb", "days": 0, "op": ">", "value": 1}, "'days' must be a whole number"),
    ({"usage": "data_mb", "days": 30, "op": "in", "value": [1]}, "operator 'in' does not"),
    ({"usage": "data_mb", "days": 30, "op": ">", "value": "lots"}, "is not a number"),
    ({"any": []}, "'any' needs at least one rule"),
    ({"all": {"field": "age"}}, "'all' takes a list"),
    ({"not": [1]}, "not: a rule node must be a JSON object"),
    ({"field": "age", "op": ">", "value": 1, "extra": 2}, "unexpected key(s) ['extra']"),
    ({"field": "age", "usage": "data_mb"}, "exactly one of"),
    ({"in_list": ""}, "'in_list' takes a list name or id"),
    ({"contacted": {"days": 0}}, "'contacted.days' must be"),
    ({"contacted": {"days": 7, "campaign": "x"}}, "'contacted.campaign' must be"),
    ({"contacted": {"days": 7, "channel": "pigeon"}},
     '\'contacted.channel\' must be one of sms, email, ivr, call, push, mms, got "pigeon"'),
    ({"contacted": {"days": 7, "channel": "SMS"}}, "'contacted.channel' must be one of"),
    ({"hello": 1}, "a rule node needs one of"),
    ([1, 2], "a rule node must be a JSON object"),
])
def test_bad_rules_are_refused_with_reason(rule: Any, expected: str) -> None:
    assert expected in _err(rule)


def test_not_and_nested_paths() -> None:
    msg = _err({"all": [{"not": {"any": [{"field": "age", "op": "=", "value": 1},
                                           {"field": "gender", "op": "=", "value": "x"}]}}]})
    assert msg.startswith('all[0].not.any[1]: value "x" is not one of m, f, u')


def test_extra_profile_columns_are_fields() -> None:
    cat = from_columns([("msisdn", "BIGINT"), ("segment_code", "VARCHAR"),
                        ("loyalty_points", "INTEGER"), ("data_mb_30d", "DOUBLE")])
    parse_rule({"field": "segment_code", "op": "in", "value": ["vip"]}, catalogue=cat)
    parse_rule({"field": "loyalty_points", "op": ">", "value": 10}, catalogue=cat)
    # the precomputed usage columns are reached through usage leaves, not as fields
    assert "unknown field 'data_mb_30d'" in _err(
        {"field": "data_mb_30d", "op": ">", "value": 1}, cat)
    assert 'value "many" is not a whole number' in _err(
        {"field": "loyalty_points", "op": ">", "value": "many"}, cat)


def test_is_null_accepts_true_false_or_nothing() -> None:
    cat = Catalogue()
    parse_rule({"field": "email", "op": "is_null"}, catalogue=cat)
    parse_rule({"field": "email", "op": "is_null", "value": False}, catalogue=cat)
    assert "is_null takes true, false or no value" in _err(
        {"field": "email", "op": "is_null", "value": "x"})


def test_rules_read_as_sentences() -> None:
    from telcamp.segments.describe import describe

    text = describe(parse_rule(DESIGN_EXAMPLE, catalogue=Catalogue()))
    assert text == ("region is one of C01, C02 and age between 20 and 35 years and mobile "
                    "data over 30 days at least 1000 MB and not on list blacklist and (value "
                    "tier is high or voice minutes in roaming over 90 days above 0 min)")
    assert describe(parse_rule({"all": []}, catalogue=Catalogue())) == "everyone"
    assert describe(parse_rule({"field": "email", "op": "is_null", "value": False},
                               catalogue=Catalogue())) == "e-mail is known"


def test_whole_numbers_written_as_decimals_are_whole() -> None:
    """30.0 and 1e2 (JSON from a spreadsheet or a script) are whole; 30.5 is refused."""
    rule = parse_rule({"all": [
        {"field": "age", "op": ">=", "value": 30.0},
        {"field": "tenure_days", "op": "between", "value": [1e2, 365.0]},
        {"usage": "voice_min", "days": 14.0, "op": ">=", "value": 2.5}]}, catalogue=Catalogue())
    assert isinstance(rule, AllOf)
    age, tenure, usage = rule.all
    assert isinstance(age, FieldLeaf) and age.value == 30 and isinstance(age.value, int)
    assert isinstance(tenure, FieldLeaf) and tenure.value == [100, 365]
    assert isinstance(usage, UsageLeaf) and usage.days == 14 and usage.value == 2.5
    with pytest.raises(ValidationFailed, match=r"value 30\.5 is not a whole number"):
        parse_rule({"field": "age", "op": ">=", "value": 30.5}, catalogue=Catalogue())
