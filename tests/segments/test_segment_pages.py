"""The segment console pages through HTTP: a segment the user may not open is an HTML
"not found" page in the reader's language, never the API's JSON."""

from __future__ import annotations

from typing import Any

import pytest

from telcamp.core import clock
from telcamp.segments.synthetic import NOW

HIGH = {"field": "value_tier", "op": "=", "value": "high"}


@pytest.fixture
def api(db: str, warehouse_file: str, login: Any) -> Any:
    clock.freeze(NOW)
    return login


def _not_found_page(r: Any, words: str) -> None:
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert '<p class="error" data-testid="error">' in r.text and words in r.text
    assert '"code"' not in r.text  # not the JSON error shape


def test_the_builder_of_another_regions_or_a_missing_segment_is_a_page(api: Any) -> None:
    other = api("marketer", "C02")
    made = other.post("/api/segments", json={"name": "C02 high", "rule": HIGH})
    assert made.status_code == 201, made.text
    sid = made.json()["id"]
    assert other.get(f"/segments/builder?segment={sid}").status_code == 200

    mine = api("marketer", "C01")
    _not_found_page(mine.get(f"/segments/builder?segment={sid}"), f"segment {sid} not found")
    _not_found_page(mine.get("/segments/builder?segment=999"), "segment 999 not found")
    _not_found_page(mine.get("/segments/builder?segment=abc"), "segment abc not found")
    # the page a user lands on says it in their language, with the segments they may open
    ru = mine.get(f"/segments/builder?segment={sid}&lang=ru")
    _not_found_page(ru, f"сегмент {sid} не найден")
    assert 'data-testid="new-segment"' in ru.text
    assert mine.get("/segments/builder").status_code == 200


def test_deleting_a_missing_segment_or_template_is_a_page(api: Any) -> None:
    client = api("marketer", "C01")
    _not_found_page(client.post("/segments/999/delete"), "segment 999 not found")
    _not_found_page(client.post("/segments/templates/999/delete"), "template 999 not found")
