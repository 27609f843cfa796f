"""Numbers of a list that are no subscribers: counted in the import and add reports, and,
without a numbering plan, national forms of subscribers' numbers are pointed out (they
would never match). Nothing is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from telcamp.cli import app
from telcamp.core import warehouse
from telcamp.core.db import migrate
from telcamp.lists import coverage
from telcamp.lists.cli import coverage_lines

runner = CliRunner()
SUBSCRIBERS = (79123456789, 79120000001, 79120000002)


@pytest.fixture
def subscribers(regions: None) -> None:
    with warehouse.connect() as con:
        for n in SUBSCRIBERS:
            con.execute("INSERT INTO subscribers (msisdn, region_code, tariff_code, "
                        "activation_date, status, gender) VALUES (?, 'C01-01', 'T1', "
                        "DATE '2020-01-01', 'active', 'u')", [n])


def test_nothing_to_compare_with_before_subscribers_are_loaded(regions: None) -> None:
    assert coverage.check([79123456789]) is None
    assert coverage_lines(None) == []


@pytest.mark.parametrize("short", [12345678, 9120000003, 912000000])
def test_short_numbers_that_are_no_subscribers_are_counted(subscribers: None,
                                                           short: int) -> None:
    """8-10 digits: the power of ten of their national reading is a small integer, which
    once overflowed the country-code look-up and failed the import."""
    cov = coverage.check([short, 79123456789])
    assert cov == coverage.Coverage(not_subscribers=1, national_like=0, plan_configured=False)


def test_not_subscribers_and_national_forms_are_counted(subscribers: None) -> None:
    cov = coverage.check([79123456789, 89123456789, 89120000002, 79990000000, 79990000000])
    assert cov == coverage.Coverage(not_subscribers=3, national_like=2, plan_configured=False)
    lines = coverage_lines(cov)
    assert lines[0].startswith("3 of the numbers are not subscribers in the warehouse")
    assert "2 of them look like subscribers' numbers written the national way" in lines[1]
    assert "TELCAMP_MSISDN_COUNTRY_CODE" in lines[1]
    assert coverage.check(list(SUBSCRIBERS)) == coverage.Coverage(0, 0, False)
    assert coverage_lines(coverage.check(list(SUBSCRIBERS))) == []


def test_a_national_number_without_trunk_prefix_is_seen_too(regions: None) -> None:
    # China: 138 1234 5678 is 86 138 1234 5678, no trunk prefix
    with warehouse.connect() as con:
        con.execute("INSERT INTO subscribers (msisdn, region_code, tariff_code, "
                    "activation_date, status, gender) VALUES (8613812345678, 'C01-01', 'T1', "
                    "DATE '2020-01-01', 'active', 'u')")
    assert coverage.check([13812345678]) == coverage.Coverage(1, 1, False)


def test_with_a_numbering_plan_national_forms_are_not_looked_for(
        subscribers: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from telcamp.core.settings import get_settings

    monkeypatch.setenv("TELCAMP_MSISDN_COUNTRY_CODE", "7")
    get_settings.cache_clear()
    try:
        assert coverage.check([79990000000]) == coverage.Coverage(1, 0, True)
    finally:
        monkeypatch.delenv("TELCAMP_MSISDN_COUNTRY_CODE")
        get_settings.cache_clear()


def _cli_import(tmp_path: Path, numbers: str) -> tuple[Path, Any]:
    """`telcamp list import` of these lines into a new opt-out list "dnd"."""
    migrate()
    runner.invoke(app, ["list", "create", "dnd", "--type", "optout"])
    csv_file = tmp_path / "dnd.csv"
    csv_file.write_text(numbers, encoding="utf-8")
    return csv_file, runner.invoke(app, ["list", "import", "dnd", str(csv_file)])


def test_the_import_and_add_reports_say_it(subscribers: None, frozen: object,
                                           tmp_path: Path) -> None:
    csv_file, out = _cli_import(tmp_path, "8 912 3456789\n79120000001\n79990000000\n")
    assert out.exit_code == 0, out.output
    assert "3 rows, 3 added" in out.output  # kept: a list may name numbers not loaded yet
    flat = " ".join(out.output.split())
    assert "note: 2 of the numbers are not subscribers in the warehouse" in flat
    assert "note: 1 of them looks like a subscriber's number written the national way" in flat
    report = json.loads(runner.invoke(app, ["list", "import", "dnd", str(csv_file),
                                            "--json"]).output)
    assert (report["not_subscribers"], report["national_like"]) == (2, 1)
    added = runner.invoke(app, ["list", "add", "dnd", "8 912 000-00-02"])
    assert added.exit_code == 0, added.output
    assert "national way" in " ".join(added.output.split())
    quiet = runner.invoke(app, ["list", "add", "dnd", "79120000002"])
    assert "note:" not in quiet.output


def test_the_import_page_says_it_in_the_readers_language(subscribers: None, frozen: object,
                                                         db: str, login: Any) -> None:
    admin = login("admin", None)
    created = admin.post("/lists", data={"name": "dnd", "type": "optout"},
                         follow_redirects=False)
    lid = int(created.headers["location"].rsplit("/", 1)[1])
    r = admin.post(f"/lists/{lid}/import?lang=ru",
                   files={"file": ("c.csv", b"89123456789\n79120000001\n", "text/csv")})
    assert r.status_code == 200, r.text
    assert 'data-testid="not-subscribers"' in r.text and "Не абоненты" in r.text
    assert 'data-testid="national-like"' in r.text and "TELCAMP_MSISDN_TRUNK_PREFIX" in r.text


def test_the_cli_says_one_number_in_the_singular(subscribers: None, frozen: object,
                                                 tmp_path: Path) -> None:
    _csv, out = _cli_import(tmp_path, "89123456789\n79120000001\n")
    flat = " ".join(out.output.split())
    assert "note: 1 of the numbers is not a subscriber in the warehouse (kept: it will" in flat
    assert "note: 1 of them looks like a subscriber's number" in flat
    assert " are not subscribers" not in flat and "add it again" in flat
    added = " ".join(runner.invoke(app, ["list", "add", "dnd", "79990000000"]).output.split())
    assert "note: the number is not a subscriber in the warehouse" in added
    assert "national way" not in added


def test_the_api_add_answer_carries_the_import_reports_coverage_fields(
        subscribers: None, frozen: object, db: str, login: Any) -> None:
    admin = login("admin", None)
    lid = admin.post("/api/lists", json={"name": "dnd", "type": "optout"}).json()["id"]
    national = admin.post(f"/api/lists/{lid}/members", json={"msisdn": "8 912 345-67-89"})
    assert national.status_code == 201, national.text
    body = national.json()
    assert body["msisdn"] == "89123456789"  # stored as typed: no numbering plan
    assert (body["not_subscribers"], body["national_like"]) == (1, 1)
    other = admin.post(f"/api/lists/{lid}/members", json={"msisdn": "79990000000"}).json()
    assert (other["not_subscribers"], other["national_like"]) == (1, 0)
    known = admin.post(f"/api/lists/{lid}/members", json={"msisdn": "79120000001"}).json()
    assert (known["not_subscribers"], known["national_like"]) == (0, 0)


def test_the_api_add_answer_is_null_before_subscribers_are_loaded(
        regions: None, frozen: object, db: str, login: Any) -> None:
    admin = login("admin", None)
    lid = admin.post("/api/lists", json={"name": "dnd", "type": "optout"}).json()["id"]
    body = admin.post(f"/api/lists/{lid}/members", json={"msisdn": "79120000001"}).json()
    assert (body["not_subscribers"], body["national_like"]) == (None, 0)


@pytest.mark.parametrize(("lang", "words"), [
    ("en", "it is not a subscriber"), ("ru", "такого абонента в хранилище нет"),
    ("zh", "仓库中没有该用户")])
def test_the_list_page_says_it_after_adding_one_number(
        subscribers: None, frozen: object, db: str, login: Any, lang: str, words: str
        ) -> None:
    admin = login("admin", None)
    created = admin.post("/lists", data={"name": "dnd", "type": "optout"},
                         follow_redirects=False)
    lid = int(created.headers["location"].rsplit("/", 1)[1])
    added = admin.post(f"/lists/{lid}/members", data={"msisdn": "8 912 345-67-89"},
                       follow_redirects=False)
    assert added.status_code == 303  # still POST → redirect → GET
    assert added.headers["location"] == f"/lists/{lid}?added=national_like"
    page = admin.get(added.headers["location"] + f"&lang={lang}")
    assert 'data-testid="add-note"' in page.text and words in page.text
    assert 'data-testid="national-like"' in page.text
    assert "TELCAMP_MSISDN_TRUNK_PREFIX" in page.text
    other = admin.post(f"/lists/{lid}/members", data={"msisdn": "79990000000"},
                       follow_redirects=False)
    assert other.headers["location"] == f"/lists/{lid}?added=not_subscriber"
    page = admin.get(other.headers["location"] + f"&lang={lang}")
    assert words in page.text and 'data-testid="national-like"' not in page.text
    # a subscriber's number: only that it was added
    quiet = admin.post(f"/lists/{lid}/members", data={"msisdn": "79120000001"},
                       follow_redirects=False)
    assert quiet.headers["location"] == f"/lists/{lid}?done=added"
    assert 'data-testid="add-note"' not in admin.get(f"/lists/{lid}?added=junk").text
