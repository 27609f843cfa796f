"""Checks of an input file, all as SQL over whole columns (never a Python loop per row).

Two passes of different cost share the same check definitions:
- the fast pass (every load) only asks "is anything wrong?" with one OR of all column
  checks, folded into the same scan that materialises or aggregates the file;
- the report pass (only for a bad file) re-reads it in file order with line numbers and
  lists the first problems with file, line, column and reason, plus the total count.

Relations here have, per contract column `c`, the raw value as `"__r_c"` and the typed
value as `"c"` (see typed_select).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import timedelta

import duckdb

from telcamp.core import clock
from telcamp.core.errors import FileRejected, RowError
from telcamp.load import lines
from telcamp.load.source import (
    ENCODING_FIX,
    REJECTS,
    REJECTS_LIMIT,
    REJECTS_SCAN,
    Source,
    as_cp1251,
    lit,
    q,
)
from telcamp.warehouse.contracts import Column, Contract

MAX_REPORTED = 10
# ISO 8601 date and time with a UTC offset; the day of a record is its first 10 characters.
TIMESTAMP_RE = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
    r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)"
)
TIMESTAMP_HINT = "ISO 8601 with a UTC offset, e.g. 2026-11-21T14:03:11+05:00"

_INTS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
         "UINTEGER", "UBIGINT"}
_FLOATS = {"FLOAT", "DOUBLE", "REAL"}
_NATIVE: dict[str, set[str]] = {
    "msisdn": _INTS,
    # a whole number read as a double (CSV reads them so: its integer parser rounds 2.7
    # to 3) is checked for a fraction below, not cast through text
    "int": _INTS | _FLOATS,
    "float": _INTS | _FLOATS,
    "flag": _INTS | {"BOOLEAN"},
    "date": {"DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE"},
    "timestamp": {"TIMESTAMP WITH TIME ZONE", "TIMESTAMP"},
}
# The largest whole number every double holds exactly: a whole number read as a double
# beyond it may have been rounded, so it is refused by both passes alike.
_EXACT_DOUBLE = 2**53 - 1
_CAST = {"int": "BIGINT", "float": "DOUBLE", "date": "DATE", "timestamp": "TIMESTAMPTZ"}
_TYPE_REASON = {
    "int": "not a whole number",
    "float": "not a number",
    "date": "not a date (YYYY-MM-DD)",
}


@dataclass(frozen=True)
class Check:
    column: str | None
    reason: str
    bad: str  # SQL boolean: true when the row has this problem
    detail: str | None = None  # SQL VARCHAR appended to the reason in reports


def raw(name: str) -> str:
    return q(f"__r_{name}")


def _is_native(col: Column, read_type: str) -> bool:
    base = read_type.upper().split("(")[0]
    if read_type.upper().startswith("DECIMAL"):
        base = "DOUBLE"
    return base in _NATIVE.get(col.type, set())


def _is_float(read_type: str) -> bool:
    return read_type.upper() in _FLOATS or read_type.upper().startswith("DECIMAL")


def number_text(text: str, decimal: str) -> str:
    """A number's text as DuckDB's cast reads it. With a decimal comma (mapping
    `decimal: ","`) a comma becomes the point and a point makes it no number, as the CSV
    reader's decimal_separator does: both passes must refuse the same rows."""
    if decimal == ".":
        return text
    return f"CASE WHEN contains({text}, '.') THEN NULL ELSE replace({text}, ',', '.') END"


def _number_detail(text: str, decimal: str) -> str:
    """The "got" of a number check, with the likely cause of a decimal-separator slip."""
    got = f"'got ' || left({text}, 40)"
    if decimal == ",":
        return (f"{got} || CASE WHEN contains({text}, '.') THEN '; the mapping file says the "
                f"decimal separator is \",\"' ELSE '' END")
    return (f"{got} || CASE WHEN regexp_full_match({text}, '[+-]?[0-9]*,[0-9]+') THEN "
            f"'; if \",\" is the decimal separator, set decimal: \",\" for this kind in the "
            f"mapping file (--mapping)' ELSE '' END")


