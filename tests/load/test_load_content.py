"""The same records in other bytes are not added twice (content fingerprint of the
additive kinds), and a file whose days were loaded before from other files is loaded
with a warning naming the days and the files."""

from __future__ import annotations

import gzip
import random
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from telcamp.load import service

from .conftest import HEADERS, ROWS, counts, query, write_csv

DAILY = ("SELECT msisdn, day::VARCHAR, voice_min, sms_count, data_mb, round(charge, 9), "
         "records FROM usage_daily ORDER BY msisdn, day")


def _snapshot() -> tuple[dict[str, int], list[tuple[object, ...]]]:
    """The 'warehouse unchanged' witness: row counts of every table and the usage."""
    return counts(), query(DAILY)


def _to_parquet(csv_path: Path, out: Path, *, typed: bool) -> Path:
    names = csv_path.read_text().splitlines()[0].split(",")
    opts = pacsv.ConvertOptions(column_types={
        n: pa.string() for n in names if not typed or n == "event_time"})
    pq.write_table(pacsv.read_csv(csv_path, convert_options=opts), out)
    return out


def _reexport(path: Path, kind: str, rows: list[str], *, delimiter: str = ",",
              newline: str = "\n", shuffle: bool = False, reverse_columns: bool = False,
              gz: bool = False) -> Path:
    """The same records written another way: delimiter, line ending, row and column
    order, compression."""
    header = HEADERS[kind].split(",")
    table = [r.split(",") for r in rows]
    if shuffle:
        random.Random(3).shuffle(table)
        if table == [r.split(",") for r in rows]:
            table.reverse()
    if reverse_columns:
        header = header[::-1]
        table = [r[::-1] for r in table]
    text = newline.join(delimiter.join(r) for r in [header, *table]) + newline
    if gz:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_bytes(text.encode())
    return path


def _is_same_as_loaded(path: Path, kind: str, loaded_name: str, **kw: object) -> None:
    before = _snapshot()
    report = service.load_file(kind, path, **kw)  # type: ignore[arg-type]
    f = report.files[0]
    assert f.duplicate and f.same_as == loaded_name and f.rows == 0
    assert f.status == f"already loaded (same records as {loaded_name})"
    assert report.rebuilt is False
    assert _snapshot() == before, "the same records must not be added again"


@pytest.mark.parametrize("typed", [True, False], ids=["typed", "strings"])
def test_same_usage_as_csv_then_parquet_is_not_added_twice(
    loaded: Path, tmp_path: Path, typed: bool
) -> None:
    pq_file = _to_parquet(loaded / "usage-0001.csv", tmp_path / "usage-0001.parquet",
                          typed=typed)
    _is_same_as_loaded(pq_file, "usage", "usage-0001.csv")


def test_same_usage_with_other_delimiter_crlf_and_order_then_gzipped(
    loaded: Path, tmp_path: Path
) -> None:
    semi = _reexport(tmp_path / "usage-resent.csv", "usage", ROWS["usage"], delimiter=";",
                     newline="\r\n", shuffle=True, reverse_columns=True)
    assert semi.read_bytes() != (loaded / "usage-0001.csv").read_bytes()
    _is_same_as_loaded(semi, "usage", "usage-0001.csv")
    gz = _reexport(tmp_path / "usage-resent.csv.gz", "usage", ROWS["usage"], delimiter="\t",
                   shuffle=True, gz=True)
    _is_same_as_loaded(gz, "usage", "usage-0001.csv")
    # values written differently are the same values: 120 seconds as 120.0, 1.5 as 1.50
    rows = [r.replace(",120,0,1.5", ",120.0,0,1.50") for r in ROWS["usage"]]
    assert rows != ROWS["usage"]
    _is_same_as_loaded(write_csv(tmp_path / "usage-spelled.csv", "usage", rows), "usage",
                       "usage-0001.csv")


def test_usage_with_one_more_row_is_loaded_with_the_overlap_warning(
    loaded: Path, tmp_path: Path
) -> None:
    before = int(str(query("SELECT sum(records) FROM usage_daily")[0][0]))
    extra = "79000000003,2026-11-21T09:00:00+03:00,sms,out,0,0,0,0,0.1"
    f = write_csv(tmp_path / "usage-0001b.csv", "usage", [*ROWS["usage"], extra])
    report = service.load_file("usage", f)
    r = report.files[0]
    assert (r.rows, r.duplicate, r.same_as) == (5, False, None)
    # not the same content: every record is added, the ones of the first file again
    assert query("SELECT sum(records) FROM usage_daily") == [(before + 5,)]
    assert [(o.file, o.days) for o in r.overlaps] == [
        ("usage-0001.csv", [date(2026, 11, 20), date(2026, 11, 21)])]
    assert r.summed_into == 3  # the three subscriber-days of the first file
    assert r.notes == [
        "warning: days 2026-11-20..2026-11-21 were already loaded from usage-0001.csv",
        "its records were added to 3 subscriber-days already there",
    ]
    assert query("SELECT first_day::VARCHAR, last_day::VARCHAR, len(days) FROM load_registry "
                 "WHERE file_name = 'usage-0001b.csv'") == [("2026-11-20", "2026-11-21", 2)]


