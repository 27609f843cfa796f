"""Coded values (value tier, status, payment type, gender) and yes/no are offered in the
builder in the reader's words, as the rule sentence, the charts and the sample say them
(trial finding: a Chinese marketer picked from 'low, medium, high' and 'true, false'
while the sentence beside it said '价值等级为高'). The rule keeps the code."""

from __future__ import annotations

from typing import Any

import pytest


def test_the_catalogue_words_coded_values_in_the_readers_language(api: Any) -> None:
    client = api("marketer", "C01")
    fields = {f["name"]: f for f in client.get("/api/segments/catalogue?lang=zh").json()[
        "fields"]}
    assert fields["value_tier"]["value_labels"] == {"low": "低", "medium": "中", "high": "高"}
    assert fields["gender"]["value_labels"]["f"] == "女"
    ru = {f["name"]: f for f in client.get("/api/segments/catalogue?lang=ru").json()[
        "fields"]}
    assert ru["status"]["value_labels"]["churned"] != "churned"
    assert "value_labels" not in fields["tariff_code"]  # free codes stay as they are


@pytest.mark.browser
def test_the_builder_offers_words_and_sends_codes(warehouse_file: str, live_server: Any,
                                                  page: Any, page_as: Any) -> None:
    page_as("marketer", "C01")
    page.goto(f"{live_server.url}/segments/builder?lang=zh")
    page.wait_for_function("document.getElementById('sb-count').textContent !== '—'")
    page.get_by_test_id("add-rule").first.click()
    leaf = page.get_by_test_id("leaf").nth(0)
    leaf.get_by_test_id("field").select_option("value_tier")
    options = leaf.get_by_test_id("value").locator("option").all_inner_texts()
    assert options[1:] == ["低", "中", "高"]
    assert "高 (high)" in leaf.inner_text()  # the hint: the word and the code to type
    leaf.get_by_test_id("value").select_option("high")  # the option's value is the code
    page.wait_for_function("document.getElementById('sb-words').textContent.includes('高')")
    leaf.get_by_test_id("field").select_option("is_new")
    options = page.get_by_test_id("leaf").nth(0).get_by_test_id("value").locator(
        "option").all_inner_texts()
    assert options[1:] == ["是", "否"]
