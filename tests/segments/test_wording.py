"""Rule errors in the reader's language: the path and the user's values stay as written,
the sentence around them is said through the catalogue (segments.wording)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from telcamp.core import clock
from telcamp.core.errors import ValidationFailed
from telcamp.core.i18n import get_translator
from telcamp.segments import wording
from telcamp.segments.rules import parse_rule
from telcamp.segments.synthetic import NOW

# one rule for each check in rules.py
BAD_RULES: list[Any] = [
    {"all": [{"field": "age", "op": ">", "value": 1},
             {"any": [{"field": "agee", "op": "=", "value": 3}]}]},
    {"usage": "data_mbb", "days": 30, "op": ">", "value": 1},
    {"field": "age", "op": "between", "value": [20]},
    {"field": "age", "op": "between", "value": [40, 20]},
    {"field": "age", "op": "in", "value": []},
    {"field": "age", "op": "=", "value": [1]},
    {"field": "age", "op": "=", "value": True},
    {"field": "activation_date", "op": "<", "value": "2024-13-01"},
    {"field": "value_tier", "op": "=", "value": "hihg"},
    {"field": "city_code", "op": "=", "value": ""},
    {"field": "arpu_3m", "op": "in", "value": [1.5]},
    {"field": "age", "op": "is_null", "value": 3},
    {"field": "age", "op": "like", "value": 1},
    {"usage": "data_mb", "days": 91, "op": ">", "value": 1},
    {"usage": "data_mb", "days": 30, "op": "like", "value": 1},
    {"any": []},
    {"all": {"field": "age"}},
    {"not": [1]},
    {"field": "age", "op": ">", "value": 1, "extra": 2},
    {"field": "age", "usage": "data_mb"},
    {"hello": 1},
    {"in_list": ""},
    {"in_segment": ""},
    {"contacted": 3},
    {"contacted": {"days": 7, "extra": 1}},
    {"contacted": {"days": 0}},
    {"contacted": {"days": 7, "campaign": "x"}},
    {"contacted": {"days": 7, "channel": "pigeon"}},
]


# quoted names and values, operator lists, JSON keys: what the user or the catalogue wrote
WRITTEN = r''''[^']*'|"[^"]*"|\([^)]*\)|（[^）]*）|\[[^\]]*\]|\{[^}]*\}'''


def _message(rule: Any) -> str:
    with pytest.raises(ValidationFailed) as refused:
        parse_rule(rule)
    return refused.value.message


@pytest.mark.parametrize("lang", ["ru", "zh"])
@pytest.mark.parametrize("rule", BAD_RULES)
def test_every_rule_error_is_said_in_the_language(rule: Any, lang: str) -> None:
    english = _message(rule)
    said = wording.known(english, get_translator(lang).gettext)
    assert said is not None and said != english, english
    path = english.split(": ", 1)[0]
    assert said.startswith(path + ": ")  # the path as the builder marks it
    # no English sentence left around what the user wrote: with the quoted names and
    # values, the operator lists and the JSON keys taken out, no English word remains
    rest = re.sub(WRITTEN, "", said[len(path) + 2:])
    leftovers = set(re.findall(r"[a-z_]{4,}", rest)) - {
        "true", "false", "null", "list", "email", "push", "call", "high", "medium",
        "field", "usage", "contacted", "in_list", "in_segment", "is_null"}
    assert not leftovers, said


def test_values_stay_as_written_and_other_messages_are_not_ours() -> None:
    ru = get_translator("ru").gettext
    said = wording.known(_message({"field": "value_tier", "op": "=", "value": "{x}"}), ru)
    assert said is not None and '"{x}"' in said  # a value is data, never a format field
    assert wording.known("all[1].any[0]: list 'nosuch' not found", ru) == (
        "all[1].any[0]: список 'nosuch' не найден")
    assert wording.known("levels: give the approvers of city campaigns too", ru) is None
    assert wording.known("parameter 'x': 'abc' is not a whole number", ru) == (
        "параметр 'x': 'abc' — ожидается целое число")
    assert wording.known("unknown parameter(s) ['zz']; this template takes ['x']", ru) == (
        "неизвестные параметры ['zz']; у шаблона есть ['x']")
    assert wording.known("a segment named 'young' already exists in this region", ru) == (
        "сегмент с именем 'young' уже есть в этом регионе")
    zh = get_translator("zh").gettext
    said = wording.known(_message({"field": "agee", "op": "=", "value": 1}), zh)
    assert said is not None and "ops" not in said and "整数，运算符：" in said
    assert wording.known("all[0]: something nobody wrote", ru) is None
    assert wording.known(_message({"any": []}), get_translator("en").gettext) is None


def test_the_api_says_a_rule_error_in_the_callers_language(
        db: str, warehouse_file: str, login: Any) -> None:
    clock.freeze(NOW)
    client = login("marketer", "C01")
    rule = {"all": [{"field": "age", "op": ">", "value": 1},
                    {"usage": "data_mb", "days": 120, "op": ">", "value": 1}]}
    r = client.post("/api/segments/count?lang=ru", json={"rule": rule})
    assert r.status_code == 422
    body = r.json()
    assert body["message"] == "all[1]: 'days' — целое число от 1 до 90, получено 120"
    assert body["field"] == "all[1]" and body["code"] == "invalid"
    r = client.post("/api/segments/count", json={"rule": rule},
                    headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert r.json()["message"] == "all[1]: 'days' 必须是 1 到 90 的整数，实际为 120"
    r = client.post("/api/segments/count", json={"rule": {"in_list": "nosuch"}},
                    headers={"Accept-Language": "ru"})
    assert r.status_code == 404 and r.json()["message"] == "rule: список 'nosuch' не найден"
