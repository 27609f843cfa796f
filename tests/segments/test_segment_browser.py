"""The segment builder in a real browser: build a segment and watch its count change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

pytestmark = pytest.mark.browser
OUTPUT_DIR = Path(__file__).parent.parent.parent / "test-output"


def _count(warehouse_file: str, where: str, city: str = "C01") -> int:
    con = duckdb.connect(warehouse_file)
    try:
        row = con.execute(f"SELECT count(*) FROM profile WHERE city_code = '{city}' AND {where}"
                          ).fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def _wait_text(page: Any, testid: str, expected: str) -> None:
    page.wait_for_function(
        "([id, want]) => { const n = document.querySelector(`[data-testid=${id}]`);"
        " return n && n.textContent.trim() === want; }",
        arg=[testid, expected], timeout=15_000)


def _first_rule_as_marketer(page: Any, page_as: Any, url: str, base: int) -> None:
    """A C01 marketer's empty builder, counted (the whole base), with one rule added."""
    page_as("marketer", "C01")
    page.goto(f"{url}/segments/builder")
    _wait_text(page, "count", f"{base:,}")
    page.get_by_test_id("add-rule").first.click()


def _first_rule_tier_high(page: Any, high: int) -> None:
    """Add the first rule, value tier is high, and wait for its count."""
    page.get_by_test_id("add-rule").first.click()
    leaf = page.get_by_test_id("leaf").nth(0)
    leaf.get_by_test_id("field").select_option("value_tier")
    leaf.get_by_test_id("value").select_option("high")
    _wait_text(page, "count", f"{high:,}")


def test_build_a_segment_and_watch_the_count(warehouse_file: str, live_server: Any,
                                             page: Any, page_as: Any) -> None:
    base = _count(warehouse_file, "TRUE")
    high = _count(warehouse_file, "value_tier = 'high'")
    high_data = _count(warehouse_file, "value_tier = 'high' AND msisdn IN (SELECT msisdn "
                       "FROM usage_daily WHERE day > DATE '2026-10-31' - 14 GROUP BY msisdn "
                       "HAVING sum(data_mb) >= 1000)")
    assert base > high > high_data > 0
    page_as("marketer", "C01")
    page.goto(f"{live_server.url}/segments/builder")
    _wait_text(page, "count", f"{base:,}")  # the empty rule: everyone in the user's city

    _first_rule_tier_high(page, high)
    leaf = page.get_by_test_id("leaf").nth(0)
    assert "value tier" in leaf.inner_text() or "low, medium, high" in leaf.inner_text()

    page.get_by_test_id("add-rule").first.click()
    usage = page.get_by_test_id("leaf").nth(1)
    usage.get_by_test_id("leaf-kind").select_option("usage")
    usage = page.get_by_test_id("leaf").nth(1)
    usage.get_by_test_id("metric").select_option("data_mb")
    usage = page.get_by_test_id("leaf").nth(1)
    usage.get_by_test_id("days").fill("14")
    usage.get_by_test_id("op").select_option(">=")
    usage.get_by_test_id("value").fill("1000")
    _wait_text(page, "count", f"{high_data:,}")

    page.wait_for_selector("[data-testid=chart-value_tier] canvas", timeout=15_000)
    assert "value tier is high" in page.get_by_test_id("rule-words").inner_text()
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / "segment-builder.png"), full_page=True)
    sample = page.get_by_test_id("sample").inner_text()
    assert "*" in sample  # masked numbers for a marketer
    assert "−" in page.get_by_test_id("funnel").inner_text()

    page.get_by_test_id("segment-name").fill("high data users")
    page.get_by_test_id("save").click()
    page.wait_for_function("document.querySelector('[data-testid=save-result]')"
                           ".textContent.includes('1')", timeout=10_000)
    page.get_by_test_id("snapshot").click()
    page.wait_for_function("document.querySelector('[data-testid=save-result]')"
                           f".textContent.includes('{high_data:,}')", timeout=10_000)

    # removing the usage rule brings the count back
    page.get_by_test_id("leaf").nth(1).get_by_test_id("remove").click()
    _wait_text(page, "count", f"{high:,}")
    page.goto(f"{live_server.url}/segments")
    assert "high data users" in page.get_by_test_id("segments").inner_text()


