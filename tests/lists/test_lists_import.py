"""CSV import: validation report, all-or-nothing unless confirmed, upsert, bad files."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from telcamp.audit.models import AuditEntry
from telcamp.core import warehouse
from telcamp.core.db import session_scope
from telcamp.core.errors import FileRejected
from telcamp.lists import importer, service, sync
from telcamp.lists.importer import ImportNeedsConfirmation
from telcamp.lists.schemas import ListCreate

from .conftest import principal

C01 = principal("marketer", "C01")
C02 = principal("marketer", "C02")


def _list(who=C01, name="imported") -> int:
    with session_scope() as s:
        return service.create_list(s, principal=who,
                                   list_in=ListCreate(name=name, type="custom")).id


def _import(lid, data: bytes, *, confirm=False, who=C01, file="f.csv"):
    parsed = importer.parse(data, file=file)
    with session_scope() as s:
        return importer.apply(s, principal=who, list_id=lid, parsed=parsed,
                              confirm_partial=confirm)


def _count(lid) -> int:
    with session_scope() as s:
        return service.read_list(s, principal=C01, list_id=lid).members


GOOD_AND_BAD = (
    b"msisdn,reason,expiry\n"
    b"79120000001,complaint,2026-12-31\n"
    b"7912000000x,typo,\n"
    b"79120000002,,2026-12-01T10:00:00+03:00\n"
    b"\n"
    b"79120000003,old,2020-01-01\n"
    b"79120000004,,31.12.2026\n"
    b"79120000001,again,\n"
    b"123,,\n"
)


def test_bad_rows_are_reported_and_nothing_imported_until_confirmed(db, regions, frozen):
    lid = _list()
    with pytest.raises(ImportNeedsConfirmation) as err:
        _import(lid, GOOD_AND_BAD)
    report = err.value.report
    assert (report.rows, report.valid, report.rejected_total, report.applied) == (7, 2, 5, False)
    assert [(r.line, r.reason.split(" (")[0]) for r in report.rejected] == [
        (3, "must be digits only"),
        (6, "expiry 2020-01-01 is in the past"),
        (7, "expiry 31.12.2026 is not an ISO date"),
        (8, "duplicate of line 2"),
        (9, "must have 8 to 15 digits, not 3"),
    ]
    # the value shown is the one the reason is about: the expiry typed (a date is no
    # phone number: not masked)
    assert (report.rejected[1].column, report.rejected[1].value) == ("expiry", "2020-01-01")
    assert report.rejected[0].value == "7912***000x"  # malformed numbers masked too
    assert "f.csv:3" in err.value.message
    # not "rejected": the heading says the good rows are imported by confirming
    assert err.value.message.startswith(
        "f.csv: nothing imported yet; valid rows: 2, rejected: 5. Confirm the partial import")
    # each error names the column it is about
    assert "f.csv:6 [expiry]: '2020-01-01': expiry 2020-01-01" in err.value.message
    assert "f.csv:3 [msisdn]" in err.value.message
    assert _count(lid) == 0

    done = _import(lid, GOOD_AND_BAD, confirm=True)
    assert (done.applied, done.added, done.updated) == (True, 2, 0)
    sync.sync_lists([lid], strict=True)
    with warehouse.connect() as con:
        rows = con.execute(
            "SELECT msisdn, reason, CAST(timezone('UTC', expires_at) AS VARCHAR) "
            "FROM list_members ORDER BY msisdn").fetchall()
    assert rows == [
        (79120000001, "complaint", "2027-01-01 00:00:00"),
        (79120000002, None, "2026-12-01 07:00:00"),
    ]
    with session_scope() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "list.import")).one()
    assert entry.after["added"] == 2 and entry.after["rejected"] == 5


def test_reimport_updates_reason_and_expiry_and_adds_new(db, regions, frozen):
    lid = _list()
    _import(lid, b"79120000001,first\n79120000002\n")
    done = _import(lid, b"79120000002,now with reason,2027-01-31\n79120000003\n")
    assert (done.added, done.updated) == (1, 1)
    with session_scope() as s:
        hit = service.search(s, principal=principal("admin"), msisdn="79120000002")[0]
    assert hit.reason == "now with reason"
    assert hit.expires_at is not None and hit.expires_at.isoformat() == "2027-02-01T00:00:00+00:00"
    assert _count(lid) == 3


def test_header_is_optional_and_columns_may_be_reordered(db, regions, frozen):
    lid = _list()
    assert _import(lid, b"\xef\xbb\xbfPhone\n79120000001\n").added == 1  # BOM + header
    assert _import(lid, b"expiry,MSISDN\n2027-01-01,79120000002\n").added == 1
    assert _import(lid, b"79120000003,reason only\n").added == 1
    assert _count(lid) == 3


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the file is empty"),
        (b"  \n\n", "the file is empty"),
        (b"msisdn,reason\n", "no numbers"),
        (b"msisdn,colour\n79120000001,red\n", "unknown column 'colour'"),
        (b"79120000001\n7912\xff0000002\n", "not UTF-8"),
    ],
)
def test_unusable_files_are_refused_whole(db, regions, frozen, data, reason):
    lid = _list()
    with pytest.raises(FileRejected) as err:
        _import(lid, data)
    assert reason in err.value.message
    assert _count(lid) == 0


def test_not_utf8_names_the_line(regions, frozen):
    with pytest.raises(FileRejected) as err:
        importer.parse("79120000001\n79120000002,Жалоба\n".encode("cp1251"), file="x.csv")
    assert "x.csv:2" in err.value.message


def test_all_rows_bad_imports_nothing_even_when_confirmed(db, regions, frozen):
    lid = _list()
    for confirm in (True, False):  # nothing to confirm: no offer of a partial import
        with pytest.raises(FileRejected, match="no row of the file is valid") as err:
            _import(lid, b"abc\n12\n", confirm=confirm)
        assert not isinstance(err.value, ImportNeedsConfirmation)
        assert "f.csv:1 [msisdn]: 'abc'" in err.value.message
    assert _count(lid) == 0


def test_a_semicolon_separated_file_is_read(db, regions, frozen):
    """What a spreadsheet saves as CSV where the decimal separator is a comma."""
    lid = _list()
    done = _import(lid, b"phone;reason;expiry\n79120000101;rude, twice;2027-01-01\n"
                        b"79120000102;;\n")
    assert done.added == 2 and _count(lid) == 2


def test_too_many_columns_without_header(db, regions, frozen):
    lid = _list()
    with pytest.raises(ImportNeedsConfirmation) as err:
        _import(lid, b"79120000001,a,2027-01-01,extra\n79120000002\n")
    assert err.value.report.rejected[0].reason.startswith("too many columns (4)")


def test_list_outside_region_is_not_found(db, regions, frozen):
    lid = _list(C02, "c02 list")
    from telcamp.core.errors import NotFound

    with pytest.raises(NotFound):
        _import(lid, b"79120000001\n", who=C01)


def test_hundred_thousand_rows_in_seconds(db, regions, frozen):
    lid = _list()
    data = "\n".join(f"7912{i:07d},bulk" for i in range(100_000)).encode()
    started = time.perf_counter()
    report = _import(lid, data)
    sync.sync_lists([lid], strict=True)
    elapsed = time.perf_counter() - started
    assert report.added == 100_000
    with warehouse.connect() as con:
        assert con.execute("SELECT count(*) FROM list_members").fetchone() == (100_000,)
    print(f"100k-row import + warehouse copy: {elapsed:.2f} s on {db.split(':')[0]}")


def test_import_merges_into_the_warehouse_copy_exactly_like_a_whole_copy(
    db, regions, frozen, monkeypatch
):
    from datetime import timedelta

    from telcamp.core import clock

    lid = _list()
    _import(lid, b"79120000001,old reason\n79120000002\n")
    sync.sync_lists([lid], strict=True)
    clock.freeze(frozen + timedelta(hours=1))
    parsed = importer.parse(b"79120000002,new reason,2027-01-01\n79120000003\n", file="b.csv")
    with session_scope() as s:
        importer.apply(s, principal=C01, list_id=lid, parsed=parsed)

    def copy() -> list[tuple]:
        with warehouse.connect() as con:
            return con.execute(
                "SELECT list_id, msisdn, reason, CAST(timezone('UTC', expires_at) AS VARCHAR), "
                "CAST(timezone('UTC', added_at) AS VARCHAR) FROM list_members ORDER BY msisdn"
            ).fetchall()

    whole_copy = sync._replace

    def no_whole_copy(*_a):
        raise AssertionError("the merge should not copy the whole list")

    monkeypatch.setattr(sync, "_replace", no_whole_copy)
    assert sync.sync_import(lid, parsed.valid, strict=True)
    monkeypatch.setattr(sync, "_replace", whole_copy)
    merged = copy()
    with warehouse.connect() as con:
        assert sync.stale_lists(con) == []
    sync.sync_lists([lid], strict=True)  # the whole copy, for comparison
    assert merged == copy()
    assert [(r[1], r[2], r[4][:13]) for r in merged] == [
        (79120000001, "old reason", "2026-11-22 12"),
        (79120000002, "new reason", "2026-11-22 12"),  # keeps its first added_at
        (79120000003, None, "2026-11-22 13"),
    ]


TYPED = (
    "+7 912 000-00-03,plus and spaces\n"
    "7912-000-004,dashes\n"
    "+7 (912) 000.00.05,brackets and dots\n"
    "0079120000006,international prefix\n"
    "(912) 000-00-07,no country code\n"
    "+7 912 OOO-00-08,letters\n"
    "79120000003,same as line 1\n"
    "n/a,not a number\n"
)


def test_common_number_formats_are_normalised_and_rejects_masked(db, regions, frozen):
    """'+7 912 000-00-03', '7912-000-004'... are read as digits, as in the one-number
    forms (schemas.normalise_msisdn); letters and numbers without a country code are still
    refused, and what is shown of them is masked for a role without pii.read."""
    from telcamp.lists.schemas import msisdn_problem, normalise_msisdn

    lid = _list()
    with pytest.raises(ImportNeedsConfirmation) as err:
        _import(lid, TYPED.encode())
    report = err.value.report
    assert report.valid == 4
    assert [(r.line, r.value, r.reason.split(";")[0].split(" (")[0])
            for r in report.rejected] == [
        (5, "(912) 0**-*0-07", "no country code"),
        (6, "+7 912 OOO-*0-08", "must be digits only"),
        (7, "7912****003", "duplicate of line 1"),
        (8, "n/a", "must be digits only"),
    ]
    done = _import(lid, TYPED.encode(), confirm=True)
    assert done.added == 4
    with session_scope() as s:
        numbers = {m.msisdn for m in service.members(s, principal=principal("admin"),
                                                     list_id=lid)}
    assert numbers == {"79120000003", "7912000004", "79120000005", "79120000006"}
    # the Python reading (one-number forms, lookup) agrees with the importer's SQL
    typed = [line.split(",")[0] for line in TYPED.splitlines()]
    assert {normalise_msisdn(v) for v in typed if msisdn_problem(v) is None} == numbers
    with pytest.raises(ImportNeedsConfirmation) as err:
        _import(lid, TYPED.encode(), who=principal("admin"))
    assert err.value.report.rejected[0].value == "(912) 000-00-07"  # pii.read: as typed


def test_one_number_forms_and_search_accept_the_same_formats(db, regions, frozen):
    lid = _list()
    with session_scope() as s:
        service.add_member(s, principal=C01, list_id=lid, msisdn="+7 912 000-00-03")
        hits = service.search(s, principal=C01, msisdn="7 (912) 000 00 03")
        assert [h.list_id for h in hits] == [lid]
        with pytest.raises(Exception, match="no country code"):
            service.search(s, principal=C01, msisdn="(912) 000-00-03")
        service.remove_member(s, principal=C01, list_id=lid, msisdn="+79120000003")
    assert _count(lid) == 0
