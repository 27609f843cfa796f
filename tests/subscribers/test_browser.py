"""Browser: an agent looks a subscriber up and sees why they got (or did not get) each
message."""

from __future__ import annotations

from typing import Any

from .world import make_history


def test_agent_looks_up_a_subscriber(live_server: Any, page: Any, page_as: Any) -> None:
    h = make_history()
    page_as("agent")
    page.goto(f"{live_server.url}/subscribers")
    page.fill("[data-testid=msisdn]", str(h["msisdn"]))
    page.click("[data-testid=lookup]")
    page.wait_for_selector("[data-testid=contacts]")
    row = page.locator(f"[data-testid=contact-{h['sent']}]")
    assert f"Hi {h['msisdn']}, 1 GB free" in row.inner_text()
    assert page.locator(f"[data-testid=contact-{h['blocked']}]").inner_text().count("opted out")
    page.screenshot(path="test-output/subscriber-lookup.png")
