"""True line numbers for error reports on CSV files.

The report pass numbers records in file order; two things make a record's line differ
from its number + 1 (the header): quoted values spanning lines, and blank lines (which
DuckDB's reader skips). Both are corrected here, set-based, only for a file being refused.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import numpy as np

_CHUNK = 16 << 20


def blank_lines(path: Path) -> list[int]:
    """1-based numbers of the empty (or "\\r"-only) lines, scanning the bytes with NumPy.

    An empty line inside a quoted value is part of that value, not a skipped line (its
    newline is counted with the value's, fix_multiline): a newline is inside quotes when
    an odd number of '"' precede it (an escaped quote is two of them)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    found: list[int] = []
    lines_before = 0  # newlines seen in earlier chunks
    last_nl = -1  # global position of the previous newline (-1: start of file)
    prev_byte = -1  # the byte just before this chunk
    quotes = 0  # '"' seen in earlier chunks
    offset = 0
    with opener(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            arr = np.frombuffer(chunk, dtype=np.uint8)
            quoted = np.cumsum(arr == 34, dtype=np.int64)  # '"' up to each byte
            nl = np.flatnonzero(arr == 10)
            if nl.size:
                pos = nl + offset
                prev = np.concatenate(([last_nl], pos[:-1]))
                gap = pos - prev
                # the byte before each newline, for "\r\n" blank lines
                before = np.where(nl > 0, arr[np.maximum(nl - 1, 0)], prev_byte)
                blank = (gap == 1) | ((gap == 2) & (before == 13))
                blank &= prev >= 0  # the first line (the header) is never a blank line
                blank &= (quotes + quoted[nl]) % 2 == 0  # not inside a quoted value
                numbers = np.flatnonzero(blank) + lines_before + 1
                found.extend(int(n) for n in numbers)
                lines_before += int(nl.size)
                last_nl = int(pos[-1])
            prev_byte = int(arr[-1])
            quotes += int(quoted[-1])
            offset += len(chunk)
    return found


def fix_multiline(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Quoted values spanning lines shift later line numbers: add the newlines above.

    `_newlines` is each record's count of line breaks inside its quoted values, over every
    column of the file (source.Source.relation counts them)."""
    row = con.execute(f"SELECT sum(_newlines) FROM {table}").fetchone()
    if not row or not row[0]:
        return
    con.execute(
        f"UPDATE {table} SET _line = _line + s.extra FROM (SELECT _line AS l, "
        f"coalesce(sum(_newlines) OVER (ORDER BY _line ROWS BETWEEN UNBOUNDED PRECEDING AND "
        f"1 PRECEDING), 0) AS extra FROM {table}) s WHERE {table}._line = s.l"
    )


def fix_blank_lines(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> None:
    """Move line numbers past the blank lines above them.

    With blank lines at b_0 < b_1 < ... (true numbers), a record numbered L without them
    sits after blank i exactly when L >= b_i - i; its true line is L + that count."""
    blanks = blank_lines(path)
    if not blanks:
        return
    con.execute("DROP TABLE IF EXISTS _load_blanks")
    con.execute("CREATE TEMP TABLE _load_blanks(v BIGINT)")
    con.executemany("INSERT INTO _load_blanks VALUES (?)",
                    [[b - i] for i, b in enumerate(blanks)])
    con.execute(
        f"UPDATE {table} SET _line = _line + s.n FROM (SELECT t._line AS l, count(b.v) AS n "
        f"FROM {table} t JOIN _load_blanks b ON b.v <= t._line GROUP BY t._line) s "
        f"WHERE {table}._line = s.l"
    )
    con.execute("DROP TABLE _load_blanks")


def raw_lines(path: Path, positions: list[int]) -> dict[int, bytes]:
    """The bytes of the lines starting at these byte positions (ascending), read in one
    pass: a refused file's few unreadable lines, to show what they hold."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    out: dict[int, bytes] = {}
    with opener(path, "rb") as fh:
        for pos in positions:
            fh.seek(pos)  # gzip seeks forward by decompressing: one pass for the ascending
            out[pos] = fh.readline(1 << 16)
    return out
