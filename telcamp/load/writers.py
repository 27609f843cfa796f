"""Per-kind validation extras and the SQL that puts a validated file into the warehouse.

Every function runs inside the file's transaction (service.py owns BEGIN/COMMIT); a
problem found here raises FileRejected through validate.report, and the caller rolls back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

import duckdb

from telcamp.core.errors import FileRejected, RowError
from telcamp.load import validate
from telcamp.load.source import Source, lit, q
from telcamp.warehouse.contracts import Contract
from telcamp.warehouse.schema import METRICS, Metric

try:  # the profile's derived names: an extra subscriber column must not shadow them
    from telcamp.warehouse.build import DERIVED_COLUMNS
except ImportError:  # pragma: no cover - the warehouse build is part of the product
    DERIVED_COLUMNS = ()


# Kinds whose rows add to what is loaded (usage is summed into usage_daily, product
# events and payments are appended): loading their records twice counts them twice, so
# their content is fingerprinted. The other kinds replace rows by key: a second load of
# the same rows changes nothing anyway.
ADDITIVE_KINDS = ("usage", "product_events", "payments")


@dataclass
class Content:
    """What an additive file holds, independent of its bytes (see content_key)."""

    fingerprint: str
    days: list[date] = field(default_factory=list)  # its distinct days, ascending
    same_as: str | None = None  # an already-loaded file of the same content


@dataclass
class Written:
    rows: int
    orphans: int = 0
    content: Content | None = None
    # usage: rows of usage_daily (subscriber-days) this file's records were summed into
    summed_into: int = 0


def row_hash(contract: Contract) -> str:
    """One 64-bit hash of a row's typed contract values. Typed (not raw) values make it
    independent of the format: CSV and Parquet, `2.50` and `2.5`, quoted or not all give
    the same BIGINT, DOUBLE, ENUM or text. Extra columns are not part of the content."""
    return "hash(" + ", ".join(q(c) for c in contract.column_names) + ")"


def content_key(kind: str, rows: int, hash_sum: int | None) -> str:
    """The content fingerprint: the kind, the row count and the sum of the rows' hashes
    modulo 2^64. A sum does not depend on row order (nor on column order, since the hash
    takes the columns in the contract's order) and, unlike an XOR, keeps a row that
    appears twice distinct from the row appearing once."""
    return f"{kind}:{rows}:{(hash_sum or 0) % (1 << 64):016x}"


def loaded_as(con: duckdb.DuckDBPyConnection, kind: str, fingerprint: str) -> str | None:
    """The name of an already-loaded file of `kind` with this content, if any."""
    row = con.execute(
        "SELECT file_name FROM load_registry WHERE kind = ? AND content_fingerprint = ? "
        "ORDER BY loaded_at LIMIT 1", [kind, fingerprint]
    ).fetchone()
    return None if row is None else str(row[0])


def _days(value: object) -> list[date]:
    return sorted(d for d in value if isinstance(d, date)) if isinstance(value, list) else []


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
        out += _region_tree_checks(table)
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
            "msisdn", UNKNOWN_SUBSCRIBER,
            "msisdn IS NOT NULL AND msisdn NOT IN (SELECT msisdn FROM subscribers)",
            "'got ' || msisdn",
        ))
    return out


# The check's reason; orphans_hint finds its first line by it.
UNKNOWN_SUBSCRIBER = "unknown subscriber (msisdn not among the loaded subscribers)"


def orphans_hint(found: FileRejected, kind: str) -> FileRejected:
    """The refusal with the way out added to its first unknown subscriber: said once, not
    on each of the lines listed (they would be a wall of the same words)."""
    for i, e in enumerate(found.errors):
        if e.reason.startswith(UNKNOWN_SUBSCRIBER):
            errors = list(found.errors)
            errors[i] = replace(e, reason=(
                f"{e.reason}; to load the file anyway use --orphans keep: the rows of unknown "
                f"subscribers are set aside in {kind}_orphans, the rest loads, and they join "
                "their subscriber when a subscribers file brings it"))
            return FileRejected(file=found.file, errors=errors, total=found.total,
                                partial=found.partial)
    return found


# The region tree: a province has no parent, a city's parent is a province, a county's
# a city. Checked on the tree the load would leave: the file's rows replacing the loaded
# rows with the same code.
def _merged_regions(table: str) -> str:
    return (
        f"SELECT code, parent_code, level FROM {table} WHERE code IS NOT NULL UNION ALL "
        f"SELECT code, parent_code, level FROM regions "
        f"WHERE code NOT IN (SELECT code FROM {table} WHERE code IS NOT NULL)"
    )


def _region_tree_checks(table: str) -> list[validate.Check]:
    """Level and cycle checks of regions, per row of `table` (the file's rows). Region
    files are small (a province has hundreds of regions): correlated subqueries and a
    recursive walk are cheap here."""
    t = table  # outer columns are qualified: the subqueries have columns of the same names
    merged = _merged_regions(t)
    expected = "CASE {l} WHEN 'city' THEN 'province' WHEN 'county' THEN 'city' END"
    want = expected.format(l=f"{t}.level")
    parent_level = (f"(SELECT any_value(m.level) FROM ({merged}) m "
                    f"WHERE m.code = {t}.parent_code)")
    # Walk up from every row of the file; a walk that comes back to its start is a cycle.
    # The depth bound (the number of regions) ends walks that enter someone else's loop.
    cycles = (
        f"WITH RECURSIVE m AS ({merged}), walk(start, cur, depth) AS ("
        f"SELECT code, parent_code, 1 FROM {t} WHERE code IS NOT NULL AND parent_code IS NOT "
        f"NULL AND parent_code <> code UNION "
        f"SELECT w.start, m.parent_code, w.depth + 1 FROM walk w JOIN m ON m.code = w.cur "
        f"WHERE m.parent_code IS NOT NULL AND w.cur <> w.start "
        f"AND w.depth <= (SELECT count(*) FROM m)) "
        f"SELECT start FROM walk WHERE cur = start"
    )
    return [
        validate.Check(
            "parent_code", "a province has no parent region",
            f"{t}.level = 'province' AND {t}.parent_code IS NOT NULL",
            f"'got ' || {t}.parent_code",
        ),
        validate.Check(
            "parent_code", "parent region missing: a city's parent is a province, a "
            "county's a city",
            f"{t}.level IN ('city', 'county') AND {t}.parent_code IS NULL",
        ),
        validate.Check(
            "parent_code", "parent region of the wrong level: a city's parent is a "
            "province, a county's a city",
            f"{t}.level IN ('city', 'county') AND {t}.parent_code <> {t}.code AND "
            f"{parent_level} <> {want}",
            f"{t}.parent_code || ' is a ' || {parent_level}",
        ),
        validate.Check(
            "level", "loaded regions below this one would be at the wrong level (a city's "
            "parent is a province, a county's a city)",
            f"EXISTS (SELECT 1 FROM regions r WHERE r.parent_code = {t}.code "
            f"AND r.code NOT IN (SELECT code FROM {t} WHERE code IS NOT NULL) "
            f"AND {expected.format(l='r.level')} IS DISTINCT FROM {t}.level)",
            f"'e.g. ' || (SELECT min(r.code || ' (' || r.level || ')') FROM regions r "
            f"WHERE r.parent_code = {t}.code "
            f"AND r.code NOT IN (SELECT code FROM {t} WHERE code IS NOT NULL) "
            f"AND {expected.format(l='r.level')} IS DISTINCT FROM {t}.level)",
        ),
        validate.Check(
            "parent_code", "parent chain comes back to this region (a cycle)",
            f"{t}.code IN ({cycles})",
            f"'via ' || {t}.parent_code",
        ),
    ]


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _reject_if_bad(
    con: duckdb.DuckDBPyConnection, source: Source, contract: Contract, *, bad_rows: int,
    cross_bad: int, orphans: str,
) -> None:
    if bad_rows or cross_bad or validate.has_rejects(con, source):
        cross = cross_checks(contract, numbered=True, orphans=orphans, table="_load_lines")
        found = validate.report(con, source, contract, cross)
        assert found is not None
        raise orphans_hint(found, contract.kind)


def _materialise(
    con: duckdb.DuckDBPyConnection, source: Source, contract: Contract, orphans: str
) -> tuple[int, Content | None]:
    """Read the file once into `_load_in` (typed), check it; return its row count and,
    for an additive kind, its content (with `same_as` set when it is loaded already:
    then the cross checks are skipped, since nothing will be written)."""
    checks = validate.all_column_checks(source, contract, numbered=False)
    typed = [q(c) for c in contract.column_names]
    typed += [q(t) for t in source.used if t not in contract.column_names]
    con.execute("DROP TABLE IF EXISTS _load_in")
    con.execute(
        f"CREATE TEMP TABLE _load_in AS SELECT {', '.join(typed)}, "
        f"{validate.any_bad(checks)} AS _bad "
        f"FROM ({validate.typed_select(source, contract, numbered=False)})"
    )
    additive = contract.kind in ADDITIVE_KINDS
    # The content comes from the same scan of `_load_in` that counts the rows; the day
    # of an event or payment is its UTC date (the instant is what is stored).
    extra = (f", sum({row_hash(contract)}), "
             "list(DISTINCT CAST(timezone('UTC', event_time) AS DATE))") if additive else ""
    rows, bad, *more = con.execute(
        f"SELECT count(*), coalesce(count_if(_bad), 0){extra} FROM _load_in"
    ).fetchone() or (0, 0)
    if not rows and not validate.has_rejects(con, source):
        raise FileRejected(file=source.name, errors=[
            RowError(source.name, None, None, "empty file: no data rows")], total=1)
    content = None
    if additive and not bad and not validate.has_rejects(con, source):
        fp = content_key(contract.kind, int(rows), more[0])
        content = Content(fp, _days(more[1]), loaded_as(con, contract.kind, fp))
        if content.same_as:
            return int(rows), content
    cross = cross_checks(contract, numbered=False, orphans=orphans, table="_load_in")
    cross_bad = 0
    if cross and not bad:
        cross_bad = _count(
            con, f"SELECT count_if(b) FROM (SELECT {validate.any_bad(cross)} AS b FROM _load_in)"
        )
    _reject_if_bad(con, source, contract, bad_rows=int(bad), cross_bad=cross_bad,
                   orphans=orphans)
    return int(rows), content


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
                     ("extra column starting with '_' (names starting with '_' are reserved "
                      "for the warehouse's own columns)" if c.startswith("_") else
                      "extra column named like a derived profile field")
                     + "; rename it in a mapping")
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
    rows, content = _materialise(con, source, contract, orphans)
    if content is not None and content.same_as:
        return Written(rows=0, content=content)
    kind = contract.kind
    cols = list(contract.column_names)
    orphan_rows = 0
    if kind == "subscribers":
        _add_extra_columns(con, source, contract)
        cols += [t for t in source.used if t not in contract.column_names]
    if kind in ("regions", "tariffs", "subscribers"):
        _replace_by_key(con, kind, contract)
    col_list = ", ".join(q(c) for c in cols)
    if kind in ("product_events", "payments") and orphans == "keep":
        # Rows of unknown subscribers go to <kind>_orphans with the file name (as usage's
        # go to usage_orphans), the others to the table: out of the features, not lost.
        con.execute("ALTER TABLE _load_in ADD COLUMN _orphan BOOLEAN")
        con.execute("UPDATE _load_in SET _orphan = msisdn NOT IN (SELECT msisdn FROM subscribers)")
        orphan_rows = _count(con, "SELECT count_if(_orphan) FROM _load_in")
        if orphan_rows:
            con.execute(
                f"INSERT INTO {kind}_orphans ({col_list}, source_file) "
                f"SELECT {col_list}, {lit(source.name)} FROM _load_in WHERE _orphan"
            )
        con.execute(f"INSERT INTO {kind} ({col_list}) SELECT {col_list} FROM _load_in "
                    "WHERE NOT _orphan")
        return Written(rows=rows - orphan_rows, orphans=orphan_rows, content=content)
    con.execute(f"INSERT INTO {kind} ({col_list}) SELECT {col_list} FROM _load_in")
    return Written(rows=rows, orphans=orphan_rows, content=content)


def _metrics_sql() -> str:
    return ",\n  ".join(
        f"sum({m.sql})::{'INTEGER' if m.integer else 'DOUBLE'} AS {m.name}" for m in METRICS
    )


def usage_checks(source: Source, contract: Contract, *, numbered: bool) -> list[validate.Check]:
    """The column checks of usage. The day needs none of its own: it comes from the same
    parse as the timestamp check (validate.typed_select), so it is NULL only when that
    check (or, for a naive Parquet TIMESTAMP, the "without a UTC offset" one) fails."""
    return validate.all_column_checks(source, contract, numbered=numbered)


# One BIGINT group key per (msisdn, day) instead of the pair: hashing and comparing one
# integer is cheaper than two columns. msisdn has at most 15 digits (< 2^50) and the day
# is an offset from KEY_EPOCH in KEY_DAY_BITS bits, so the key fits in a UBIGINT for the
# days 2000-01-01 to 2044-11-09. A file with a day outside that range loads through the
# pair key instead (same result, slower).
KEY_EPOCH = "DATE '2000-01-01'"
KEY_DAY_BITS = 14


# Counting metrics (CASE WHEN ... THEN 1 ELSE 0 END) are summed packed into one integer:
# fewer aggregate states per group is what the hash aggregation of ~8M groups per 10M
# rows pays for. Each counter gets PACK_BITS bits, `records` the bits above them; a counter
# is at most `records`, so while every group has fewer than 2^PACK_BITS records no field
# carries into the next (checked after the aggregation: otherwise it is done unpacked).
_COUNTER = re.compile(r"\s*CASE WHEN (?P<cond>.+) THEN 1 ELSE 0 END\s*", re.S)
PACK_BITS = 12
_MAX_PACKED = 4  # 4 counters of 12 bits, records from bit 48: within a BIGINT per row


def _packed_counters() -> list[tuple[Metric, str]]:
    found = [(m, c.group("cond")) for m in METRICS if m.integer
             and (c := _COUNTER.fullmatch(m.sql)) is not None
             and not re.search(r"\b(CASE|THEN|ELSE|END)\b", c.group("cond"), re.I)]
    return found[:_MAX_PACKED]


def _metrics_packed() -> tuple[str, str]:
    """(aggregates over the rows, the metric columns decoded from them)."""
    counters = _packed_counters()
    packed = {m.name for m, _ in counters}
    shift = PACK_BITS * len(counters)
    terms = [f"{1 << shift}::BIGINT"] + [
        f"CASE WHEN {cond} THEN {1 << (PACK_BITS * i)} ELSE 0 END"
        for i, (_m, cond) in enumerate(counters)
    ]
    aggs = [f"sum({m.sql})::{'INTEGER' if m.integer else 'DOUBLE'} AS {m.name}"
            for m in METRICS if m.name not in packed]
    aggs.append(f"sum({' + '.join(terms)}) AS _packed")
    mask = (1 << PACK_BITS) - 1
    decoded = {m.name: f"((_packed >> {PACK_BITS * i}) & {mask})::INTEGER AS {m.name}"
               for i, (m, _c) in enumerate(counters)}
    cols = [decoded.get(m.name, m.name) for m in METRICS]
    cols.append(f"(_packed >> {shift})::INTEGER AS records")
    return ", ".join(aggs), ", ".join(cols)


def _aggregate_sql(typed: str, bad: str, *, by_key: bool, packed: bool = True,
                   row_hash: str | None = None) -> str:
    """The file read once, aggregated to one row per (msisdn, day).

    by_key: group by the one-integer key; a row that fails a check (or whose day is out
    of the key's range) goes to the group whose msisdn is NULL, so "is anything wrong"
    is one look at the result instead of a bool_or kept in every group. Otherwise group
    by the pair and keep bool_or(bad) as `_bad`.

    row_hash: also keep `_h`, the sum of the group's row hashes, from which the file's
    content fingerprint is summed (in this scan: the file is not read again for it)."""
    metrics = f"{_metrics_sql()}, count(*)::INTEGER AS records"
    hashed = f", sum({row_hash}) AS _h" if row_hash else ""
    if not by_key:
        return (f"SELECT msisdn, day, {metrics}{hashed}, bool_or({bad}) AS _bad "
                f"FROM ({typed}) GROUP BY msisdn, day")
    span = 1 << KEY_DAY_BITS
    key = (f"CASE WHEN {bad} OR day NOT BETWEEN {KEY_EPOCH} AND {KEY_EPOCH} + {span - 1} "
           f"THEN NULL ELSE (msisdn::UBIGINT << {KEY_DAY_BITS}) + (day - {KEY_EPOCH}) END")
    cols = "* EXCLUDE (_k)"
    if packed:
        metrics, cols = _metrics_packed()
        cols += ", _h" if row_hash else ""
    return (
        f"SELECT (_k >> {KEY_DAY_BITS})::BIGINT AS msisdn, "
        f"{KEY_EPOCH} + (_k & {span - 1})::INTEGER AS day, {cols}, "
        f"_k IS NULL AS _bad FROM (SELECT {key} AS _k, {metrics}{hashed} FROM ({typed}) "
        "GROUP BY _k)"
    )


def _create_agg(con: duckdb.DuckDBPyConnection, select: str) -> None:
    con.execute("DROP TABLE IF EXISTS _load_agg")
    con.execute("SET preserve_insertion_order = false")  # the groups' order is no contract
    con.execute("CREATE TEMP TABLE _load_agg AS " + select)
    con.execute("RESET preserve_insertion_order")


def write_usage(
    con: duckdb.DuckDBPyConnection, source: Source, contract: Contract, orphans: str
) -> Written:
    """Aggregate straight from the validated scan to one row per msisdn and day, then
    add to usage_daily (summing into days that already have rows). A file whose content
    is loaded already (Content.same_as) writes nothing."""
    checks = usage_checks(source, contract, numbered=False)
    typed = validate.typed_select(source, contract, numbered=False)
    bad = validate.any_bad(checks)
    hashed = row_hash(contract)
    _create_agg(con, _aggregate_sql(typed, bad, by_key=True, row_hash=hashed))
    rows, bad_groups = con.execute(
        "SELECT coalesce(sum(records), 0), count_if(_bad) FROM _load_agg"
    ).fetchone() or (0, 0)
    if not rows and not validate.has_rejects(con, source):
        raise FileRejected(file=source.name, errors=[
            RowError(source.name, None, None, "empty file: no data rows")], total=1)
    if not bad_groups and _count(
        con, f"SELECT count(*) FROM _load_agg WHERE records >= {1 << PACK_BITS}"
    ):  # a subscriber-day too busy for the packed counters: sum them one by one
        _create_agg(con, _aggregate_sql(typed, bad, by_key=True, packed=False,
                                        row_hash=hashed))
    if bad_groups or validate.has_rejects(con, source):
        # Something is wrong, or a day lies outside the key's range: the report pass
        # says which; if it finds nothing, aggregate again by the (msisdn, day) pair.
        cross = cross_checks(contract, numbered=True, orphans=orphans, table="_load_lines")
        found = validate.report(con, source, contract, cross, clean_ok=True)
        if found is not None:
            raise orphans_hint(found, contract.kind)
        _create_agg(con, _aggregate_sql(typed, bad, by_key=False, row_hash=hashed))
    # The content, orphans included (a re-sent file is the same whoever is known now),
    # from the aggregate: one small pass over the groups, not over the records.
    hash_sum, days = con.execute(
        "SELECT sum(_h), list(DISTINCT day) FROM _load_agg"
    ).fetchone() or (0, [])
    fp = content_key("usage", int(rows), hash_sum)
    content = Content(fp, _days(days), loaded_as(con, "usage", fp))
    if content.same_as:
        return Written(rows=0, content=content)
    con.execute("DROP TABLE IF EXISTS _load_msisdns")
    con.execute("CREATE TEMP TABLE _load_msisdns AS SELECT DISTINCT msisdn FROM _load_agg")
    # Orphans: count the file's distinct msisdns found among the subscribers (a join that
    # hashes the smaller side) instead of an anti-join that hashes every subscriber.
    distinct = _count(con, "SELECT count(*) FROM _load_msisdns")
    known = _count(con, "SELECT count(*) FROM _load_msisdns JOIN subscribers USING (msisdn)")
    if distinct != known:
        if orphans == "reject":
            _reject_if_bad(con, source, contract, bad_rows=0, cross_bad=distinct - known,
                           orphans=orphans)
        con.execute("DROP TABLE IF EXISTS _load_orphans")
        con.execute(
            "CREATE TEMP TABLE _load_orphans AS SELECT msisdn FROM _load_msisdns "
            "WHERE msisdn NOT IN (SELECT msisdn FROM subscribers)"
        )
        orphan_rows = _keep_orphans(con, source, typed)
    else:
        orphan_rows = 0
    summed = _merge_daily(con)
    return Written(rows=int(rows) - orphan_rows, orphans=orphan_rows, content=content,
                   summed_into=summed)


def _keep_orphans(con: duckdb.DuckDBPyConnection, source: Source, typed: str) -> int:
    """Second read of the file, only when it has orphans: keep their raw records."""
    r = validate.raw
    written = f"CAST({r('event_time')} AS VARCHAR)"
    if "ZONE" in source.read_type("event_time", numbered=False).upper():
        # A Parquet instant: its day was taken in UTC, so keep its UTC text (a plain cast
        # writes it in the session's time zone) for attach_orphans to take the same day.
        written = f"strftime(timezone('UTC', {r('event_time')}), '%Y-%m-%dT%H:%M:%S.%f') || 'Z'"
    con.execute(
        f"INSERT INTO usage_orphans SELECT msisdn, {written}, service,"
        f" direction, long_distance, roaming, duration_s, volume_kb, charge, {lit(source.name)} "
        f"FROM ({typed}) WHERE msisdn IN (SELECT msisdn FROM _load_orphans)"
    )
    n = _count(con, "SELECT coalesce(sum(records), 0) FROM _load_agg "
                    "WHERE msisdn IN (SELECT msisdn FROM _load_orphans)")
    con.execute("DELETE FROM _load_agg WHERE msisdn IN (SELECT msisdn FROM _load_orphans)")
    return n


def _merge_daily(con: duckdb.DuckDBPyConnection) -> int:
    """Add `_load_agg` (one row per msisdn and day; its msisdns in `_load_msisdns`) to
    usage_daily; return how many existing rows it was summed into."""
    names = [m.name for m in METRICS] + ["records"]
    lo_hi = con.execute("SELECT min(day), max(day) FROM _load_agg").fetchone()
    if not lo_hi or lo_hi[0] is None:
        return 0
    lo, hi = lo_hi
    # Does any (msisdn, day) of the file already have a row? Only the days of the file
    # are looked at (zone maps skip the rest) and only its subscribers (a small hash
    # table of its distinct msisdns): files split by subscriber or by time then take
    # the plain append below.
    row = con.execute(
        "SELECT count(*) FROM usage_daily WHERE day BETWEEN ? AND ? "
        "AND msisdn IN (SELECT msisdn FROM _load_msisdns)", [lo, hi]
    ).fetchone()
    overlap = int(row[0]) if row else 0
    summed = 0
    cols = ", ".join(["msisdn", "day", *names])
    if overlap:
        # New files add to days already there: sum into the existing rows, then append the
        # (msisdn, day) pairs that are new.
        sets = ", ".join(f"{n} = usage_daily.{n} + a.{n}" for n in names)
        done = con.execute(
            f"UPDATE usage_daily SET {sets} FROM _load_agg a WHERE usage_daily.msisdn = a.msisdn"
            " AND usage_daily.day = a.day AND usage_daily.day BETWEEN ? AND ?", [lo, hi]
        ).fetchone()
        summed = int(done[0]) if done else 0
        con.execute(
            f"INSERT INTO usage_daily ({cols}) SELECT {cols} FROM _load_agg a WHERE NOT EXISTS "
            f"(SELECT 1 FROM usage_daily u WHERE u.msisdn = a.msisdn AND u.day = a.day)"
        )
    else:
        # Not sorted (a sort cost ~10 % of the load): the rows of one file span only that
        # file's days, so day filters still skip the row groups of other files.
        con.execute(f"INSERT INTO usage_daily ({cols}) SELECT {cols} FROM _load_agg")
    return summed


def _usage_day(event_time: str) -> str:
    """The day of a kept orphan record, as the loader takes it from its written text
    (validate.typed_select): the date written, the offset dropped."""
    return f"CAST(TRY_CAST({event_time} AS TIMESTAMP) AS DATE)"


def attach_orphans(con: duckdb.DuckDBPyConnection, contracts: dict[str, Contract]) -> dict[
    str, int
]:
    """Move kept orphans (usage, product events, payments) whose msisdn is now among the
    subscribers to where they would have gone had the subscriber been there: usage
    aggregated and added to usage_daily (as write_usage does), events and payments
    appended. Runs in the caller's transaction, after subscribers are written, so a
    subscriber and its earlier records become visible together; orphans whose subscriber
    is still unknown stay. Returns the rows moved per kind (only kinds with any).
    Idempotent: what is moved leaves the orphan tables."""
    known = "msisdn IN (SELECT msisdn FROM subscribers)"
    moved: dict[str, int] = {}
    n = _count(con, f"SELECT count(*) FROM usage_orphans WHERE {known}")
    if n:
        # The same metric definitions and records count as write_usage's aggregation,
        # grouped by the pair (orphans are few; no need for the packed key).
        con.execute("DROP TABLE IF EXISTS _load_agg")
        con.execute(
            f"CREATE TEMP TABLE _load_agg AS SELECT msisdn, day, {_metrics_sql()}, "
            f"count(*)::INTEGER AS records FROM (SELECT *, {_usage_day('event_time')} AS day "
            f"FROM usage_orphans WHERE {known}) GROUP BY msisdn, day"
        )
        con.execute("DROP TABLE IF EXISTS _load_msisdns")
        con.execute("CREATE TEMP TABLE _load_msisdns AS SELECT DISTINCT msisdn FROM _load_agg")
        _merge_daily(con)
        con.execute(f"DELETE FROM usage_orphans WHERE {known}")
        moved["usage"] = n
    for kind in ("product_events", "payments"):
        n = _count(con, f"SELECT count(*) FROM {kind}_orphans WHERE {known}")
        if not n:
            continue
        cols = ", ".join(q(c) for c in contracts[kind].column_names)
        con.execute(f"INSERT INTO {kind} ({cols}) SELECT {cols} FROM {kind}_orphans "
                    f"WHERE {known}")
        con.execute(f"DELETE FROM {kind}_orphans WHERE {known}")
        moved[kind] = n
    return moved
