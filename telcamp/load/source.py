"""Opening an input file as a DuckDB relation with the contract's column names.

CSV is read by DuckDB's parallel reader with explicit columns (no sniffing: the header we
parsed decides), numbers parsed natively and every other column as VARCHAR, so the
checks see exactly what the operator wrote. Rows the reader cannot take (wrong number of
fields, bytes that are not UTF-8, an unterminated quote, a number that is not a number)
land in a rejects table with their real line number instead of aborting the read.
Parquet keeps its own column types; the checks adapt to them (validate.py).

What a CSV value is: the field without the spaces around it (as the header's names are),
an empty field being no value; a record whose every field is empty (Excel's `;;;;`
trailing rows) is skipped like a blank line. A file in another encoding than UTF-8 is
converted to a temporary UTF-8 copy first when the mapping names its encoding.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import re
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from telcamp.core.errors import FileRejected, RowError
from telcamp.load.mapping import KindMapping
from telcamp.warehouse.contracts import CONTRACTS, Contract

REJECTS = "_load_rejects"
REJECTS_SCAN = "_load_rejects_scan"
REJECTS_LIMIT = 20  # per file: enough to report the first problems, bounded memory
DELIMITERS = (",", ";", "\t", "|")
CSV_SUFFIXES = (".csv", ".csv.gz", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")

# How CSV columns are parsed by the fast read. Anything else stays VARCHAR. Whole numbers
# are read as doubles: DuckDB's integer parser rounds "2.7" to 3, which would load a
# fraction silently; validate.py refuses one.
_CSV_FAST_TYPES = {"int": "DOUBLE", "float": "DOUBLE", "flag": "INTEGER"}

# Files that are not CSV text, by their first bytes: said plainly instead of "not UTF-8".
_NOT_CSV = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another ZIP archive, not CSV text: "
                     "export the sheet as CSV (UTF-8), or unpack the archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls), not CSV text: "
                                          "export the sheet as CSV (UTF-8)"),
    (b"\x1f\x8b", "gzip-compressed: name it .csv.gz to load it compressed"),
    (b"PAR1", "a Parquet file: name it .parquet"),
    (b"%PDF", "a PDF document, not CSV text"),
    (b"\xff\xfe", "UTF-16 text (Excel's \"Unicode Text\"), not UTF-8: export as CSV (UTF-8), "
                   "or set encoding: utf-16 for this kind in the mapping file"),
    (b"\xfe\xff", "UTF-16 text, not UTF-8: export as CSV (UTF-8), or set encoding: utf-16 "
                   "for this kind in the mapping file"),
)
_CONVERT_CHUNK = 16 << 20


def q(name: str) -> str:
    """Quote an identifier (names come from files: never paste them raw)."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    """A string literal for values that come from our own code or a mapping file."""
    return "'" + value.replace("'", "''") + "'"


@dataclass
class SourceColumn:
    source: str  # name in the file
    target: str  # contract (or extra) name after the mapping
    type: str  # DuckDB type as read (VARCHAR for CSV text columns)


@dataclass
class Source:
    path: Path
    kind: str
    fmt: str  # csv | parquet
    columns: list[SourceColumn]
    mapping: KindMapping
    delimiter: str = ","
    used: list[str] = field(default_factory=list)  # targets the load reads
    origin: Path | None = None  # the operator's file when `path` is its UTF-8 copy

    @property
    def name(self) -> str:
        return (self.origin or self.path).name

    @property
    def decimal(self) -> str:
        return self.mapping.decimal if self.fmt == "csv" else "."

    def by_target(self, target: str) -> SourceColumn:
        for c in self.columns:
            if c.target == target:
                return c
        raise KeyError(target)

    def csv_read(
        self, *, all_varchar: bool, rejects: tuple[str, str] = (REJECTS, REJECTS_SCAN),
        rejects_limit: int = REJECTS_LIMIT,
    ) -> str:
        """read_csv of the file: the header's columns, rows it cannot take to `rejects`
        (a table and a scan table; at most rejects_limit of them, 0: all)."""
        cols = ", ".join(
            f"{lit(c.target)}: {lit('VARCHAR' if all_varchar else c.type)}" for c in self.columns
        )
        decimal = f", decimal_separator = {lit(self.decimal)}" if self.decimal != "." else ""
        return (
            f"read_csv({lit(str(self.path))}, header = true, auto_detect = false, "
            f"delim = {lit(self.delimiter)}, quote = '\"', escape = '\"'{decimal}, "
            f"columns = {{{cols}}}, store_rejects = true, rejects_table = {lit(rejects[0])}, "
            f"rejects_scan = {lit(rejects[1])}, rejects_limit = {rejects_limit})"
        )

    def _csv_values(self, *, numbered: bool) -> str:
        """The CSV read with every field of the file as its value: text without the spaces
        around it (an empty field NULL: the checks' "no value"); numbers come trimmed from
        the reader already. Records whose every field is empty are left out after the
        numbering, so the line numbers of later records stay the file's."""
        values = []
        for c in self.columns:
            n = q(c.target)
            if numbered or c.type == "VARCHAR":
                # trimmed only when it has spaces to lose: a trim of every value (a new
                # string each) cost ~10 % of a usage load, two LIKEs on the same bytes ~1 %
                n = (f"CASE WHEN {n} LIKE ' %' OR {n} LIKE '% ' THEN NULLIF(trim({n}), '') "
                     f"ELSE {n} END AS {n}")
            values.append(n)
        if numbered:
            values.insert(0, "row_number() OVER () + 1 AS _line")
            # line breaks inside quoted values of every column, read or not (an unused
            # extra column's too): lines.fix_multiline moves later line numbers by them
            breaks = " + ".join(
                f"coalesce(length({q(c.target)}) - "
                f"length(replace({q(c.target)}, chr(10), '')), 0)" for c in self.columns)
            values.insert(1, f"({breaks}) AS _newlines")
        # every column of the file, the unused too: a record with only a note is no
        # empty record (and so every field's bytes are read and checked for UTF-8)
        some = " OR ".join(f"{q(c.target)} IS NOT NULL" for c in self.columns)
        src = self.csv_read(all_varchar=numbered)
        return f"(SELECT * FROM (SELECT {', '.join(values)} FROM {src}) WHERE {some})"

    def _mapped(self, column: SourceColumn, ref: str) -> str:
        values = self.mapping.values.get(column.target)
        if not values:
            return ref
        whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in values.items())
        return f"CASE CAST({ref} AS VARCHAR) {whens} ELSE CAST({ref} AS VARCHAR) END"

    def relation(self, *, numbered: bool = False) -> str:
        """A parenthesised SELECT of the used columns (contract names), value mappings
        applied. numbered=True adds `_line` (CSV: line in the file, header = 1; Parquet:
        row number, first row = 1), read in file order; for error reports only."""
        picked = [self.by_target(t) for t in self.used]
        if self.fmt == "parquet":
            extra = ", file_row_number = true" if numbered else ""
            src = f"read_parquet({lit(str(self.path))}{extra})"
            ref = {c.target: q(c.source) for c in picked}
            line = "file_row_number + 1 AS _line, " if numbered else ""
        else:
            src = self._csv_values(numbered=numbered)
            ref = {c.target: q(c.target) for c in picked}
            line = "_line, _newlines, " if numbered else ""
        cols = ", ".join(f"{self._mapped(c, ref[c.target])} AS {q(c.target)}" for c in picked)
        return f"(SELECT {line}{cols} FROM {src})"

    def read_type(self, target: str, *, numbered: bool) -> str:
        """The type a column has in relation(numbered=...)."""
        c = self.by_target(target)
        if self.mapping.values.get(target) or (self.fmt == "csv" and numbered):
            return "VARCHAR"
        return c.type


