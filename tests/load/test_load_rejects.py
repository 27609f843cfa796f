"""Bad input: the file is refused whole with file, line, column and reason; the warehouse
keeps exactly what it had (row counts of every table identical)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from telcamp.core.errors import FileRejected, RowError, ValidationFailed
from telcamp.load import service

from .conftest import HEADERS, ROWS, counts, write_csv


def _rejected(kind: str, path: Path, **kw: object) -> FileRejected:
    before = counts()
    with pytest.raises(FileRejected) as info:
        service.load_file(kind, path, **kw)  # type: ignore[arg-type]
    assert counts() == before, "a rejected file must leave the warehouse unchanged"
    return info.value


def _only(err: FileRejected, line: int | None, column: str | None, reason: str) -> RowError:
    hits = [e for e in err.errors if e.line == line and e.column == column and reason in e.reason]
    assert hits, f"no error at line {line} [{column}] '{reason}' in:\n{err.message}"
    assert err.file in err.message and reason in err.message
    return hits[0]


def test_missing_column(loaded: Path, tmp_path: Path) -> None:
    header = HEADERS["usage"].replace(",service", "")
    rows = [",".join(r.split(",")[:2] + r.split(",")[3:]) for r in ROWS["usage"]]
    err = _rejected("usage", write_csv(tmp_path / "usage-x.csv", "usage", rows, header=header))
    _only(err, 1, "service", "missing column")
    assert err.file == "usage-x.csv"


def test_a_file_of_another_kind_says_which_kind_it_is(loaded: Path, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "usage-0002.csv", "usage", ROWS["usage"])
    err = _rejected("payments", f)
    assert [str(e) for e in err.errors] == [
        "usage-0002.csv:1 [amount]: missing column (the file has the columns of usage: load "
        "it as telcamp load usage usage-0002.csv)",
        "usage-0002.csv:1 [kind]: missing column"]


def test_a_column_twice_in_the_header_is_said_so(loaded: Path, tmp_path: Path) -> None:
    rows = [r + ",1" for r in ROWS["usage"]]
    f = write_csv(tmp_path / "usage-x.csv", "usage", rows, header=HEADERS["usage"] + ",charge")
    _only(_rejected("usage", f), 1, "charge", "duplicate column 'charge' (the header has it "
          "twice)")


def test_not_utf8_reports_the_first_bad_line(loaded: Path, tmp_path: Path) -> None:
    f = tmp_path / "subscribers-x.csv"
    good = ROWS["subscribers"][0].replace("79000000001", "79000000011")
    bad = b"79000000012,C01-01,T1,2020-01-05,active,,m,ru," + "Телефон".encode("cp1251")
    f.write_bytes((HEADERS["subscribers"] + "\n" + good + "\n").encode() + bad + b",\n")
    err = _rejected("subscribers", f)
    e = _only(err, 3, "device_type", "not UTF-8")
    assert str(e).startswith("subscribers-x.csv:3 [device_type]")


def test_unknown_service_value(loaded: Path, tmp_path: Path) -> None:
    rows = [*ROWS["usage"], "79000000001,2026-11-20T10:00:00+03:00,fax,out,0,0,1,0,0"]
    err = _rejected("usage", write_csv(tmp_path / "usage-x.csv", "usage", rows))
    e = _only(err, 6, "service", "unknown value")
    assert "got fax" in e.reason and "voice" in e.reason
    assert err.total == 1


def test_region_whose_parent_does_not_exist(tmp_path: Path) -> None:
    rows = [*ROWS["regions"], "C09-01,Lost County,C09,county,Europe/Moscow"]
    err = _rejected("regions", write_csv(tmp_path / "regions.csv", "regions", rows))
    e = _only(err, 6, "parent_code", "parent region")
    assert "C09" in e.reason


def test_parent_loaded_earlier_is_a_valid_reference(loaded: Path, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "regions-2.csv", "regions", ["C01-03,County C,C01,county,UTC"])
    assert service.load_file("regions", f).files[0].rows == 1


@pytest.mark.parametrize("value", ["2026-11-20 10:00", "20/11/2026 10:00:00+03:00",
                                   "2026-11-20T25:00:00+03:00", "2026-11-20T10:00:00"])
def test_unparsable_time_or_time_without_offset(loaded: Path, tmp_path: Path, value: str) -> None:
    rows = [*ROWS["usage"], f"79000000001,{value},voice,out,0,0,1,0,0"]
    err = _rejected("usage", write_csv(tmp_path / "usage-x.csv", "usage", rows))
    _only(err, 6, "event_time", "not a timestamp")


def test_a_record_dated_in_the_future(loaded: Path, tmp_path: Path) -> None:
    """One usage record ten years ahead would make that day the as-of date: every window
    empty, every subscriber churning. A day ahead of the clock is allowed (time zones)."""
    from datetime import UTC, datetime

    from telcamp.core import clock

    clock.freeze(datetime(2026, 11, 21, 12, 0, tzinfo=UTC))
    try:
        before = counts()
        rows = [*ROWS["usage"], "79000000001,2026-11-22T23:00:00+03:00,voice,out,0,0,1,0,0",
                "79000000001,2036-11-21T10:00:00+03:00,voice,out,0,0,1,0,0"]
        err = _rejected("usage", write_csv(tmp_path / "usage-x.csv", "usage", rows))
        e = _only(err, 7, "event_time", "in the future")
        assert "2036-11-21" in e.reason and all(x.line != 6 for x in err.errors)
        pay = write_csv(tmp_path / "payments-x.csv", "payments",
                        ["79000000001,2026-11-24T10:00:00+03:00,100,recharge"])
        _only(_rejected("payments", pay), 2, "event_time", "in the future")
        assert counts() == before
    finally:
        clock.freeze(None)


def test_msisdn_with_letters(loaded: Path, tmp_path: Path) -> None:
    rows = [*ROWS["usage"], "7900000000A,2026-11-20T10:00:00+03:00,voice,out,0,0,1,0,0"]
    err = _rejected("usage", write_csv(tmp_path / "usage-x.csv", "usage", rows))
    _only(err, 6, "msisdn", "not an msisdn")


@pytest.mark.parametrize("msisdn", ["7900123", "7900123456789012", "+79000000001"])
def test_msisdn_of_wrong_length_or_with_plus(tmp_path: Path, msisdn: str) -> None:
    rows = [f"{msisdn},C01-01,T1,2020-01-05,active,,m,ru,,"]
    err = _rejected("subscribers", write_csv(tmp_path / "subscribers.csv", "subscribers", rows))
    _only(err, 2, "msisdn", "not an msisdn")


def test_negative_duration(loaded: Path, tmp_path: Path) -> None:
    rows = [*ROWS["usage"], "79000000001,2026-11-20T10:00:00+03:00,voice,out,0,0,-5,0,0"]
    err = _rejected("usage", write_csv(tmp_path / "usage-x.csv", "usage", rows))
    _only(err, 6, "duration_s", "negative value")


def test_number_that_is_not_a_number(loaded: Path, tmp_path: Path) -> None:
    rows = ["79000000001,2026-11-20T10:00:00+03:00,voice,out,0,0,12s,0,0", *ROWS["usage"]]
    err = _rejected("usage", write_csv(tmp_path / "usage-x.csv", "usage", rows))
    e = _only(err, 2, "duration_s", "not a whole number")
    assert "got 12s" in e.reason


def test_a_fraction_in_a_whole_number_column(loaded: Path, tmp_path: Path) -> None:
    """DuckDB's cast of '2.7' to an integer rounds it to 3; the loader must refuse it."""
    rows = [*ROWS["usage"], "79000000001,2026-11-20T10:00:00+03:00,voice,out,0,0,2.7,0,0",
            "79000000001,2026-11-20T11:00:00+03:00,voice,out,0,0,100.0,0,0"]
    err = _rejected("usage", write_csv(tmp_path / "usage-x.csv", "usage", rows))
    e = _only(err, 6, "duration_s", "not a whole number")
    assert "got 2.7" in e.reason
    assert all(x.line != 7 for x in err.errors)  # 100.0 is a whole number
    table = pa.table({
        "msisdn": pa.array([79000000001, 79000000001], pa.int64()),
        "event_time": ["2026-11-20T10:00:00+03:00", "2026-11-20T11:00:00+03:00"],
        "service": ["voice", "voice"], "direction": ["out", "out"],
        "long_distance": pa.array([0, 0], pa.int8()), "roaming": pa.array([0, 0], pa.int8()),
        "duration_s": pa.array([60.0, 0.5]), "volume_kb": [0.0, 0.0], "charge": [0.0, 0.0],
    })
    pq.write_table(table, tmp_path / "usage-y.parquet")
    _only(_rejected("usage", tmp_path / "usage-y.parquet"), 2, "duration_s",
          "not a whole number")


