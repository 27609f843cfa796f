"""Rule sentences in the reader's language (en, ru, zh): operators, field and metric labels,
units, and/or/not, lists, segments, contact history, funnel labels; and through the API
and the segment list page."""

from __future__ import annotations

from typing import Any

import pytest

from telcamp.core import clock
from telcamp.core.i18n import Translator
from telcamp.segments.catalogue import Catalogue
from telcamp.segments.describe import describe, exclusion_label
from telcamp.segments.rules import parse_rule
from telcamp.segments.synthetic import NOW

RULE = {"all": [
    {"field": "age", "op": "between", "value": [20, 35]},
    {"usage": "data_mb", "days": 30, "op": ">=", "value": 1000},
    {"not": {"in_list": "blacklist"}},
    {"any": [{"field": "value_tier", "op": "=", "value": "high"},
             {"contacted": {"days": 7, "channel": "sms"}}]},
    {"field": "email", "op": "is_null", "value": False},
]}

EXPECTED = {
    "en": "age between 20 and 35 years and mobile data over 30 days at least 1000 MB and "
          "not on list blacklist and (value tier is high or contacted in the last 7 days by "
          "sms) and e-mail is known",
    "ru": "возраст от 20 до 35 лет и мобильный интернет за 30 дн. не меньше 1000 МБ и не в "
          "списке blacklist и (уровень ценности: высокая или был контакт за последние 7 дн. по "
          "каналу sms) и эл. почта: данные есть",
    "zh": "年龄介于20岁与35岁之间 且 30天内移动数据至少1000MB 且 非 在名单blacklist中 且 "
          "(价值等级为高 或 最近7天内被联系过 （渠道sms）) 且 电子邮箱已知",
}


@pytest.mark.parametrize("locale", ["en", "ru", "zh"])
def test_rule_sentence_in_each_language(locale: str) -> None:
    text = describe(parse_rule(RULE, catalogue=Catalogue()), Catalogue(),
                    Translator(locale).gettext)
    assert text == EXPECTED[locale]


def test_lists_and_segments_by_id_are_named() -> None:
    rule = parse_rule({"any": [{"in_list": 3}, {"in_segment": 9}, {"in_segment": 4}]},
                      catalogue=Catalogue())
    names = {3: "Complaints", 9: "Heavy data"}
    text = describe(rule, Catalogue(), Translator("ru").gettext,
                    list_name=names.get, segment_name=names.get)
    assert text == "в списке Complaints или в сегменте Heavy data или в сегменте 4"


def test_funnel_labels_in_each_language() -> None:
    ru = Translator("ru").gettext
    assert exclusion_label("list", list_type="blacklist", list_name="Complaints", days=None,
                           gettext=ru) == "чёрный список: Complaints"
    assert exclusion_label("list", list_type="greylist", list_name=None, days=None,
                           gettext=Translator("zh").gettext).endswith("（其他地区）")
    assert exclusion_label("recent_contact", list_type=None, list_name=None, days=14,
                           gettext=ru) == "был контакт за последние 14 дн."
    assert exclusion_label("recent_contact", list_type=None, list_name=None,
                           days=14) == "contacted in the last 14 days"


def test_api_and_segment_list_speak_the_readers_language(db: str, warehouse_file: str,
                                                          login: Any) -> None:
    clock.freeze(NOW)
    client = login("marketer", "C01")
    rule = {"all": [{"field": "value_tier", "op": "=", "value": "high"},
                    {"usage": "data_mb", "days": 30, "op": ">", "value": 10}]}
    r = client.post("/api/segments/evaluate?lang=ru", json={"rule": rule, "size": 1})
    assert r.status_code == 200, r.text
    assert r.json()["description"] == (
        "уровень ценности: высокая и мобильный интернет за 30 дн. больше 10 МБ")
    steps = r.json()["funnel"]["steps"]
    assert any(s["label"].startswith("был контакт за последние") for s in steps), steps
    en = client.post("/api/segments/count", json={"rule": rule}).json()
    assert en["description"] == "value tier is high and mobile data over 30 days above 10 MB"
    saved = client.post("/api/segments", json={"name": "Heavy high", "rule": rule})
    assert saved.status_code in (200, 201), saved.text
    page = client.get("/segments?lang=zh")
    assert "价值等级为高 且 30天内移动数据高于10MB" in page.text


