"""Files as spreadsheet programs write them: decimal commas, Windows-1251, empty trailing
rows, workbooks instead of CSV, short rows, spaces around values. Each is loaded as the
docs say or refused with file, line, column and reason, leaving the warehouse unchanged."""

from __future__ import annotations

import gzip
import re
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest

from telcamp.core.errors import FileRejected, ValidationFailed
from telcamp.load import service

from .conftest import HEADERS, ROWS, counts, make_dir, query, write_csv
from .test_load_cli import TELCAMP
from .test_load_rejects import _only, _rejected


def _semicolons(rows: list[str]) -> list[str]:
    return [r.replace(",", ";") for r in rows]


def _usage_semicolon(path: Path, rows: list[str]) -> Path:
    return write_csv(path, "usage", rows, header=HEADERS["usage"].replace(",", ";"))


COMMA_ROWS = [
    "79000000001;2026-11-20T10:00:00+03:00;voice;out;1;0;120;0;392464,3",
    "79000000001;2026-11-20T23:30:00+03:00;data;out;0;0;0;1024,5;0,1",
]


def _mapping(tmp_path: Path, text: str) -> Path:
    m = tmp_path / "map.yaml"
    m.write_text(text, encoding="utf-8")
    return m


def test_decimal_comma_is_refused_with_the_fix_then_loads_with_the_mapping(
    loaded: Path, tmp_path: Path
) -> None:
    f = _usage_semicolon(tmp_path / "usage-x.csv", COMMA_ROWS)
    err = _rejected("usage", f)
    e = _only(err, 2, "charge", "not a number")
    assert "got 392464,3" in e.reason and 'set decimal: ","' in e.reason
    _only(err, 3, "volume_kb", "not a number")
    report = service.load_file("usage", f, mapping=_mapping(tmp_path, 'usage:\n  decimal: ","\n'))
    assert report.files[0].rows == 2
    (data_kb, charge), = query("SELECT data_mb * 1024, charge FROM usage_daily "
                               "WHERE day = DATE '2026-11-20' AND msisdn = 79000000001")
    assert data_kb == 1024.5 and charge == pytest.approx(1.5 + 0.1 + 392464.3 + 0.1)


def test_decimal_comma_from_the_csv_section_and_a_point_then_refused(
    loaded: Path, tmp_path: Path
) -> None:
    """With decimal: "," a point is no decimal separator (1.5 could be a thousands
    group): both the fast read and the report refuse it."""
    m = _mapping(tmp_path, 'csv: {decimal: ","}\n')
    rows = [*COMMA_ROWS, "79000000001;2026-11-21T10:00:00+03:00;voice;out;1;0;60;0;1.5"]
    err = _rejected("usage", _usage_semicolon(tmp_path / "usage-x.csv", rows), mapping=m)
    e = _only(err, 4, "charge", "not a number")
    assert "got 1.5" in e.reason and 'decimal separator is ","' in e.reason
    assert err.total == 1
    tariffs = write_csv(tmp_path / "tariffs-2.csv", "tariffs", ["T3;Silver;prepaid;12,50"],
                        header=HEADERS["tariffs"].replace(",", ";"))
    assert service.load_file("tariffs", tariffs, mapping=m).files[0].rows == 1
    assert query("SELECT monthly_fee FROM tariffs WHERE code = 'T3'") == [(12.5,)]


@pytest.mark.parametrize(("text", "match"), [
    ("usage: {decimal: ';'}\n", r"usage.decimal: must be"),
    ("usage: {encoding: klingon}\n", r"usage.encoding: unknown encoding"),
    ("csv: [decimal]\n", r"csv: expected a dictionary of decimal, encoding"),
])
def test_mapping_csv_options_are_checked(tmp_path: Path, text: str, match: str) -> None:
    f = write_csv(tmp_path / "u.csv", "usage", ROWS["usage"])
    with pytest.raises(ValidationFailed, match=match):
        service.load_file("usage", f, mapping=_mapping(tmp_path, text))