def test_duplicate_msisdn_in_one_subscribers_file(loaded: Path, tmp_path: Path) -> None:
    rows = [*ROWS["subscribers"], ROWS["subscribers"][1].replace(",f,", ",m,")]
    err = _rejected("subscribers", write_csv(tmp_path / "subscribers-2.csv", "subscribers", rows))
    e = _only(err, 5, "msisdn", "duplicate msisdn")
    assert "first at line 3" in e.reason


@pytest.mark.parametrize("content", [b"", HEADERS["usage"].encode() + b"\n"],
                         ids=["zero-bytes", "header-only"])
def test_empty_file(loaded: Path, tmp_path: Path, content: bytes) -> None:
    f = tmp_path / "usage-x.csv"
    f.write_bytes(content)
    err = _rejected("usage", f)
    assert "empty file" in err.message and "usage-x.csv" in err.message


def test_empty_parquet_file(loaded: Path, tmp_path: Path) -> None:
    f = tmp_path / "payments.parquet"
    pq.write_table(pa.table({c: pa.array([], pa.string()) for c in HEADERS["payments"].split(",")}),
                   f)
    assert "empty file" in _rejected("payments", f).message


HINT = ("; to load the file anyway use --orphans keep: the rows of unknown subscribers are "
        "set aside in {kind}_orphans, the rest loads, and they join their subscriber when a "
        "subscribers file brings it")


