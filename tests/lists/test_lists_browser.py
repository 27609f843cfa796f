"""The lists page in a real browser: import a file with a bad row, read the report,
confirm the partial import, see the count; search a number."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_import_with_a_bad_row_confirm_and_search(regions: None, live_server: Any, page: Any,
                                                  page_as: Any, tmp_path: Path) -> None:
    page_as("marketer", "C01")
    page.goto(f"{live_server.url}/lists")
    form = page.get_by_test_id("create-form")
    form.locator("input[name=name]").fill("complaints")
    form.locator("select[name=type]").select_option("blacklist")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=list-name]")
    assert page.get_by_test_id("member-count").inner_text() == "0"

    csv_file = tmp_path / "complaints.csv"
    csv_file.write_text("msisdn,reason,expiry\n79120000001,complained,2027-06-30\n"
                        "7912-BAD,typo,\n79120000002,,\n", encoding="utf-8")
    page.get_by_test_id("import-file").set_input_files(str(csv_file))
    page.get_by_test_id("import-submit").click()
    page.wait_for_selector("[data-testid=rejected-rows]")
    report = page.get_by_test_id("rejected-rows").inner_text()
    assert "3" in report and "7912-BAD" in report and "digits only" in report
    assert page.get_by_test_id("nothing-imported").is_visible()
    assert page.get_by_test_id("member-count").inner_text() == "0"

    page.get_by_test_id("confirm-partial").click()
    page.wait_for_selector("[data-testid=report-added]")
    assert page.get_by_test_id("report-added").inner_text() == "2"
    assert page.get_by_test_id("member-count").inner_text() == "2"
    assert "7912****001" in page.get_by_test_id("members").inner_text()  # masked

    page.goto(f"{live_server.url}/lists")
    assert "2" in page.get_by_test_id("lists").inner_text()
    page.get_by_test_id("search-msisdn").fill("79120000001")
    page.get_by_test_id("search-form").locator("button").click()
    page.wait_for_selector("[data-testid=search-hits]")
    hits = page.get_by_test_id("search-hits").inner_text()
    assert "complaints" in hits and "complained" in hits
    assert "until the end of 2027-06-30" in hits  # the date typed, not 2027-07-01 00:00 UTC
    page.get_by_test_id("search-msisdn").fill("79129999999")
    page.get_by_test_id("search-form").locator("button").click()
    page.wait_for_selector("[data-testid=search-none]")