def _save_one_rule_template(page: Any, live_server: Any, field: str, op: str, name: str,
                            description: str) -> None:
    """In the builder: one rule on `field` with `op`, its value ticked as the parameter,
    saved as a template."""
    page.goto(f"{live_server.url}/segments/builder")
    page.get_by_test_id("add-rule").first.click()
    leaf = page.get_by_test_id("leaf").nth(0)
    leaf.get_by_test_id("field").select_option(field)
    leaf = page.get_by_test_id("leaf").nth(0)
    leaf.get_by_test_id("op").select_option(op)
    leaf = page.get_by_test_id("leaf").nth(0)
    leaf.get_by_label("parameter").check()
    page.fill("#sb-tpl-name", name)
    page.fill("#sb-tpl-desc", description)
    page.click("#sb-tpl-save")
    page.wait_for_function("document.querySelector('#sb-tpl-result').textContent.length > 0")
    assert "error" not in (page.get_attribute("#sb-tpl-result", "class") or ""), \
        page.inner_text("#sb-tpl-result")


def test_save_a_template_and_fill_it_in(warehouse_file: str, live_server: Any, page: Any,
                                        page_as: Any) -> None:
    over_70 = _count(warehouse_file, "arpu_3m > 70")
    assert over_70 > 0
    page_as("marketer", "C01")
    _save_one_rule_template(page, live_server, "arpu_3m", ">", "ARPU above x",
                            "ARPU above {p1}")
    page.select_option("#sb-tpl-pick", label="ARPU above x — ARPU above {p1}")
    page.fill("#sb-tpl-params input", "70")
    page.click("#sb-tpl-params button")
    _wait_text(page, "count", f"{over_70:,}")
    assert "above 70" in page.get_by_test_id("rule-words").inner_text()


def test_a_between_rule_as_a_template_parameter_takes_two_values(
        warehouse_file: str, live_server: Any, page: Any, page_as: Any) -> None:
    """A ticked 'between' rule is two parameters (from, to), labelled as the builder
    names the field: one placeholder where two values are needed was refused."""
    in_30s = _count(warehouse_file, "age BETWEEN 30 AND 39")
    assert in_30s > 0
    page_as("marketer", "C01")
    _save_one_rule_template(page, live_server, "age", "between", "Age band",
                            "age {p1} to {p2}, for the loyalty offer of the spring season")
    page.wait_for_function("document.querySelectorAll('#sb-tpl-pick option').length > 1")
    pick = page.locator("#sb-tpl-pick").bounding_box()
    panel = page.locator(".sb-panel:has(#sb-tpl-pick)").bounding_box()
    # a long description widened the select past its panel and the page
    assert pick["x"] + pick["width"] <= panel["x"] + panel["width"]
    page.select_option("#sb-tpl-pick", label="Age band — age {p1} to {p2}, for the loyalty offer "
                       "of the spring season")
    form = page.locator("#sb-tpl-params")
    assert "age: from {p1}" in form.inner_text() and "age: to {p2}" in form.inner_text()
    form.locator("input").nth(0).fill("30")
    form.locator("input").nth(1).fill("39")
    form.locator("button").click()
    _wait_text(page, "count", f"{in_30s:,}")
    assert "between 30 and 39" in page.get_by_test_id("rule-words").inner_text()


def test_an_analyst_counts_but_cannot_save(warehouse_file: str, live_server: Any, page: Any,
                                          page_as: Any) -> None:
    c02 = _count(warehouse_file, "TRUE", city="C02")
    page_as("analyst", "C02")
    page.goto(f"{live_server.url}/segments/builder")
    _wait_text(page, "count", f"{c02:,}")  # everyone, but only in the analyst's city
    assert page.get_by_test_id("save").count() == 0
    assert page.get_by_test_id("snapshot").count() == 0


