"""The home page in a real browser, in each language."""

from __future__ import annotations

import duckdb
import pytest

from telcamp.core.settings import get_settings
from telcamp.warehouse.schema import ensure_schema, set_meta

pytestmark = pytest.mark.browser

HEADINGS = {"en": "Subscriber warehouse", "ru": "Хранилище абонентов", "zh": "用户数据集市"}


@pytest.fixture
def small_warehouse() -> None:
    con = duckdb.connect(str(get_settings().warehouse_file))
    ensure_schema(con)
    con.execute(
        "CREATE TABLE profile AS SELECT 79000000000 + i AS msisdn, "
        "CASE WHEN i % 10 = 0 THEN 'high' WHEN i % 3 = 0 THEN 'medium' ELSE 'low' END "
        "AS value_tier, 0.1 AS churn_risk FROM range(1000) t(i)"
    )
    con.execute(
        "INSERT INTO subscribers SELECT msisdn, 'C01-01', 'T1', DATE '2020-01-01', 'active', "
        "NULL, 'u', 'ru', NULL, NULL FROM profile"
    )
    set_meta(con, "as_of_date", "2026-11-21")
    con.close()


@pytest.mark.parametrize("locale", ["en", "ru", "zh"])
def test_home_page_in_each_language(
    small_warehouse: None, live_server, page, page_as, locale: str  # type: ignore[no-untyped-def]
) -> None:
    page_as("analyst")  # the home page needs warehouse.read
    page.goto(f"{live_server.url}/?lang={locale}")
    assert page.locator("html").get_attribute("lang") == locale
    assert page.locator("h1").inner_text() == HEADINGS[locale]
    # grouped as the language writes numbers: a comma is the decimal mark in Russian
    assert page.get_by_test_id("subscribers").inner_text() == {
        "en": "1,000", "ru": "1\u00a0000", "zh": "1,000"}[locale]
    assert page.get_by_test_id("as-of").inner_text() == "2026-11-21"
    assert page.get_by_test_id("tier-high").inner_text() == "100"
    # ECharts drew the tier chart (the library came from node_modules through the server)
    page.wait_for_selector("#tier-chart[data-rendered='1'] canvas", timeout=10_000)


def test_home_figures_stay_on_one_line_and_the_chart_speaks_the_language(
    small_warehouse: None, live_server, page, page_as  # type: ignore[no-untyped-def]
) -> None:
    page_as("analyst")
    page.set_viewport_size({"width": 1200, "height": 800})
    page.goto(f"{live_server.url}/?lang=ru")
    page.wait_for_selector("#tier-chart[data-rendered='1'] canvas", timeout=10_000)
    # the as-of date broke at its hyphen ("2026-11-" over "21") in a card of 1200 px
    lines = page.get_by_test_id("as-of").evaluate(
        "el => el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight)")
    assert lines < 1.5
    # the axis and tooltip write numbers as the table beside them does (50 000, not
    # 50,000), and the axis labels are kept inside the chart (they were cut off on a
    # narrow screen)
    option = ("echarts.getInstanceByDom(document.getElementById('tier-chart')).getOption()")
    assert page.evaluate(f"{option}.yAxis[0].axisLabel.formatter(50000)") == "50\u00a0000"
    assert page.evaluate(f"{option}.tooltip[0].valueFormatter(1234)") == "1\u00a0234"
    assert page.evaluate(f"{option}.grid[0].containLabel") is True