def detect_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    with path.open("rb") as fh:
        return "parquet" if fh.read(4) == b"PAR1" else "csv"


def _reject(path: Path, line: int | None, column: str | None, reason: str) -> FileRejected:
    return FileRejected(file=path.name, errors=[RowError(path.name, line, column, reason)], total=1)


# How to fix a file that is not UTF-8, said with every such refusal.
ENCODING_FIX = ("re-save the file as CSV UTF-8, or set encoding: windows-1251 (or the file's "
                "encoding) for this kind in the mapping file (--mapping)")


def as_cp1251(raw: bytes) -> str:
    """What bytes that are not UTF-8 say when read as Windows-1251 (the usual encoding of
    a Russian export), for the operator to recognise the file's encoding."""
    return f'as Windows-1251: "{raw.decode("cp1251", errors="replace")}"'


def _open_text(path: Path) -> io.BufferedIOBase:
    """The file's bytes, decompressed when it is named .gz."""
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return path.open("rb")


def _not_csv(path: Path, *, encoding: str | None) -> None:
    """Refuse a file whose first bytes say it is no CSV text (a workbook, an archive).
    With an encoding named in the mapping, the bytes of text in it are not judged."""
    with path.open("rb") as fh:
        head = fh.read(8)
    if path.name.lower().endswith(".gz"):
        if not head.startswith(b"\x1f\x8b"):
            raise _reject(path, None, None, "named .gz but not gzip-compressed")
        try:
            with gzip.open(path, "rb") as gz:
                head = gz.read(8)
        except (OSError, EOFError) as exc:
            raise _reject(path, None, None, f"not a readable gzip file ({exc})") from exc
    for magic, what in _NOT_CSV:
        if encoding and "UTF-16" in what:
            continue
        if head.startswith(magic):
            raise _reject(path, None, None, what)


