"""Each role in a real browser: logs in, sees only the navigation and pages its role
allows; login failure; logout."""

from __future__ import annotations

import pytest

from telcamp.access.permissions import ROLES
from telcamp.core.web import NAV

pytestmark = pytest.mark.browser
CONSOLE_ROLES = [r for r in ROLES if r != "channel"]


@pytest.mark.parametrize("role", CONSOLE_ROLES)
def test_role_sees_only_its_navigation_and_pages(
    role: str, live_server, page, page_as, test_regions  # type: ignore[no-untyped-def]
) -> None:
    region = "C01" if role in ("marketer", "approver") else "P01"
    principal = page_as(role, region)
    who = page.get_by_test_id("who")
    assert principal.username in who.inner_text()
    expected_region = "City One" if region == "C01" else "Province One"
    assert expected_region in who.inner_text()
    shown = [a.get_attribute("href") for a in page.locator("header.top nav a").all()]
    allowed = [p for p, _l, perm in NAV if perm is None or perm in ROLES[role]]
    assert shown == allowed
    for path, _label, perm in NAV:
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None
        if perm is None or perm in ROLES[role]:
            assert response.status == 200, path
        elif path == "/":  # no home page: '/' lands on the role's own page, never a 403
            assert response.status == 200, path
            landed = response.url.removeprefix(live_server.url)
            assert landed != "/" and landed in shown, landed
        else:
            assert response.status == 403, path
            assert page.get_by_test_id("forbidden").is_visible()


def test_login_failure_and_logout(live_server, page, page_as) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/audit")
    assert "/login" in page.url
    page.fill("input[name=username]", "nobody")
    page.fill("input[name=password]", "wrong-password")
    page.click("form[data-testid=login-form] button[type=submit]")
    assert page.get_by_test_id("login-error").is_visible()
    page_as("admin", None)
    page.goto(f"{live_server.url}/audit")
    assert page.get_by_test_id("audit-entries").is_visible()
    page.get_by_test_id("logout").click()
    page.wait_for_load_state()
    assert page.url.endswith("/login")
    page.goto(f"{live_server.url}/audit")
    assert "/login?next=" in page.url


def test_admin_creates_user_and_token_in_the_console(live_server, page, page_as) -> None:  # type: ignore[no-untyped-def]
    page_as("admin", None)
    page.goto(f"{live_server.url}/admin/users")
    form = page.get_by_test_id("new-user")
    form.locator("input[name=username]").fill("newbie")
    form.locator("input[name=password]").fill("newbie-pass-1")
    form.locator("select[name=role]").select_option("analyst")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    row = page.get_by_test_id("user-newbie")
    assert row.is_visible()
    row.locator("select[name=role]").select_option("approver")
    row.locator("button", has_text="Save").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("user-newbie").locator("select[name=role]").input_value() == (
        "approver")
    row = page.get_by_test_id("user-newbie")
    row.locator("input[name=password]").fill("another-pass-2")
    row.locator("button", has_text="Reset password").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("notice").is_visible()
    page.get_by_test_id("disable-newbie").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("user-newbie").get_by_test_id("disabled").is_visible()
    page.goto(f"{live_server.url}/admin/tokens")
    token_form = page.get_by_test_id("new-token")
    token_form.locator("input[name=name]").fill("website")
    token_form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    text = page.get_by_test_id("token-text").inner_text()
    assert text.startswith("tc_")
    page.goto(f"{live_server.url}/admin/tokens")
    assert text not in page.content()