def test_usage_of_unknown_subscriber_rejects_by_default(loaded: Path, tmp_path: Path) -> None:
    rows = [*ROWS["usage"], "79999999999,2026-11-20T10:00:00+03:00,voice,out,0,0,1,0,0",
            "79999999998,2026-11-20T10:00:00+03:00,voice,out,0,0,1,0,0"]
    f = write_csv(tmp_path / "usage-x.csv", "usage", rows)
    err = _rejected("usage", f)
    e = _only(err, 6, "msisdn", "unknown subscriber")
    # the way out, said once (on the first such line), not on each line listed
    assert e.reason == ("unknown subscriber (msisdn not among the loaded subscribers) "
                        "(got 79999999999)" + HINT.format(kind="usage"))
    assert [x.reason for x in err.errors if x.line == 7] == [
        "unknown subscriber (msisdn not among the loaded subscribers) (got 79999999998)"]
    assert err.message.count("--orphans keep") == 1
    # and the way out works: the known rows load, the unknown ones are kept aside
    r = service.load_file("usage", f, orphans="keep").files[0]
    assert (r.rows, r.orphans) == (4, 2)


@pytest.mark.parametrize("kind", ["payments", "product_events"])
def test_events_and_payments_of_unknown_subscriber_name_their_orphans_table(
    loaded: Path, tmp_path: Path, kind: str
) -> None:
    row = ROWS[kind][0].replace("79000000001", "79999999999")
    err = _rejected(kind, write_csv(tmp_path / f"{kind}-x.csv", kind, [ROWS[kind][0], row]))
    e = _only(err, 3, "msisdn", "unknown subscriber")
    assert e.reason.endswith(HINT.format(kind=kind))


def test_subscriber_of_unknown_region_or_tariff(loaded: Path, tmp_path: Path) -> None:
    rows = ["79000000009,C77-01,T9,2020-01-05,active,,m,ru,,"]
    err = _rejected("subscribers", write_csv(tmp_path / "subscribers-2.csv", "subscribers", rows))
    _only(err, 2, "region_code", "unknown region_code")
    _only(err, 2, "tariff_code", "unknown tariff_code")


def test_empty_required_value_and_enum_of_other_kinds(loaded: Path, tmp_path: Path) -> None:
    rows = ["79000000001,2026-11-20T10:00:00+03:00,,recharge",
            "79000000001,2026-11-20T10:00:00+03:00,5,refund"]
    err = _rejected("payments", write_csv(tmp_path / "payments-2.csv", "payments", rows))
    _only(err, 2, "amount", "empty value")
    _only(err, 3, "kind", "unknown value")


def test_line_numbers_count_quoted_line_breaks(loaded: Path, tmp_path: Path) -> None:
    rows = ['79000000001,2026-11-20T10:00:00+03:00,P1,subscribe,"web\nshop"',
            "79000000001,2026-11-20T10:00:00+03:00,P1,cancel,web"]
    err = _rejected("product_events", write_csv(tmp_path / "product_events-2.csv",
                                                "product_events", rows))
    _only(err, 4, "action", "unknown value")