_UTF8_BOM = b"\xef\xbb\xbf"
# A word around the first non-ASCII byte, to show the operator the text we recognised.
_NON_ASCII_WORD = re.compile(rb"[\w\x80-\xff]{0,40}[\x80-\xff][\w\x80-\xff]{0,40}")


def _wide(encoding: str) -> bool:
    """UTF-16 and UTF-32: every ASCII character of their text has a zero byte."""
    return codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))


def _already_utf8(name: str, encoding: str, why: str) -> FileRejected:
    return _reject(Path(name), None, None, (
        f"the file is UTF-8 already ({why}), not {encoding} as the mapping file says: "
        f"converting it would garble its text; remove encoding: {encoding} from the mapping "
        "file (or set encoding: utf-8 for this kind), or name the file's real encoding there"))


class _Utf8Probe:
    """Tells a UTF-8 file that the mapping says is in another encoding, before its text
    is converted (and garbled: UTF-8 "Москва" read as windows-1251 is "РњРѕСЃРєРІР°",
    without an error). Decided on the first chunk with non-ASCII bytes: if they decode
    as UTF-8 the file is UTF-8 (text in a single-byte encoding such as cp1251 or koi8-r
    practically never does: its letters are single bytes >= 0x80, which UTF-8 never has
    alone); if not, the named encoding stands and later chunks are not looked at. ASCII
    chunks cost one `isascii()` (C, no per-row Python). For UTF-16/32 the sign is zero
    bytes instead: CSV text in them has some (delimiters, digits), UTF-8 text never."""

    def __init__(self, name: str, encoding: str) -> None:
        self.name, self.encoding = name, encoding
        self.wide = _wide(encoding)
        self.decided = False
        self.decoder = codecs.getincrementaldecoder("utf-8")()

    def check(self, chunk: bytes, *, first: bool, lines: int) -> None:
        """Raise FileRejected when `chunk` (after `lines` line breaks) shows UTF-8 text."""
        if self.decided:
            return
        if first and chunk.startswith(_UTF8_BOM):
            raise _already_utf8(self.name, self.encoding, "it starts with a UTF-8 byte order mark")
        if self.wide:
            # one look at the first chunk: zero bytes there make it UTF-16/32 text
            self.decided = True
            if first and chunk and b"\0" not in chunk and self._utf8(chunk):
                raise _already_utf8(self.name, self.encoding,
                                    "it has no zero bytes, which UTF-16 or UTF-32 text has")
            return
        if chunk.isascii() and not self.decoder.getstate()[0]:
            return  # undecided yet: ASCII reads the same in either encoding
        try:
            text = self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            self.decided = True  # not UTF-8: the named encoding it is
            return
        if text.isascii():
            return  # only the start of a character at the chunk's end: the next decides
        found = _NON_ASCII_WORD.search(chunk)
        at = found.start() if found else 0
        word = found.group().decode("utf-8", errors="ignore") if found else ""
        line = lines + chunk[:at].count(b"\n") + 1
        raise _already_utf8(self.name, self.encoding, f'line {line} reads as UTF-8: "{word}"')

    @staticmethod
    def _utf8(chunk: bytes) -> bool:
        """Whether the bytes are UTF-8, a character cut at the chunk's end allowed."""
        try:
            codecs.getincrementaldecoder("utf-8")().decode(chunk, final=False)
        except UnicodeDecodeError:
            return False
        return True