def value_sql(
    col: Column, read_type: str, *, kind: str, empty_is_null: bool, decimal: str = "."
) -> str:
    """The typed value of a column from its raw value `"__r_c"`."""
    r = raw(col.name)
    if _is_native(col, read_type):
        if col.type == "timestamp" and "ZONE" not in read_type.upper():
            return "CAST(NULL AS TIMESTAMPTZ)"  # naive: rejected by the checks
        target = {"msisdn": "BIGINT", "flag": "INTEGER", "date": "DATE"}.get(
            col.type, _CAST.get(col.type, read_type))
        if col.type == "int" and _is_float(read_type):
            return f"TRY_CAST({r} AS BIGINT)"  # 1e20 is refused by the checks, not raised
        return f"CAST({r} AS {target})"
    text = r if read_type.upper() == "VARCHAR" else f"CAST({r} AS VARCHAR)"
    if not empty_is_null:  # CSV already reads an empty field as NULL
        text = f"NULLIF({text}, '')"
    if col.type == "msisdn":
        return f"TRY_CAST({text} AS BIGINT)"
    if col.type == "flag":
        return f"TRY_CAST({text} AS INTEGER)"
    if col.type == "timestamp" and kind == "usage":
        return text  # usage keeps the written text: its day is the date written in it
    if col.values and kind == "usage":
        # An ENUM: the metrics compare it as a small integer instead of a string, and a
        # value outside the list casts to NULL, which is the "unknown value" check.
        return f"TRY_CAST({text} AS {enum_type(col)})"
    if col.type in ("int", "float"):
        text = number_text(text, decimal)
    if col.type in _CAST:
        return f"TRY_CAST({text} AS {_CAST[col.type]})"
    return text


def enum_type(col: Column) -> str:
    return "ENUM(" + ", ".join(lit(x) for x in col.values) + ")"


