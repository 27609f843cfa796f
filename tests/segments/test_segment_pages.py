"""The segment console pages through HTTP: a segment the user may not open is an HTML
"not found" page in the reader's language, never the API's JSON."""

from __future__ import annotations

from typing import Any

from telcamp.access.masking import mask_msisdn

HIGH = {"field": "value_tier", "op": "=", "value": "high"}



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


def _member_count(html: str) -> int:
    return html.count("<li>")


def test_the_segment_page_shows_every_version_and_its_snapshots(api: Any, con: Any) -> None:
    marketer = api("marketer", "C01")
    seg = marketer.post("/api/segments", json={"name": "high", "rule": HIGH}).json()
    female = {"all": [HIGH, {"field": "gender", "op": "=", "value": "f"}]}
    assert marketer.patch(f"/api/segments/{seg['id']}",
                          json={"rule": female, "note": "women only"}).status_code == 200
    # a blacklisted member of the audience: the snapshot's funnel removes it
    lst = marketer.post("/api/lists", json={"name": "Complaints", "type": "blacklist"}).json()
    number = str(con.execute(
        "SELECT msisdn FROM profile WHERE value_tier = 'high' AND gender = 'f' AND "
        "city_code = 'C01' ORDER BY msisdn LIMIT 1").fetchone()[0])
    assert marketer.post(f"/api/lists/{lst['id']}/members",
                         json={"msisdn": number}).status_code == 201

    page = marketer.get(f"/segments/{seg['id']}")
    assert page.status_code == 200 and "No snapshots yet." in page.text
    # newest version first, each in words; the old one stays readable
    assert page.text.index('data-testid="version-2"') < page.text.index('data-testid="version-1"')
    assert "women only" in page.text and "(current)" in page.text

    taken = marketer.post(f"/segments/{seg['id']}/snapshot", follow_redirects=False)
    assert taken.status_code == 303
    snap_url = taken.headers["location"]
    snap = marketer.get(snap_url)
    assert snap.status_code == 200, snap.text
    stored = marketer.get("/api" + snap_url).json()
    assert stored["version"] == 2 and stored["count"] == stored["matched"] - 1
    assert f'data-testid="final">{stored["count"]:,}<' in snap.text
    assert "blacklist: Complaints" in snap.text
    # the members are the snapshot's, masked for a marketer (no PII rights)
    expected = [str(r[0]) for r in con.execute(
        "SELECT msisdn FROM segment_snapshot_members WHERE snapshot_id = ? ORDER BY msisdn "
        "LIMIT 100", [stored["id"]]).fetchall()]
    assert _member_count(snap.text) == min(100, stored["count"]) and number not in snap.text
    masked = mask_msisdn(expected[0], marketer.principal)
    assert masked != expected[0] and f"<li>{masked}</li>" in snap.text
    assert expected[0] not in snap.text
    admin = api("admin")
    assert f"<li>{expected[0]}</li>" in admin.get(snap_url).text

    # the segment page lists it; in Russian the stored funnel is said in Russian
    assert f'data-testid="snapshot-{stored["id"]}"' in marketer.get(f"/segments/{seg['id']}").text
    ru = marketer.get(snap_url + "?lang=ru")
    assert "чёрный список: Complaints" in ru.text and "blacklist: Complaints" not in ru.text
    # another city's user: not found, as a page
    _not_found_page(api("marketer", "C02").get(snap_url), f"snapshot {stored['id']} not found")
    _not_found_page(api("marketer", "C02").get(f"/segments/{seg['id']}"),
                    f"segment {seg['id']} not found")


def test_snapshot_members_page_by_page(api: Any, con: Any) -> None:
    admin = api("admin")
    seg = admin.post("/api/segments", json={"name": "everyone",
                                            "rule": {"field": "age", "op": ">=", "value": 0}})
    snap = admin.post(f"/api/segments/{seg.json()['id']}/snapshots").json()
    assert snap["count"] > 250
    every = [str(r[0]) for r in con.execute(
        "SELECT msisdn FROM segment_snapshot_members WHERE snapshot_id = ? ORDER BY msisdn",
        [snap["id"]]).fetchall()]
    url = f"/segments/snapshots/{snap['id']}"
    second = admin.get(url + "?page=2").text
    assert f"<li>{every[100]}</li>" in second and f"<li>{every[99]}</li>" not in second
    assert 'data-testid="prev"' in second and 'data-testid="next"' in second
    pages = -(-len(every) // 100)
    last = admin.get(url + f"?page={pages + 5}").text  # past the end: the last page
    assert f"<li>{every[-1]}</li>" in last and 'data-testid="next"' not in last
    assert _member_count(admin.get(url + "?page=abc").text) == 100  # a hand-edited page
    api_page = admin.get(f"/api{url}/members?limit=2&offset=100").json()
    assert api_page["members"] == every[100:102]


def test_a_deleted_segment_stays_readable_and_takes_no_snapshot(api: Any) -> None:
    marketer = api("marketer", "C01")
    seg = marketer.post("/api/segments", json={"name": "gone", "rule": HIGH}).json()
    snap = marketer.post(f"/api/segments/{seg['id']}/snapshots").json()
    assert marketer.delete(f"/api/segments/{seg['id']}").status_code == 200
    page = marketer.get(f"/segments/{seg['id']}")
    assert page.status_code == 200 and 'data-testid="deleted"' in page.text
    assert 'data-testid="take-snapshot"' not in page.text
    assert marketer.get(f"/segments/snapshots/{snap['id']}").status_code == 200
    refused = marketer.post(f"/segments/{seg['id']}/snapshot", follow_redirects=False)
    assert refused.status_code == 409 and "was deleted on" in refused.text
    assert len(marketer.get(f"/api/segments/{seg['id']}/snapshots").json()) == 1
    # an analyst may read the page but is not offered the button, nor may post it
    analyst = api("analyst", "C01")
    live = marketer.post("/api/segments", json={"name": "live", "rule": HIGH}).json()
    assert 'data-testid="take-snapshot"' not in analyst.get(f"/segments/{live['id']}").text
    assert analyst.post(f"/segments/{live['id']}/snapshot").status_code == 403