def to_utf8(path: Path, encoding: str, name: str) -> Path:
    """A temporary UTF-8 copy of a CSV file in another encoding, converted in chunks (a
    file can be gigabytes): the reader takes UTF-8 only. A file that is UTF-8 already is
    refused (_Utf8Probe) instead of garbled. The caller deletes the copy."""
    fd, tmp = tempfile.mkstemp(prefix="telcamp-load-", suffix=".csv")
    decoder = codecs.getincrementaldecoder(encoding)()
    probe = _Utf8Probe(name, encoding)
    done = 0  # bytes converted before this chunk
    lines = 0  # line breaks in them: a byte that does not decode is reported by its line
    try:
        with _open_text(path) as src, os.fdopen(fd, "wb") as out:
            while True:
                chunk = src.read(_CONVERT_CHUNK)
                probe.check(chunk, first=not done, lines=lines)
                try:
                    text = decoder.decode(chunk, final=not chunk)
                except UnicodeDecodeError as exc:
                    # the incremental decoder may hold back a few bytes of the previous chunk
                    at = max(exc.start, 0)
                    line = lines + chunk[:at].count(b"\n") + 1
                    raise FileRejected(file=name, errors=[RowError(
                        name, line, None,
                        f"not {encoding} (byte 0x{chunk[at]:02x} at byte {done + at + 1}; "
                        "the mapping file's encoding is not the file's)")], total=1) from exc
                out.write(text.encode("utf-8"))
                if not chunk:
                    break
                done += len(chunk)
                lines += chunk.count(b"\n")
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp)


def _csv_header(path: Path, name: Path) -> tuple[list[str], str]:
    """The header's names and the delimiter. `name` is the operator's file (for reports)
    when `path` is its UTF-8 copy."""
    with _open_text(path) as fh:
        first = fh.readline(1 << 20)
        second = fh.readline(1 << 20)
        while second and not second.strip():  # blank lines before the first record
            second = fh.readline(1 << 20)
    if not first.strip():
        raise _reject(name, None, None, "empty file: no header row and no data")
    try:
        text = first.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        seen = as_cp1251(first.rstrip(b"\r\n")[:120])
        raise _reject(name, 1, None, f"not UTF-8 (byte {exc.start + 1} of the header; "
                      f"{seen}); {ENCODING_FIX}") from exc
    if not second.strip():
        raise _reject(name, None, None, "empty file: a header but no data rows")
    delimiter = max(DELIMITERS, key=text.count)
    names = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    return [n.strip() for n in names], delimiter


def _parquet_columns(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, str]]:
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM read_parquet({lit(str(path))})").fetchall()
    except duckdb.Error as exc:
        reason = str(exc).split("\n", 1)[0]
        raise _reject(path, None, None, f"not a readable Parquet file ({reason})") from exc
    return [(str(r[0]), str(r[1])) for r in rows]


