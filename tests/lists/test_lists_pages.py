"""Console pages for lists through HTTP (the browser test drives the same pages)."""

from __future__ import annotations

import html
import re
from zoneinfo import ZoneInfo

from telcamp.core import clock

from .conftest import make_campaign

BAD_FILE = b"79120000001,complaint\n7912x,typo\n79120000002\n"


def _create(client, name="complaints", type_="blacklist") -> int:
    r = client.post("/lists", data={"name": name, "type": type_}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1])


def test_create_import_confirm_search_add_remove(db, regions, frozen, login):
    marketer = login("marketer", "C01")
    page = marketer.get("/lists")
    assert page.status_code == 200 and 'href="/lists"' in page.text
    lid = _create(marketer)

    r = marketer.post(f"/lists/{lid}/import",
                      files={"file": ("c.csv", BAD_FILE, "text/csv")})
    assert r.status_code == 422
    assert 'data-testid="rejected-rows"' in r.text and "must be digits only" in r.text
    assert 'data-testid="nothing-imported"' in r.text
    # not yet: confirming imports the valid rows (not "nothing was imported")
    assert "Nothing is imported yet: the valid rows are imported" in r.text
    token = re.search(r'name="token" value="([^"]+)"', r.text).group(1)
    assert '<span data-testid="member-count">0</span>' in r.text

    r = marketer.post(f"/lists/{lid}/import/confirm", data={"token": token})
    assert r.status_code == 200, r.text
    assert '<b data-testid="report-added">2</b>' in r.text
    assert '<span data-testid="member-count">2</span>' in r.text
    # the token is spent: the same confirmation again (a reload of the POST) imports
    # nothing more and shows the list, not "upload the file again"
    again = marketer.post(f"/lists/{lid}/import/confirm", data={"token": token},
                          follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == f"/lists/{lid}"
    assert '<span data-testid="member-count">2</span>' in marketer.get(f"/lists/{lid}").text
    # another user, or another list, with that token: no longer pending
    other = marketer.post("/api/lists", json={"name": "other", "type": "custom"}).json()["id"]
    assert marketer.post(f"/lists/{other}/import/confirm",
                         data={"token": token}).status_code == 410
    assert marketer.post(f"/lists/{lid}/import/confirm",
                         data={"token": "x" * 32}).status_code == 410

    r = marketer.post(f"/lists/{lid}/members",
                      data={"msisdn": "79120000003", "reason": "hotline",
                            "expires_at": "2027-01-01"})
    assert r.status_code == 200 and '<span data-testid="member-count">3</span>' in r.text
    assert "7912****003" in r.text and "79120000003" not in r.text  # masked for marketers
    bad = marketer.post(f"/lists/{lid}/members", data={"msisdn": "12ab"})
    assert bad.status_code == 422 and "digits only" in bad.text

    # the member's added time says its zone, the list's, as the expiry beside it does
    assert re.search(r'<td data-testid="added">\d{4}-\d\d-\d\d \d\d:\d\d '
                     r"<small>Europe/Moscow</small></td>", r.text)
    # counts as "label: n" in every language: no plural form to get wrong
    ru = marketer.get(f"/lists/{lid}?lang=ru").text
    assert 'номеров: <span data-testid="member-count">3</span>' in ru
    assert "истекло: 0" in ru and "истёк" not in ru

    hit = marketer.get("/lists/search", params={"msisdn": "79120000003"})
    assert "hotline" in hit.text and "complaints" in hit.text
    none = marketer.get("/lists/search", params={"msisdn": "79129999999"})
    assert 'data-testid="search-none"' in none.text

    r = marketer.post(f"/lists/{lid}/remove", data={"msisdn": "79120000003"})
    assert '<span data-testid="member-count">2</span>' in r.text
    # the change is said, without the number in the address
    assert str(r.url).endswith(f"/lists/{lid}?done=removed")
    # (the page is in Russian since ?lang=ru above set the cookie)
    assert 'data-testid="done-note"' in r.text and "Номер удалён." in r.text
    assert "The number was removed." in marketer.get(f"/lists/{lid}?done=removed&lang=en").text
    assert "Номер добавлен." in marketer.get(f"/lists/{lid}?done=added&lang=ru").text
    assert 'data-testid="done-note"' not in marketer.get(f"/lists/{lid}?done=x").text
    r = marketer.post(f"/lists/{lid}/delete", follow_redirects=False)
    assert r.headers["location"] == "/lists"


def test_foreign_list_page_is_not_found_and_readers_get_no_forms(db, regions, frozen, login):
    c01 = login("marketer", "C01")
    lid = _create(c01, "c01 only", "custom")
    c02 = login("marketer", "C02")
    r = c02.get(f"/lists/{lid}")
    assert r.status_code == 404 and "c01 only" not in r.text
    r = c02.post(f"/lists/{lid}/members", data={"msisdn": "79120000001"})
    assert r.status_code == 404 and "c01 only" not in r.text
    analyst = login("analyst", "P01")
    r = analyst.get(f"/lists/{lid}")
    assert r.status_code == 200 and 'data-testid="import-form"' not in r.text
    assert analyst.post(f"/lists/{lid}/members",
                        data={"msisdn": "79120000001"}).status_code == 403


def test_duplicate_name_shows_an_error(db, regions, frozen, login):
    c01 = login("marketer", "C01")
    _create(c01, "dup", "custom")
    r = c01.post("/lists", data={"name": "dup", "type": "test"})
    assert r.status_code == 409 and "already exists" in r.text


def test_admin_overrides_a_default_list_for_one_campaign(db, regions, frozen, login):
    admin = login("admin", "P01")
    lid = _create(admin, "government", "greylist")
    cid, other = make_campaign("P01"), make_campaign("P01")
    r = admin.post(f"/lists/{lid}/overrides", data={"campaign_id": str(cid), "reason": "gov"},
                   follow_redirects=True)
    assert r.status_code == 200 and 'data-testid="overrides"' in r.text
    assert f">{cid}<" in r.text
    marketer = login("marketer", "P01")
    page = marketer.get(f"/lists/{lid}")
    assert 'data-testid="overrides"' in page.text and "override-form" not in page.text
    assert marketer.post(f"/lists/{lid}/overrides",
                         data={"campaign_id": str(other), "reason": "x"}).status_code == 403
    r = admin.post(f"/lists/{lid}/overrides/{cid}/delete", follow_redirects=True)
    assert 'data-testid="overrides"' not in r.text
    # an id no campaign has is refused on the page, in the reader's language
    r = admin.post(f"/lists/{lid}/overrides?lang=ru", data={"campaign_id": "999",
                                                           "reason": "later"})
    assert r.status_code == 404 and "999" in r.text and "not found" not in r.text
    assert 'data-testid="overrides"' not in r.text


def test_a_date_only_expiry_is_shown_as_the_date_typed(db, regions, login) -> None:  # type: ignore[no-untyped-def]
    """2027-06-30 typed for a Moscow list means through that day in Moscow (stored as
    2027-06-30 21:00 UTC) and the page shows 2027-06-30, not '2027-07-01 00:00 UTC';
    one number and CSV import agree."""
    marketer = login("marketer", "C01")
    lid = marketer.post("/api/lists", json={"name": "vip", "type": "custom"}).json()["id"]
    r = marketer.post(f"/lists/{lid}/members", data={"msisdn": "79120000001",
                                                      "expires_at": "2027-06-30"})
    assert r.status_code == 200, r.text
    assert "until the end of 2027-06-30" in r.text and "Europe/Moscow" in r.text
    assert "2027-07-01" not in r.text
    files = {"file": ("v.csv", b"79120000002,,2027-06-30\n", "text/csv")}
    assert marketer.post(f"/lists/{lid}/import", files=files).status_code == 200
    hits = [marketer.get("/api/lists/search", params={"msisdn": n}).json()[0]
            for n in ("79120000001", "79120000002")]
    assert {h["expires_at"][:16] for h in hits} == {"2027-06-30T21:00"}
    assert {h["expires_through"] for h in hits} == {"2027-06-30"}
    ru = marketer.get("/lists/search", params={"msisdn": "79120000002", "lang": "ru"})
    assert "до конца дня 2027-06-30" in ru.text


def test_the_time_a_number_was_added_is_shown_in_the_lists_zone(db, regions, frozen, login):
    """Beside an expiry in the list's zone, 'added' is in that zone too (it was UTC)."""
    marketer = login("marketer", "C01")
    lid = marketer.post("/api/lists", json={"name": "vip", "type": "custom"}).json()["id"]
    assert marketer.post(f"/lists/{lid}/members",
                         data={"msisdn": "79120000001"}).status_code == 200
    page = marketer.get(f"/lists/{lid}").text
    added = page.split('data-testid="added">', 1)[1].split("</td>", 1)[0]
    moscow = clock.now().astimezone(ZoneInfo("Europe/Moscow")).strftime("%Y-%m-%d %H:%M")
    assert added.startswith(moscow) and "Europe/Moscow" in added, added
    assert "UTC" not in added
    hit = marketer.get("/api/lists/search", params={"msisdn": "79120000001"}).json()[0]
    assert hit["added_local"] == moscow and hit["zone"] == "Europe/Moscow"


def test_a_list_address_that_is_no_id_is_the_not_found_page(db, regions, frozen, login):
    marketer = login("marketer", "C01")
    for path in ("/lists/abc", "/lists/999"):
        r = marketer.get(path + "?lang=ru")
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
        assert 'data-testid="error"' in r.text and "не найден" in r.text


def test_an_operator_wide_list_says_who_may_change_it(db, regions, frozen, login):
    admin = login("admin", None)
    lid = _create(admin, name="black")
    r = login("marketer", "C01").post(f"/lists/{lid}/members?lang=ru",
                                      data={"msisdn": "79120000001"})
    assert r.status_code == 403
    assert f"список {lid} общий для всего оператора" in r.text


def test_a_campaign_id_that_is_no_number_is_said_on_the_page(db, regions, frozen, login):
    """The override form's campaign box is typed text: 'abc' got the API's JSON back
    instead of the list page (trial finding)."""
    admin = login("admin", "P01")
    lid = _create(admin, "government", "greylist")
    r = admin.post(f"/lists/{lid}/overrides?lang=zh", data={"campaign_id": "abc",
                                                           "reason": "x"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "营销活动编号 'abc' 不是整数" in html.unescape(r.text)
    assert 'data-testid="error"' in r.text
