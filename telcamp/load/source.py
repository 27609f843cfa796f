"""Opening an input file as a DuckDB relation with the contract's column names.

CSV is read by DuckDB's parallel reader with explicit columns (no sniffing: the header we
parsed decides), numbers parsed natively and every other column as VARCHAR, so the
checks see exactly what the operator wrote. Rows the reader cannot take (wrong number of
fields, bytes that are not UTF-8, an unterminated quote, a number that is not a number)
land in a rejects table with their real line number instead of aborting the read.
Parquet keeps its own column types; the checks adapt to them (validate.py).
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from telcamp.core.errors import FileRejected, RowError
from telcamp.load.mapping import KindMapping
from telcamp.warehouse.contracts import Contract

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

    @property
    def name(self) -> str:
        return self.path.name

    def by_target(self, target: str) -> SourceColumn:
        for c in self.columns:
            if c.target == target:
                return c
        raise KeyError(target)

    def _csv(self, *, all_varchar: bool) -> str:
        cols = ", ".join(
            f"{lit(c.target)}: {lit('VARCHAR' if all_varchar else c.type)}" for c in self.columns
        )
        return (
            f"read_csv({lit(str(self.path))}, header = true, auto_detect = false, "
            f"delim = {lit(self.delimiter)}, quote = '\"', escape = '\"', "
            f"columns = {{{cols}}}, store_rejects = true, rejects_table = {lit(REJECTS)}, "
            f"rejects_scan = {lit(REJECTS_SCAN)}, rejects_limit = {REJECTS_LIMIT})"
        )

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
            src = self._csv(all_varchar=numbered)
            ref = {c.target: q(c.target) for c in picked}
            line = "row_number() OVER () + 1 AS _line, " if numbered else ""
            if numbered:
                # line breaks inside quoted values of every column, read or not (an unused
                # extra column's too): lines.fix_multiline moves later line numbers by them
                breaks = " + ".join(
                    f"coalesce(length({q(c.target)}) - "
                    f"length(replace({q(c.target)}, chr(10), '')), 0)" for c in self.columns)
                line += f"({breaks}) AS _newlines, "
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


def _csv_header(path: Path) -> tuple[list[str], str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        first = fh.readline(1 << 20)
        second = fh.readline(1 << 20)
        while second and not second.strip():  # blank lines before the first record
            second = fh.readline(1 << 20)
    if not first.strip():
        raise _reject(path, None, None, "empty file: no header row and no data")
    try:
        text = first.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise _reject(path, 1, None, f"not UTF-8 (byte {exc.start + 1} of the header)") from exc
    if not second.strip():
        raise _reject(path, None, None, "empty file: a header but no data rows")
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
    delimiter = ","
    if fmt == "csv":
        names, delimiter = _csv_header(path)
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
                f"duplicate column '{target}' (also from '{seen[target.lower()]}')",
            ))
            continue
        seen[target.lower()] = name
        if fmt == "csv":
            known = target in contract.column_names
            kind = contract.column(target).type if known else "str"
            typ = "VARCHAR" if mapping.values.get(target) else _CSV_FAST_TYPES.get(kind, "VARCHAR")
        columns.append(SourceColumn(name, target, typ))
    for col in contract.columns:
        if col.name.lower() not in seen:
            hint = " (check the mapping file)" if mapping.columns else ""
            errors.append(RowError(path.name, header_line, col.name, f"missing column{hint}"))
    if errors:
        raise FileRejected(file=path.name, errors=errors[:10], total=len(errors))
    used = list(contract.column_names)
    if contract.extra_columns_allowed:
        used += [c.target for c in columns if c.target not in contract.column_names]
    if fmt == "parquet":
        n = con.execute(f"SELECT count(*) FROM read_parquet({lit(str(path))})").fetchone()
        if not n or not n[0]:
            raise _reject(path, None, None, "empty file: no data rows")
    return Source(path, contract.kind, fmt, columns, mapping, delimiter, used)
