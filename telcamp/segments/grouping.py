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
_LOCK = threading.Lock()


def keyed(expr: str) -> str:
    """The dimension's key as text; NULL reads 'unknown' (the page shows it as such)."""
    return f"coalesce(CAST({expr} AS VARCHAR), 'unknown')"


def _build(con: duckdb.DuckDBPyConnection, expr: str) -> tuple[npt.NDArray[Any], list[str]]:
    labels = [str(r[0]) for r in con.execute(
        f"SELECT DISTINCT {keyed(expr)} AS d FROM profile p ORDER BY d").fetchall()]
    # the keys are bound as a list and joined, never pasted into the SQL
    got = con.execute(f"""
        SELECT p.rowid AS r, l.code FROM profile p
        JOIN (SELECT unnest($keys) AS d, unnest(range(len($keys))) AS code) l
          ON l.d = {keyed(expr)}""", {"keys": labels}).fetchnumpy()
    rows = np.asarray(got["r"], dtype=np.int64)
    size = int(rows.max()) + 1 if len(rows) else 0
    dtype = np.int8 if len(labels) < 2**7 else np.int16 if len(labels) < 2**15 else np.int32
    codes = np.zeros(size, dtype=dtype)  # rowids of deleted rows (none today) read code 0
    codes[rows] = np.asarray(got["code"], dtype=dtype)
    return codes, labels


def codes(con: duckdb.DuckDBPyConnection, expr: str, version: tuple[Any, ...] | None
          ) -> tuple[npt.NDArray[Any], list[str]]:
    """Every profile row's code for `expr` (by rowid) and the keys; cached per version
    (None: an in-memory warehouse, computed each time)."""
    key = None if version is None else (*version, expr)
    if key is not None:
        with _LOCK:
            hit = _CODES.get(key)
        if hit is not None:
            return hit
    built = _build(con, expr)
    if key is not None:
        with _LOCK:
            while len(_CODES) >= _CODES_MAX:
                _CODES.pop(next(iter(_CODES)))
            _CODES[key] = built
    return built


def forget(version: tuple[Any, ...] | None) -> None:
    """Drop the codes of one version (they no longer match the profile's rows)."""
    with _LOCK:
        for key in [k for k in _CODES if version is None or k[:len(version)] == version]:
            del _CODES[key]


def grouped(con: duckdb.DuckDBPyConnection, dims: dict[str, str], where: str,
            version: tuple[Any, ...] | None) -> dict[tuple[int, str] | None, int]:
    """count(*) by each dimension alone and in total, over `profile p WHERE where`:
    {(dimension index, key): n, None: total}. Keys with no rows are left out."""
    rows = np.asarray(con.execute(f"SELECT p.rowid AS r FROM profile p WHERE {where}")
                      .fetchnumpy()["r"], dtype=np.int64)
    per_dim = [codes(con, expr, version) for expr in dims.values()]
    if len(rows) and any(int(rows.max()) >= len(arr) for arr, _ in per_dim):
        # the profile was rebuilt between the version check and this query: the cached
        # codes belong to the old table, so build them again for this one
        forget(version)
        per_dim = [_build(con, expr) for expr in dims.values()]
    out: dict[tuple[int, str] | None, int] = {None: len(rows)}
    for i, (arr, labels) in enumerate(per_dim):
        counts = np.bincount(arr[rows], minlength=len(labels))
        for j in np.flatnonzero(counts):
            out[(i, labels[j])] = int(counts[j])
    return out