def column_checks(
    col: Column, read_type: str, *, kind: str, empty_is_null: bool, decimal: str = "."
) -> list[Check]:
    """The checks of one column. A condition that is NULL for a NULL value needs no
    "is present" guard (any_bad treats NULL as fine), which keeps the per-row work small:
    only the checks built on "the cast gave NULL" carry one."""
    r, v, name = raw(col.name), q(col.name), col.name
    native = _is_native(col, read_type)
    text = r if read_type.upper() == "VARCHAR" else f"CAST({r} AS VARCHAR)"
    if native or empty_is_null:
        present = f"{r} IS NOT NULL"
    else:
        present = f"({r} IS NOT NULL AND {text} <> '')"
    got = f"'got ' || left({text}, 40)"
    checks: list[Check] = []
    if col.required:
        checks.append(Check(name, "empty value in a required column", f"NOT ({present})"))
    if col.type == "msisdn":
        if native:
            cond = f"{r} NOT BETWEEN 10000000 AND 999999999999999"
        else:
            # Digits only, 8 to 15 of them, without a regex: the text parses as an integer
            # of the right size whose digit count is the text's length (so no '+', space,
            # leading zero, sign or decimal point slipped through the lenient cast).
            cond = (f"({v} IS NULL OR {v} NOT BETWEEN 10000000 AND 999999999999999 OR "
                    f"strlen({text}) <> CAST(floor(log10({v})) AS INTEGER) + 1)")
        checks.append(Check(name, "not an msisdn (8 to 15 digits, country code first)",
                            f"{present} AND {cond}", got))
    elif col.type == "flag":
        cond = f"CAST({r} AS INTEGER) NOT IN (0, 1)" if native else f"{text} NOT IN ('0', '1')"
        checks.append(Check(name, "must be 0 or 1", cond, got))
    elif col.type == "timestamp":
        if native:
            if "ZONE" not in read_type.upper():
                checks.append(Check(name, "timestamp without a UTC offset", present))
        else:
            # The cast proves it is a time; the offset must be written. Usage parses it
            # once, in typed_select: `day` is NULL exactly when the text is not a time.
            # The canonical form (YYYY-MM-DDTHH:MM:SS+HH:MM) has its dashes at characters
            # 5 and 8, T (or a space) at 11, colons at 14 and 17 and its sign at 20: that
            # cheap test spares the regex for nearly every row (CASE evaluates lazily) and
            # guarantees that the first 10 characters are the date the cast read.
            parsed = (
                "day IS NULL" if kind == "usage" else f"TRY_CAST({text} AS TIMESTAMPTZ) IS NULL"
            )
            canonical = " OR ".join(
                f"{text} LIKE '____-__-__{t}__:__:__{sign}%'"
                for t in ("T", " ") for sign in ("+", "-", "Z")
            )  # LIKE with fixed positions: cheaper than four substr() per row
            checks.append(Check(
                name, f"not a timestamp ({TIMESTAMP_HINT})",
                f"{present} AND ({parsed} OR CASE WHEN {canonical} THEN false "
                f"ELSE NOT regexp_full_match({text}, '{TIMESTAMP_RE}') END)",
                got,
            ))
        checks.append(_not_in_the_future(name, v, kind, got))
    elif col.type == "int" and native and _is_float(read_type):
        # a fraction, or beyond the doubles' whole numbers (2^53) and so maybe rounded
        checks.append(Check(name, _TYPE_REASON["int"],
                            f"{r} <> trunc({r}) OR abs({r}) > {_EXACT_DOUBLE}", got))
    elif col.type in _TYPE_REASON and not native:
        bad = f"{v} IS NULL"
        if col.type in ("int", "float"):
            got = _number_detail(text, decimal)
        if col.type == "int":
            # DuckDB's text-to-integer cast rounds '2.7' to 3: a whole number reads back
            # as the same number (checked only when the reader did not type it integer);
            # beyond 2^53 as the fast read's double check says, so both passes agree
            bad = (f"({bad} OR TRY_CAST({number_text(text, decimal)} AS DOUBLE) <> {v} "
                   f"OR abs({v}) > {_EXACT_DOUBLE})")
        elif col.type == "date":
            # DuckDB's date cast also takes 2023/01/21 and 1990-1-5; the contract's form
            # is YYYY-MM-DD exactly, so a file in another layout is refused, not guessed
            bad = f"({bad} OR {text} NOT LIKE '____-__-__')"
        checks.append(Check(name, _TYPE_REASON[col.type], f"{present} AND {bad}", got))
    if col.values:
        allowed = ", ".join(lit(x) for x in col.values)
        if kind == "usage":  # an ENUM (value_sql): NULL for a value outside the list
            in_list = f"{present} AND {v} IS NULL"
        else:
            in_list = f"{text} NOT IN ({allowed})"
            in_list = in_list if native or empty_is_null else f"{present} AND {in_list}"
        checks.append(Check(
            name, "unknown value; allowed: " + ", ".join(col.values), in_list, got,
        ))
    if col.type == "float":
        checks.append(Check(name, "not a finite number", f"NOT isfinite({v})", got))
    if col.min is not None:
        # an integer bound for an integer column: comparing with 0.0 would cast every value
        bound = int(col.min) if col.type == "int" else float(col.min)
        checks.append(Check(
            name, f"negative value (must be at least {col.min:g})",
            f"{v} < {bound}", f"'got ' || {v}",
        ))
    return checks


# How far past the product clock an event may lie: time zones and clocks a little ahead.
FUTURE_GRACE = timedelta(days=1)


def _not_in_the_future(name: str, value: str, kind: str, got: str) -> Check:
    """A record dated after now: one such usage record would move the as-of date (the
    last usage day) years ahead, and every window and score with it."""
    limit = clock.now() + FUTURE_GRACE
    if kind == "usage":  # the written day (typed_select), a date compare per row
        bad = f"day > DATE '{limit.date().isoformat()}'"
    else:
        bad = f"{value} > TIMESTAMPTZ '{limit.isoformat()}'"
    return Check(name, f"in the future (after {limit:%Y-%m-%d %H:%M} UTC, the product "
                       "clock + 1 day)", bad, got)