@pytest.mark.parametrize(("text", "said"), [
    ('csv: {delimiter: ";"}\n',
     "map.yaml: csv.delimiter: unknown key; allowed: decimal, encoding "
     "(the delimiter is detected from the header (, ; tab or |))"),
    ("csv: {columns: {}}\n", "map.yaml: csv.columns: unknown key; allowed: decimal, encoding"),
    ('csv: {encoding: windows-1251, Decimal: ","}\n',
     "map.yaml: csv.Decimal: unknown key; allowed: decimal, encoding"),
    ('usage: {decimal: ",", delimiter: ";"}\n',
     "map.yaml: usage.delimiter: unknown key; allowed: columns, values, decimal, encoding "
     "(the delimiter is detected from the header"),
    ("usage:\n  columns: {MSISDN: msisdn}\n  value: {service: {GPRS: data}}\n",
     "map.yaml: usage.value: unknown key; allowed: columns, values, decimal, encoding"),
    ("usage: {columns: [msisdn]}\n", "map.yaml: usage.columns: expected a dictionary, got"),
    ("usage: {values: [service]}\n", "map.yaml: usage.values: expected a dictionary, got"),
])
def test_an_unknown_mapping_key_is_named_with_the_allowed_ones(
    loaded: Path, tmp_path: Path, text: str, said: str
) -> None:
    """`csv: {delimiter: ";"}` was answered "expected a dictionary of decimal, encoding"
    although it is one, and a kind's section with a stray key was read as column names."""
    before = counts()
    f = write_csv(tmp_path / "usage-x.csv", "usage", ROWS["usage"][:1])
    with pytest.raises(ValidationFailed) as info:
        service.load_file("usage", f, mapping=_mapping(tmp_path, text))
    assert said in info.value.message
    assert "expected a dictionary of" not in info.value.message
    assert counts() == before


def test_a_plain_column_dictionary_still_maps_columns(loaded: Path, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "payments-x.csv", "payments",
                  ["79000000001,2026-11-22T10:00:00+03:00,5,recharge"],
                  header="PHONE,event_time,amount,kind")
    m = _mapping(tmp_path, "payments: {PHONE: msisdn}\ncsv: {encoding: utf-8}\n")
    assert service.load_file("payments", f, mapping=m).files[0].rows == 1


MOSCOW = "M01,Москва,,province,Europe/Moscow"


def _utf8_regions(path: Path, *, bom: bool = False, gz: bool = False) -> Path:
    data = (("\ufeff" if bom else "") + HEADERS["regions"] + "\n" + "\n".join(
        [*ROWS["regions"], MOSCOW]) + "\n").encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("encoding", ["windows-1251", "koi8-r", "latin-1"])
@pytest.mark.parametrize("gz", [False, True], ids=["csv", "csv.gz"])
def test_a_utf8_file_with_an_encoding_in_the_mapping_is_refused_not_garbled(
    loaded: Path, tmp_path: Path, encoding: str, gz: bool
) -> None:
    """What our refusal of cp1251 tells users to do (re-save as CSV UTF-8) with the
    mapping's encoding: left in place: was loaded as "РњРѕСЃРєРІР°" without a word."""
    name = "regions-x.csv.gz" if gz else "regions-x.csv"
    m = _mapping(tmp_path, f"csv: {{encoding: {encoding}}}\n")
    err = _rejected("regions", _utf8_regions(tmp_path / name, gz=gz), mapping=m)
    e = _only(err, None, None, "the file is UTF-8 already")
    assert str(e) == (
        f'{name}: the file is UTF-8 already (line 6 reads as UTF-8: "Москва"), not {encoding} '
        "as the mapping file says: converting it would garble its text; remove encoding: "
        f"{encoding} from the mapping file (or set encoding: utf-8 for this kind), or name "
        "the file's real encoding there")
    assert err.total == 1
    assert query("SELECT count(*) FROM regions WHERE code = 'M01'") == [(0,)]


def test_a_utf8_file_with_a_bom_and_an_encoding_is_refused_for_what_it_is(
    loaded: Path, tmp_path: Path
) -> None:
    """Was "regions-bom.csv:1 [code]: missing column" (the BOM read as windows-1251)."""
    f = _utf8_regions(tmp_path / "regions-bom.csv", bom=True)
    m = _mapping(tmp_path, "csv: {encoding: windows-1251}\n")
    err = _rejected("regions", f, mapping=m)
    e = _only(err, None, None, "the file is UTF-8 already (it starts with a UTF-8 byte order "
              "mark), not windows-1251 as the mapping file says")
    assert "remove encoding: windows-1251 from the mapping file" in e.reason
    assert "missing column" not in err.message
    # the ways out the message names: no encoding for the kind, or no mapping at all
    ok = _mapping(tmp_path, "csv: {encoding: windows-1251}\nregions: {encoding: utf-8}\n")
    assert service.load_file("regions", f, mapping=ok).files[0].rows == 5
    assert query("SELECT name FROM regions WHERE code = 'M01'") == [("Москва",)]


