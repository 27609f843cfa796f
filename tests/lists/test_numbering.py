"""The operator's numbering plan: national forms typed onto lists are read as
international numbers, and another country's numbers are refused (they can never be a
subscriber, so an opt-out written that way would never apply)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from telcamp.core.errors import ValidationFailed
from telcamp.core.i18n import get_translator
from telcamp.core.settings import reset_settings
from telcamp.lists import importer, wording
from telcamp.lists.schemas import parse_msisdn


@pytest.fixture
def plan(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def use(code: str, digits: int, trunk: str = "") -> None:
        monkeypatch.setenv("TELCAMP_MSISDN_COUNTRY_CODE", code)
        monkeypatch.setenv("TELCAMP_MSISDN_NATIONAL_DIGITS", str(digits))
        monkeypatch.setenv("TELCAMP_MSISDN_TRUNK_PREFIX", trunk)
        reset_settings()

    yield use  # type: ignore[misc]
    monkeypatch.delenv("TELCAMP_MSISDN_COUNTRY_CODE", raising=False)
    reset_settings()


@pytest.mark.parametrize("typed", ["8 (900) 032-41-22", "89000324122", "900 032-41-22",
                                   "(900) 032-41-22", "+7 900 032 41 22", "79000324122",
                                   "0079000324122"])
def test_russian_national_and_international_forms_are_one_number(plan, typed: str) -> None:
    plan("7", 10, "8")
    assert parse_msisdn(typed) == 79000324122


def test_chinese_mobile_numbers_without_a_trunk_prefix(plan) -> None:
    plan("86", 11)
    assert parse_msisdn("138 1234 5678") == 8613812345678
    assert parse_msisdn("+86 138 1234 5678") == 8613812345678


def test_another_countrys_number_is_refused_with_a_reason(plan) -> None:
    plan("7", 10, "8")
    with pytest.raises(ValidationFailed) as refused:
        parse_msisdn("+44 20 7946 0018")
    message = refused.value.message
    # typed with its own country code: no hint to add one
    assert message == ("msisdn '442079460018' is a number of another country; only numbers "
                       "of this operator's country (+7) can be listed")
    assert wording.known(message, get_translator("ru").gettext) == (
        "номер '442079460018' — другой страны; в список можно внести только номера страны "
        "оператора (+7)")
    # typed without one, it may be a national number missing the code
    with pytest.raises(ValidationFailed) as refused:
        parse_msisdn("442079460018")
    assert refused.value.message == ("msisdn '442079460018' is not a number of this "
                                     "operator's country (+7); write it with the country code")


def test_an_import_reads_national_forms_and_refuses_foreign_numbers(plan) -> None:
    plan("7", 10, "8")
    parsed = importer.parse(b"msisdn\n8 900 056 09 61\n9000560962\n+79000560963\n"
                            b"442079460018\n+86 138 1234 5678\n0044 20 7946 0018\n",
                            file="l.csv")
    assert parsed.valid.column("msisdn").to_pylist() == [79000560961, 79000560962,
                                                          79000560963]
    foreign = ("a number of another country; only numbers of this operator's country (+7) "
               "can be listed")
    assert [(r.line, r.reason) for r in parsed.rejected] == [
        (5, "not a number of this operator's country (+7); write it with the country code"),
        (6, foreign), (7, foreign)]


def test_without_a_plan_a_number_is_read_as_written() -> None:
    reset_settings()
    assert parse_msisdn("8 (900) 032-41-22") == 89000324122  # docs: set the plan
    assert importer.parse(b"442079460018\n", file="l.csv").valid.num_rows == 1