def test_two_different_files_of_one_day_both_load_with_a_warning(
    loaded: Path, tmp_path: Path
) -> None:
    a = write_csv(tmp_path / "usage-h10.csv", "usage",
                  ["79000000001,2026-11-22T10:15:00+03:00,voice,out,0,0,60,0,0.2"])
    b = write_csv(tmp_path / "usage-h11.csv", "usage",
                  ["79000000001,2026-11-22T11:40:00+03:00,voice,out,0,0,30,0,0.1",
                   "79000000003,2026-11-22T11:50:00+03:00,sms,out,0,0,0,0,0.1"])
    first = service.load_file("usage", a).files[0]
    assert first.overlaps == [] and first.notes == []  # a day nobody loaded before
    second = service.load_file("usage", b).files[0]
    assert second.rows == 2 and not second.duplicate
    assert [(o.file, o.days) for o in second.overlaps] == [("usage-h10.csv", [date(2026, 11, 22)])]
    assert second.summed_into == 1
    assert query("SELECT voice_min, records FROM usage_daily WHERE msisdn = 79000000001 "
                 "AND day = DATE '2026-11-22'") == [(1.5, 2)]
    assert second.notes == [
        "warning: day 2026-11-22 was already loaded from usage-h10.csv",
        "its records were added to 1 subscriber-day already there",
    ]


def test_files_split_by_subscriber_over_the_same_day_load_without_a_warning(
    loaded: Path, tmp_path: Path
) -> None:
    a = write_csv(tmp_path / "usage-r1.csv", "usage",
                  ["79000000001,2026-11-23T10:15:00+03:00,voice,out,0,0,60,0,0.2"])
    b = write_csv(tmp_path / "usage-r2.csv", "usage",
                  ["79000000003,2026-11-23T11:50:00+03:00,sms,out,0,0,0,0,0.1"])
    service.load_file("usage", a)
    second = service.load_file("usage", b).files[0]
    assert [(o.file, o.days) for o in second.overlaps] == [("usage-r1.csv", [date(2026, 11, 23)])]
    assert second.summed_into == 0 and second.notes == []


def test_a_duplicated_row_is_other_content(loaded: Path, tmp_path: Path) -> None:
    # a sum of row hashes keeps a row that is there twice apart from the row once (an
    # XOR would cancel the pair and call the file equal to the one without it)
    one = write_csv(tmp_path / "usage-a.csv", "usage", [ROWS["usage"][0], ROWS["usage"][1]])
    two = write_csv(tmp_path / "usage-b.csv", "usage",
                    [ROWS["usage"][0], ROWS["usage"][1], ROWS["usage"][1], ROWS["usage"][1]])
    three = write_csv(tmp_path / "usage-c.csv", "usage", [ROWS["usage"][0]])
    assert service.load_file("usage", one).files[0].rows == 2
    assert service.load_file("usage", two).files[0].rows == 4
    assert service.load_file("usage", three).files[0].rows == 1
    fps = [r[0] for r in query("SELECT content_fingerprint FROM load_registry "
                               "WHERE kind = 'usage' ORDER BY loaded_at")]
    assert len(set(fps)) == 4


def test_payments_and_events_in_other_bytes_are_recognised(loaded: Path, tmp_path: Path) -> None:
    for kind in ("payments", "product_events"):
        out = _to_parquet(loaded / f"{kind}.csv", tmp_path / f"{kind}-x.parquet", typed=True)
        _is_same_as_loaded(out, kind, f"{kind}.csv")
    # the same instant written in UTC is the same payment
    utc = write_csv(tmp_path / "payments-utc.csv", "payments",
                    ["79000000001,2026-11-20T07:00:00Z,100.0,recharge"])
    _is_same_as_loaded(utc, "payments", "payments.csv")
    # another amount is another payment
    other = write_csv(tmp_path / "payments-2.csv", "payments",
                      ["79000000001,2026-11-20T10:00:00+03:00,101,recharge"])
    r = service.load_file("payments", other).files[0]
    assert r.rows == 1 and [(o.file, o.days) for o in r.overlaps] == [
        ("payments.csv", [date(2026, 11, 20)])]
    assert "warning: day 2026-11-20 was already loaded from payments.csv" in r.notes