def test_catalogue_metric_labels_in_the_readers_language(db: str, warehouse_file: str,
                                                        login: Any) -> None:
    cat = login("analyst", "P01").get("/api/segments/catalogue?lang=zh").json()
    data = {m["name"]: m for m in cat["metrics"]}["data_mb"]
    assert (data["label"], data["unit"], data["unit_label"]) == ("移动数据", "MB", "MB")
    voice = {m["name"]: m for m in cat["metrics"]}["voice_min"]
    assert voice["unit_label"] == "分钟"


def test_one_day_reads_as_one_day() -> None:
    rule = parse_rule({"all": [{"usage": "data_mb", "days": 1, "op": ">", "value": 0},
                               {"contacted": {"days": 1}}]})
    words = describe(rule)
    assert "over the last day" in words and "contacted in the last day" in words
    assert "1 days" not in words
    ru = describe(rule, gettext=Translator("ru").gettext)
    assert "за последний день" in ru
    assert exclusion_label("recent_contact", list_type=None, list_name=None,
                           days=1) == "contacted in the last day"
    # a snapshot's stored funnel (no reader language) in the live English funnel's words
    assert exclusion_label("list", list_type="optout", list_name="optout",
                           days=None) == "opted out: optout"


@pytest.mark.parametrize(("locale", "said"), [
    ("en", "status is suspended and payment type is one of prepaid and gender is not "
           "unknown"),
    ("ru", "статус: приостановлен и тип оплаты: одно из предоплата и пол не неизвестно"),
])
def test_coded_values_are_said_in_words(locale: str, said: str) -> None:
    rule = {"all": [{"field": "status", "op": "=", "value": "suspended"},
                    {"field": "payment_type", "op": "in", "value": ["prepaid"]},
                    {"field": "gender", "op": "!=", "value": "u"}]}
    cat = Catalogue()
    words = describe(parse_rule(rule, catalogue=cat), cat, Translator(locale).gettext)
    assert words == said


def test_a_snapshots_stored_funnel_is_said_in_the_readers_language() -> None:
    from telcamp.core.i18n import get_translator
    from telcamp.segments.describe import exclusion_label, stored_step_words

    ru = get_translator("ru").gettext
    for kind, list_type, name, days in [("list", "blacklist", "Жалобы", None),
                                        ("list", "optout", None, None),
                                        ("recent_contact", None, None, 7),
                                        ("recent_contact", None, None, 1)]:
        stored = exclusion_label(kind, list_type=list_type, list_name=name, days=days)
        assert stored_step_words(stored, ru) == exclusion_label(
            kind, list_type=list_type, list_name=name, days=days, gettext=ru)
    assert stored_step_words("matched", ru) == ru("matched") != "matched"
    assert stored_step_words("something else", ru) == "something else"


def test_numbers_in_a_rule_are_written_as_the_reader_writes_them() -> None:
    from telcamp.core.i18n import get_translator
    from telcamp.segments.describe import describe_value
    from telcamp.segments.service import describe_for

    rule = {"all": [{"field": "arpu_3m", "op": ">", "value": 12.5},
                    {"usage": "data_mb", "days": 30, "op": "between", "value": [0.125, 20000]}]}

    def said(locale: str) -> str:
        return describe_for(None, rule, gettext=get_translator(locale).gettext, locale=locale)

    ru = said("ru")
    # the decimal comma, every decimal kept, no grouping; decimals listed with "; "
    assert "12,5" in ru and "0,125" in ru and "20000" in ru and "12.5" not in ru
    en = said("en")
    assert "12.5" in en and "0.125" in en
    # decimals listed where the comma is the decimal mark: "; " between them
    ru_tr = get_translator("ru").gettext
    assert describe_value([1.5, 2], ru_tr, "ru") == "1,5; 2"
    assert describe_value([15, 2], ru_tr, "ru") == "15, 2"
    assert describe_value([1.5, 2], ru_tr, "en") == "1.5, 2"
    assert "12.5" in said("zh")
    # without a locale (the CLI, the API's English): as before
    assert "12.5" in describe_for(None, rule)
