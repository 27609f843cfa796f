"""Browser: a marketer presses "Send to test numbers" on the campaign page and the wave's
message reaches the test numbers through a real webhook endpoint; an admin sees the
channel settings page with its live status."""

from __future__ import annotations

import json
from typing import Any

import pytest
from dispatch.world import make_campaign, setup_warehouse

from telcamp.channels.settings import get_channel_settings
from telcamp.core.db import session_scope
from telcamp.core.security import system_principal
from telcamp.lists import service as list_service
from telcamp.lists.schemas import ListCreate

from .test_webhook import SECRET, Endpoint


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Any:
    ep = Endpoint()
    monkeypatch.setenv("TELCAMP_CHANNELS_WEBHOOKS",
                       json.dumps({"ivr": {"url": ep.url, "secret": SECRET}}))
    get_channel_settings.cache_clear()
    yield ep
    ep.close()
    get_channel_settings.cache_clear()


def test_test_send_button_and_settings_page(live_server: Any, page: Any, page_as: Any,
                                            hook: Endpoint) -> None:
    setup_warehouse(2, freeze=False)
    camp = make_campaign(channel="ivr", message="Try {{ msisdn }} {{ offer_code }}",
                         state="draft")
    with session_scope() as s:
        lst = list_service.create_list(s, principal=system_principal(), list_in=ListCreate(
            name="qa", type="test", region_code=None))
        list_service.add_member(s, principal=system_principal(), list_id=lst.id,
                                msisdn="79990000001")
    page_as("admin")
    page.goto(f"{live_server.url}/campaigns/{camp[0]}")
    page.click(f"[data-testid=test-send-{camp[1]}]")
    page.wait_for_selector("[data-testid=test-send-result]")
    assert page.inner_text("[data-testid=test-send-result]").endswith(
        "1 test numbers × 1 cells = 1 messages — submitted 1")
    assert [c["message"] for c in hook.requests[0]["json"]["contacts"]] == [
        "Try 79990000001 "]  # offer fields render (an empty offer code here)
    page.screenshot(path="test-output/test-send.png")

    page.goto(f"{live_server.url}/channels")
    page.wait_for_selector("[data-testid=channel-status]")
    page.fill("[data-testid=smtp-host]", "mail.example.test")
    page.check("[data-testid=smtp-on]")
    page.fill("[data-testid=smtp-password]", "browser-secret")
    page.click("[data-testid=save-smtp]")
    page.wait_for_selector("[data-testid=saved]")
    assert page.input_value("[data-testid=smtp-host]") == "mail.example.test"
    assert page.input_value("[data-testid=smtp-password]") == ""
    assert "browser-secret" not in page.content()
    page.screenshot(path="test-output/channel-settings.png")