def all_column_checks(source: Source, contract: Contract, *, numbered: bool) -> list[Check]:
    out: list[Check] = []
    for col in contract.columns:
        out += column_checks(col, source.read_type(col.name, numbered=numbered),
                             kind=contract.kind, empty_is_null=source.fmt == "csv",
                             decimal=source.decimal)
    return out


def typed_select(source: Source, contract: Contract, *, numbered: bool) -> str:
    """SELECT with raw (`"__r_c"`) and typed (`"c"`) columns, extras as read."""
    rel = source.relation(numbered=numbered)
    parts = ["_line"] if numbered else []
    if numbered and source.fmt == "csv":
        parts.append("_newlines")  # for lines.fix_multiline
    for col in contract.columns:
        t = source.read_type(col.name, numbered=numbered)
        parts.append(f"{q(col.name)} AS {raw(col.name)}")
        value = value_sql(col, t, kind=contract.kind, empty_is_null=source.fmt == "csv",
                          decimal=source.decimal)
        parts.append(f"{value} AS {q(col.name)}")
    parts += [q(t) for t in source.used if t not in contract.column_names]
    if contract.kind == "usage":
        r = raw("event_time")
        t = source.read_type("event_time", numbered=numbered)
        if "ZONE" in t.upper():  # a Parquet instant: its written local date is gone; use UTC
            parts.append(f"CAST(timezone('UTC', {r}) AS DATE) AS day")
        elif "TIMESTAMP" in t.upper():  # naive: refused by the checks
            parts.append(f"TRY_CAST(substr(CAST({r} AS VARCHAR), 1, 10) AS DATE) AS day")
        else:
            # One parse gives both the check and the day: a TIMESTAMP cast keeps the
            # written local time and drops the offset, so its date is the date written in
            # the first 10 characters (the canonical-form test in column_checks makes sure
            # they are the date; a test pins this DuckDB behaviour).
            parts.append(f"CAST(TRY_CAST(CAST({r} AS VARCHAR) AS TIMESTAMP) AS DATE) AS day")
    inner = f"SELECT {', '.join(parts)} FROM {rel}"
    return inner


def any_bad(checks: list[Check]) -> str:
    """One boolean for "this row has a problem". A check yields NULL where it does not
    apply (e.g. a sign test on a value that is not a number, caught by another check), so
    one coalesce around the OR is enough."""
    if not checks:
        return "false"
    return "coalesce(" + " OR ".join(f"({c.bad})" for c in checks) + ", false)"


_COUNTS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")
REJECTS_ALL = "_load_rejects_all"
REJECTS_ALL_SCAN = "_load_rejects_all_scan"


def _structural_reason(etype: str, message: str) -> str:
    """Our wording of a reader's complaint about a line."""
    counts = _COUNTS.search(message)
    if etype == "MISSING COLUMNS" and counts:
        return (f"{counts[2]} values where the header has {counts[1]} (the line ends before "
                "this column)")
    if etype == "TOO MANY COLUMNS" and counts:
        return (f"{counts[2]} values where the header has {counts[1]} (a value holding the "
                "delimiter must be quoted)")
    if etype == "UNQUOTED VALUE":
        return "unterminated quote"
    return f"{etype.lower()}: {message}"


def _encoding_reasons(source: Source, found: list[tuple[int, int, int]]) -> dict[int, str]:
    """For lines that are not UTF-8, (line, its first byte, column index): what the bad
    field says when read as Windows-1251, so the operator sees the file's encoding."""
    raw = lines.raw_lines(source.path, sorted({pos for _line, pos, _idx in found}))
    out: dict[int, str] = {}
    for line, pos, idx in found:
        text = raw.get(pos, b"").rstrip(b"\r\n").decode("cp1251", errors="replace")
        fields = next(csv.reader(io.StringIO(text), delimiter=source.delimiter), [])
        value = fields[idx - 1] if 0 < idx <= len(fields) else text
        out[line] = f'not UTF-8 ({as_cp1251(value[:60].encode("cp1251", errors="replace"))})'
    return out