def test_wrong_number_of_fields(loaded: Path, tmp_path: Path) -> None:
    rows = [*ROWS["usage"][:2], "79000000001,2026-11-20T10:00:00+03:00,voice"]
    err = _rejected("usage", write_csv(tmp_path / "usage-x.csv", "usage", rows))
    assert err.errors[0].line == 4


def test_many_problems_report_the_first_ten_and_the_total(loaded: Path, tmp_path: Path) -> None:
    rows = [f"79000000001,2026-11-20T10:00:00+03:00,voice,out,0,0,-{i},0,0" for i in range(1, 26)]
    err = _rejected("usage", write_csv(tmp_path / "usage-x.csv", "usage", rows))
    assert len(err.errors) == 10 and err.total == 25
    assert [e.line for e in err.errors] == list(range(2, 12))
    assert "and 15 more" in err.message


def test_bad_parquet_row_is_named_by_row_number(loaded: Path, tmp_path: Path) -> None:
    table = pa.table({
        "msisdn": pa.array([79000000001, 79000000001], pa.int64()),
        "event_time": ["2026-11-20T10:00:00+03:00", "2026-11-20T11:00:00+03:00"],
        "service": ["voice", "telex"], "direction": ["out", "out"],
        "long_distance": pa.array([0, 0], pa.int8()), "roaming": pa.array([0, 0], pa.int8()),
        "duration_s": pa.array([1, 2], pa.int32()), "volume_kb": [0.0, 0.0],
        "charge": [0.0, -1.0],
    })
    f = tmp_path / "usage-x.parquet"
    pq.write_table(table, f)
    err = _rejected("usage", f)
    _only(err, 2, "service", "unknown value")
    _only(err, 2, "charge", "negative value")


def test_a_rejected_file_in_a_folder_stops_the_load_but_keeps_earlier_files(
    tmp_path: Path,
) -> None:
    from .conftest import make_dir

    d = make_dir(tmp_path / "in")
    write_csv(d / "tariffs.csv", "tariffs", ["T1,Basic,prepaid,-1", "T2,Gold,postpaid,1"])
    with pytest.raises(FileRejected) as info:
        service.load_dir(d)
    _only(info.value, 2, "monthly_fee", "negative value")
    assert [f.kind for f in info.value.partial.files] == ["regions"]
    c = counts()
    assert c["regions"] == 4 and c["tariffs"] == 0 and c["subscribers"] == 0


