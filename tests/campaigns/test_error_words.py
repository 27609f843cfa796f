"""Validation messages of the campaign domain in the reader's language: the API keeps its
stable English `code` and answers `message` in ru/zh (Accept-Language, ?lang=, cookie);
the wizard shows them translated; English callers get the English text unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from telcamp.campaigns import wording
from telcamp.core.i18n import get_translator, translate_message

from .conftest import make_campaign, make_program


@pytest.mark.parametrize(("english", "ru", "zh"), [
    ("cells[0] (vip): control percentage 60 is outside 0–50",
     "cells[0] (vip): доля контрольной группы 60 вне диапазона 0–50",
     "cells[0]（vip）：对照组比例 60 超出 0–50"),
    ("the schedule ends before it starts", "расписание заканчивается раньше, чем начинается",
     "排期的结束早于开始"),
    ("budget 9000 is above the program's remaining budget 500",
     "бюджет 9000 больше остатка бюджета программы 500", "预算 9000 超过营销案剩余预算 500"),
    ("cells[1].messages.sms.en: unknown template field(s) nickname; subscriber fields are "
     "e.g. age, arpu_3m", "cells[1].messages.sms.en: неизвестные поля шаблона nickname; поля "
     "абонента — например, age, arpu_3m", "cells[1].messages.sms.en：未知的模板字段 nickname；"
     "可用的用户字段例如 age, arpu_3m"),
    ("cells[0].messages.sms.ru: SMS needs 9 parts (600 characters, UCS-2); the limit is 6 "
     "parts", "cells[0].messages.sms.ru: SMS займёт 9 частей (600 символов, UCS-2); предел — "
     "6 частей", "cells[0].messages.sms.ru：短信需要 9 条（600 个字符，UCS-2）；上限为 6 条"),
    ("campaign 7 is running; only draft, rejected, submitted or approved campaigns can be "
     "edited", "кампания 7 в состоянии «идёт»; изменять можно только черновики, "
     "отклонённые, отправленные и согласованные кампании", None),
    ("the campaign cannot be submitted: the audience is empty; cell vip gets no subscribers",
     "кампанию нельзя отправить на согласование: аудитория пуста; в ячейку vip не попадает "
     "ни один абонент", "活动无法提交：受众为空; 分组 vip 没有用户"),
])
def test_messages_are_said_in_each_language(english: str, ru: str, zh: str | None) -> None:
    assert wording.say(english, get_translator("en").gettext) == english
    assert wording.say(english, get_translator("ru").gettext) == ru
    if zh is not None:
        assert wording.say(english, get_translator("zh").gettext) == zh
    assert translate_message(english, "en") == english


def test_api_message_translated_code_stable(world: str, login: Any) -> None:
    pid = make_program()
    cid = make_campaign(pid)
    mk = login("marketer", "C1")
    bad = {"cells": [{"name": "vip", "rule": {"value_tier": "high"}, "control_pct": 60,
                      "channels": ["sms"]}]}
    r = mk.patch(f"/api/campaigns/{cid}", json=bad)
    assert r.status_code == 422
    assert r.json() == {"code": "invalid", "field": "cells[0].control_pct",
                        "message": "cells[0] (vip): control percentage 60.0 is outside 0–50"}
    r = mk.patch(f"/api/campaigns/{cid}", json=bad, headers={"Accept-Language": "ru-RU,ru"})
    assert r.json()["code"] == "invalid"
    assert r.json()["message"] == "cells[0] (vip): доля контрольной группы 60.0 вне диапазона 0–50"
    r = mk.patch(f"/api/campaigns/{cid}?lang=zh", json={"budget": 999999})
    assert r.json()["message"].startswith("预算 999999 超过营销案剩余预算")


def test_wizard_shows_the_error_translated(world: str, login: Any) -> None:
    cid = make_campaign(make_program())
    mk = login("marketer", "C1")
    r = mk.post(f"/campaigns/{cid}/wizard/basics?lang=ru", data={
        "name": "x", "snapshot_id": "1", "budget": "10", "start": "2026-12-20",
        "end": "2026-12-01"}, cookies={"lang": "ru"})
    assert r.status_code == 422
    assert "расписание заканчивается раньше, чем начинается" in r.text
