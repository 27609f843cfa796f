"""A template no value could ever fill is refused when it is created, with the rule error
its first use would have given; one whose closed-set value the user picks is accepted."""

from __future__ import annotations

from typing import Any

import pytest

from telcamp.core.errors import ValidationFailed
from telcamp.core.i18n import get_translator
from telcamp.segments import wording
from telcamp.segments.criteria import _fillable
from telcamp.segments.schemas import TemplateCreate


def _tpl(params: dict[str, Any], rule: dict[str, Any]) -> TemplateCreate:
    return TemplateCreate(name="t", params=params, rule=rule)


@pytest.mark.parametrize(("params", "rule", "why"), [
    ({"p": {"type": "str"}}, {"field": "age", "op": ">", "value": "{p}"},
     'value "x" is not a whole number'),
    ({"p": {"type": "int"}}, {"field": "age", "op": "between", "value": "{p}"},
     "'between' needs exactly two values"),
    ({"p": {"type": "str"}}, {"field": "city_code", "op": "in", "value": "{p}"},
     "'in' needs a non-empty list"),
    ({"p": {"type": "int", "default": "abc"}}, {"field": "age", "op": ">", "value": "{p}"},
     "parameter 'p': 'abc' is not a whole number"),
    ({"p": {"type": "int", "values": ["x", "y"]}}, {"field": "age", "op": ">", "value": "{p}"},
     "parameter 'p': 'x' is not a whole number"),
])
def test_a_template_no_value_could_fill_is_refused(params, rule, why: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _fillable(_tpl(params, rule))
    assert why in refused.value.message


def test_fillable_templates_are_accepted() -> None:
    _fillable(_tpl({"x": {"type": "float"}, "r": {"type": "str"}},
                   {"all": [{"field": "arpu_3m", "op": ">", "value": "{x}"},
                            {"field": "value_tier", "op": "=", "value": "{r}"}]}))
    _fillable(_tpl({"lo": {"type": "int"}, "hi": {"type": "int", "default": 60}},
                   {"field": "age", "op": "between", "value": ["{lo}", "{hi}"]}))


def test_the_refusal_is_said_in_the_language() -> None:
    with pytest.raises(ValidationFailed) as refused:
        _fillable(_tpl({"p": {"type": "str"}}, {"field": "age", "op": ">", "value": "{p}"}))
    said = wording.known(refused.value.message, get_translator("ru").gettext)
    assert said is not None and said.startswith(
        'правилу не подходит ни одно значение типов параметров: rule: значение "x"')