def test_an_ascii_or_utf8_file_said_to_be_utf16_is_refused(loaded: Path, tmp_path: Path) -> None:
    """UTF-16 text of a CSV has zero bytes (every ASCII character has one), UTF-8 never:
    an ASCII file is no exception (read as UTF-16 it is Chinese-looking noise)."""
    m = _mapping(tmp_path, "usage: {encoding: utf-16}\n")
    f = write_csv(tmp_path / "usage-x.csv", "usage", ROWS["usage"][:2])  # not yet loaded
    e = _only(_rejected("usage", f, mapping=m), None, None, "the file is UTF-8 already (it has "
              "no zero bytes, which UTF-16 or UTF-32 text has), not utf-16 as the mapping")
    assert "remove encoding: utf-16 from the mapping file" in e.reason
    m = _mapping(tmp_path, "regions: {encoding: utf-16-le}\n")
    _only(_rejected("regions", _utf8_regions(tmp_path / "regions-x.csv", bom=True), mapping=m),
          None, None, "the file is UTF-8 already (it starts with a UTF-8 byte order mark)")


def test_a_utf8_bom_file_loads_without_an_encoding(loaded: Path, tmp_path: Path) -> None:
    f = _utf8_regions(tmp_path / "regions-bom.csv", bom=True)
    assert service.load_file("regions", f).files[0].rows == 5
    assert query("SELECT name FROM regions WHERE code = 'M01'") == [("Москва",)]


def test_the_utf8_check_looks_past_ascii_chunks_and_cut_characters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decided on the first chunk with non-ASCII bytes, wherever it is, a character cut
    by the chunk's end included; a file in the named encoding converts as before."""
    from telcamp.load import source

    monkeypatch.setattr(source, "_CONVERT_CHUNK", 7)  # cuts "Москва" (2 bytes a letter)
    copies = tmp_path / "tmp"
    copies.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(copies))
    text = "a,b\n1,2\n3,2\nМосква,x\n"
    utf8 = tmp_path / "utf8.csv"
    utf8.write_bytes(text.encode("utf-8"))
    with pytest.raises(FileRejected) as info:
        source.to_utf8(utf8, "cp1251", "utf8.csv")
    assert 'line 4 reads as UTF-8: "' in info.value.message
    assert not list(copies.iterdir()), "a refused conversion must delete its copy"
    cp = tmp_path / "cp.csv"
    cp.write_bytes(text.encode("cp1251"))
    copy = source.to_utf8(cp, "cp1251", "cp.csv")
    try:
        assert copy.read_text(encoding="utf-8") == text
    finally:
        copy.unlink()
    assert not list(copies.iterdir()), "a refused conversion must delete its copy"


def _cp1251_subscribers(path: Path, n: int, *, gz: bool = False) -> Path:
    rows = [f"790000001{i:02d};C01-01;T1;2020-01-05;active;;m;ru;Телефон;" for i in range(n)]
    text = HEADERS["subscribers"].replace(",", ";") + "\n" + "\n".join(rows) + "\n"
    data = text.encode("cp1251")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def test_windows_1251_shows_the_text_the_fix_and_the_total(loaded: Path, tmp_path: Path) -> None:
    err = _rejected("subscribers", _cp1251_subscribers(tmp_path / "subscribers-x.csv", 25))
    e = _only(err, 2, "device_type", "not UTF-8")
    assert 'as Windows-1251: "Телефон"' in e.reason
    assert "re-save the file as CSV UTF-8" in e.reason and "encoding: windows-1251" in e.reason
    assert [x.line for x in err.errors] == list(range(2, 12))
    assert err.total == 25 and "(and 15 more)" in err.message