def test_mapping_errors_name_the_file_and_key(tmp_path: Path) -> None:
    m = tmp_path / "map.yaml"
    m.write_text("usage:\n  columns: {X: nonsense}\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match=r"map.yaml: usage.columns.X: 'nonsense'"):
        service.load_file("usage", write_csv(tmp_path / "u.csv", "usage", ROWS["usage"]),
                          mapping=m)
    m.write_text("cdrs: {}\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="unknown kind"):
        service.load_file("usage", tmp_path / "u.csv", mapping=m)


def test_unknown_kind_and_bad_orphan_policy(tmp_path: Path) -> None:
    f = write_csv(tmp_path / "u.csv", "usage", ROWS["usage"])
    with pytest.raises(ValidationFailed, match="unknown kind"):
        service.load_file("cdr", f)
    with pytest.raises(ValidationFailed, match="orphans"):
        service.load_file("usage", f, orphans="ignore")


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_line_numbers_count_line_breaks_in_extra_columns(
        loaded: Path, tmp_path: Path, eol: str) -> None:
    """An extra column's quoted value spanning lines moves later lines too, whether the
    load reads that column (subscribers keep extras) or not (usage ignores them)."""
    usage = tmp_path / "usage-x.csv"
    usage.write_bytes(eol.join([
        HEADERS["usage"] + ",note",
        ROWS["usage"][0] + ',"multi' + eol + 'line"',
        ROWS["usage"][1] + ",plain",
        "79000000001,2026-11-20T10:00:00+03:00,voice,out,0,0,-1,0,0,x", ""]).encode())
    _only(_rejected("usage", usage), 5, "duration_s", "negative value")
    subs = tmp_path / "subscribers-x.csv"
    subs.write_bytes(eol.join([
        HEADERS["subscribers"] + ",note",
        ROWS["subscribers"][0] + ',"two' + eol + 'lines"',
        ROWS["subscribers"][1].replace(",f,", ",q,") + ",x", ""]).encode())
    _only(_rejected("subscribers", subs), 4, "gender", "unknown value")


def test_line_numbers_with_empty_lines_inside_a_quoted_value(loaded: Path, tmp_path: Path
                                                            ) -> None:
    """An empty line inside quotes belongs to the value: counted once, not also as a
    skipped blank line; a real blank line between records still counts."""
    subs = tmp_path / "subscribers-x.csv"
    subs.write_text("\n".join([
        HEADERS["subscribers"] + ",note",
        ROWS["subscribers"][0] + ',"a\n\n\n\nb"',  # lines 2-6
        "",  # line 7: a blank line between records
        ROWS["subscribers"][1].replace(",f,", ",q,") + ',"say ""hi""\n\nbye"',  # 8-10
        ROWS["subscribers"][2].replace(",u,", ",q,") + ",x", ""]))  # line 11
    err = _rejected("subscribers", subs)
    _only(err, 8, "gender", "unknown value")
    _only(err, 11, "gender", "unknown value")


def test_two_columns_differing_only_in_case(loaded: Path, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "payments-2.csv", "payments",
                  ["79000000002,2026-11-21T10:00:00+05:00,50,bill,x"],
                  header="msisdn,event_time,amount,kind,KIND")
    _only(_rejected("payments", f), 1, "KIND", "duplicate column 'kind'")


def test_extra_subscriber_column_named_like_a_derived_field(loaded: Path, tmp_path: Path) -> None:
    header = HEADERS["subscribers"] + ",Age"
    f = write_csv(tmp_path / "subscribers-2.csv", "subscribers",
                  [ROWS["subscribers"][0] + ",33"], header=header)
    _only(_rejected("subscribers", f), 1, "Age", "derived profile field")


def test_extra_subscriber_column_starting_with_an_underscore(loaded: Path, tmp_path: Path
                                                            ) -> None:
    header = HEADERS["subscribers"] + ",_x"
    f = write_csv(tmp_path / "subscribers-2.csv", "subscribers",
                  [ROWS["subscribers"][0] + ",33"], header=header)
    e = _only(_rejected("subscribers", f), 1, "_x", "names starting with '_' are reserved")
    assert "derived" not in e.reason


@pytest.mark.parametrize("value", ["2023/01/21", "1990-1-5", "2023-01-21T00:00", "2023-01-21 x"])
def test_a_date_not_written_yyyy_mm_dd(loaded: Path, tmp_path: Path, value: str) -> None:
    """DuckDB's date cast reads 2023/01/21 and 1990-1-5 too; the contract says YYYY-MM-DD."""
    row = ROWS["subscribers"][0].replace("1990-03-01", value)
    f = write_csv(tmp_path / "subscribers-2.csv", "subscribers", [row])
    e = _only(_rejected("subscribers", f), 2, "birth_date", "not a date (YYYY-MM-DD)")
    assert value.strip() in e.reason


def test_not_utf8_inside_a_number_column(loaded: Path, tmp_path: Path) -> None:
    f = tmp_path / "usage-x.csv"
    good = ROWS["usage"][0].encode() + b"\n"
    bad = b"79000000001,2026-11-20T10:00:00+03:00,voice,out,1,0,1\xff0,0,1.5\n"
    f.write_bytes(HEADERS["usage"].encode() + b"\n" + good + bad + good)
    _only(_rejected("usage", f), 3, "duration_s", "not UTF-8")


@pytest.mark.parametrize("duration", ["9007199254740993", "-9007199254740993"])
def test_a_whole_number_past_the_doubles_is_refused_by_both_passes(
        loaded: Path, tmp_path: Path, duration: str) -> None:
    """The fast read (doubles) and the report (text) must agree on which rows are bad."""
    rows = [*ROWS["usage"], f"79000000001,2026-11-20T10:00:00+03:00,voice,out,0,0,{duration},0,0"]
    err = _rejected("usage", write_csv(tmp_path / "usage-x.csv", "usage", rows))
    _only(err, 6, "duration_s", "not a whole number")


def test_numbers_that_are_not_finite_or_too_big(loaded: Path, tmp_path: Path) -> None:
    rows = ["79000000001,2026-11-20T10:00:00+03:00,voice,out,0,0,99999999999999999999,1e400,NaN"]
    err = _rejected("usage", write_csv(tmp_path / "usage-x.csv", "usage", rows))
    _only(err, 2, "duration_s", "not a whole number")
    _only(err, 2, "volume_kb", "not a finite number")
    _only(err, 2, "charge", "not a finite number")


def test_region_that_is_its_own_parent(tmp_path: Path) -> None:
    rows = [*ROWS["regions"], "C05,Loop,C05,city,UTC"]
    err = _rejected("regions", write_csv(tmp_path / "regions.csv", "regions", rows))
    _only(err, 6, "parent_code", "parent region is itself")


def test_every_data_line_unreadable(loaded: Path, tmp_path: Path) -> None:
    rows = ["79000000001,2026-11-20T10:00:00+03:00,voice", "79000000001,x"]
    err = _rejected("usage", write_csv(tmp_path / "usage-x.csv", "usage", rows))
    assert [e.line for e in err.errors] == [2, 3]


def test_bad_values_and_unknown_subscribers_are_listed_together(
    loaded: Path, tmp_path: Path
) -> None:
    f = write_csv(tmp_path / "usage-9.csv", "usage", [
        ROWS["usage"][0],
        "79000000009,2026-11-20T10:00:00+03:00,voice,out,0,0,60,0,0",
        "79000000001,2026-11-20T10:00:00+03:00,fax,out,0,0,60,0,0",
        "79000000001,2026-11-20T25:00:00+03:00,voice,out,0,0,60,0,0",
    ])
    err = _rejected("usage", f)
    _only(err, 3, "msisdn", "unknown subscriber")
    _only(err, 4, "service", "unknown value")
    _only(err, 5, "event_time", "not a timestamp")
    assert err.total == 3


def test_region_levels_must_follow_province_city_county(loaded: Path, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "regions-2.csv", "regions", [
        "C01-09,County under the province,P01,county,UTC",
        "C07,City without a parent,,city,UTC",
        "P02,Province under a city,C01,province,UTC",
        "C01-08,County under a county,C01-01,county,UTC",  # the parent is loaded
        "C08,Good city,P01,city,UTC",
        "C08-01,Good county of a city in this file,C08,county,UTC",
    ])
    err = _rejected("regions", f)
    e = _only(err, 2, "parent_code", "parent region of the wrong level")
    assert "P01 is a province" in e.reason
    _only(err, 3, "parent_code", "parent region missing")
    _only(err, 4, "parent_code", "a province has no parent region")
    e = _only(err, 5, "parent_code", "parent region of the wrong level")
    assert "C01-01 is a county" in e.reason
    assert err.total == 4


def test_region_cycles_are_refused_in_the_file_and_across_loaded_regions(
    loaded: Path, tmp_path: Path
) -> None:
    # C05 -> C06 -> C05 inside the file
    f = write_csv(tmp_path / "regions-2.csv", "regions", [
        "C05,Five,C06,city,UTC", "C06,Six,C05,city,UTC"])
    err = _rejected("regions", f)
    _only(err, 2, "parent_code", "a cycle")
    _only(err, 3, "parent_code", "a cycle")
    # C01 re-parented under its own loaded county: C01 -> C01-01 -> C01
    f = write_csv(tmp_path / "regions-3.csv", "regions", ["C01,City One,C01-01,city,UTC"])
    err = _rejected("regions", f)
    _only(err, 2, "parent_code", "a cycle")
    _only(err, 2, "parent_code", "wrong level")
    # a deeper loop through loaded regions: P01 -> C01-02 -> C01 -> P01
    f = write_csv(tmp_path / "regions-4.csv", "regions",
                  ["P01,Province,C01-02,province,Europe/Moscow"])
    err = _rejected("regions", f)
    _only(err, 2, "parent_code", "a cycle")
    # the same file with the tree kept whole loads
    ok = write_csv(tmp_path / "regions-5.csv", "regions", ["C01,City One,P01,city,UTC"])
    assert service.load_file("regions", ok).files[0].rows == 1


def test_region_relevelled_under_its_loaded_children(loaded: Path, tmp_path: Path) -> None:
    # C01 has loaded counties: it cannot become a county itself
    f = write_csv(tmp_path / "regions-2.csv", "regions", ["C01,City One,,province,UTC"])
    err = _rejected("regions", f)
    e = _only(err, 2, "level", "loaded regions below this one would be at the wrong level")
    assert "C01-01 (county)" in e.reason
    # the same re-levelling with the children re-levelled in the same file is consistent
    ok = write_csv(tmp_path / "regions-3.csv", "regions", [
        "C01,City One,P01,city,UTC", "C01-01,County A,C01,county,UTC"])
    assert service.load_file("regions", ok).files[0].rows == 2
