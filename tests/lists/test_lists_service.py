"""Special lists through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from telcamp.audit.models import AuditEntry
from telcamp.core import clock, warehouse
from telcamp.core.db import session_scope
from telcamp.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from telcamp.lists import service, sync
from telcamp.lists.exclusions import add_override, default_exclusions, remove_override
from telcamp.lists.schemas import ListCreate, ListUpdate

from .conftest import make_campaign, principal

ADMIN = principal("admin", "P01")
C01 = principal("marketer", "C01")
C02 = principal("marketer", "C02")
COUNTY = principal("marketer", "C01-01")
ANALYST = principal("analyst", "C01")


def _create(who, name, type_="blacklist", region=None) -> int:
    with session_scope() as s:
        lst = service.create_list(
            s, principal=who, list_in=ListCreate(name=name, type=type_, region_code=region)
        )
        return lst.id


def test_create_add_search_and_warehouse_copy(db, regions, frozen) -> None:
    lid = _create(C01, "complaints")
    with session_scope() as s:
        service.add_member(s, principal=C01, list_id=lid, msisdn="79120000001",
                           reason="complained 2026-11-01", expires_at="2026-12-31")
        service.add_member(s, principal=C01, list_id=lid, msisdn=" 79120000002 ")
    sync.sync_lists([lid], strict=True)
    with session_scope() as s:
        hits = service.search(s, principal=ADMIN, msisdn="79120000001")
        lists = service.visible_lists(s, principal=C01)
    assert [(h.list_name, h.reason, h.expired) for h in hits] == [
        ("complaints", "complained 2026-11-01", False)
    ]
    # a date means through that day in the list's zone (C01: Moscow), shown as typed
    assert hits[0].expires_at is not None and hits[0].expires_at.isoformat().startswith(
        "2026-12-31T21:00"
    )
    assert (hits[0].zone, str(hits[0].expires_through)) == ("Europe/Moscow", "2026-12-31")
    assert hits[0].msisdn == "79120000001"  # admin has pii.read
    assert lists[0].members == 2 and lists[0].default_excluded and lists[0].writable
    with warehouse.connect() as con:
        rows = con.execute(
            "SELECT msisdn, reason FROM list_members WHERE list_id = ? ORDER BY msisdn", [lid]
        ).fetchall()
    assert rows == [(79120000001, "complained 2026-11-01"), (79120000002, None)]


def test_search_masks_numbers_for_roles_without_pii(db, regions, frozen) -> None:
    lid = _create(C01, "complaints")
    with session_scope() as s:
        service.add_member(s, principal=C01, list_id=lid, msisdn="79120000001")
    with session_scope() as s:
        hits = service.search(s, principal=ANALYST, msisdn="79120000001")
        members = service.members(s, principal=ANALYST, list_id=lid)
    assert hits[0].msisdn == "7912****001"
    assert members[0].msisdn == "7912****001"


def test_region_scope_hides_other_regions_and_protects_ancestors(db, regions, frozen) -> None:
    province = _create(ADMIN, "operator blacklist")
    city = _create(C01, "city test numbers", "test")
    with session_scope() as s:
        service.add_member(s, principal=C01, list_id=city, msisdn="79120000009")
    with session_scope() as s:
        assert [lst.name for lst in service.visible_lists(s, principal=C02)] == [
            "operator blacklist"
        ]
        # a county sees its ancestors' lists (province and its city), not other cities'
        assert {lst.name for lst in service.visible_lists(s, principal=COUNTY)} == {
            "operator blacklist", "city test numbers"
        }
        assert [lst.name for lst in service.visible_lists(
            s, principal=principal("marketer", "C02-01"))] == ["operator blacklist"]
        with pytest.raises(Forbidden):  # readable, not theirs to change
            service.add_member(s, principal=COUNTY, list_id=city, msisdn="79120000003")
        assert service.search(s, principal=C02, msisdn="79120000009") == []
        with pytest.raises(NotFound) as err:
            service.add_member(s, principal=C02, list_id=city, msisdn="79120000003")
        assert "city test numbers" not in err.value.message
        with pytest.raises(NotFound):
            service.read_list(s, principal=C02, list_id=city)
        with pytest.raises(NotFound):
            service.read_list(s, principal=C02, list_id=99999)
        with pytest.raises(Forbidden):
            service.add_member(s, principal=C01, list_id=province, msisdn="79120000003")
        with pytest.raises(NotFound):
            service.create_list(s, principal=C01,
                                list_in=ListCreate(name="x", type="custom", region_code="C02"))
    with session_scope() as s, pytest.raises(NotFound, match="region NOPE not found"):
        service.create_list(s, principal=principal("admin"),
                            list_in=ListCreate(name="x", type="custom", region_code="NOPE"))
    # a county list created by the city marketer belongs to the city's subtree
    county_list = _create(C01, "county list", "custom", "C01-01")
    with session_scope() as s:
        assert service.read_list(s, principal=COUNTY, list_id=county_list).writable


def test_bad_input_changes_nothing(db, regions, frozen) -> None:
    lid = _create(C01, "complaints")
    bad = [
        ({"msisdn": "7912abc0001"}, "digits only"),
        ({"msisdn": "+7 912 000 00 0I"}, "digits only"),
        ({"msisdn": "(912) 000-00-01"}, "no country code"),
        ({"msisdn": "7912"}, "8 to 15 digits"),
        ({"msisdn": "1234567890123456"}, "8 to 15 digits"),
        ({"msisdn": "79120000001", "expires_at": "31/12/2026"}, "not an ISO date"),
        ({"msisdn": "79120000001", "expires_at": "2026-01-01"}, "in the past"),
    ]
    for kwargs, reason in bad:
        with session_scope() as s, pytest.raises(ValidationFailed) as err:
            service.add_member(s, principal=C01, list_id=lid, **kwargs)
        assert reason in err.value.message
    with session_scope() as s:
        assert service.visible_lists(s, principal=C01)[0].members == 0
        with pytest.raises(Conflict):
            service.create_list(s, principal=C01,
                                list_in=ListCreate(name="complaints", type="custom"))
    other = _create(C01, "other", "custom")
    with session_scope() as s, pytest.raises(Conflict):
        service.update_list(s, principal=C01, list_id=other, list_in=ListUpdate(name="complaints"))
    # the same name in another region is fine
    _create(C02, "complaints")


def test_operator_wide_names_are_unique_too(db, regions, frozen) -> None:
    system = principal("admin", None, "system")
    _create(system, "dnd", "optout")
    with session_scope() as s, pytest.raises(Conflict):
        service.create_list(s, principal=system, list_in=ListCreate(name="dnd", type="optout"))


def test_rename_remove_delete_are_audited_and_synced(db, regions, frozen) -> None:
    lid = _create(C01, "complaints")
    with session_scope() as s:
        service.add_member(s, principal=C01, list_id=lid, msisdn="79120000001")
        service.update_list(s, principal=C01, list_id=lid,
                            list_in=ListUpdate(name="complainers", description="from CRM"))
    sync.sync_lists([lid], strict=True)
    with session_scope() as s:
        service.remove_member(s, principal=C01, list_id=lid, msisdn="79120000001")
        with pytest.raises(NotFound):
            service.remove_member(s, principal=C01, list_id=lid, msisdn="79120000001")
    with session_scope() as s:
        service.delete_list(s, principal=C01, list_id=lid)
    sync.sync_lists([lid], strict=True)
    with session_scope() as s:
        actions = s.scalars(
            select(AuditEntry.action).where(AuditEntry.object_type == "special_list")
            .order_by(AuditEntry.id)
        ).all()
    assert actions == ["list.create", "list.member_add", "list.update", "list.member_remove",
                       "list.delete"]
    with warehouse.connect() as con:
        assert con.execute("SELECT count(*) FROM list_members").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM list_sync").fetchone() == (0,)


def test_failed_warehouse_copy_is_repaired_by_ensure_synced(db, regions, frozen) -> None:
    lid = _create(C01, "complaints")
    with session_scope() as s:
        service.add_member(s, principal=C01, list_id=lid, msisdn="79120000001")
    # the edge crashed after the commit: no sync_lists call. The copy is stale...
    with warehouse.connect() as con:
        assert sync.stale_lists(con) == [lid]
        con.execute("INSERT INTO list_members VALUES (424242, 79129999999, NULL, NULL, ?)",
                    [clock.now()])  # ...and rows of a list deleted meanwhile linger
    assert sync.ensure_synced() == [lid, 424242]
    assert sync.ensure_synced() == []
    with warehouse.connect() as con:
        assert con.execute("SELECT list_id, msisdn FROM list_members").fetchall() == [
            (lid, 79120000001)
        ]


def test_default_exclusions_order_expiry_and_override(db, regions, frozen) -> None:
    opt = _create(ADMIN, "dnd", "optout")
    grey = _create(ADMIN, "government", "greylist")
    black = _create(C02, "c02 complaints", "blacklist")
    _create(C01, "test phones", "test")
    with session_scope() as s:
        service.add_member(s, principal=C02, list_id=black, msisdn="79120000001")
        service.add_member(s, principal=C02, list_id=black, msisdn="79120000002",
                           expires_at=(frozen + timedelta(hours=1)).isoformat())
        service.add_member(s, principal=ADMIN, list_id=opt, msisdn="79120000003")
    sync.ensure_synced()
    with session_scope() as s:
        rules = default_exclusions(s, principal=C01)
    assert [(r.kind, r.list_id, r.label) for r in rules] == [
        ("list", black, "blacklist (another region)"),
        ("list", grey, "greylist: government"),
        ("list", opt, "optout: dnd"),
        ("recent_contact", None, "contacted in the last 7 days"),
    ]

    def excluded(rule) -> set[int]:
        cond, params = rule.warehouse_sql("s.msisdn")
        with warehouse.connect() as con:
            con.execute("CREATE OR REPLACE TEMP TABLE s AS SELECT unnest(?) AS msisdn",
                        [[79120000001, 79120000002, 79120000003]])
            found = con.execute(f"SELECT msisdn FROM s WHERE {cond}", params).fetchall()
            return {r[0] for r in found}

    assert excluded(rules[0]) == {79120000001, 79120000002}
    clock.freeze(frozen + timedelta(hours=2))  # the second member has expired
    with session_scope() as s:
        later = default_exclusions(s, principal=C01)
    assert excluded(later[0]) == {79120000001}
    assert excluded(later[3]) == set()  # no contact history yet
    with warehouse.connect() as con:  # a failed contact never reached them; a sent one did
        con.execute("INSERT INTO contact_history (msisdn, channel, contacted_at, outcome) "
                    "VALUES (79120000001, 'sms', ?, 'failed'), (79120000002, 'sms', ?, 'sent')",
                    [frozen, frozen])
    assert excluded(later[3]) == {79120000002}

    c7, c8 = make_campaign("C01"), make_campaign("C01")
    with session_scope() as s:
        with pytest.raises(Forbidden):
            add_override(s, principal=C01, campaign_id=c7, list_id=black, reason="x")
        with pytest.raises(ValidationFailed):
            add_override(s, principal=ADMIN, campaign_id=c7,
                         list_id=_create(ADMIN, "t", "test"), reason="x")
    with session_scope() as s:
        add_override(s, principal=ADMIN, campaign_id=c7, list_id=grey,
                     reason="a campaign for government lines")
    with session_scope() as s, pytest.raises(Conflict):
        add_override(s, principal=ADMIN, campaign_id=c7, list_id=grey, reason="again")
    with session_scope() as s:
        assert grey not in [r.list_id for r in default_exclusions(s, principal=C01,
                                                                  campaign_id=c7)]
        assert grey in [r.list_id for r in default_exclusions(s, principal=C01, campaign_id=c8)]
        remove_override(s, principal=ADMIN, campaign_id=c7, list_id=grey)
        audit = s.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("list.override%"))).all()
    assert audit == ["list.override_add", "list.override_remove"]


def test_resolve_list_by_name_prefers_own_region(db, regions, frozen) -> None:
    _create(ADMIN, "vip", "custom")
    own = _create(C01, "vip", "custom")
    _create(C02, "vip", "custom")
    with session_scope() as s:
        assert service.resolve_list(s, principal=C01, ref="vip").id == own
        assert service.resolve_list(s, principal=C01, ref=str(own)).id == own
        with pytest.raises(ValidationFailed, match="several regions"):
            service.resolve_list(s, principal=principal("admin", None), ref="vip")
        with pytest.raises(NotFound):
            service.resolve_list(s, principal=C01, ref="nope")


def test_one_number_changes_copy_one_row_unless_a_change_was_missed(db, regions, frozen):
    lid = _create(C01, "complaints")
    with session_scope() as s:
        service.add_member(s, principal=C01, list_id=lid, msisdn="79120000001")
    sync.sync_lists([lid], strict=True)

    def held() -> tuple[int, list[int]]:
        with warehouse.connect() as con:
            version = con.execute("SELECT version FROM list_sync WHERE list_id = ?",
                                  [lid]).fetchall()[0][0]
            rows = con.execute("SELECT msisdn FROM list_members ORDER BY msisdn").fetchall()
        return version, [r[0] for r in rows]

    assert held() == (2, [79120000001])
    with session_scope() as s:
        service.add_member(s, principal=C01, list_id=lid, msisdn="79120000002",
                           reason="r")
    assert sync.sync_member(lid, 79120000002, strict=True)
    assert held() == (3, [79120000001, 79120000002])
    assert sync.sync_member(lid, 79120000002, strict=True)  # twice: harmless
    assert held() == (3, [79120000001, 79120000002])
    # two changes, the first one's copy lost: the second sees a gap and copies it all
    with session_scope() as s:
        service.remove_member(s, principal=C01, list_id=lid, msisdn="79120000001")
    with session_scope() as s:
        service.add_member(s, principal=C01, list_id=lid, msisdn="79120000003")
    assert sync.sync_member(lid, 79120000003, strict=True)
    assert held() == (5, [79120000002, 79120000003])
    with warehouse.connect() as con:
        assert sync.stale_lists(con) == []


def test_counts_come_from_the_current_warehouse_copy_or_the_database(db, regions, frozen,
                                                                     monkeypatch):
    lid = _create(C01, "complaints")
    with session_scope() as s:
        service.add_member(s, principal=C01, list_id=lid, msisdn="79120000001")
        service.add_member(s, principal=C01, list_id=lid, msisdn="79120000002",
                           expires_at=(frozen + timedelta(hours=1)).isoformat())
    clock.freeze(frozen + timedelta(hours=2))
    with session_scope() as s:  # not copied yet: counted in the operational DB
        assert service._counts(s, [lid]) == {lid: (1, 1)}
    sync.ensure_synced()
    real_op_counts = service._op_counts

    def op_counts(session, ids):
        assert ids == [], "a current warehouse copy should answer"
        return real_op_counts(session, ids)

    monkeypatch.setattr(service, "_op_counts", op_counts)
    with session_scope() as s:
        assert service._counts(s, [lid]) == {lid: (1, 1)}
        assert service.read_list(s, principal=C01, list_id=lid).members == 1


def test_server_start_repairs_a_stale_copy(db, regions, frozen):
    from fastapi.testclient import TestClient

    from telcamp.app import create_app

    lid = _create(C01, "complaints")
    with session_scope() as s:
        service.add_member(s, principal=C01, list_id=lid, msisdn="79120000001")
    with warehouse.connect() as con:
        assert sync.stale_lists(con) == [lid]
    with TestClient(create_app()):
        pass
    with warehouse.connect() as con:
        assert sync.stale_lists(con) == []
