"""Deleting a segment from the Segments page in a real browser: the button asks first;
declining keeps it, accepting deletes it; a used segment's refusal names its user."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_delete_asks_first_and_refusal_names_the_user(warehouse_file: str, live_server: Any,
                                                       page: Any, page_as: Any) -> None:
    from telcamp.access.permissions import ROLES
    from telcamp.core.db import session_scope
    from telcamp.core.security import Principal
    from telcamp.segments import service
    from telcamp.segments.schemas import SegmentCreate

    who = Principal(username="mk", role="marketer", permissions=ROLES["marketer"],
                    region_code="C01")
    with session_scope() as s:
        gone = service.create(s, segment_in=SegmentCreate(
            name="Old promo", rule={"field": "value_tier", "op": "=", "value": "low"}),
            principal=who).id
        used = service.create(s, segment_in=SegmentCreate(
            name="Core", rule={"field": "value_tier", "op": "=", "value": "high"}),
            principal=who).id
        service.create(s, segment_in=SegmentCreate(
            name="Core plus", rule={"in_segment": used}), principal=who)
    page_as("marketer", "C01")
    page.goto(f"{live_server.url}/segments")

    page.once("dialog", lambda d: d.dismiss())  # "Delete the segment Old promo? …" → no
    page.get_by_test_id(f"delete-segment-{gone}").click()
    assert page.get_by_test_id(f"delete-segment-{gone}").is_visible()

    questions: list[str] = []

    def accept(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_test_id(f"delete-segment-{gone}").click()
    page.get_by_test_id("notice").wait_for()
    assert questions and "Old promo" in questions[0]
    assert "Old promo" in page.get_by_test_id("notice").inner_text()
    assert page.get_by_test_id(f"delete-segment-{gone}").count() == 0

    page.once("dialog", lambda d: d.accept())
    page.get_by_test_id(f"delete-segment-{used}").click()
    error = page.get_by_test_id("error")
    error.wait_for()
    assert "is still used" in error.inner_text() and "Core plus" in error.inner_text()
    assert page.get_by_test_id(f"delete-segment-{used}").is_visible()
