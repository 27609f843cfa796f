"""Console addresses that fail (a missing campaign, a malformed id, an unknown path) are
pages in the reader's language for a browser, and stay the API's JSON for API clients."""

from __future__ import annotations

from typing import Any

import pytest

BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture
def client(db: str, login: Any) -> Any:
    return login("marketer", None)


@pytest.mark.parametrize(("path", "status", "en", "ru"), [
    ("/campaigns/999", 404, "campaign 999", "Не найдено"),
    ("/campaigns/abc", 422, "Invalid address", "Неверный адрес"),
    ("/no/such/page", 404, "There is no page at this address.", "По этому адресу страницы нет."),
])
def test_a_failing_console_address_is_a_translated_page(client: Any, path: str, status: int,
                                                        en: str, ru: str) -> None:
    r = client.get(path, headers=BROWSER)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("text/html")
    assert 'data-testid="page-error"' in r.text and en in r.text
    assert '"code"' not in r.text
    said = client.get(path + ("&" if "?" in path else "?") + "lang=ru", headers=BROWSER)
    assert said.status_code == status and ru in said.text


def test_api_clients_keep_the_json_error(client: Any) -> None:
    for path in ("/campaigns/999", "/api/campaigns/999", "/no/such/page"):
        r = client.get(path)  # no text/html in Accept: a script, not a browser
        assert r.status_code == 404
        assert r.json()["code"] == "not_found"
    browser_api = client.get("/api/campaigns/999", headers=BROWSER)
    assert browser_api.headers["content-type"].startswith("application/json")