def test_resent_file_with_orphans_is_recognised_whatever_the_policy(
    loaded: Path, tmp_path: Path
) -> None:
    rows = ["79000000001,2026-11-23T10:00:00+03:00,voice,out,0,0,60,0,0",
            "79999999999,2026-11-23T10:00:00+03:00,voice,out,0,0,60,0,0"]
    f = write_csv(tmp_path / "usage-o.csv", "usage", rows)
    assert service.load_file("usage", f, orphans="keep").files[0].orphans == 1
    # the same records (orphan included) re-sent: the same content, not refused for the
    # unknown subscriber and not added again
    again = _reexport(tmp_path / "usage-o2.csv", "usage", rows, delimiter="|", shuffle=True)
    _is_same_as_loaded(again, "usage", "usage-o.csv", orphans="reject")
    _is_same_as_loaded(again, "usage", "usage-o.csv", orphans="keep")


def test_reference_kinds_have_no_content_fingerprint(loaded: Path) -> None:
    rows = query("SELECT kind, content_fingerprint IS NULL, days IS NULL FROM load_registry "
                 "ORDER BY kind")
    assert rows == [
        ("payments", False, False), ("product_events", False, False), ("regions", True, True),
        ("subscribers", True, True), ("tariffs", True, True), ("usage", False, False),
    ]


def test_day_ranges_are_written_compactly() -> None:
    d = [date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22), date(2026, 11, 25)]
    assert service.day_ranges(d) == "2026-11-20..2026-11-22, 2026-11-25"
    assert service.day_ranges([date(2026, 1, 1)]) == "2026-01-01"


def test_days_loaded_from_many_files_are_one_warning_line(loaded: Path, tmp_path: Path) -> None:
    """Was one `warning: days … were already loaded from usage-hNN.csv` per earlier file:
    a day loaded in hourly files made a wall of them."""
    hour = "79000000001,2026-11-24T{h}:15:00+03:00,voice,out,0,0,60,0,0.2"
    names, notes = [], []
    for h in range(10, 15):
        f = write_csv(tmp_path / f"usage-h{h}.csv", "usage", [hour.format(h=h)])
        names.append(f.name)
        notes.append(service.load_file("usage", f).files[0].notes)
    assert notes[3] == [
        "warning: day 2026-11-24 was already loaded from usage-h10.csv, usage-h11.csv "
        "and usage-h12.csv",
        "its records were added to 1 subscriber-day already there",
    ]
    last = write_csv(tmp_path / "usage-h15.csv", "usage", [
        hour.format(h=15), "79000000001,2026-11-19T10:00:00+03:00,sms,out,0,0,0,0,0.1"])
    r = service.load_file("usage", last).files[0]
    assert [o.file for o in r.overlaps] == names  # every file is still in the report
    assert r.notes == [
        "warning: day 2026-11-24 was already loaded from usage-h10.csv, usage-h11.csv "
        "and 3 more",
        "its records were added to 1 subscriber-day already there",
    ]


def test_one_warning_line_names_the_days_of_all_the_files(loaded: Path, tmp_path: Path) -> None:
    a = write_csv(tmp_path / "payments-a.csv", "payments",
                  ["79000000001,2026-11-21T10:00:00+03:00,7,recharge"])
    b = write_csv(tmp_path / "payments-b.csv", "payments",
                  ["79000000001,2026-11-22T10:00:00+03:00,7,recharge"])
    service.load_file("payments", a)
    service.load_file("payments", b)
    c = write_csv(tmp_path / "payments-c.csv", "payments", [
        "79000000002,2026-11-20T12:00:00+03:00,8,recharge",
        "79000000002,2026-11-22T12:00:00+03:00,8,recharge"])
    r = service.load_file("payments", c).files[0]
    assert r.notes == ["warning: days 2026-11-20, 2026-11-22 were already loaded from "
                       "payments.csv and payments-b.csv"]


def test_some_names() -> None:
    assert service.some_names(["a.csv"]) == "a.csv"
    assert service.some_names(["a.csv", "b.csv", "a.csv"]) == "a.csv and b.csv"
    assert service.some_names(["a", "b", "c", "d"]) == "a, b and 2 more"
