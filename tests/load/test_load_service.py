"""Loading good files: every kind, idempotency, merging usage days, mapping, orphans."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from telcamp.core.errors import FileRejected, ValidationFailed
from telcamp.load import service

from .conftest import ROWS, counts, make_dir, query, write_csv


def test_load_dir_loads_every_kind_and_lists_unknown_files(data_dir: Path) -> None:
    (data_dir / "notes.txt").write_text("not data", encoding="utf-8")
    report = service.load_dir(data_dir)
    assert [(f.kind, f.rows) for f in report.files] == [
        ("regions", 4), ("tariffs", 2), ("subscribers", 3), ("usage", 4),
        ("product_events", 1), ("payments", 1),
    ]
    assert report.ignored == ["notes.txt"]
    assert report.rebuilt is True
    c = counts()
    assert c["regions"] == 4 and c["subscribers"] == 3 and c["usage_daily"] == 3
    assert c["load_registry"] == 6
    assert query("SELECT count(*) FROM profile") == [(3,)]
    assert query("SELECT typeof(msisdn) FROM subscribers LIMIT 1") == [("BIGINT",)]


def test_load_dir_ignores_backups_and_partial_transfers_of_a_kind(data_dir: Path) -> None:
    # a backup of an older export and a transfer still being written carry their kind's
    # name: loading them would count records twice or load half a file
    write_csv(data_dir / "usage-0001.csv.bak", "usage", ROWS["usage"][:1])
    write_csv(data_dir / "usage-0002.csv.part", "usage", ROWS["usage"][:2])
    (data_dir / "payments.csv~").write_bytes((data_dir / "payments.csv").read_bytes())
    report = service.load_dir(data_dir)
    assert [f.file for f in report.files if f.kind == "usage"] == [
        str(data_dir / "usage-0001.csv")]
    assert sorted(report.ignored) == ["payments.csv~", "usage-0001.csv.bak",
                                      "usage-0002.csv.part"]
    assert counts()["usage_daily"] == 3 and counts()["payments"] == 1
    # named on the command line, a file is read whatever its name
    assert service.load_file("usage", data_dir / "usage-0002.csv.part").files[0].rows == 2


def test_a_folder_given_as_a_file_of_a_kind_is_named_a_folder(data_dir: Path) -> None:
    with pytest.raises(ValidationFailed) as err:
        service.load_file("usage", data_dir)
    assert str(err.value) == (f"{data_dir}: a folder, not a file; load every known file in "
                              f"it with: telcamp load {data_dir}")
    assert counts()["load_registry"] == 0


def test_usage_is_aggregated_per_local_day_with_the_metric_definitions(loaded: Path) -> None:
    rows = query(
        "SELECT msisdn, day::VARCHAR, voice_min, voice_out_min, sms_count, data_mb, "
        "roaming_min, long_distance_count, round(charge, 6), records "
        "FROM usage_daily ORDER BY msisdn, day"
    )
    assert rows == [
        (79000000001, "2026-11-20", 2.0, 2.0, 1, 0.0, 0.0, 1, 1.6, 2),
        (79000000001, "2026-11-21", 0.0, 0.0, 0, 2.0, 0.0, 0, 0.5, 1),
        # written 2026-11-21T23:30+05:00: the written date, not UTC's
        (79000000002, "2026-11-21", 1.0, 0.0, 0, 0.0, 1.0, 0, 0.0, 1),
    ]


def test_same_file_twice_changes_nothing(loaded: Path) -> None:
    before = counts()
    again = service.load_dir(loaded)
    assert all(f.duplicate and f.status == "already loaded" for f in again.files)
    assert again.rebuilt is False
    assert counts() == before


def test_renamed_copy_of_a_loaded_file_is_recognised(loaded: Path, tmp_path: Path) -> None:
    before = counts()
    copy = tmp_path / "usage-renamed.csv"
    copy.write_bytes((loaded / "usage-0001.csv").read_bytes())
    report = service.load_file("usage", copy)
    assert report.files[0].duplicate and report.files[0].rows == 0
    assert counts() == before
    # one byte more is another file
    extra = b"79000000003,2026-11-22T09:00:00+03:00,sms,out,0,0,0,0,0\n"
    copy.write_bytes(copy.read_bytes() + extra)
    assert service.load_file("usage", copy).files[0].rows == 5


def test_new_usage_file_adds_to_existing_days(loaded: Path, tmp_path: Path) -> None:
    more = write_csv(tmp_path / "usage-0002.csv", "usage", [
        "79000000001,2026-11-20T12:00:00+03:00,voice,in,0,0,60,0,0.5",  # existing day
        "79000000003,2026-11-22T09:00:00+03:00,sms,out,0,0,0,0,0.1",  # new pair
    ])
    report = service.load_file("usage", more)
    assert report.files[0].rows == 2
    rows = query(
        "SELECT msisdn, day::VARCHAR, voice_min, voice_out_min, records, round(charge, 6) "
        "FROM usage_daily ORDER BY msisdn, day"
    )
    assert (79000000001, "2026-11-20", 3.0, 2.0, 3, 2.1) in rows
    assert (79000000003, "2026-11-22", 0.0, 0.0, 1, 0.1) in rows
    assert len(rows) == 4


def test_subscribers_file_replaces_same_msisdns_and_keeps_extra_columns(
    loaded: Path, tmp_path: Path
) -> None:
    header = ("msisdn,region_code,tariff_code,activation_date,status,birth_date,gender,"
              "language,device_type,email,loyalty_club")
    f = write_csv(tmp_path / "subscribers-2.csv", "subscribers", [
        "79000000002,C01-02,T1,2026-11-10,churned,,f,zh,feature,,gold",
        "79000000004,C01-01,T1,2026-11-20,active,2000-01-01,m,ru,smartphone,,",
    ], header=header)
    service.load_file("subscribers", f)
    rows = query("SELECT msisdn, status, tariff_code, loyalty_club FROM subscribers "
                 "ORDER BY msisdn")
    assert rows == [
        (79000000001, "active", "T1", None),
        (79000000002, "churned", "T1", "gold"),
        (79000000003, "suspended", "T2", None),
        (79000000004, "active", "T1", None),
    ]
    assert query("SELECT loyalty_club FROM profile WHERE msisdn = 79000000002") == [("gold",)]
    # the same extra column again, spelled in capitals, is the same column
    f2 = write_csv(tmp_path / "subscribers-3.csv", "subscribers",
                   ["79000000003,C01-01,T2,2015-06-30,active,,u,en,tablet,,silver"],
                   header=header.replace("loyalty_club", "LOYALTY_CLUB"))
    service.load_file("subscribers", f2)
    assert query("SELECT loyalty_club FROM subscribers WHERE msisdn = 79000000003") == [
        ("silver",)]


def _to_parquet(csv_path: Path, out: Path, *, typed: bool) -> Path:
    names = csv_path.read_text().splitlines()[0].split(",")
    # Typed: numbers as numbers, but times stay text as the generator writes them (a
    # Parquet instant would lose the local date a record's day is taken from).
    opts = pacsv.ConvertOptions(column_types={
        n: pa.string() for n in names if not typed or n == "event_time"})
    table = pacsv.read_csv(csv_path, convert_options=opts)
    pq.write_table(table, out)
    return out


@pytest.mark.parametrize("typed", [True, False], ids=["typed", "strings"])
def test_parquet_loads_like_csv(tmp_path: Path, typed: bool) -> None:
    src = make_dir(tmp_path / "csv")
    pq_dir = tmp_path / "pq"
    pq_dir.mkdir()
    for f in src.iterdir():
        _to_parquet(f, pq_dir / (f.name.removesuffix(".csv") + ".parquet"), typed=typed)
    report = service.load_dir(pq_dir)
    assert [f.rows for f in report.files] == [4, 2, 3, 4, 1, 1]
    rows = query("SELECT msisdn, day::VARCHAR, records FROM usage_daily ORDER BY msisdn, day")
    assert rows == [(79000000001, "2026-11-20", 2), (79000000001, "2026-11-21", 1),
                    (79000000002, "2026-11-21", 1)]


def test_mapping_renames_columns_and_values(tmp_path: Path) -> None:
    make_dir(tmp_path / "in", skip=("usage",))
    service.load_dir(tmp_path / "in")
    f = write_csv(tmp_path / "cdr.csv", "usage", [
        "79000000001,2026-11-20T10:00:00+03:00,GPRS,O,0,0,0,1024,0.2",
        "79000000001,2026-11-20T11:00:00+03:00,CALL,I,0,0,30,0,0",
    ], header="MSISDN,START,SVC,DIR,LD,ROAM,SECS,KB,FEE")
    m = tmp_path / "mapping.yaml"
    m.write_text(
        "usage:\n"
        "  columns: {MSISDN: msisdn, START: event_time, SVC: service, DIR: direction,\n"
        "            LD: long_distance, ROAM: roaming, SECS: duration_s, KB: volume_kb,\n"
        "            FEE: charge}\n"
        "  values:\n"
        "    service: {GPRS: data, CALL: voice}\n"
        "    direction: {O: out, I: in}\n",
        encoding="utf-8",
    )
    service.load_file("usage", f, mapping=m)
    assert query("SELECT data_mb, voice_min, records FROM usage_daily") == [(1.0, 0.5, 2)]


def test_mapping_names_match_the_file_whatever_their_case(tmp_path: Path) -> None:
    # the mapping written from the export's documentation (start_time), the file's header
    # in upper case as an Oracle export writes it: contract names match whatever their
    # case, and the mapping's names do too
    make_dir(tmp_path / "in", skip=("usage",))
    service.load_dir(tmp_path / "in")
    f = write_csv(tmp_path / "cdr.csv", "usage",
                  ["79000000001,2026-11-20T10:00:00+03:00,voice,out,0,0,60,0,0"],
                  header="MSISDN,START_TIME,SERVICE,DIRECTION,LD,ROAMING,DURATION_S,"
                         "VOLUME_KB,CHARGE")
    m = tmp_path / "mapping.yaml"
    m.write_text("usage: {start_time: event_time, Ld: long_distance}\n", encoding="utf-8")
    assert service.load_file("usage", f, mapping=m).files[0].rows == 1


def test_a_mapped_column_missing_from_the_file_is_named(tmp_path: Path) -> None:
    make_dir(tmp_path / "in", skip=("usage",))
    service.load_dir(tmp_path / "in")
    f = write_csv(tmp_path / "cdr.csv", "usage",
                  ["79000000001,2026-11-20T10:00:00+03:00,voice,out,0,0,60,0,0"],
                  header="msisdn,START_TIME,service,direction,long_distance,roaming,"
                         "duration_s,volume_kb,charge")
    m = tmp_path / "mapping.yaml"
    m.write_text("usage: {START_TIMX: event_time}\n", encoding="utf-8")  # a typo
    with pytest.raises(FileRejected) as err:
        service.load_file("usage", f, mapping=m)
    assert [str(e) for e in err.value.errors] == [
        "cdr.csv:1 [event_time]: missing column (the mapping file maps START_TIMX to it, "
        "and the file has no column START_TIMX; the file's columns the load does not use: "
        "START_TIME)"]


def test_a_mapping_file_that_is_not_yaml_is_refused_with_its_line(tmp_path: Path) -> None:
    m = tmp_path / "map.yaml"
    m.write_text("usage:\n  columns:\n    MSISDN msisdn\n    START: event_time\n",
                 encoding="utf-8")  # the first pair lacks its colon
    f = write_csv(tmp_path / "usage-0001.csv", "usage", ROWS["usage"])
    with pytest.raises(ValidationFailed) as err:
        service.load_file("usage", f, mapping=m)
    said = str(err.value)
    assert said.startswith(f"mapping file {m} is not valid YAML at line 4, column 10: "
                           "mapping values are not allowed here\n")
    assert "START: event_time" in said and "<unicode string>" not in said


def test_orphans_kept_aside_and_counted(loaded: Path, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "usage-0009.csv", "usage", [
        "79000000001,2026-11-22T10:00:00+03:00,voice,out,0,0,60,0,0",
        "79999999999,2026-11-22T10:00:00+03:00,voice,out,0,0,60,0,0",
        "79999999999,2026-11-22T11:00:00+03:00,sms,out,0,0,0,0,0",
    ])
    report = service.load_file("usage", f, orphans="keep")
    assert (report.files[0].rows, report.files[0].orphans) == (1, 2)
    assert query("SELECT msisdn, service, source_file FROM usage_orphans ORDER BY event_time") == [
        (79999999999, "voice", "usage-0009.csv"), (79999999999, "sms", "usage-0009.csv")]
    assert query("SELECT count(*) FROM usage_daily WHERE msisdn = 79999999999") == [(0,)]


def test_orphan_policy_defaults_to_the_setting(
    loaded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from telcamp.core.settings import reset_settings

    monkeypatch.setenv("TELCAMP_ORPHAN_USAGE", "keep")
    reset_settings()
    f = write_csv(tmp_path / "usage-0009.csv", "usage",
                  ["79999999999,2026-11-22T10:00:00+03:00,voice,out,0,0,60,0,0"])
    assert service.load_file("usage", f).files[0].orphans == 1


def test_kind_is_the_prefix_of_the_file_name() -> None:
    assert service.kind_of(Path("usage-0003.parquet")) == "usage"
    assert service.kind_of(Path("product_events.csv")) == "product_events"
    assert service.kind_of(Path("Subscribers.2026-11.csv")) == "subscribers"
    assert service.kind_of(Path("readme.md")) is None


def test_rows_given_in_rows_fixture_are_consistent() -> None:
    assert len(ROWS["usage"]) == 4


def test_header_names_match_whatever_their_case(loaded: Path, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "payments-2.csv", "payments",
                  ["79000000002,2026-11-21T10:00:00+05:00,50,bill"],
                  header="MSISDN,Event_Time,AMOUNT,Kind")
    assert service.load_file("payments", f).files[0].rows == 1


def test_events_and_payments_of_unknown_subscribers(loaded: Path, tmp_path: Path) -> None:
    rows = ["79000000001,2026-11-21T10:00:00+03:00,20,recharge",
            "79999999999,2026-11-21T10:00:00+03:00,30,recharge"]
    f = write_csv(tmp_path / "payments-2.csv", "payments", rows)
    with pytest.raises(FileRejected, match=r"payments-2.csv:3 \[msisdn\]: unknown subscriber"):
        service.load_file("payments", f)
    report = service.load_file("payments", f, orphans="keep")
    assert (report.files[0].rows, report.files[0].orphans) == (1, 1)
    # the orphan is kept aside with its file, the other row loaded
    assert query("SELECT count(*) FROM payments") == [(2,)]
    assert query("SELECT msisdn, amount, kind, source_file FROM payments_orphans") == [
        (79999999999, 30.0, "recharge", "payments-2.csv")]
    assert query("SELECT orphans FROM load_registry WHERE file_name = 'payments-2.csv'") == [
        (1,)]
    events = write_csv(tmp_path / "product_events-2.csv", "product_events", [
        "79999999998,2026-11-21T10:00:00+03:00,P100,subscribe,web",
        "79999999998,2026-11-21T11:00:00+03:00,P100,unsubscribe,",
    ])
    report = service.load_file("product_events", events, orphans="keep")
    assert (report.files[0].rows, report.files[0].orphans) == (0, 2)
    assert query("SELECT action, channel, source_file FROM product_events_orphans "
                 "ORDER BY event_time") == [("subscribe", "web", "product_events-2.csv"),
                                            ("unsubscribe", None, "product_events-2.csv")]
    assert query("SELECT count(*) FROM product_events") == [(1,)]


def test_day_is_the_written_date_whatever_the_offset_and_era(loaded: Path, tmp_path: Path) -> None:
    """The day comes from one TIMESTAMP parse of event_time (DuckDB keeps the written local
    time and drops the offset: pinned here, an offset applied would move these days). Days
    outside the one-integer group key's range (2000-01-01..2044-11-09) load by the pair;
    the clock stands in 2051 so that the last record is not in the future."""
    from datetime import UTC, datetime

    from telcamp.core import clock

    more = write_csv(tmp_path / "usage-0002.csv", "usage", [
        "79000000003,2026-11-21T23:30:00-05:00,sms,out,0,0,0,0,0",  # 04:30 UTC on the 22nd
        "79000000003,2026-11-22T00:30:00+09:00,sms,out,0,0,0,0,0",  # 15:30 UTC on the 21st
        "79000000003,2026-11-22T00:45:00.250Z,sms,out,0,0,0,0,0",
        "79000000003,1999-12-31T23:00:00+03:00,sms,out,0,0,0,0,0",
        "79000000003,2051-01-01T10:00:00+03:00,sms,out,0,0,0,0,0",
    ])
    clock.freeze(datetime(2051, 1, 2, tzinfo=UTC))
    try:
        assert service.load_file("usage", more).files[0].rows == 5
    finally:
        clock.freeze(None)
    rows = query("SELECT day::VARCHAR, sms_count, records FROM usage_daily "
                 "WHERE msisdn = 79000000003 ORDER BY day")
    assert rows == [("1999-12-31", 1, 1), ("2026-11-21", 1, 1), ("2026-11-22", 2, 2),
                    ("2051-01-01", 1, 1)]


def test_busy_subscriber_day_counts_exactly(loaded: Path, tmp_path: Path) -> None:
    """More records in one (msisdn, day) than the packed counters hold (2^12): the load
    sums the counting metrics one by one instead, with the same result."""
    from telcamp.load.writers import PACK_BITS

    n = (1 << PACK_BITS) + 5
    rows = ["79000000003,2026-11-22T09:00:00+03:00,sms,out,0,0,0,0,0.1"] * n
    rows.append("79000000003,2026-11-22T09:00:00+03:00,voice,out,1,0,60,0,0")
    service.load_file("usage", write_csv(tmp_path / "usage-busy.csv", "usage", rows))
    assert query("SELECT sms_count, long_distance_count, voice_min, records FROM usage_daily "
                 "WHERE msisdn = 79000000003") == [(n, 1, 1.0, n + 1)]