@pytest.mark.parametrize("gz", [False, True], ids=["csv", "csv.gz"])
def test_windows_1251_loads_with_the_mapping_encoding(
    loaded: Path, tmp_path: Path, gz: bool
) -> None:
    name = "subscribers-x.csv.gz" if gz else "subscribers-x.csv"
    f = _cp1251_subscribers(tmp_path / name, 3, gz=gz)
    m = _mapping(tmp_path, "subscribers:\n  encoding: windows-1251\n")
    assert service.load_file("subscribers", f, mapping=m).files[0].rows == 3
    assert query("SELECT DISTINCT device_type FROM subscribers WHERE msisdn >= 79000000100") \
        == [("Телефон",)]


def test_a_wrong_encoding_in_the_mapping_names_the_line(loaded: Path, tmp_path: Path) -> None:
    f = tmp_path / "subscribers-x.csv"
    f.write_bytes((HEADERS["subscribers"] + "\n" + ROWS["subscribers"][0] + "\n").encode()
                  + b"79000000012,C01-01,T1,2020-01-05,active,,m,ru,\x98,\n")
    m = _mapping(tmp_path, "subscribers: {encoding: windows-1251}\n")
    _only(_rejected("subscribers", f, mapping=m), 3, None, "not windows-1251 (byte 0x98")


def test_bytes_not_utf8_in_an_ignored_extra_column_are_refused(
    loaded: Path, tmp_path: Path
) -> None:
    """The docs say CSV is UTF-8: a column the load does not keep is no exception (its
    bytes say the whole file is in another encoding)."""
    f = tmp_path / "usage-x.csv"
    f.write_bytes((HEADERS["usage"] + ",note\n" + ROWS["usage"][0] + ",ok\n").encode()
                  + (ROWS["usage"][1] + ",Примечание\n").encode("cp1251"))
    e = _only(_rejected("usage", f), 3, "note", "not UTF-8")
    assert '"Примечание"' in e.reason


def test_header_not_utf8_shows_the_text(loaded: Path, tmp_path: Path) -> None:
    f = tmp_path / "usage-x.csv"
    f.write_bytes(("Номер," + HEADERS["usage"] + "\n").encode("cp1251") + b"1,2\n")
    e = _only(_rejected("usage", f), 1, None, "not UTF-8 (byte 1 of the header")
    assert "Номер" in e.reason and "encoding: windows-1251" in e.reason


def test_rows_with_every_field_empty_are_skipped_like_blank_lines(
    loaded: Path, tmp_path: Path
) -> None:
    empty = ";" * 8
    ok = _usage_semicolon(tmp_path / "usage-x.csv",
                          [*_semicolons(ROWS["usage"][:2]), empty, "", empty, empty])
    assert service.load_file("usage", ok).files[0].rows == 2
    tariffs = write_csv(tmp_path / "tariffs-2.csv", "tariffs", ["T3,Silver,prepaid,1", ",,,"])
    assert service.load_file("tariffs", tariffs).files[0].rows == 1
    # a row with some fields only is an error; later lines keep the editor's numbers
    bad = _usage_semicolon(tmp_path / "usage-y.csv", [
        _semicolons(ROWS["usage"])[2], empty, "", "79000000001" + ";" * 8, empty,
        "79000000001;2026-11-20T10:00:00+03:00;fax;out;0;0;1;0;0", empty])
    err = _rejected("usage", bad)
    _only(err, 5, "event_time", "empty value in a required column")
    _only(err, 7, "service", "unknown value")
    assert all(e.line in (5, 7) for e in err.errors)


def test_a_file_of_empty_rows_only_is_an_empty_file(loaded: Path, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "usage-x.csv", "usage", [","*8, ","*8])
    assert "empty file" in _rejected("usage", f).message


@pytest.mark.parametrize(("name", "make", "said"), [
    ("usage-x.xlsx", "xlsx", "an Excel workbook (.xlsx)"),
    ("usage-x.csv", "xlsx", "an Excel workbook (.xlsx)"),
    ("usage-x.xls", "xls", "an Excel 97-2003 workbook (.xls)"),
    ("usage-x.txt", "utf16", "UTF-16 text"),
    ("usage-x.csv", "gzip", "gzip-compressed"),
    ("usage-x.csv.gz", "plain", "named .gz but not gzip-compressed"),
])
def test_files_that_are_not_csv_text_are_named_for_what_they_are(
    loaded: Path, tmp_path: Path, name: str, make: str, said: str
) -> None:
    f = tmp_path / name
    text = HEADERS["usage"] + "\n" + ROWS["usage"][0] + "\n"
    if make == "xlsx":
        with zipfile.ZipFile(f, "w") as z:
            z.writestr("xl/workbook.xml", "<workbook/>")
    elif make == "xls":
        f.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    elif make == "utf16":
        f.write_bytes(text.encode("utf-16"))
    elif make == "gzip":
        f.write_bytes(gzip.compress(text.encode()))
    else:
        f.write_text(text, encoding="utf-8")
    err = _rejected("usage", f)
    e = _only(err, None, None, said)
    assert err.file == name and str(e).startswith(f"{name}: ")
    if make.startswith("xls"):
        assert "export the sheet as CSV (UTF-8)" in e.reason