def structural_errors(con: duckdb.DuckDBPyConnection, source: Source) -> FileRejected | None:
    """Rows the CSV reader could not take. Only non-cast problems count here: cast
    problems are explained better by the report pass."""
    if source.fmt != "csv":
        return None
    rows = con.execute(
        f"SELECT line, line_byte_position, column_idx, column_name, error_type, error_message "
        f"FROM {q(REJECTS)} WHERE error_type <> 'CAST' ORDER BY line, column_idx"
    ).fetchall()
    if not rows:
        return None
    found: list[tuple[int, int, str | None, str, str, int]] = []
    seen: set[tuple[int, str]] = set()
    for line, pos, idx, column, etype, message in rows:
        etype = str(etype)
        if (int(line), etype) in seen:
            continue  # the reader records a short line once per missing field
        seen.add((int(line), etype))
        found.append((int(line), int(pos or 0), None if column is None else str(column), etype,
                      str(message), int(idx or 0)))
    shown = found[:MAX_REPORTED]
    encoding = _encoding_reasons(source, [
        (line, pos, idx) for line, pos, _c, etype, _m, idx in shown
        if etype in ("INVALID ENCODING", "INVALID UNICODE")])
    errors = [RowError(source.name, line, column,
                       encoding.get(line) or _structural_reason(etype, message))
              for line, _pos, column, etype, message, _idx in shown]
    if encoding:  # the fix, once
        first = next(i for i, e in enumerate(errors) if e.line in encoding)
        errors[first].reason += "; " + ENCODING_FIX
    total = len(found)
    limited = con.execute(f"SELECT count(*) FROM {q(REJECTS)}").fetchone()
    if limited and int(limited[0]) >= REJECTS_LIMIT:
        total = _count_structural(con, source)
    return FileRejected(file=source.name, errors=errors, total=max(total, len(found)))


def _count_structural(con: duckdb.DuckDBPyConnection, source: Source) -> int:
    """The number of unreadable lines when the fast read's rejects table filled up: one
    more read of the file (a refused one only), keeping every reject but no data."""
    for t in (REJECTS_ALL, REJECTS_ALL_SCAN):
        con.execute(f"DROP TABLE IF EXISTS {q(t)}")
    src = source.csv_read(all_varchar=True, rejects=(REJECTS_ALL, REJECTS_ALL_SCAN),
                          rejects_limit=0)
    # every field used (a bare count(*) would not parse them, nor find their bytes bad)
    fields = ", ".join(q(c.target) for c in source.columns)
    con.execute(f"SELECT count(concat({fields})) FROM {src}").fetchone()
    row = con.execute(
        f"SELECT count(*) FROM (SELECT DISTINCT line, error_type FROM {q(REJECTS_ALL)} "
        "WHERE error_type <> 'CAST')"
    ).fetchone()
    for t in (REJECTS_ALL, REJECTS_ALL_SCAN):
        con.execute(f"DROP TABLE IF EXISTS {q(t)}")
    return int(row[0]) if row else 0


def _cast_rejects(con: duckdb.DuckDBPyConnection, source: Source) -> list[RowError]:
    """Values the fast read could not parse as its column's number type. The report pass
    reads them as text and normally explains them; these stand in for it if it does not,
    because such rows are missing from the fast read: a file with any is never loaded."""
    if source.fmt != "csv":
        return []
    rows = con.execute(
        f"SELECT line, column_name, error_message FROM {q(REJECTS)} WHERE error_type = 'CAST' "
        f"ORDER BY line, column_idx LIMIT {MAX_REPORTED}"
    ).fetchall()
    out = []
    for line, column, message in rows:
        value = re.search(r'string "(.*)" to', str(message), re.S)
        got = f" (got {value[1][:40]})" if value else ""
        out.append(RowError(source.name, int(line), str(column), f"not a number{got}"))
    return out


