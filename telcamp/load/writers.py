"""Per-kind validation extras and the SQL that puts a validated file into the warehouse.

Every function runs inside the file's transaction (service.py owns BEGIN/COMMIT); a
problem found here raises FileRejected through validate.report, and the caller rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from telcamp.core.errors import FileRejected, RowError
from telcamp.load import validate
from telcamp.load.source import Source, lit, q
from telcamp.warehouse.contracts import Contract
from telcamp.warehouse.schema import METRICS

try:  # the profile's derived names: an extra subscriber column must not shadow them
    from telcamp.warehouse.build import DERIVED_COLUMNS
except ImportError:  # pragma: no cover - the warehouse build is part of the product
    DERIVED_COLUMNS = ()


@dataclass
class Written:
    rows: int
    orphans: int = 0


def cross_checks(contract: Contract, *, numbered: bool, orphans: str, table: str) -> list[
    validate.Check
]:
    """Checks that look beyond one row: duplicate keys, references to what is loaded.
    `table` is the relation the checks run over (for references inside the same file)."""
    out: list[validate.Check] = []
    if contract.key:
        key = ", ".join(q(k) for k in contract.key)
        not_null = " AND ".join(f"{q(k)} IS NOT NULL" for k in contract.key)
        if numbered:
            out.append(validate.Check(
                contract.key[0], f"duplicate {', '.join(contract.key)} in this file",
                f"{not_null} AND row_number() OVER (PARTITION BY {key} ORDER BY _line) > 1",
                f"'first at line ' || min(_line) OVER (PARTITION BY {key})",
            ))
        else:  # a hash aggregate and a semi-join: cheaper than a window over the file
            out.append(validate.Check(
                contract.key[0], "duplicate key",
                f"({key}) IN (SELECT ({key}) FROM {table} WHERE {not_null} GROUP BY {key} "
                "HAVING count(*) > 1)",
            ))
    kind = contract.kind
    if kind == "regions":
        out.append(validate.Check(
            "parent_code", "parent region is itself, or neither in this file nor already loaded",
            f"parent_code IS NOT NULL AND (parent_code = code OR parent_code NOT IN "
            f"(SELECT code FROM {table} WHERE code IS NOT NULL) "
            f"AND parent_code NOT IN (SELECT code FROM regions))",
            "'got ' || parent_code",
        ))
        out.append(validate.Check(
            "timezone", "unknown time zone (IANA name expected, e.g. Europe/Moscow)",
            "timezone IS NOT NULL AND timezone NOT IN (SELECT name FROM pg_timezone_names())",
            "'got ' || timezone",
        ))
    elif kind == "subscribers":
        for col, ref in (("region_code", "regions"), ("tariff_code", "tariffs")):
            out.append(validate.Check(
                col, f"unknown {col} (not in the loaded {ref})",
                f"{col} IS NOT NULL AND {col} NOT IN (SELECT code FROM {ref})",
                f"'got ' || {col}",
            ))
    elif kind in ("usage", "product_events", "payments") and orphans == "reject":
        out.append(validate.Check(
            "msisdn", "unknown subscriber (msisdn not among the loaded subscribers)",
            "msisdn IS NOT NULL AND msisdn NOT IN (SELECT msisdn FROM subscribers)",
            "'got ' || msisdn",
        ))
    return out


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _reject_if_bad(
    con: duckdb.DuckDBPyConnection, source: Source, contract: Contract, *, bad_rows: int,
    cross_bad: int, orphans: str,
) -> None:
    if bad_rows or cross_bad or validate.has_rejects(con, source):
        cross = cross_checks(contract, numbered=True, orphans=orphans, table="_load_lines")
        if contract.kind == "usage":
            cross = usage_checks(source, contract, numbered=True)[-1:] + cross
        raise validate.report(con, source, contract, cross)


def _materialise(
    con: duckdb.DuckDBPyConnection, source: Source, contract: Contract, orphans: str
) -> int:
    """Read the file once into `_load_in` (typed), check it; return its row count."""
    checks = validate.all_column_checks(source, contract, numbered=False)
    typed = [q(c) for c in contract.column_names]
    typed += [q(t) for t in source.used if t not in contract.column_names]
    con.execute("DROP TABLE IF EXISTS _load_in")
    con.execute(
        f"CREATE TEMP TABLE _load_in AS SELECT {', '.join(typed)}, "
        f"{validate.any_bad(checks)} AS _bad "
        f"FROM ({validate.typed_select(source, contract, numbered=False)})"
    )
    rows, bad = con.execute(
        "SELECT count(*), coalesce(count_if(_bad), 0) FROM _load_in"
    ).fetchone() or (0, 0)
    if not rows and not validate.has_rejects(con, source):
        raise FileRejected(file=source.name, errors=[
            RowError(source.name, None, None, "empty file: no data rows")], total=1)
    cross = cross_checks(contract, numbered=False, orphans=orphans, table="_load_in")
    cross_bad = 0
    if cross and not bad:
        cross_bad = _count(
            con, f"SELECT count_if(b) FROM (SELECT {validate.any_bad(cross)} AS b FROM _load_in)"
        )
    _reject_if_bad(con, source, contract, bad_rows=int(bad), cross_bad=cross_bad,
                   orphans=orphans)
    return int(rows)


def _replace_by_key(con: duckdb.DuckDBPyConnection, table: str, contract: Contract) -> None:
    key = contract.key[0]
    con.execute(f"DELETE FROM {table} WHERE {q(key)} IN (SELECT {q(key)} FROM _load_in)")


def _add_extra_columns(con: duckdb.DuckDBPyConnection, source: Source, contract: Contract) -> None:
    existing = {
        str(r[0]).lower() for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'subscribers'"
            " AND table_schema = current_schema()"
        ).fetchall()
    }
    extras = [t for t in source.used if t not in contract.column_names]
    derived = {d.lower() for d in DERIVED_COLUMNS}
    clashes = [t for t in extras if t.lower() in derived or t.startswith("_")]
    if clashes:
        raise FileRejected(file=source.name, errors=[
            RowError(source.name, 1 if source.fmt == "csv" else None, c,
                     "extra column named like a derived profile field; rename it in a mapping")
            for c in clashes], total=len(clashes))
    for name in extras:
        if name.lower() not in existing:
            typ = con.execute(
                f"SELECT typeof({q(name)}) FROM _load_in LIMIT 1"
            ).fetchone()
            col_type = str(typ[0]) if typ and typ[0] != "NULL" else "VARCHAR"
            con.execute(f"ALTER TABLE subscribers ADD COLUMN {q(name)} {col_type}")


def write_table(
    con: duckdb.DuckDBPyConnection, source: Source, contract: Contract, orphans: str
) -> Written:
    """regions, tariffs, subscribers (replace by key), product_events, payments (append)."""
    rows = _materialise(con, source, contract, orphans)
    kind = contract.kind
    cols = list(contract.column_names)
    orphan_rows = 0
    if kind == "subscribers":
        _add_extra_columns(con, source, contract)
        cols += [t for t in source.used if t not in contract.column_names]
    if kind in ("regions", "tariffs", "subscribers"):
        _replace_by_key(con, kind, contract)
    elif orphans == "keep":
        orphan_rows = _count(
            con,
            "SELECT count(*) FROM _load_in WHERE msisdn NOT IN (SELECT msisdn FROM subscribers)",
        )
    col_list = ", ".join(q(c) for c in cols)
    con.execute(f"INSERT INTO {kind} ({col_list}) SELECT {col_list} FROM _load_in")
    return Written(rows=rows, orphans=orphan_rows)


def _metrics_sql() -> str:
    return ",\n  ".join(
        f"sum({m.sql})::{'INTEGER' if m.integer else 'DOUBLE'} AS {m.name}" for m in METRICS
    )


def usage_checks(source: Source, contract: Contract, *, numbered: bool) -> list[validate.Check]:
    """Column checks, and a day that must be a date: the first 10 characters written."""
    return [*validate.all_column_checks(source, contract, numbered=numbered), validate.Check(
        "event_time", f"no date in the first 10 characters ({validate.TIMESTAMP_HINT})",
        f"{validate.raw('event_time')} IS NOT NULL AND day IS NULL",
        f"'got ' || {validate.raw('event_time')}",
    )]


def write_usage(
    con: duckdb.DuckDBPyConnection, source: Source, contract: Contract, orphans: str
) -> Written:
    """Aggregate straight from the validated scan to one row per msisdn and day, then
    add to usage_daily (summing into days that already have rows)."""
    checks = usage_checks(source, contract, numbered=False)
    typed = validate.typed_select(source, contract, numbered=False)
    con.execute("SET preserve_insertion_order = false")
    con.execute("DROP TABLE IF EXISTS _load_agg")
    con.execute(
        f"CREATE TEMP TABLE _load_agg AS SELECT msisdn, day, {_metrics_sql()}, "
        f"count(*)::INTEGER AS records, bool_or({validate.any_bad(checks)}) AS _bad "
        f"FROM ({typed}) GROUP BY msisdn, day"
    )
    con.execute("RESET preserve_insertion_order")
    rows, bad = con.execute(
        "SELECT coalesce(sum(records), 0), coalesce(count_if(_bad), 0) FROM _load_agg"
    ).fetchone() or (0, 0)
    if not rows and not validate.has_rejects(con, source):
        raise FileRejected(file=source.name, errors=[
            RowError(source.name, None, None, "empty file: no data rows")], total=1)
    con.execute("DROP TABLE IF EXISTS _load_orphans")
    con.execute(
        "CREATE TEMP TABLE _load_orphans AS SELECT DISTINCT msisdn FROM _load_agg "
        "WHERE msisdn NOT IN (SELECT msisdn FROM subscribers)"
    )
    n_orphan_msisdns = _count(con, "SELECT count(*) FROM _load_orphans")
    _reject_if_bad(
        con, source, contract, bad_rows=int(bad),
        cross_bad=n_orphan_msisdns if orphans == "reject" else 0, orphans=orphans,
    )
    orphan_rows = 0
    if n_orphan_msisdns:
        orphan_rows = _keep_orphans(con, source, typed)
    _merge_daily(con)
    return Written(rows=int(rows) - orphan_rows, orphans=orphan_rows)


def _keep_orphans(con: duckdb.DuckDBPyConnection, source: Source, typed: str) -> int:
    """Second read of the file, only when it has orphans: keep their raw records."""
    r = validate.raw
    con.execute(
        f"INSERT INTO usage_orphans SELECT msisdn, CAST({r('event_time')} AS VARCHAR), service,"
        f" direction, long_distance, roaming, duration_s, volume_kb, charge, {lit(source.name)} "
        f"FROM ({typed}) WHERE msisdn IN (SELECT msisdn FROM _load_orphans)"
    )
    n = _count(con, "SELECT coalesce(sum(records), 0) FROM _load_agg "
                    "WHERE msisdn IN (SELECT msisdn FROM _load_orphans)")
    con.execute("DELETE FROM _load_agg WHERE msisdn IN (SELECT msisdn FROM _load_orphans)")
    return n


def _merge_daily(con: duckdb.DuckDBPyConnection) -> None:
    names = [m.name for m in METRICS] + ["records"]
    lo_hi = con.execute("SELECT min(day), max(day) FROM _load_agg").fetchone()
    if not lo_hi or lo_hi[0] is None:
        return
    lo, hi = lo_hi
    row = con.execute(
        "SELECT count(*) FROM usage_daily WHERE day BETWEEN ? AND ?", [lo, hi]
    ).fetchone()
    overlap = int(row[0]) if row else 0
    cols = ", ".join(["msisdn", "day", *names])
    if overlap:
        # New files add to days already there: sum into the existing rows, then append the
        # (msisdn, day) pairs that are new.
        sets = ", ".join(f"{n} = usage_daily.{n} + a.{n}" for n in names)
        con.execute(
            f"UPDATE usage_daily SET {sets} FROM _load_agg a WHERE usage_daily.msisdn = a.msisdn"
            " AND usage_daily.day = a.day AND usage_daily.day BETWEEN ? AND ?", [lo, hi]
        )
        con.execute(
            f"INSERT INTO usage_daily ({cols}) SELECT {cols} FROM _load_agg a WHERE NOT EXISTS "
            f"(SELECT 1 FROM usage_daily u WHERE u.msisdn = a.msisdn AND u.day = a.day)"
        )
    else:
        # Not sorted (a sort cost ~10 % of the load): the rows of one file span only that
        # file's days, so day filters still skip the row groups of other files.
        con.execute(f"INSERT INTO usage_daily ({cols}) SELECT {cols} FROM _load_agg")
