"""Filling a template's parameters: values typed in the builder's form arrive as text."""

from __future__ import annotations

import pytest

from telcamp.core.errors import ValidationFailed
from telcamp.segments.criteria import _check_param
from telcamp.segments.schemas import ParamSpec


@pytest.mark.parametrize(("typed", "value"), [(True, True), (False, False), ("true", True),
                                              (" False ", False)])
def test_a_true_false_parameter_takes_the_words_the_form_sends(typed, value) -> None:
    assert _check_param("p", ParamSpec(type="bool"), typed) is value


@pytest.mark.parametrize("typed", ["yes", "1", 1, "maybe"])
def test_other_words_are_not_true_or_false(typed) -> None:
    with pytest.raises(ValidationFailed, match="is not true or false"):
        _check_param("p", ParamSpec(type="bool"), typed)


@pytest.mark.parametrize("kind", ["float", "int"])
def test_a_tick_is_not_a_number(kind: str) -> None:
    with pytest.raises(ValidationFailed, match="is not a"):
        _check_param("x", ParamSpec(type=kind), True)  # type: ignore[arg-type]
    assert _check_param("x", ParamSpec(type=kind), "12") == 12  # typed digits are fine