def has_rejects(con: duckdb.DuckDBPyConnection, source: Source) -> bool:
    if source.fmt != "csv":
        return False
    row = con.execute(f"SELECT count(*) FROM {q(REJECTS)}").fetchone()
    return bool(row and row[0])


def report(
    con: duckdb.DuckDBPyConnection, source: Source, contract: Contract, cross: list[Check],
    *, clean_ok: bool = False,
) -> FileRejected | None:
    """Re-read the file in order with line numbers and explain what is wrong. When the
    re-read finds nothing: None with clean_ok (the caller only suspected a problem),
    else a refusal all the same (the fast pass saw one)."""
    structural = structural_errors(con, source)
    if structural is not None:
        return structural
    unparsed = _cast_rejects(con, source)
    threads = con.execute("SELECT current_setting('threads')").fetchone()
    con.execute("SET preserve_insertion_order = true")
    if source.fmt == "csv":
        con.execute("SET threads = 1")  # row_number() in file order needs one reader
    try:
        con.execute("DROP TABLE IF EXISTS _load_lines")
        con.execute(f"DROP TABLE IF EXISTS {q(REJECTS)}")
        con.execute(f"DROP TABLE IF EXISTS {q(REJECTS_SCAN)}")
        con.execute(
            "CREATE TEMP TABLE _load_lines AS "
            + typed_select(source, contract, numbered=True)
        )
    finally:
        con.execute(f"SET threads = {int(threads[0]) if threads else 2}")
    # Read as text, a line can still be unreadable (e.g. bytes that are not UTF-8 in a
    # column the fast read parsed as a number, which it reported as a cast problem):
    # the numbering skipped it, so report such lines, which carry their true number.
    structural = structural_errors(con, source)
    if structural is not None:
        return structural
    if source.fmt == "csv":
        lines.fix_multiline(con, "_load_lines")
        lines.fix_blank_lines(con, "_load_lines", source.path)
    checks = all_column_checks(source, contract, numbered=True) + cross
    flags = ", ".join(
        f"coalesce({c.bad}, false) AS b{i}"
        + (f", {c.detail} AS d{i}" if c.detail else "")
        for i, c in enumerate(checks)
    )
    con.execute("DROP TABLE IF EXISTS _load_flags")
    con.execute(
        f"CREATE TEMP TABLE _load_flags AS SELECT * FROM "
        f"(SELECT _line, {flags} FROM _load_lines) "
        f"WHERE {' OR '.join(f'b{i}' for i in range(len(checks)))}"
    )
    totals = con.execute(
        "SELECT " + ", ".join(f"count_if(b{i})" for i in range(len(checks))) + " FROM _load_flags"
    ).fetchone()
    total = sum(int(x or 0) for x in totals) if totals else 0
    rows = con.execute(
        f"SELECT * FROM _load_flags ORDER BY _line LIMIT {MAX_REPORTED}"
    ).fetchall()
    names = [d[0] for d in con.description or []]
    errors: list[RowError] = []
    for row in rows:
        rec = dict(zip(names, row, strict=True))
        for i, c in enumerate(checks):
            if rec[f"b{i}"]:
                detail = rec.get(f"d{i}")
                reason = c.reason + (f" ({detail})" if detail else "")
                errors.append(RowError(source.name, int(rec["_line"]), c.column, reason))
    if not errors and unparsed:  # rows the fast read dropped: never load without them
        return FileRejected(file=source.name, errors=unparsed, total=len(unparsed))
    if not errors and clean_ok:
        return None
    if not errors:  # the fast pass saw a problem the report cannot place: still refuse
        errors = [RowError(source.name, None, None, "the file failed validation")]
        total = 1
    return FileRejected(file=source.name, errors=errors[:MAX_REPORTED], total=total)
