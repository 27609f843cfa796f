"""The campaign state machine: the one guarded function through which every state changes.

draft → submitted → approved → scheduled → running ⇄ paused → completed;
submitted → rejected → draft (edit and resubmit); edits of a submitted or approved
campaign send it back to draft; any live state → cancelled.
"""

from __future__ import annotations

from telcamp.campaigns.models import Campaign
from telcamp.core import clock
from telcamp.core.errors import IllegalTransition

STATES: tuple[str, ...] = (
    "draft", "submitted", "approved", "rejected", "scheduled", "running", "paused",
    "completed", "cancelled",
)
FINAL_STATES = frozenset({"completed", "cancelled"})
LIVE_STATES = frozenset(set(STATES) - FINAL_STATES)

# TO_STATE -> the states it may be entered from.
FROM_STATES: dict[str, frozenset[str]] = {
    "submitted": frozenset({"draft"}),
    "approved": frozenset({"submitted"}),
    "rejected": frozenset({"submitted"}),
    # back to draft: after a rejection, or when a submitted/approved campaign is edited
    "draft": frozenset({"rejected", "submitted", "approved"}),
    "scheduled": frozenset({"approved"}),
    "running": frozenset({"scheduled", "paused"}),
    "paused": frozenset({"running"}),
    "completed": frozenset({"running", "paused"}),
    "cancelled": LIVE_STATES,
}
# Only these states may be edited (content changes); others are frozen.
EDITABLE_STATES = frozenset({"draft", "rejected", "submitted", "approved"})


def allowed_targets(state: str) -> list[str]:
    return [to for to in STATES if state in FROM_STATES.get(to, frozenset())]


def transition(campaign: Campaign, to_state: str, *, reason: str = "") -> str:
    """Move `campaign` to `to_state` or refuse with the reason; returns the former state."""
    if to_state not in FROM_STATES:
        raise IllegalTransition(f"unknown campaign state {to_state!r}", field="state")
    current = campaign.state
    if current not in FROM_STATES[to_state]:
        allowed = ", ".join(allowed_targets(current)) or "none (final state)"
        raise IllegalTransition(
            f"campaign {campaign.id} is {current}: it cannot become {to_state} "
            f"(from {current} it may become: {allowed})",
            field="state",
        )
    campaign.state = to_state
    campaign.state_reason = reason
    campaign.updated_at = clock.now()
    return current
