"""Line numbers in reports are the file's own lines, whatever the file's layout."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from telcamp.core.errors import FileRejected
from telcamp.load import lines, service

from .conftest import HEADERS, ROWS

GOOD = ROWS["usage"][0]
BAD = "79000000001,2026-11-20T10:00:00+03:00,fax,out,1,0,120,0,1.5"


def _first_bad_line(path: Path) -> int | None:
    with pytest.raises(FileRejected) as info:
        service.load_file("usage", path)
    return info.value.errors[0].line


@pytest.mark.parametrize(("text", "line"), [
    (f"{HEADERS['usage']}\n{GOOD}\n\n{GOOD}\n{BAD}\n", 5),  # a blank line
    (f"{HEADERS['usage']}\r\n\r\n\r\n{GOOD}\r\n\r\n{BAD}\r\n", 6),  # several, CRLF
    (f"{HEADERS['usage']}\r\n{GOOD}\r\n{BAD}\r\n", 3),  # CRLF file
    (f"\ufeff{HEADERS['usage']}\n{GOOD}\n{BAD}", 3),  # BOM, no final newline
    (f"{HEADERS['usage'].replace(',', ';')}\n{GOOD.replace(',', ';')}\n"
     f"{BAD.replace(',', ';')}\n", 3),  # semicolons
], ids=["blank", "blanks-crlf", "crlf", "bom-no-eol", "semicolon"])
def test_reported_line_is_the_line_in_the_file(
    loaded: Path, tmp_path: Path, text: str, line: int
) -> None:
    f = tmp_path / "usage-x.csv"
    f.write_bytes(text.encode())
    assert _first_bad_line(f) == line


def test_gzipped_csv_loads_and_reports_lines(loaded: Path, tmp_path: Path) -> None:
    f = tmp_path / "usage-x.csv.gz"
    f.write_bytes(gzip.compress(f"{HEADERS['usage']}\n{GOOD}\n\n{BAD}\n".encode()))
    assert _first_bad_line(f) == 4
    f.write_bytes(gzip.compress(
        f"{HEADERS['usage']}\n{GOOD.replace('10:00:00', '10:00:01')}\n".encode()))
    assert service.load_file("usage", f).files[0].rows == 1


def test_blank_lines_found_across_chunk_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lines, "_CHUNK", 3)
    f = tmp_path / "x.csv"
    f.write_bytes(b"ab\n\ncd\r\n\r\nef\n\n\n")
    assert lines.blank_lines(f) == [2, 4, 6, 7]
    monkeypatch.setattr(lines, "_CHUNK", 1 << 20)
    assert lines.blank_lines(f) == [2, 4, 6, 7]


def test_file_the_reader_cannot_parse_is_refused_with_its_reason(
    loaded: Path, tmp_path: Path
) -> None:
    f = tmp_path / "usage-x.csv"
    f.write_bytes(f"{HEADERS['usage']}\n\n\n{GOOD}\n\r\n{BAD}\n".encode())  # mixed endings
    with pytest.raises(FileRejected) as info:
        service.load_file("usage", f)
    assert "usage-x.csv" in info.value.message and "cannot be read" in info.value.message
