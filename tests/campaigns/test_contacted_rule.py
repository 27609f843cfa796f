"""A `contacted` rule naming a campaign: only one the user can see (their region, below
it, or a region above it), else "not found" with the rule's path, never a silent 0."""

from __future__ import annotations

import pytest

from telcamp.core.db import session_scope
from telcamp.core.errors import NotFound
from telcamp.segments import service as segments

from .conftest import MARKETER, actor, make_campaign, make_program


def _count(rule: dict, who=MARKETER) -> int:
    with session_scope() as s:
        return segments.count(s, rule=rule, principal=who)


def test_a_contacted_rule_names_only_a_campaign_the_user_can_see(world: str) -> None:
    program = make_program()
    city = make_campaign(program)  # C1's
    province = make_campaign(program, who=actor("pm", "marketer", "P1"))
    rule = {"all": [{"field": "age", "op": ">", "value": 0},
                    {"not": {"contacted": {"days": 30, "campaign": city}}}]}
    assert _count(rule) == _count({"field": "age", "op": ">", "value": 0})  # none contacted
    # a province campaign also contacts C1's subscribers: a C1 marketer may name it
    _count({"contacted": {"days": 30, "campaign": province}})

    missing = city + province + 100
    rule["all"][1] = {"not": {"contacted": {"days": 30, "campaign": missing}}}
    with pytest.raises(NotFound) as refused:
        _count(rule)
    assert refused.value.message == f"all[1].not: campaign {missing} not found"
    assert refused.value.field == "all[1].not"
    # another city's marketer cannot see C1's campaign: it reads like an unknown one
    with pytest.raises(NotFound, match=f"^rule: campaign {city} not found$"):
        _count({"contacted": {"days": 30, "campaign": city}}, who=actor("m2", "marketer", "C2"))
