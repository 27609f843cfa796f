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


def test_agent_logo_lookup_typed_number_and_opt_out(live_server: Any, page: Any,
                                                   page_as: Any) -> None:
    """The logo takes an agent to the lookup (no 403); a number typed with + and spaces
    is found; control rows show no message; 'Opt out this subscriber' works."""
    h = make_history()
    page_as("agent")
    page.goto(f"{live_server.url}/subscribers")
    page.click("[data-testid=brand]")
    page.wait_for_selector("[data-testid=lookup-form]")
    assert page.url.endswith("/subscribers")
    full = str(h["msisdn"])
    page.fill("[data-testid=msisdn]", f"+{full[0]} {full[1:4]} {full[4:7]}-{full[7:]}")
    page.click("[data-testid=lookup]")
    page.wait_for_selector("[data-testid=contacts]")
    control = page.locator(f"[data-testid=contact-{h['control']}]").inner_text()
    assert "Held out (control group), not contacted." in control
    assert "Control offer" not in control
    page.on("dialog", lambda d: d.accept())
    page.fill("[data-testid=optout-form] input[name=reason]", "asked by phone")
    page.click("[data-testid=optout]")
    page.wait_for_selector("[data-testid=optout-done]")
    assert page.locator("[data-testid=opted-out]").count() == 1
    page.screenshot(path="test-output/subscriber-optout.png")
