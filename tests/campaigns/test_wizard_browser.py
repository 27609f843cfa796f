"""Wizard changes in Chromium: every basics error at once next to its field, weekday
checkboxes on the schedule step, and the approver's view of the messages."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import make_program

pytestmark = pytest.mark.browser


def test_errors_at_once_and_weekday_checkboxes(world: str, live_server: Any, page: Any,
                                               page_as: Any) -> None:
    pid = make_program()
    base = live_server.url
    page_as("marketer", "C1")
    page.goto(f"{base}/campaigns/new")
    page.select_option("[data-testid=program]", str(pid))
    page.fill("[data-testid=region]", "K1")
    page.fill("[data-testid=name]", "Weekly one")
    page.fill("[data-testid=snapshot]", "abc")
    page.fill("[data-testid=budget]", "800")
    page.fill("[data-testid=priority]", "999")
    page.fill("[data-testid=start]", "2026-11-23")
    page.fill("[data-testid=end]", "2026-12-20")
    page.click("[data-testid=next]")
    # both errors at once, each next to its box, in plain words
    page.locator("[data-testid=field-error-priority]").wait_for()
    assert page.inner_text("[data-testid=field-error-priority]") == \
        "Priority: must be at most 100"
    assert "is not a snapshot number" in page.inner_text(
        "[data-testid=field-error-snapshot_id]")
    assert "pydantic" not in page.content()
    page.fill("[data-testid=snapshot]", "1")
    page.fill("[data-testid=priority]", "60")
    page.click("[data-testid=next]")
    page.wait_for_url("**/wizard/cells")
    page.fill("[data-testid=cell0-name]", "all")
    page.click("[data-testid=next]")
    page.wait_for_url("**/wizard/messages")
    page.fill("[data-testid=msg-all-sms-en]", "Hello")
    page.click("[data-testid=next]")
    page.wait_for_url("**/wizard/schedule")
    page.select_option("[data-testid=wave-sms-kind]", "weekly")
    page.click("[data-testid=next]")  # no weekday ticked: refused, not saved as Mondays
    page.locator("[data-testid=error]", has_text="at least one weekday").wait_for()
    page.select_option("[data-testid=wave-sms-kind]", "weekly")
    boxes = page.locator("[data-testid=weekdays-sms] input[type=checkbox]")
    boxes.nth(0).check()
    boxes.nth(2).check()
    page.click("[data-testid=next]")
    page.wait_for_url("**/wizard/rehearsal")
    page.goto(page.url.replace("/wizard/rehearsal", ""))
    assert page.inner_text("[data-testid=content-repeat-sms]") == "weekly: Mon, Wed"