def test_utf16_loads_with_the_mapping_encoding(loaded: Path, tmp_path: Path) -> None:
    f = tmp_path / "usage-x.txt"
    rows = [r.replace(",", "\t") for r in ROWS["usage"][:2]]
    f.write_bytes((HEADERS["usage"].replace(",", "\t") + "\r\n" + "\r\n".join(rows) + "\r\n")
                  .encode("utf-16"))
    m = _mapping(tmp_path, "usage: {encoding: utf-16}\n")
    assert service.load_file("usage", f, mapping=m).files[0].rows == 2


def test_short_and_long_rows_are_said_in_our_words(loaded: Path, tmp_path: Path) -> None:
    f = _usage_semicolon(tmp_path / "usage-x.csv", [
        _semicolons(ROWS["usage"])[0], "79000000001;2026-11-20T10:00:00+03:00;voice;out;1",
        _semicolons(ROWS["usage"])[1] + ";extra"])
    err = _rejected("usage", f)
    _only(err, 3, "roaming", "5 values where the header has 9")
    assert "Expected" not in err.message
    _only(err, 4, None, "10 values where the header has 9")


def test_spaces_around_values_are_not_part_of_them(loaded: Path, tmp_path: Path) -> None:
    """As the header's names are trimmed, so are the values (quoted or not): the contract
    has no value whose meaning depends on spaces around it."""
    rows = [" 79000000021 , C01-01 ,T1, 2020-01-05 , active ,, m ,ru,\" phone \",",
            "79000000022,C01-01,T1,2020-01-05,active,,f,ru,   ,"]
    f = write_csv(tmp_path / "subscribers-2.csv", "subscribers", rows)
    assert service.load_file("subscribers", f).files[0].rows == 2
    assert query("SELECT msisdn, region_code, status, gender, device_type FROM subscribers "
                 "WHERE msisdn > 79000000020 ORDER BY msisdn") == [
        (79000000021, "C01-01", "active", "m", "phone"),
        (79000000022, "C01-01", "active", "f", None)]
    usage = write_csv(tmp_path / "usage-x.csv", "usage", [
        " 79000000021 , 2026-11-20T10:00:00+03:00 , voice , out , 1 , 0 , 60 , 0 , 1.5 "])
    assert service.load_file("usage", usage).files[0].rows == 1
    # spaces inside a value stay: still refused
    bad = write_csv(tmp_path / "subscribers-3.csv", "subscribers",
                    ["7900 0000023,C01-01,T1,2020-01-05,active,,m,ru,,",
                     "79000000024,C01-01,T1,2020-01-05,act ive,,m,ru,,",
                     "79000000025,C01-01,T1,2020-01-05,   ,,m,ru,,"])
    err = _rejected("subscribers", bad)
    _only(err, 2, "msisdn", "not an msisdn")
    _only(err, 3, "status", "unknown value")
    _only(err, 4, "status", "empty value in a required column")


def test_cli_folder_stopped_by_a_refusal_says_rows_and_time_taken(tmp_path: Path) -> None:
    d = make_dir(tmp_path / "in")
    write_csv(d / "usage-0001.csv", "usage", [*ROWS["usage"], "79000000001;x"])
    done = subprocess.run([TELCAMP, "load", str(d), "--no-progress"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 2
    out = " ".join(done.stdout.split())
    loaded_rows = sum(len(ROWS[k]) for k in ("regions", "tariffs", "subscribers"))
    found = re.search(r"([\d,]+) rows in ([\d.]+) s", out)
    assert found, done.stdout
    assert int(found[1].replace(",", "")) == loaded_rows
    assert float(found[2]) > 0
    assert counts()["usage_daily"] == 0
    with pytest.raises(FileRejected):
        service.load_file("usage", d / "usage-0001.csv")
