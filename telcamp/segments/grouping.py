"""Counting a set of profile rows by several dimensions at once, for the audience profile.

Grouping the audience's rows in SQL evaluates every dimension's expression (CASE bands,
casts to text) for each of its rows on every builder refresh: at 10M subscribers and a
2M-row audience that was ~75 % of the profile request (docs/performance.md, "Seventh
session"). But a row's key in each dimension only changes when the profile is rebuilt.
So, once per warehouse version and dimension, every profile row's key is turned into a
small integer code, kept in a NumPy array indexed by the row's `rowid`; a request then
asks DuckDB only for the rowids of its audience and counts codes with `np.bincount`.

`rowid` is stable here because the profile is only ever replaced whole by the rebuild
(warehouse.build), which also writes the `last_build` that the version key carries.
"""

from __future__ import annotations

import threading
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt

# (version, expression) -> (code per rowid, the keys the codes stand for). One array of
# 10M int8/int16 codes is 10–20 MB: a few dimensions of two warehouse versions fit.
_CODES: dict[tuple[Any, ...], tuple[npt.NDArray[Any], list[str]]] = {}
_CODES_MAX = 16
_FEW = 256  # keys up to which a row's code is found by a list scan, not a join
_LOCK = threading.Lock()


def keyed(expr: str) -> str:
    """The dimension's key as text; NULL reads 'unknown' (the page shows it as such)."""
    return f"coalesce(CAST({expr} AS VARCHAR), 'unknown')"


def _build(con: duckdb.DuckDBPyConnection, exprs: list[str]
           ) -> list[tuple[npt.NDArray[Any], list[str]]]:
    """Codes of several dimensions in two scans of the profile, whatever their number:
    one for each dimension's distinct keys, one for every row's codes."""
    if not exprs:
        return []
    cols = ", ".join(f"{keyed(e)} AS d{i}" for i, e in enumerate(exprs))
    sets = ", ".join(f"(d{i})" for i in range(len(exprs)))
    labels: list[list[str]] = [[] for _ in exprs]
    for row in con.execute(f"SELECT {', '.join(f'd{i}' for i in range(len(exprs)))}, "
                           f"GROUPING_ID({', '.join(f'd{i}' for i in range(len(exprs)))}) "
                           f"FROM (SELECT {cols} FROM profile p) b "
                           f"GROUP BY GROUPING SETS ({sets})").fetchall():
        # the one dimension this row is grouped by is the one whose GROUPING bit is 0
        i = next(j for j in range(len(exprs)) if not row[-1] >> (len(exprs) - 1 - j) & 1)
        labels[i].append(str(row[i]))
    for ls in labels:
        ls.sort()
    # few keys (bands, tiers, regions): list_position over the sorted keys in one scan;
    # many (an extra field of free text): a hash join each, as a list scan per row would
    # cost rows x keys. Keys are bound as lists, never pasted into the SQL.
    few = [i for i, ls in enumerate(labels) if len(ls) <= _FEW]
    parts = [_got_codes(con, [(i, exprs[i]) for i in few], labels)] if few else []
    parts += [_got_codes(con, [(i, exprs[i])], labels) for i in range(len(exprs))
              if i not in few]
    rows_max = max((int(r.max()) for r, _ in parts if len(r)), default=-1)
    arrays: dict[int, npt.NDArray[Any]] = {}
    for rows, by_dim in parts:
        for i, col in by_dim.items():
            n = len(labels[i])
            dtype = np.int8 if n < 2**7 else np.int16 if n < 2**15 else np.int32
            arr = np.zeros(rows_max + 1, dtype=dtype)  # rowids of deleted rows read 0
            arr[rows] = col.astype(dtype)
            arrays[i] = arr
    return [(arrays[i], labels[i]) for i in range(len(exprs))]


def _got_codes(con: duckdb.DuckDBPyConnection, dims: list[tuple[int, str]],
              labels: list[list[str]]) -> tuple[npt.NDArray[Any], dict[int, npt.NDArray[Any]]]:
    """(rowids, {dimension: code per row}) for some dimensions, in one scan."""
    if len(dims) == 1 and len(labels[dims[0][0]]) > _FEW:
        i, e = dims[0]
        got = con.execute(f"""
            SELECT p.rowid AS r, l.code AS c{i} FROM profile p
            JOIN (SELECT unnest($k) AS d, unnest(range(len($k))) AS code) l
              ON l.d = {keyed(e)}""", {"k": labels[i]}).fetchnumpy()
    else:
        sql = ", ".join(f"CAST(list_position($k{i}, {keyed(e)}) - 1 AS INTEGER) AS c{i}"
                        for i, e in dims)
        got = con.execute(f"SELECT p.rowid AS r, {sql} FROM profile p",
                          {f"k{i}": labels[i] for i, _ in dims}).fetchnumpy()
    return (np.asarray(got["r"], dtype=np.int64),
            {i: np.asarray(got[f"c{i}"]) for i, _ in dims})


def codes(con: duckdb.DuckDBPyConnection, exprs: list[str], version: tuple[Any, ...] | None
          ) -> list[tuple[npt.NDArray[Any], list[str]]]:
    """Every profile row's code for each of `exprs` (by rowid) and the keys; cached per
    version (None: an in-memory warehouse, computed each time)."""
    found: dict[str, tuple[npt.NDArray[Any], list[str]]] = {}
    if version is not None:
        with _LOCK:
            found = {e: _CODES[(*version, e)] for e in exprs if (*version, e) in _CODES}
    missing = [e for e in exprs if e not in found]
    built = dict(zip(missing, _build(con, missing), strict=True))
    if version is not None and built:
        with _LOCK:
            for e, value in built.items():
                while len(_CODES) >= _CODES_MAX:
                    _CODES.pop(next(iter(_CODES)))
                _CODES[(*version, e)] = value
    return [found.get(e) or built[e] for e in exprs]


def forget(version: tuple[Any, ...] | None) -> None:
    """Drop the codes of one version (they no longer match the profile's rows)."""
    with _LOCK:
        for key in [k for k in _CODES if version is None or k[:len(version)] == version]:
            del _CODES[key]


def grouped(con: duckdb.DuckDBPyConnection, dims: dict[str, str], rows_sql: str,
            version: tuple[Any, ...] | None) -> dict[tuple[int, str] | None, int]:
    """count(*) by each dimension alone and in total, over the profile rows whose numbers
    (rowid) the one-column query `rows_sql` gives: {(dimension index, key): n, None:
    total}. Keys with no rows are left out."""
    fetched = con.execute(rows_sql).fetchnumpy()
    rows = np.asarray(next(iter(fetched.values())), dtype=np.int64)
    per_dim = codes(con, list(dims.values()), version)
    if len(rows) and any(int(rows.max()) >= len(arr) for arr, _ in per_dim):
        # the profile was rebuilt between the version check and this query: the cached
        # codes belong to the old table, so build them again for this one
        forget(version)
        per_dim = _build(con, list(dims.values()))
    out: dict[tuple[int, str] | None, int] = {None: len(rows)}
    for i, (arr, labels) in enumerate(per_dim):
        counts = np.bincount(arr[rows], minlength=len(labels))
        for j in np.flatnonzero(counts):
            out[(i, labels[j])] = int(counts[j])
    return out