def test_a_rule_error_greys_the_old_figures_and_marks_the_rule(
        warehouse_file: str, live_server: Any, page: Any, page_as: Any) -> None:
    """After an error the count, funnel and profile of the previous rule must not look
    current, and the rule the error names (all[1]) is marked; operators and types are
    in the reader's words (ru)."""
    high = _count(warehouse_file, "value_tier = 'high'")
    page_as("marketer", "C01")
    page.goto(f"{live_server.url}/segments/builder?lang=ru")
    _first_rule_tier_high(page, high)
    ops = page.get_by_test_id("leaf").nth(0).get_by_test_id("op").inner_text()
    # is_null as "no data", which agrees with a field of any gender (not "is empty")
    assert "одно из" in ops and "нет данных" in ops and "пусто" not in ops
    assert "not_in" not in ops
    groups = page.get_by_test_id("leaf").nth(0).locator("optgroup").evaluate_all(
        "gs => gs.map(g => g.label)")
    assert "профиль абонента" in groups and "score" not in groups
    page.wait_for_function("document.querySelector('[data-testid=sample]')"
                           ".textContent.includes('высокая')", timeout=15_000)
    assert "high" not in page.get_by_test_id("sample").inner_text()  # as the charts say it
    page.locator("#sb-dim").select_option("arpu_3m")  # "also by field": headed by its label
    page.wait_for_selector("[data-testid='chart-field:arpu_3m']", timeout=15_000)
    heading = page.locator("xpath=//div[@data-testid='chart-field:arpu_3m']/preceding-sibling::h3")
    assert heading.inner_text() == "ARPU за 3 месяца"
    assert "текст" in page.get_by_test_id("leaf").nth(0).inner_text()  # type: str

    page.get_by_test_id("add-rule").first.click()
    bad = page.get_by_test_id("leaf").nth(1)
    bad.get_by_test_id("field").select_option("value_tier")
    page.get_by_test_id("leaf").nth(1).get_by_test_id("op").select_option("in")
    page.get_by_test_id("leaf").nth(1).get_by_test_id("value").fill("hihg")
    page.wait_for_function("() => document.querySelector('[data-testid=rule-error]')"
                           ".textContent.includes('all[1]')", timeout=15_000)
    _wait_text(page, "count", "—")
    assert "sb-stale" in (page.get_by_test_id("funnel").get_attribute("class") or "")
    leaves = page.get_by_test_id("leaf")
    assert leaves.nth(1).get_attribute("aria-invalid") == "true"
    assert leaves.nth(0).get_attribute("aria-invalid") is None

    leaves.nth(1).get_by_test_id("value").fill("high")
    _wait_text(page, "count", f"{high:,}")
    assert page.get_by_test_id("rule-error").inner_text().strip() == ""
    assert "sb-stale" not in (page.get_by_test_id("funnel").get_attribute("class") or "")
    assert page.locator("[aria-invalid=true]").count() == 0


def test_an_unfinished_rule_is_left_out_of_the_count_and_stops_the_save(
        warehouse_file: str, live_server: Any, page: Any, page_as: Any) -> None:
    """`age >` with no value yet: the count says it is left out, and saving is refused
    (a segment of the remaining rules, here everyone, would target the whole city)."""
    base = _count(warehouse_file, "TRUE")
    _first_rule_as_marketer(page, page_as, live_server.url, base)
    page.get_by_test_id("leaf").nth(0).get_by_test_id("field").select_option("age")
    page.get_by_test_id("leaf").nth(0).get_by_test_id("op").select_option(">")
    page.wait_for_function("document.querySelector('[data-testid=rule-error]')"
                           ".textContent.includes('1')", timeout=15_000)
    assert "Unfinished" in page.get_by_test_id("rule-error").inner_text()
    assert page.get_by_test_id("count").inner_text().strip() == f"{base:,}"

    page.get_by_test_id("segment-name").fill("unfinished")
    page.get_by_test_id("save").click()
    page.wait_for_function("document.querySelector('[data-testid=save-result]')"
                           ".textContent.length > 0", timeout=10_000)
    assert "Finish or remove" in page.get_by_test_id("save-result").inner_text()
    assert page.get_by_test_id("leaf").nth(0).get_attribute("aria-invalid") == "true"
    page.goto(f"{live_server.url}/segments")
    assert ">unfinished<" not in page.content()  # no segment of that name was saved


