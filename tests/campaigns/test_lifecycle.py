"""The guarded state machine: every legal move works, every other one says why not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from telcamp.campaigns import lifecycle
from telcamp.campaigns.models import Campaign
from telcamp.core import clock
from telcamp.core.errors import IllegalTransition


def _campaign(state: str) -> Campaign:
    return Campaign(id=7, state=state, state_reason="")


@pytest.fixture(autouse=True)
def _frozen() -> None:
    clock.freeze(datetime(2026, 11, 22, tzinfo=UTC))


PATH = ["draft", "submitted", "approved", "scheduled", "running", "paused", "running",
        "completed"]


def test_happy_path_and_pause_resume() -> None:
    c = _campaign("draft")
    for to in PATH[1:]:
        lifecycle.transition(c, to)
    assert c.state == "completed"


def test_reject_then_back_to_draft() -> None:
    c = _campaign("submitted")
    lifecycle.transition(c, "rejected", reason="too expensive")
    assert c.state_reason == "too expensive"
    lifecycle.transition(c, "draft")
    assert c.state == "draft"


@pytest.mark.parametrize("state", sorted(lifecycle.LIVE_STATES))
def test_cancel_from_every_live_state(state: str) -> None:
    c = _campaign(state)
    lifecycle.transition(c, "cancelled")
    assert c.state == "cancelled"


@pytest.mark.parametrize("state", ["completed", "cancelled"])
def test_final_states_are_final(state: str) -> None:
    c = _campaign(state)
    for to in lifecycle.STATES:
        with pytest.raises(IllegalTransition):
            lifecycle.transition(c, to)


def test_illegal_move_names_the_reason() -> None:
    c = _campaign("draft")
    with pytest.raises(IllegalTransition) as err:
        lifecycle.transition(c, "running")
    assert "draft" in err.value.message and "running" in err.value.message
    assert "submitted" in err.value.message  # what it may become instead
    assert c.state == "draft"


def test_every_pair_follows_the_table() -> None:
    for frm in lifecycle.STATES:
        for to in lifecycle.STATES:
            c = _campaign(frm)
            legal = frm in lifecycle.FROM_STATES.get(to, frozenset())
            if legal:
                lifecycle.transition(c, to)
                assert c.state == to
            else:
                with pytest.raises(IllegalTransition):
                    lifecycle.transition(c, to)
