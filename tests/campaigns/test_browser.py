"""A campaign from draft to launched through the console in Chromium, with a marketer and
an approver (two users)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import make_program

pytestmark = pytest.mark.browser


def test_draft_to_launched_through_the_pages(world: str, live_server: Any, page: Any,
                                             page_as: Any) -> None:
    pid = make_program()
    base = live_server.url
    page_as("marketer", "C1")
    page.goto(f"{base}/campaigns")
    page.click("[data-testid=new-campaign]")
    page.select_option("[data-testid=program]", str(pid))
    page.fill("[data-testid=region]", "K1")
    page.fill("[data-testid=name]", "Browser campaign")
    page.fill("[data-testid=snapshot]", "1")
    page.fill("[data-testid=offer]", "DATA5")
    page.fill("[data-testid=budget]", "800")
    page.fill("[data-testid=start]", "2026-11-23")
    page.fill("[data-testid=end]", "2026-12-20")
    page.click("[data-testid=next]")
    page.wait_for_url("**/wizard/cells")

    page.fill("[data-testid=cell0-name]", "vip")
    page.select_option("[data-testid=cell0-kind]", "tier:high")
    page.click("[data-testid=add-cell]")
    page.fill("[data-testid=cell1-name]", "rest")
    page.click("[data-testid=next]")
    page.wait_for_url("**/wizard/messages")

    page.fill("[data-testid=msg-vip-sms-ru]", "Привет! Для вас 5 ГБ интернета " * 3)
    # the counter follows the text as it is typed: Cyrillic → UCS-2, 93 characters → 2 parts
    page.locator("[data-testid=count-vip-ru]", has_text="UCS-2").wait_for()
    assert page.inner_text("[data-testid=count-vip-ru]").endswith(": 2")
    page.fill("[data-testid=msg-vip-sms-en]", "Hello, 5 GB for you ({{ offer_code }})")
    page.fill("[data-testid=msg-rest-sms-en]", "1 GB for you")
    page.fill("[data-testid=preview-msisdn]", "79000000000")
    page.click("[data-testid=preview-button]")
    page.locator("[data-testid=preview-text]").wait_for()  # the unsaved text, personalised
    assert page.inner_text("[data-testid=preview-text]") == "Hello, 5 GB for you (DATA5)"
    page.click("[data-testid=next]")
    page.wait_for_url("**/wizard/schedule")
    page.click("[data-testid=next]")
    page.wait_for_url("**/wizard/rehearsal")
    assert page.inner_text("[data-testid=members]") == "300"
    page.click("[data-testid=submit]")
    page.wait_for_selector("[data-testid=state]")
    assert page.inner_text("[data-testid=state]") == "submitted"
    campaign_url = page.url
    # the server and this test share one process: let the server finish with the DuckDB
    # file before the test opens it to create the next user (DuckDB refuses a read-only
    # and a read-write connection to one file in one process)
    page.wait_for_load_state("networkidle")
    page.click("[data-testid=logout]")
    page.wait_for_load_state("networkidle")

    page_as("approver", "C1")
    page.goto(f"{base}/approvals")
    cid = campaign_url.rstrip("/").rsplit("/", 1)[1]
    page.fill(f"[data-testid=comment-{cid}]", "Looks good")
    page.click(f"[data-testid=approve-{cid}]")
    page.wait_for_selector("[data-testid=inbox-empty]")
    page.wait_for_load_state("networkidle")
    page.click("[data-testid=logout]")
    page.wait_for_load_state("networkidle")

    page_as("marketer", "C1")
    page.goto(campaign_url)
    assert page.inner_text("[data-testid=state]") == "scheduled"
    # Launch asks first: dismissing the question leaves the campaign as it was
    questions: list[str] = []

    def answer(dialog: Any, accept: bool) -> None:
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    page.click("[data-testid=launch]")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("[data-testid=state]") == "scheduled"
    page.once("dialog", lambda d: answer(d, True))
    page.click("[data-testid=launch]")
    page.wait_for_selector("[data-testid=contacts]")
    assert len(questions) == 2 and "now?" in questions[0]
    assert page.inner_text("[data-testid=state]") == "running"
    assert int(page.inner_text("[data-testid=contacts-control]")) > 0


def test_wizard_cells_any_number_reordered_and_counted(world: str, live_server: Any,
                                                       page: Any, page_as: Any) -> None:
    from telcamp.core.db import session_scope

    from .conftest import MARKETER, make_campaign

    cid = make_campaign(make_program())
    page_as("marketer", "C1")
    page.goto(f"{live_server.url}/campaigns/{cid}/wizard/cells")
    # the saved cells are counted at once
    assert page.inner_text("[data-testid=gets-high]") == "99"
    page.click("[data-testid=add-cell]")
    page.fill("[data-testid=cell3-name]", "rich")
    page.select_option("[data-testid=cell3-kind]", "rule")
    page.fill("[data-testid=cell3-rule]", '{"field": "arpu_3m", "op": ">=", "value": 50}')
    # move "rich" above the default cell "rest", then count without saving
    page.click("[data-testid=cell3-up]")
    assert page.input_value("[data-testid=cell2-name]") == "rich"
    page.click("[data-testid=count-cells]")
    page.locator("[data-testid=cell-counts]").wait_for()
    assert "high: 53" in page.inner_text("[data-testid=overlap-rich]")
    # remove "medium": its subscribers fall to rich or the default cell
    page.click("[data-testid=cell1-remove]")
    assert page.locator("[data-testid=cell-row-3]").count() == 0
    page.click("[data-testid=next]")
    page.wait_for_url("**/wizard/messages")
    with session_scope() as s:
        from telcamp.campaigns import service

        c = service.get_campaign(session=s, actor=MARKETER, campaign_id=cid)
        assert [x.name for x in c.cells] == ["high", "rich", "rest"]