def test_a_days_box_of_zero_is_named_and_an_empty_one_is_unfinished(
        warehouse_file: str, live_server: Any, page: Any, page_as: Any) -> None:
    """0 typed in a usage rule's days box reaches the server, whose message names it
    ("got 0", not "got None"); an emptied box leaves the rule out as unfinished."""
    base = _count(warehouse_file, "TRUE")
    _first_rule_as_marketer(page, page_as, live_server.url, base)
    page.get_by_test_id("leaf").nth(0).get_by_test_id("leaf-kind").select_option("usage")
    usage = page.get_by_test_id("leaf").nth(0)
    usage.get_by_test_id("metric").select_option("data_mb")
    usage = page.get_by_test_id("leaf").nth(0)
    usage.get_by_test_id("op").select_option(">=")
    usage.get_by_test_id("value").fill("1")
    usage.get_by_test_id("days").fill("0")
    page.wait_for_function("document.querySelector('[data-testid=rule-error]')"
                           ".textContent.includes('got 0')", timeout=15_000)
    error = page.get_by_test_id("rule-error").inner_text()
    assert "all[0]" in error and "from 1 to 90" in error and "None" not in error
    _wait_text(page, "count", "—")

    page.get_by_test_id("leaf").nth(0).get_by_test_id("days").fill("")
    page.wait_for_function("document.querySelector('[data-testid=rule-error]')"
                           ".textContent.includes('Unfinished')", timeout=15_000)
    _wait_text(page, "count", f"{base:,}")


def test_a_snapshot_waits_for_unsaved_edits_to_be_saved(
        warehouse_file: str, live_server: Any, page: Any, page_as: Any) -> None:
    """A snapshot is taken of the saved version: while the rule on screen differs from it,
    the button is off and says why, so a marketer cannot snapshot an audience other than
    the one shown."""
    high = _count(warehouse_file, "value_tier = 'high'")
    medium = _count(warehouse_file, "value_tier = 'medium'")
    page_as("marketer", "C01")
    page.goto(f"{live_server.url}/segments/builder")
    _first_rule_tier_high(page, high)
    page.get_by_test_id("segment-name").fill("tier watch")
    page.get_by_test_id("save").click()
    page.wait_for_function("document.querySelector('[data-testid=save-result]')"
                           ".textContent.includes('1')", timeout=10_000)
    snapshot = page.get_by_test_id("snapshot")
    assert snapshot.is_enabled()

    page.get_by_test_id("leaf").nth(0).get_by_test_id("value").select_option("medium")
    _wait_text(page, "count", f"{medium:,}")
    assert snapshot.is_disabled()
    assert "Save the changes first" in page.get_by_test_id("save-result").inner_text()
    page.get_by_test_id("leaf").nth(0).get_by_test_id("value").select_option("high")
    page.wait_for_function("!document.querySelector('[data-testid=snapshot]').disabled",
                           timeout=10_000)  # back to the saved rule: nothing to save
    page.get_by_test_id("leaf").nth(0).get_by_test_id("value").select_option("medium")
    assert snapshot.is_disabled()

    page.get_by_test_id("save").click()
    page.wait_for_function("document.querySelector('[data-testid=save-result]')"
                           ".textContent.includes('2')", timeout=10_000)
    assert snapshot.is_enabled()
    snapshot.click()
    page.wait_for_function("document.querySelector('[data-testid=save-result]')"
                           f".textContent.includes('{medium:,}')", timeout=10_000)
    assert "v2" in page.get_by_test_id("save-result").inner_text()


