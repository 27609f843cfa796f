"""A cell's channel without a message is refused at submit (dispatch would fail those
contacts); subscribers whose language has no message are counted with their fallback."""

from __future__ import annotations

from typing import Any

import pytest

from telcamp.campaigns import approvals, rehearsal
from telcamp.core.db import session_scope
from telcamp.core.errors import ValidationFailed

from .conftest import MARKETER, make_campaign, make_program


def test_a_channel_without_a_message_blocks_submit(world: str) -> None:
    cid = make_campaign(make_program(), cells=[
        {"name": "all", "control_pct": 0, "channels": ["sms", "email"],
         "messages": {"sms": {"en": "hi", "ru": "привет"}}}])
    with pytest.raises(ValidationFailed) as err, session_scope() as s:
        approvals.submit(session=s, actor=MARKETER, campaign_id=cid)
    assert ("cell all: no email message (its email contacts would fail at dispatch)"
            in err.value.message)


def test_subscribers_without_a_message_in_their_language_are_counted(world: str) -> None:
    cid = make_campaign(make_program(), cells=[
        {"name": "all", "control_pct": 0, "channels": ["sms"],
         "messages": {"sms": {"ru": "привет", "zh": "你好"}}}])
    with session_scope() as s:
        figures = rehearsal.rehearse(session=s, actor=MARKETER, campaign_id=cid)
    assert figures["problems"] == []
    # the test profile is half en, half ru: the 150 English speakers get the ru text
    assert ("cell all: 150 sms contacts speak a language with no message (en 150); they get "
            "the ru text") in figures["warnings"]


def test_messages_step_warns_and_rehearsal_says_it_in_russian(world: str, login: Any) -> None:
    cid = make_campaign(make_program(), cells=[
        {"name": "all", "control_pct": 0, "channels": ["sms", "email"],
         "messages": {"sms": {"en": "hi", "ru": "привет"}}}])
    mk = login("marketer", "C1")
    page = mk.get(f"/campaigns/{cid}/wizard/messages").text
    assert 'data-testid="no-message-all-email"' in page
    assert 'data-testid="no-message-all-sms"' not in page
    reh = mk.get(f"/campaigns/{cid}/wizard/rehearsal?lang=ru").text
    assert "ячейка all: нет сообщения для канала email" in reh