def open_source(
    con: duckdb.DuckDBPyConnection, *, path: Path, contract: Contract, mapping: KindMapping
) -> Source:
    """Read the header, apply the mapping, check columns. Raises FileRejected (line 1)."""
    if not path.is_file():
        raise _reject(path, None, None, "no such file")
    fmt = detect_format(path)
    if fmt == "csv":
        _not_csv(path, encoding=mapping.encoding)
    if fmt != "csv" or not mapping.encoding:
        return _open(con, path, path, fmt, contract, mapping)
    copy = to_utf8(path, mapping.encoding, path.name)
    try:
        source = _open(con, path, copy, fmt, contract, mapping)
    except BaseException:
        copy.unlink(missing_ok=True)
        raise
    # the copy lives as long as the load's Source (its report pass reads it again)
    weakref.finalize(source, copy.unlink, missing_ok=True)
    return source


def _open(con: duckdb.DuckDBPyConnection, path: Path, read: Path, fmt: str,
          contract: Contract, mapping: KindMapping) -> Source:
    """open_source of `path`, whose bytes are read from `read` (its UTF-8 copy, or itself)."""
    delimiter = ","
    if fmt == "csv":
        names, delimiter = _csv_header(read, path)
        raw = [(n, "VARCHAR") for n in names]
    else:
        raw = _parquet_columns(con, path)
    seen: dict[str, str] = {}
    columns: list[SourceColumn] = []
    errors: list[RowError] = []
    header_line = 1 if fmt == "csv" else None
    by_lower = {c.lower(): c for c in contract.column_names}
    for name, typ in raw:
        target = mapping.target(name)
        if not target:
            errors.append(RowError(path.name, header_line, name, "empty column name"))
            continue
        # SQL names are case-insensitive: MSISDN is msisdn, and two columns differing
        # only in case would be one column in the warehouse.
        target = by_lower.get(target.lower(), target)
        if target.lower() in seen:
            errors.append(RowError(
                path.name, header_line, name,
                f"duplicate column '{target}' (the header has it twice)"
                if seen[target.lower()] == name else
                f"duplicate column '{target}' (also from '{seen[target.lower()]}')",
            ))
            continue
        seen[target.lower()] = name
        if fmt == "csv":
            known = target in contract.column_names
            kind = contract.column(target).type if known else "str"
            typ = "VARCHAR" if mapping.values.get(target) else _CSV_FAST_TYPES.get(kind, "VARCHAR")
        columns.append(SourceColumn(name, target, typ))
    # what the file has that the load will not read: where a mistyped mapping name's
    # column is, said beside the column the mapping meant it for
    unused = [c.source for c in columns if c.target not in contract.column_names]
    for col in contract.columns:
        if col.name.lower() not in seen:
            hint = " (check the mapping file)" if mapping.columns else ""
            meant = [src for src, dst in mapping.columns.items()
                     if dst.lower() == col.name.lower()]
            if meant:
                said = ", ".join(meant)
                hint = (f" (the mapping file maps {said} to it, and the file has no column "
                        f"{said}" + (f"; the file's columns the load does not use: "
                                      f"{', '.join(unused)}" if unused else "") + ")")
            errors.append(RowError(path.name, header_line, col.name, f"missing column{hint}"))
    if errors and not mapping.columns:
        # `telcamp load payments usage-0001.csv`: a file of another kind lacks every
        # column but its own; say which kind it has the columns of
        others = [k for k, c in CONTRACTS.items() if k != contract.kind
                  and all(n.lower() in seen for n in c.column_names)]
        missing = [e for e in errors if e.reason == "missing column"]
        if others and missing:
            kind = max(others, key=lambda k: len(CONTRACTS[k].column_names))
            missing[0].reason += (f" (the file has the columns of {kind}: load it as "
                                  f"telcamp load {kind} {path.name})")
    if errors:
        raise FileRejected(file=path.name, errors=errors[:10], total=len(errors))
    used = list(contract.column_names)
    if contract.extra_columns_allowed:
        used += [c.target for c in columns if c.target not in contract.column_names]
    if fmt == "parquet":
        n = con.execute(f"SELECT count(*) FROM read_parquet({lit(str(path))})").fetchone()
        if not n or not n[0]:
            raise _reject(path, None, None, "empty file: no data rows")
    return Source(read, contract.kind, fmt, columns, mapping, delimiter, used,
                  origin=path if read != path else None)