def test_an_in_list_rule_offers_the_lists_and_greys_only_while_unfinished(
        warehouse_file: str, live_server: Any, page: Any, page_as: Any) -> None:
    """The list box suggests the lists the user may name; typing a name finishes the rule
    in place, and the grey ("left out of the count") follows it."""
    from telcamp.core.db import session_scope
    from telcamp.lists import service as list_service
    from telcamp.lists.schemas import ListCreate

    who = page_as("marketer", "C01")
    with session_scope() as s:
        list_service.create_list(s, principal=who,
                                 list_in=ListCreate(name="complainers", type="blacklist"))
    page.goto(f"{live_server.url}/segments/builder")
    page.get_by_test_id("add-rule").first.click()
    page.get_by_test_id("leaf").nth(0).get_by_test_id("leaf-kind").select_option("in_list")
    leaf = page.get_by_test_id("leaf").nth(0)
    assert "sb-incomplete" in (leaf.get_attribute("class") or "")
    offered = page.locator("#sb-list-names option").evaluate_all("os => os.map(o => o.value)")
    assert offered == ["complainers"]
    leaf.get_by_test_id("list-ref").fill("complainers")
    page.wait_for_function("!document.querySelector('[data-testid=leaf]')"
                           ".classList.contains('sb-incomplete')", timeout=5_000)
    leaf.get_by_test_id("list-ref").fill("")
    page.wait_for_function("document.querySelector('[data-testid=leaf]')"
                           ".classList.contains('sb-incomplete')", timeout=5_000)


def test_a_contacted_rule_offers_the_channels(
        warehouse_file: str, live_server: Any, page: Any, page_as: Any) -> None:
    """The channel is chosen, not typed: a typo would be refused by the rule anyway."""
    page_as("marketer", "C01")
    page.goto(f"{live_server.url}/segments/builder")
    page.get_by_test_id("add-rule").first.click()
    page.get_by_test_id("leaf").nth(0).get_by_test_id("leaf-kind").select_option("contacted")
    channel = page.get_by_test_id("leaf").nth(0).get_by_test_id("channel")
    offered = channel.locator("option").evaluate_all("os => os.map(o => o.value)")
    assert offered == ["", "sms", "email", "ivr", "call", "push", "mms"]
    channel.select_option("sms")
    page.wait_for_function("document.querySelector('[data-testid=rule-words]')"
                           ".textContent.includes('sms')", timeout=15_000)


def _wait_error(page: Any, words: str) -> None:
    page.wait_for_function(
        "w => document.querySelector('[data-testid=rule-error]').textContent.includes(w)",
        arg=words, timeout=15_000)


def test_a_decimal_on_a_whole_number_field_is_refused_as_typed(
        warehouse_file: str, live_server: Any, page: Any, page_as: Any) -> None:
    base = _count(warehouse_file, "TRUE")
    _first_rule_as_marketer(page, page_as, live_server.url, base)
    page.get_by_test_id("leaf").nth(0).get_by_test_id("field").select_option("age")
    leaf = page.get_by_test_id("leaf").nth(0)
    # the operator is_null reads as docs/segments.md says it: "is unknown"
    assert "is unknown" in leaf.get_by_test_id("op").inner_text()
    leaf.get_by_test_id("op").select_option(">=")
    leaf = page.get_by_test_id("leaf").nth(0)
    leaf.get_by_test_id("value").fill("30.5")
    # the API's own refusal, the rule outlined, no count: never counted as "at least 30"
    _wait_error(page, "value 30.5 is not a whole number")
    _wait_text(page, "count", "—")
    assert "sb-bad" in (leaf.get_attribute("class") or "")
    assert leaf.get_by_test_id("value").input_value() == "30.5"
    assert "30 years" not in page.get_by_test_id("rule-words").inner_text()
    leaf.get_by_test_id("value").fill("30")
    _wait_text(page, "count", f"{_count(warehouse_file, 'age >= 30'):,}")
    assert page.get_by_test_id("rule-error").inner_text() == ""
    # a decimal number of days is refused the same way, not cut to whole days
    page.get_by_test_id("add-rule").first.click()
    usage = page.get_by_test_id("leaf").nth(1)
    usage.get_by_test_id("leaf-kind").select_option("usage")
    page.get_by_test_id("leaf").nth(1).get_by_test_id("metric").select_option("data_mb")
    usage = page.get_by_test_id("leaf").nth(1)
    usage.get_by_test_id("value").fill("10")
    usage.get_by_test_id("days").fill("14.5")
    _wait_error(page, "'days' must be a whole number from 1 to 90, got 14.5")


