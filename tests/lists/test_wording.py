"""List messages in the reader's language (lists.wording): the number or date the user
typed stays as typed; the sentence around it is said through the catalogue."""

from __future__ import annotations

import re

import pytest

from telcamp.core.errors import FileRejected, ValidationFailed
from telcamp.core.i18n import get_translator
from telcamp.lists import importer, wording
from telcamp.lists.schemas import parse_expiry, parse_msisdn

RU, ZH = get_translator("ru").gettext, get_translator("zh").gettext
# one row for each reason the importer gives
BAD_ROWS = (b"msisdn,reason,expiry\n"
            b"7912x,,\n"  # letters
            b"7912,,\n"  # too short
            b"0791200000001,,\n"  # leading 0
            b"(912) 000-00-03,,\n"  # no country code
            b"79120000001,,31.12.2026\n"  # expiry not ISO
            b"79120000002,,2020-01-01\n"  # expiry in the past
            b"79120000003,x,2027-01-01,extra\n"  # too many columns
            b"79120000004," + b"r" * 501 + b",\n"  # reason too long
            b"79120000005,,\n79120000005,,\n")  # duplicate


def test_every_import_reason_is_said_in_russian_and_chinese() -> None:
    parsed = importer.parse(BAD_ROWS, file="bad.csv")
    reasons = {r.reason for r in parsed.rejected}
    assert len(reasons) == 9, reasons
    for reason in reasons:
        for gettext in (RU, ZH):
            said = wording.known(reason, gettext)
            assert said is not None and said != reason, reason
            assert not re.search(r"\b(must|expiry|duplicate|empty|column|reason)\b",
                                 re.sub(r"msisdn|reason|expiry(?=\W*$)", "", said)
                                 ), said
            assert set(re.findall(r"\d+", reason)) <= set(re.findall(r"\d+", said))


@pytest.mark.parametrize(("check", "typed"), [
    (parse_msisdn, "12ab"), (parse_msisdn, "7912"), (parse_msisdn, "0791200000001"),
    (parse_msisdn, "(912) 000-00-03"), (parse_expiry, "31.12.2026")])
def test_a_typed_number_or_expiry_is_said_with_what_was_typed(check, typed) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check(typed)
    said = wording.known(refused.value.message, RU)
    assert said is not None and repr(typed.strip()) in said.replace('"', "'")


def test_a_refused_file_is_said_line_by_line() -> None:
    parsed = importer.parse(b"msisdn\n7912x\n", file="bad.csv")
    refused = FileRejected(file="bad.csv", total=1,
                           errors=importer._row_errors("bad.csv", parsed.rejected))
    english = refused.message + "\nno row of the file is valid; nothing to import"
    said = wording.known(english, RU)
    assert said is not None and said.count("\n") == english.count("\n")
    assert said.startswith("bad.csv отклонён, ничего не загружено")
    assert "bad.csv:2 [msisdn]: '7912x': только цифры" in said
    assert wording.known("something else entirely", RU) is None
    assert wording.known("empty msisdn", ZH) == "号码为空"
    assert wording.known("e.csv rejected, nothing loaded:\n  e.csv: the file is empty", RU) == (
        "e.csv отклонён, ничего не загружено:\n  e.csv: файл пуст")
    assert wording.known("a list named 'vip' already exists in region C01", ZH) == (
        "区域 C01 已有名为 'vip' 的名单")
    assert wording.known("79000324122 is not on list 'vip'", RU) == (
        "номера 79000324122 нет в списке 'vip'")


def test_pages_and_api_say_list_errors_in_the_language(db, regions, frozen, login) -> None:
    marketer = login("marketer", "C01")
    r = marketer.post("/lists", data={"name": "complaints", "type": "blacklist"},
                      follow_redirects=False)
    lid = int(r.headers["location"].rsplit("/", 1)[1])
    r = marketer.post(f"/lists/{lid}/import?lang=ru",
                      files={"file": ("c.csv", b"79120000001\n7912x\n", "text/csv")})
    assert r.status_code == 422 and "только цифры (E.164" in r.text
    assert "must be digits only" not in r.text
    r = marketer.post(f"/lists/{lid}/members?lang=zh", data={"msisdn": "12ab"})
    assert r.status_code == 422 and "号码 &#39;12ab&#39; 只能包含数字" in r.text
    r = marketer.get("/lists/search", params={"msisdn": "7912", "lang": "ru"})
    assert "в номере &#39;7912&#39; должно быть от 8 до 15 цифр, а не 4" in r.text
    r = marketer.post(f"/api/lists/{lid}/members", json={"msisdn": "12ab"},
                      headers={"Accept-Language": "ru"})
    assert r.status_code == 422
    assert r.json()["message"].startswith("номер '12ab' должен состоять только из цифр")


def test_an_unconfirmed_partial_import_is_headed_as_one_to_confirm() -> None:
    """Not "rejected, nothing loaded": nothing is imported yet, and confirming imports
    the valid rows; the counts read as "label: n" in every language (no plural)."""
    parsed = importer.parse(b"79120000001\n7912x\n", file="other.csv")
    report = importer.ImportReport(list_id=1, file="other.csv", rows=2, valid=1,
                                   rejected=parsed.rejected, rejected_total=1, applied=False)
    english = importer.ImportNeedsConfirmation(report).message
    assert english.startswith("other.csv: nothing imported yet; valid rows: 1, rejected: 1. "
                              "Confirm the partial import to import the valid rows")
    assert "rejected, nothing loaded" not in english and "good rows" not in english
    ru, zh = wording.known(english, RU), wording.known(english, ZH)
    assert ru is not None and ru.startswith(
        "other.csv: пока ничего не импортировано; корректных строк: 1, отклонённых: 1.")
    assert "other.csv:2 [msisdn]: '7912x': " in ru
    assert zh is not None and zh.startswith("other.csv：尚未导入任何内容；有效行：1，被拒绝：1。")
