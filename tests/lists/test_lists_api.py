"""REST API under /api/lists as real roles (login fixture), on SQLite and PostgreSQL."""

from __future__ import annotations

from telcamp.core import warehouse

from .conftest import make_campaign

BAD_FILE = b"msisdn,reason\n79120000001,complaint\n7912x,typo\n79120000002,\n"


def _create(client, name="complaints", type_="blacklist", **extra):
    r = client.post("/api/lists", json={"name": name, "type": type_, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def test_crud_import_search_flow(db, regions, frozen, login):
    marketer = login("marketer", "C01")
    lst = _create(marketer)
    assert lst["region_code"] == "C01" and lst["default_excluded"] is True

    files = {"file": ("complaints.csv", BAD_FILE, "text/csv")}
    r = marketer.post(f"/api/lists/{lst['id']}/import", files=files)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "partial_import_unconfirmed"
    assert body["report"]["rejected"] == [
        {"line": 3, "value": "7912x", "reason": "must be digits only (E.164; spaces, "
                                                "- . ( ) and a leading + are allowed)",
         "column": "msisdn"}
    ]
    assert marketer.get(f"/api/lists/{lst['id']}").json()["members"] == 0

    r = marketer.post(f"/api/lists/{lst['id']}/import", files=files,
                      data={"confirm_partial": "true"})
    assert r.status_code == 200, r.text
    assert (r.json()["added"], r.json()["rejected_total"]) == (2, 1)
    assert marketer.get(f"/api/lists/{lst['id']}").json()["members"] == 2

    r = marketer.post(f"/api/lists/{lst['id']}/members",
                      json={"msisdn": "79120000003", "reason": "called", "expires_at":
                            "2027-01-01"})
    assert r.status_code == 201, r.text
    assert r.json()["msisdn"] == "7912****003"  # marketers have no pii.read

    hits = marketer.get("/api/lists/search", params={"msisdn": "79120000003"}).json()
    assert [(h["list_name"], h["reason"]) for h in hits] == [("complaints", "called")]
    assert marketer.get("/api/lists/search", params={"msisdn": "12"}).status_code == 422

    with warehouse.connect() as con:  # the warehouse copy followed every change
        assert con.execute("SELECT count(*) FROM list_members WHERE list_id = ?",
                           [lst["id"]]).fetchone() == (3,)

    assert marketer.delete(f"/api/lists/{lst['id']}/members/79120000003").status_code == 204
    r = marketer.patch(f"/api/lists/{lst['id']}", json={"name": "complainers"})
    assert r.json()["name"] == "complainers"
    members = marketer.get(f"/api/lists/{lst['id']}/members").json()
    assert len(members) == 2 and all("****" in m["msisdn"] for m in members)
    assert marketer.delete(f"/api/lists/{lst['id']}").status_code == 204
    assert marketer.get(f"/api/lists/{lst['id']}").status_code == 404


def test_region_scoping_and_permissions(db, regions, frozen, login):
    c01 = login("marketer", "C01")
    c02 = login("marketer", "C02")
    analyst = login("analyst", "P01")
    lst = _create(c01, "c01 only", "custom")
    for method, path, kw in [
        ("get", f"/api/lists/{lst['id']}", {}),
        ("patch", f"/api/lists/{lst['id']}", {"json": {"name": "x"}}),
        ("delete", f"/api/lists/{lst['id']}", {}),
        ("post", f"/api/lists/{lst['id']}/members", {"json": {"msisdn": "79120000001"}}),
        ("post", f"/api/lists/{lst['id']}/import",
         {"files": {"file": ("a.csv", b"79120000001\n", "text/csv")}}),
    ]:
        r = getattr(c02, method)(path, **kw)
        assert r.status_code == 404, (method, path, r.text)
        assert "c01 only" not in r.text
    assert [x["name"] for x in c02.get("/api/lists").json()] == []
    assert [x["name"] for x in analyst.get("/api/lists").json()] == ["c01 only"]
    # analysts read but do not write
    assert analyst.post("/api/lists", json={"name": "a", "type": "custom"}).status_code == 403
    # a duplicate name in the same region is a conflict
    r = c01.post("/api/lists", json={"name": "c01 only", "type": "test"})
    assert r.status_code == 409 and r.json()["field"] == "name"
    # an unknown type is refused with the field named
    r = c01.post("/api/lists", json={"name": "z", "type": "vip"})
    assert r.status_code == 422 and r.json()["field"] == "type"


def test_override_needs_admin_and_changes_the_exclusions(db, regions, frozen, login):
    admin = login("admin", "P01")
    marketer = login("marketer", "C01")
    grey = _create(admin, "government", "greylist")
    cid = make_campaign("C01")
    ids = [r["list_id"] for r in marketer.get("/api/lists/exclusions",
                                               params={"campaign_id": cid}).json()]
    assert ids == [grey["id"], None]
    body = {"campaign_id": cid, "list_id": grey["id"], "reason": "government campaign"}
    assert marketer.post("/api/lists/overrides", json=body).status_code == 403
    assert admin.post("/api/lists/overrides", json=body).status_code == 201
    ids = [r["list_id"] for r in marketer.get("/api/lists/exclusions",
                                               params={"campaign_id": cid}).json()]
    assert ids == [None]
    assert admin.delete(f"/api/lists/overrides/{cid}/{grey['id']}").status_code == 204
    assert len(marketer.get("/api/lists/exclusions", params={"campaign_id": cid}).json()) == 2


def test_anonymous_is_refused(db):
    from fastapi.testclient import TestClient

    from telcamp.app import create_app

    with TestClient(create_app()) as client:
        assert client.get("/api/lists").status_code == 401
