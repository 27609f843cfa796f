"""CSV import of list members: validate the whole file first, then apply it set-based.

File format (docs/lists.md): UTF-8 CSV, one number per row, optional columns reason and
expiry. The header is optional: the first row is a header when its first cell is a
column name (`msisdn`/`phone`/`number`, `reason`, `expiry`/`expires_at`/`expires`, any
case); a header may name the columns in any order and must name msisdn. Without a
header the columns are msisdn, reason, expiry. Blank lines are skipped.

Any bad row (malformed number, bad or past expiry, too many columns, a number repeated
in the file) is reported with its line, value and reason; then nothing is imported unless
the caller confirms the partial import. Validation runs as one SQL pass in an in-memory
DuckDB over the parsed columns; the apply step is three set-based statements through a
temporary table.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from sqlalchemy import (
    BigInteger,
    Column,
    MetaData,
    String,
    Table,
    and_,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from telcamp.core import clock
from telcamp.core.errors import FileRejected, RowError, TelcampError
from telcamp.core.security import Principal
from telcamp.core.settings import get_settings
from telcamp.lists import coverage
from telcamp.lists.models import ListDateTime, ListMember
from telcamp.lists.schemas import ImportReport, RejectedRow, national_to_international
from telcamp.lists.service import audit, get_list

COLUMN_ALIASES = {
    "msisdn": "msisdn", "phone": "msisdn", "number": "msisdn", "reason": "reason",
    "expiry": "expiry", "expires_at": "expiry", "expires": "expiry",
}
MAX_BYTES = 500_000_000  # ~20M numbers with reasons; the whole file is held in memory
REPORT_LIMIT = 200  # rejected rows carried in a report; rejected_total counts them all


@dataclass
class ParsedFile:
    file: str
    rows: int
    valid: pa.Table  # msisdn int64, reason string, expires_at timestamp[us, UTC]
    rejected: list[RejectedRow]
    rejected_total: int


class ImportNeedsConfirmation(FileRejected):
    """Some rows are bad: nothing was imported; resend with confirm_partial to import the
    good rows."""

    code = "partial_import_unconfirmed"

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        super().__init__(file=report.file, errors=_row_errors(report.file, report.rejected),
                         total=report.rejected_total)
        # Not "rejected, nothing loaded": the file can still be imported, less its bad
        # rows, and the heading says how. Counts as "label: n", so that no plural has to
        # agree with them (1 valid row, 2 valid rows; ru has three forms).
        TelcampError.__init__(self, partial_heading(report) + "\n  " + "\n  ".join(
            str(e) for e in self.errors))

    def to_dict(self) -> dict[str, object]:
        out = super().to_dict()
        out["report"] = self.report.model_dump(mode="json")
        return out


def partial_heading(report: ImportReport) -> str:
    """The first line of an unconfirmed partial import's refusal (said in other
    languages by lists.wording)."""
    return (f"{report.file}: nothing imported yet; valid rows: {report.valid}, rejected: "
            f"{report.rejected_total}. Confirm the partial import to import the valid rows "
            "(API confirm_partial=true, CLI --accept-partial). Rejected rows:")


def _row_errors(file: str, rejected: list[RejectedRow]) -> list[RowError]:
    """The first rejected rows as file:line [column]: value: reason. The column is the one
    the reason is about (an expiry in the past is not the number's fault), and so is the
    value."""
    return [RowError(file, r.line, r.column, f"{r.value!r}: {r.reason}")
            for r in rejected[:20]]


def _reject_file(file: str, reason: str, line: int | None = None) -> FileRejected:
    return FileRejected(file=file, errors=[RowError(file, line, None, reason)])


def _delimiter(text: str) -> str:
    """`,` unless the first line has more `;` or tabs: a spreadsheet saved as CSV where the
    decimal separator is a comma (Russia, much of Europe) separates with `;`."""
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _read_rows(data: bytes, file: str) -> tuple[list[int], list[str], list[str], list[str],
                                                 list[int]]:
    """Lines and cells of the file (msisdn, reason, expiry, cell count per row)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _reject_file(
            file, f"not UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8 CSV",
            line,
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    positions = {"msisdn": 0, "reason": 1, "expiry": 2}
    width = 3
    lines: list[int] = []
    cols: dict[str, list[str]] = {"msisdn": [], "reason": [], "expiry": []}
    cells: list[int] = []
    first = True
    try:
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue
            if first:
                first = False
                if row[0].strip().lower() in COLUMN_ALIASES:
                    positions, width = _header(row, file, reader.line_num)
                    continue
            lines.append(reader.line_num)
            for name, values in cols.items():
                pos = positions.get(name, width)
                values.append(row[pos].strip() if pos < len(row) else "")
            cells.append(len(row) if len(row) > width else 0)
    except csv.Error as exc:
        raise _reject_file(file, f"not a readable CSV: {exc}", reader.line_num) from None
    if not lines:
        raise _reject_file(file, "the file has no numbers (empty, or a header only)")
    return lines, cols["msisdn"], cols["reason"], cols["expiry"], cells


def _header(row: list[str], file: str, line: int) -> tuple[dict[str, int], int]:
    positions: dict[str, int] = {}
    for i, cell in enumerate(row):
        name = COLUMN_ALIASES.get(cell.strip().lower())
        if name is None:
            raise _reject_file(
                file, f"unknown column {cell.strip()!r}; allowed: msisdn, reason, expiry", line
            )
        if name in positions:
            raise _reject_file(file, f"column {name!r} appears twice", line)
        positions[name] = i
    if "msisdn" not in positions:
        raise _reject_file(file, "the header has no msisdn column", line)
    return positions, len(row)


# The number as lists.schemas.normalise_msisdn reads it: separators of the usual formats
# and a leading '+' or 00 dropped (keep the two in step; a test compares them).
_NORM = r"""CASE WHEN regexp_full_match(trim(msisdn), '\+?[0-9][0-9\s().\-]*')
    THEN regexp_replace(regexp_replace(trim(msisdn), '[\s().+\-]', '', 'g'), '^00', '')
    ELSE trim(msisdn) END"""

_VALIDATE = r"""
WITH src AS (
  SELECT line, msisdn AS value, """ + _NORM + r""" AS norm, reason, expiry, cells,
    CASE WHEN expiry = '' THEN NULL
         WHEN length(expiry) = 10
           THEN timezone($tz, CAST(TRY_CAST(expiry AS DATE) + 1 AS TIMESTAMP))
         ELSE TRY_CAST(replace(expiry, 'Z', '+00:00') AS TIMESTAMPTZ) END AS expires_at
  FROM rows_in
), checked AS (
  SELECT *,
    CASE
      WHEN cells > 0 THEN 'too many columns (' || cells || '); expected msisdn, reason, expiry'
      WHEN norm = '' THEN 'empty msisdn'
      WHEN norm[1] = '(' THEN
        'no country code; write it with one first, e.g. +7 (912) 000-00-03'
      WHEN NOT regexp_full_match(norm, '[0-9]+') THEN
        'must be digits only (E.164; spaces, - . ( ) and a leading + are allowed)'
      WHEN length(norm) NOT BETWEEN 8 AND 15 THEN
        'must have 8 to 15 digits, not ' || length(norm)
      WHEN norm[1] = '0' THEN 'must start with the country code, not 0'
      WHEN $cc <> '' AND NOT starts_with(norm, $cc) AND regexp_matches(trim(value), '^(\+|00)')
        THEN 'a number of another country; only numbers of this operator''s country (+'
          || $cc || ') can be listed'
      WHEN $cc <> '' AND NOT starts_with(norm, $cc) THEN
        'not a number of this operator''s country (+' || $cc || '); write it with the country code'
      WHEN expiry <> '' AND expires_at IS NULL THEN
        'expiry ' || expiry || ' is not an ISO date (2026-12-31) or datetime'
      WHEN expires_at <= $now THEN 'expiry ' || expiry || ' is in the past'
      WHEN length(reason) > 500 THEN 'reason longer than 500 characters'
    END AS problem
  FROM src
), numbered AS (
  SELECT *, min(line) OVER (PARTITION BY norm) AS first_line FROM checked
  WHERE problem IS NULL
)
-- the value shown is the one the problem is about: a past expiry shows the expiry typed,
-- not the (valid) number beside it
SELECT line,
  CASE col WHEN 'expiry' THEN expiry WHEN 'reason' THEN left(reason, 40) || '…'
           ELSE value END AS value,
  problem, col
FROM (SELECT *, CASE WHEN cells > 0 THEN NULL
                     WHEN starts_with(problem, 'expiry') THEN 'expiry'
                     WHEN starts_with(problem, 'reason') THEN 'reason'
                     ELSE 'msisdn' END AS col
      FROM checked WHERE problem IS NOT NULL)
UNION ALL
SELECT line, value, 'duplicate of line ' || first_line, 'msisdn' FROM numbered
WHERE line > first_line
ORDER BY line
"""

_VALID = r"""
WITH src AS (
  SELECT line, """ + _NORM + r""" AS value, reason, expiry,
    CASE WHEN expiry = '' THEN NULL
         WHEN length(expiry) = 10
           THEN timezone($tz, CAST(TRY_CAST(expiry AS DATE) + 1 AS TIMESTAMP))
         ELSE TRY_CAST(replace(expiry, 'Z', '+00:00') AS TIMESTAMPTZ) END AS expires_at
  FROM rows_in
)
SELECT CAST(value AS BIGINT) AS msisdn, NULLIF(reason, '') AS reason, expires_at
FROM src WHERE line NOT IN (SELECT line FROM bad)
ORDER BY line
"""


def parse(data: bytes, *, file: str = "upload.csv", tz: str = "UTC") -> ParsedFile:
    """Read and validate a whole file; raises FileRejected when nothing in it is usable.
    A date-only expiry counts through that day in `tz`, the list's zone
    (service.list_zone; schemas.parse_expiry does the same for one number)."""
    if not data.strip():
        raise _reject_file(file, "the file is empty")
    if len(data) > MAX_BYTES:
        raise _reject_file(file, f"the file is larger than {MAX_BYTES // 1_000_000} MB; "
                                 "split it into several imports")
    lines, msisdns, reasons, expiries, cells = _read_rows(data, file)
    # national forms (8 912 …) as international, by the operator's numbering plan; the
    # SQL below then reads every number as it reads an international one
    msisdns = [national_to_international(m) for m in msisdns]
    rows_in = pa.table({
        "line": pa.array(lines, pa.int64()), "msisdn": pa.array(msisdns, pa.string()),
        "reason": pa.array(reasons, pa.string()), "expiry": pa.array(expiries, pa.string()),
        "cells": pa.array(cells, pa.int64()),
    })
    con = duckdb.connect()
    try:
        # Naive datetimes mean UTC; dates are whole days in the list's zone (docs/lists.md).
        con.execute("SET TimeZone = 'UTC'")
        con.register("rows_in", rows_in)
        code = get_settings().msisdn_country_code or ""
        bad = con.sql(_VALIDATE, params={"now": clock.now(), "tz": tz, "cc": code}
                      ).to_arrow_table()
        con.register("bad", bad)
        valid = con.sql(_VALID, params={"tz": tz}).to_arrow_table()
    finally:
        con.close()
    valid = valid.cast(pa.schema([("msisdn", pa.int64()), ("reason", pa.string()),
                                  ("expires_at", pa.timestamp("us", tz="UTC"))]))
    head = bad.slice(0, REPORT_LIMIT).to_pylist()
    rejected = [RejectedRow(line=r["line"], value=r["value"], reason=r["problem"],
                            column=r["col"]) for r in head]
    return ParsedFile(file=file, rows=len(lines), valid=valid, rejected=rejected,
                      rejected_total=bad.num_rows)


def _staging(session: Session) -> Table:
    table = Table(
        "tmp_list_import", MetaData(),
        Column("msisdn", BigInteger, primary_key=True), Column("reason", String(500)),
        Column("expires_at", ListDateTime()), prefixes=["TEMPORARY"],
    )
    table.drop(session.connection(), checkfirst=True)
    table.create(session.connection())
    return table


def _load_staging(session: Session, table: Table, valid: pa.Table) -> None:
    """Bulk-load the valid rows without per-row ORM work: COPY on PostgreSQL, one
    executemany of plain tuples on SQLite (timestamps pre-formatted the way SQLAlchemy
    stores them there)."""
    conn = session.connection()
    raw: Any = conn.connection.dbapi_connection
    expires = valid.column("expires_at")
    if conn.dialect.name == "postgresql":
        out = io.BytesIO()
        pa_csv.write_csv(
            pa.table({"msisdn": valid.column("msisdn"), "reason": valid.column("reason"),
                      "expires_at": pc.strftime(expires, format="%Y-%m-%dT%H:%M:%S+00:00")}),
            out, write_options=pa_csv.WriteOptions(include_header=False),
        )
        with raw.cursor() as cur, cur.copy(
            "COPY tmp_list_import (msisdn, reason, expires_at) FROM STDIN WITH (FORMAT csv)"
        ) as copy:
            copy.write(out.getvalue())
        return
    stamps = pc.strftime(expires, format="%Y-%m-%d %H:%M:%S")  # %S carries .ffffff
    cur = raw.cursor()
    try:
        cur.executemany(
            "INSERT INTO tmp_list_import (msisdn, reason, expires_at) VALUES (?, ?, ?)",
            zip(valid.column("msisdn").to_pylist(), valid.column("reason").to_pylist(),
                stamps.to_pylist(), strict=True),
        )
    finally:
        cur.close()


def apply(
    session: Session,
    *,
    principal: Principal,
    list_id: int,
    parsed: ParsedFile,
    confirm_partial: bool = False,
) -> ImportReport:
    """Import the good rows of a parsed file (new numbers added, known ones get the file's
    reason and expiry). With bad rows and no confirmation: ImportNeedsConfirmation and
    nothing changes."""
    from telcamp.access.masking import mask_typed_number

    lst = get_list(session, principal=principal, list_id=list_id, write=True)
    report = ImportReport(
        list_id=lst.id, file=parsed.file, rows=parsed.rows, valid=parsed.valid.num_rows,
        # rejected numbers masked like valid ones when they look like a number at all (an
        # expiry or a reason is no phone number: shown as typed)
        rejected=[r.model_copy(update={"value": mask_typed_number(r.value, principal)})
                  if r.column in {"msisdn", None} else r for r in parsed.rejected],
        rejected_total=parsed.rejected_total, applied=False,
    )
    if parsed.valid.num_rows == 0:  # nothing to confirm: say why each row was refused
        refused = FileRejected(file=parsed.file, total=parsed.rejected_total,
                               errors=_row_errors(parsed.file, report.rejected))
        TelcampError.__init__(refused, refused.message
                              + "\nno row of the file is valid; nothing to import")
        raise refused
    # said before the confirmation too: whoever confirms should know how many will match
    cov = coverage.check(parsed.valid.column("msisdn"))
    if cov is not None:
        report.not_subscribers, report.national_like = cov.not_subscribers, cov.national_like
    if parsed.rejected_total and not confirm_partial:
        raise ImportNeedsConfirmation(report)
    table = _staging(session)
    _load_staging(session, table, parsed.valid)
    member: Table = ListMember.__table__  # type: ignore[assignment]
    match = and_(member.c.list_id == lst.id, member.c.msisdn == table.c.msisdn)
    updated = session.scalar(select(func.count()).select_from(table).where(exists().where(match)))
    session.execute(
        update(member).where(match).values(reason=table.c.reason, expires_at=table.c.expires_at)
    )
    now = clock.now()
    session.execute(insert(member).from_select(
        ["list_id", "msisdn", "reason", "expires_at", "added_by", "added_at"],
        select(literal(lst.id), table.c.msisdn, table.c.reason, table.c.expires_at,
               literal(principal.username, String(64)), literal(now, ListDateTime()))
        .where(~exists().where(match)),
    ))
    table.drop(session.connection())
    lst.version += 1
    lst.updated_at = now
    report.applied = True
    report.updated = int(updated or 0)
    report.added = report.valid - report.updated
    session.flush()
    audit(session, actor=principal, action="list.import", object_id=lst.id, before=None,
          after={"file": parsed.file, "rows": parsed.rows, "added": report.added,
                 "updated": report.updated, "rejected": parsed.rejected_total,
                 "partial": bool(parsed.rejected_total)})
    return report