def test_region_fields_offer_the_known_codes_and_refuse_a_name(
        warehouse_file: str, live_server: Any, page: Any, page_as: Any) -> None:
    page_as("analyst", "P01")
    page.goto(f"{live_server.url}/segments/builder")
    both = _count(warehouse_file, "TRUE") + _count(warehouse_file, "TRUE", city="C02")
    _wait_text(page, "count", f"{both:,}")
    page.get_by_test_id("add-rule").first.click()
    page.get_by_test_id("leaf").nth(0).get_by_test_id("field").select_option("city_code")
    leaf = page.get_by_test_id("leaf").nth(0)
    box = leaf.get_by_test_id("value")
    assert box.get_attribute("list") == "sb-regions-city_code"
    offered = page.locator("#sb-regions-city_code option")
    assert [(offered.nth(i).get_attribute("value"), offered.nth(i).get_attribute("label"))
            for i in range(offered.count())] == [("C01", "City One"), ("C02", "City Two")]
    box.fill("City Two")
    _wait_error(page, "value \"City Two\" is not a known city code; did you mean 'C02' "
                      "(City Two)?")
    _wait_text(page, "count", "—")
    box.fill("C02")
    _wait_text(page, "count", f"{_count(warehouse_file, 'TRUE', city='C02'):,}")


# Region names of the trial that were cut off or overlapped (a city chart cut
# "Санкт-Петербург" to "кт-Петербург", 40 counties made one illegible band).
_LONG_CITIES = ["Санкт-Петербург", "哈尔滨", "Петропавловск-Камчатский", "Ханты-Мансийск"]


def _many_regions(route: Any) -> None:
    """The builder's real answer, with 40 counties and long city names in its profile."""
    answer = route.fetch()
    data = answer.json()
    dims = data["profile"]["dimensions"]
    dims["county"] = [{"key": f"C{i // 4 + 1:02d}-{i % 4 + 1:02d}", "name": f"County {i}",
                       "count": 40 - i, "base": 50, "share": (40 - i) / 820,
                       "base_share": 1 / 40, "index": 100} for i in range(40)]
    dims["city"] = [{"key": f"C{i + 10}", "name": n, "count": 1, "base": 1, "share": 0.25,
                     "base_share": 0.25, "index": 100} for i, n in enumerate(_LONG_CITIES)]
    route.fulfill(response=answer, json=data)


@pytest.mark.parametrize("lang", ["en", "ru", "zh"])
def test_region_charts_stay_readable_with_tens_of_regions(
        warehouse_file: str, live_server: Any, page: Any, page_as: Any, lang: str) -> None:
    """Horizontal bars, one row per region, the chart growing with them; the labels get
    the room they need (grid.containLabel), whole up to a width."""
    page_as("marketer", "C01")
    page.route("**/api/segments/evaluate", _many_regions)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/segments/builder?lang={lang}")
    page.wait_for_selector("[data-testid=chart-county] canvas", timeout=15_000)
    page.wait_for_selector("[data-testid=chart-city] canvas", timeout=15_000)
    option = page.evaluate("""() => {
        const o = n => echarts.getInstanceByDom(
            document.querySelector(`[data-testid=chart-${n}]`)).getOption();
        return {county: o("county"), city: o("city"),
                height: document.querySelector("[data-testid=chart-county]").offsetHeight};
    }""")
    county = option["county"]
    assert county["yAxis"][0]["type"] == "category" and county["grid"][0]["containLabel"]
    assert len(county["yAxis"][0]["data"]) == 40
    assert option["height"] >= 40 * 20  # about a bar pair's height per county
    assert option["city"]["yAxis"][0]["data"][0] == "C10 Санкт-Петербург"
    chart = page.get_by_test_id("chart-county")
    chart.scroll_into_view_if_needed()
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.get_by_test_id("profile").screenshot(
        path=str(OUTPUT_DIR / f"segment-builder-regions-{lang}.png"))
