"""Count, exclusion funnel, profile and sample of a rule's audience (warehouse queries).

Every query here is scoped to the acting user's region: the compiled condition is always
ANDed with X IN (region_code, city_code, province_code), and lists and segments are
resolved only among those the user may see (else "not found", leaking nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session

from telcamp.core import clock, warehouse
from telcamp.core.errors import NotFound, ValidationFailed
from telcamp.core.security import Principal
from telcamp.core.settings import get_settings
from telcamp.segments import catalogue as catalogue_mod
from telcamp.segments import grouping
from telcamp.segments.compiler import (
    CompileContext,
    condition_expression,
    members_query,
    region_condition,
    resolve,
    scoped_condition,
)
from telcamp.segments.models import Segment, SegmentVersion
from telcamp.segments.rules import (
    AllOf,
    AnyOf,
    Contacted,
    ContactedSpec,
    FieldLeaf,
    InList,
    Rule,
    parse_rule,
)

SAMPLE_COLUMNS = ("msisdn", "region_code", "city_code", "tariff_code", "value_tier", "age",
                  "arpu_3m", "tenure_days")
AGE_BANDS = ((None, 18, "<18"), (18, 25, "18-24"), (25, 35, "25-34"), (35, 45, "35-44"),
             (45, 55, "45-54"), (55, 65, "55-64"), (65, None, "65+"))
BAND_ORDER = {"age_band": [b[2] for b in AGE_BANDS] + ["unknown"],
              "value_tier": ["low", "medium", "high", "unknown"]}


@contextmanager
def opened(con: duckdb.DuckDBPyConnection | None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Use the caller's warehouse connection, or open one for this unit of work."""
    if con is not None:
        yield con
        return
    # read-write like the lists and access helpers: one process must not hold the same
    # DuckDB file with two configurations
    with warehouse.connect() as own:
        yield own


def built_as_of(con: duckdb.DuckDBPyConnection) -> date | None:
    """The as-of date the profile (its stored 7/30/90-day windows) was built for."""
    try:
        # the whole (tiny) table: a point lookup through its key index costs more here
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    except duckdb.CatalogException:
        meta = {}
    value = meta.get("as_of_date")
    return date.fromisoformat(str(value)) if value else None


def as_of_date(con: duckdb.DuckDBPyConnection, built: date | None = None) -> date:
    configured = get_settings().as_of_date
    if configured is not None:
        return configured
    return built or built_as_of(con) or clock.today()


def has_profile(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(catalogue_mod.profile_columns(con))


def _segment_resolver(session: Session, principal: Principal,
                      cat: catalogue_mod.Catalogue, con: duckdb.DuckDBPyConnection
                      ) -> Any:
    from telcamp.access.regions import in_scope

    def resolve(ref: str | int) -> tuple[int, Rule]:
        seg: Segment | None
        if isinstance(ref, int) or ref.strip().isdigit():
            seg = session.get(Segment, int(ref))
            found = [seg] if seg is not None else []
        else:
            found = list(session.scalars(select(Segment).where(Segment.name == ref.strip())))
        visible = [s for s in found if in_scope(principal, s.region_code, con=con)]
        if len(visible) != 1:
            # out of scope reads exactly like unknown: nothing about it leaks
            raise NotFound(f"in_segment: segment {ref!r} not found", field="in_segment")
        seg = visible[0]
        if seg.deleted_at is not None:
            raise ValidationFailed(f"in_segment: segment {ref!r} was deleted on "
                                   f"{seg.deleted_at:%Y-%m-%d}", field="in_segment")
        ver = session.scalars(select(SegmentVersion).where(
            SegmentVersion.segment_id == seg.id,
            SegmentVersion.version == seg.current_version)).one()
        inner = parse_rule(ver.rule, catalogue=cat)
        # a segment's members are counted in its owner's region, whoever refers to it
        return seg.id, (AllOf(all=[inner, region_rule(seg.region_code)])
                        if seg.region_code is not None else inner)

    return resolve


def region_rule(code: str) -> Rule:
    """The region scope of node `code` as a rule (X IN region/city/province code)."""
    return AnyOf(any=[FieldLeaf(field=f, op="=", value=code)
                      for f in ("region_code", "city_code", "province_code")])


def _list_resolver(session: Session, principal: Principal) -> Any:
    def resolve(ref: str | int) -> int:
        from telcamp.lists import service as list_service

        return int(list_service.resolve_list(session, principal=principal, ref=ref).id)

    return resolve


def _campaign_resolver(session: Session, principal: Principal,
                       con: duckdb.DuckDBPyConnection) -> Any:
    def resolve(campaign_id: int) -> None:
        # imported here: campaigns build on segments, not the other way round
        from telcamp.access.regions import in_scope, region_subtree
        from telcamp.campaigns.models import Campaign

        found = session.get(Campaign, campaign_id)
        # a campaign of the user's region or below, or of a region above it (a province
        # campaign contacts a city's subscribers too); any other reads exactly like an
        # unknown one, as lists and segments do
        if found is None or not (
                in_scope(principal, found.region_code, con=con)
                or (principal.region_code is not None and principal.region_code
                    in region_subtree(found.region_code, con=con))):
            raise NotFound(f"campaign {campaign_id} not found", field="contacted.campaign")

    return resolve


def make_context(session: Session | None, *, principal: Principal,
                 con: duckdb.DuckDBPyConnection) -> CompileContext:
    """Everything compiling needs for this user: as-of date, now, scope, resolvers.

    Raises ValidationFailed when the warehouse has no profile yet."""
    columns = catalogue_mod.profile_columns(con)
    if not columns:
        raise ValidationFailed("the warehouse has no profile yet: load subscriber data "
                               "first (telcamp load)")
    cat = catalogue_mod.with_regions(catalogue_mod.from_columns(columns), con,
                                     principal.region_code)
    built = built_as_of(con)
    as_of = as_of_date(con, built)
    first_day = None
    if built != as_of:
        # the stored windows end on another day than the rules' (TELCAMP_AS_OF_DATE set
        # since the rebuild): they cannot bound other windows' sums, so those sum usage_daily
        cat = replace(cat, usage_columns=frozenset())
    else:
        first_day = first_usage_day(con)
    return CompileContext(
        as_of_date=as_of, now=clock.now(), region_code=principal.region_code,
        resolve_list=_list_resolver(session, principal) if session is not None else None,
        resolve_segment=(_segment_resolver(session, principal, cat, con)
                         if session is not None else None),
        resolve_campaign=(_campaign_resolver(session, principal, con)
                          if session is not None else None),
        catalogue=cat, usage_first_day=first_day,
    )


def first_usage_day(con: duckdb.DuckDBPyConnection) -> date | None:
    """The first day in usage_daily (DuckDB answers it from the column's statistics, a few
    ms at 10M), None without usage or without the table."""
    try:
        row = con.execute("SELECT min(day) FROM usage_daily").fetchone()
    except duckdb.CatalogException:
        return None
    return row[0] if row and isinstance(row[0], date) else None


@dataclass(frozen=True)
class Exclusion:
    label: str
    kind: str  # "list" | "recent_contact"
    node: Rule


def exclusions(session: Session | None, *, principal: Principal,
               campaign_id: int | None = None,
               gettext: Callable[[str], str] | None = None) -> list[Exclusion]:
    """The default exclusions in funnel order (telcamp.lists owns which ones apply),
    labelled in the language of `gettext` (English without one)."""
    from telcamp.segments.describe import exclusion_label

    if session is None:
        days = get_settings().recent_contact_days
        label = exclusion_label("recent_contact", list_type=None, list_name=None, days=days,
                                gettext=gettext)
        return [Exclusion(label, "recent_contact",
                          Contacted(contacted=ContactedSpec(days=days)))] if days > 0 else []
    from telcamp.lists import exclusions as list_exclusions

    out = []
    for ex in list_exclusions.default_exclusions(session, principal=principal,
                                                 campaign_id=campaign_id):
        label = exclusion_label(ex.kind, list_type=ex.list_type, list_name=ex.list_name,
                                days=ex.days, gettext=gettext)
        if ex.kind == "list" and ex.list_id is not None:
            out.append(Exclusion(label, "list", InList(in_list=int(ex.list_id))))
        elif ex.kind == "recent_contact" and ex.days:
            out.append(Exclusion(label, "recent_contact",
                                 Contacted(contacted=ContactedSpec(days=int(ex.days)))))
    return out


def _exclusion_ctx(ctx: CompileContext) -> CompileContext:
    # Default-excluded lists apply whoever owns them (a list of another region shows only
    # its type in the funnel), so they are compiled by id without the scope check. The
    # user's own rule was resolved (and its lists scope-checked) before: see prepare().
    return replace(ctx, resolve_list=None, resolve_segment=None, resolve_campaign=None)


def prepare(session: Session | None, *, principal: Principal, con: duckdb.DuckDBPyConnection,
            rule: Any) -> tuple[Rule, CompileContext]:
    """Validate the rule's JSON against this warehouse and resolve its lists and segments
    for this user. Returns the resolved rule and a resolver-free context."""
    ctx = make_context(session, principal=principal, con=con)
    parsed = parse_rule(rule, catalogue=ctx.catalogue)
    return resolve(parsed, ctx)


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


@dataclass(frozen=True)
class Materialised:
    """A match evaluated once (materialise_matched) into a temporary table of this
    connection: one row per member, (msisdn, r) with r the member's profile row."""
    table: str = "segment_matched"


# What the audience functions take: a rule, a condition over `profile p` already written
# as SQL, or a match materialised for one builder refresh
Matched = Rule | str | Materialised


def matched_sql(rule: Matched, ctx: CompileContext) -> str:
    """The rule AND the user's scope as DuckDB SQL over `profile p` (a string is taken as
    such a condition already)."""
    if isinstance(rule, Materialised):
        return f"p.msisdn IN (SELECT msisdn FROM {rule.table})"
    if isinstance(rule, str):
        return rule
    return scoped_condition(rule, context=ctx).sql(dialect="duckdb")


def exclusion_sql(excl: list[Exclusion], ctx: CompileContext) -> list[str]:
    ectx = _exclusion_ctx(ctx)
    return [condition_expression(e.node, context=ectx).sql(dialect="duckdb") for e in excl]


def final_sql(rule: Matched, ctx: CompileContext, excl: list[Exclusion]) -> str:
    """Matched and not excluded: what a snapshot stores and a campaign targets."""
    parts = [f"({matched_sql(rule, ctx)})", *[f"NOT ({e})" for e in exclusion_sql(excl, ctx)]]
    return " AND ".join(parts)


def materialise_matched(con: duckdb.DuckDBPyConnection, rule: Rule, ctx: CompileContext
                        ) -> Materialised:
    """Evaluate an expensive rule once into a temporary table of this connection, so
    count, funnel, profile and sample of one builder refresh do not sum usage_daily four
    times. They read that table itself (its members and their profile rows), not the
    profile filtered by membership of it (a probe of every profile row, ~100-200 ms each
    at 10M)."""
    done = Materialised()
    con.execute(f"CREATE OR REPLACE TEMP TABLE {done.table} AS "
                f"{members_sql(rule, ctx, rowid=True)}")
    return done


def members_sql(rule: Matched, ctx: CompileContext, *, rowid: bool = False) -> str:
    """SELECT of the members' msisdns, and with `rowid` their profile rows as `r`
    (compiler.members_query: a rule with a usage window the profile does not store is
    counted in two disjoint parts)."""
    if isinstance(rule, Materialised):
        return f"SELECT msisdn{', r' if rowid else ''} FROM {rule.table}"
    if isinstance(rule, str):
        return f"SELECT p.msisdn{', p.rowid AS r' if rowid else ''} FROM profile p WHERE {rule}"
    return members_query(rule, context=ctx, rowid=rowid).sql(dialect="duckdb")


def final_members_sql(rule: Matched, ctx: CompileContext, excl: list[Exclusion]) -> str:
    """SELECT p.msisdn, p.r of the final audience: the members, less the exclusions
    tested on their numbers (lists and recent contacts read only the msisdn)."""
    kept = " AND ".join(f"NOT ({e})" for e in exclusion_sql(excl, ctx)) or "TRUE"
    return f"SELECT p.msisdn, p.r FROM ({members_sql(rule, ctx, rowid=True)}) AS p WHERE {kept}"


def count(con: duckdb.DuckDBPyConnection, rule: Matched, ctx: CompileContext) -> int:
    return _scalar(con, f"SELECT count(*) FROM ({members_sql(rule, ctx)}) AS m")


def funnel(con: duckdb.DuckDBPyConnection, rule: Matched, ctx: CompileContext,
           excl: list[Exclusion]) -> dict[str, Any]:
    """matched → minus each exclusion in turn → final, in one scan of the matched rows."""
    flags = [f"({sql}) AS e{i}" for i, sql in enumerate(exclusion_sql(excl, ctx))]
    parts = ["count(*)"]
    kept: list[str] = []
    for i in range(len(flags)):
        # each exclusion is evaluated once per row (as a flag) and combined in turn
        kept.append(f"NOT e{i}")
        parts.append(f"count(*) FILTER (WHERE {' AND '.join(kept)})")
    # The exclusions (lists and recent contacts: Exclusion.kind) read only the number, so
    # they are tested on the members' numbers (for a window the profile does not store,
    # the two parts of members_query) instead of on the profile rows that pass the rule.
    inner = f"SELECT {', '.join(flags) or 'p.msisdn'} FROM ({members_sql(rule, ctx)}) AS p"
    row = con.execute(f"SELECT {', '.join(parts)} FROM ({inner}) AS f").fetchone()
    values = [int(v or 0) for v in (row or [0] * len(parts))]
    steps = []
    for i, e in enumerate(excl):
        steps.append({"label": e.label, "kind": e.kind, "removed": values[i] - values[i + 1],
                      "remaining": values[i + 1]})
    return {"matched": values[0], "steps": steps, "final": values[-1]}


def _band_sql(column: str, bands: tuple[tuple[float | None, float | None, str], ...]) -> str:
    whens = []
    for low, high, label in bands:
        conds = []
        if low is not None:
            conds.append(f"{column} >= {low}")
        if high is not None:
            conds.append(f"{column} < {high}")
        whens.append(f"WHEN {' AND '.join(conds)} THEN '{label}'")
    return f"CASE WHEN {column} IS NULL THEN 'unknown' {' '.join(whens)} END"


# profile dimensions whose keys are region codes -> the catalogue field naming them
REGION_DIMENSIONS = {"county": "region_code", "city": "city_code"}


def _dimensions(field: str | None, cat: catalogue_mod.Catalogue,
                con: duckdb.DuckDBPyConnection, version: tuple[Any, ...] | None
                ) -> dict[str, str]:
    dims = {
        "county": "p.region_code", "city": "p.city_code", "value_tier": "p.value_tier",
        "tariff": "p.tariff_code", "age_band": _band_sql("p.age", AGE_BANDS),
        # ARPU bands from the base's quintiles: fixed edges (<10 … 100+) put nearly the
        # whole base in one band for an operator billing in roubles or yuan
        "arpu_band": _band_sql("p.arpu_3m", _quantile_bands(con, "p.arpu_3m", "arpu_3m",
                                                            version)),
    }
    if field:
        info = cat.fields.get(field)
        if info is None:
            from telcamp.segments.rules import _unknown

            raise _unknown("profile", "field", field, cat.fields)
        col = '"p"."' + info.name.replace('"', '""') + '"'
        if info.type in {"int", "float"}:
            # five bands between the base's quantiles: readable for any numeric column
            dims[f"field:{info.name}"] = _band_sql(col, _quantile_bands(con, col, info.name,
                                                                        version))
        else:
            dims[f"field:{info.name}"] = f"CAST({col} AS VARCHAR)"
    return dims


def _nice(x: float) -> float:
    """Two significant digits, so band edges read 360 or 1500 rather than 358.139."""
    if x == 0:
        return 0.0
    return float(f"{x:.2g}")


def _quantile_bands(con: duckdb.DuckDBPyConnection, col: str, name: str,
                    version: tuple[Any, ...] | None
                    ) -> tuple[tuple[float | None, float | None, str], ...]:
    """Five bands between the base's quintiles of `col` (cached per warehouse version)."""
    key = None if version is None else ("cuts", *version, name)
    cached = _cache_get(key)
    if cached is None:
        cuts = con.execute(f"SELECT quantile_cont({col}, [0.2, 0.4, 0.6, 0.8]) "
                           "FROM profile p").fetchone()
        cached = sorted({_nice(float(c)) for c in (cuts[0] if cuts and cuts[0] else [])
                         if c is not None})
        _cache_put(key, cached)
    bands: list[tuple[float | None, float | None, str]] = []
    prev: float | None = None
    for edge in [*cached, None]:
        label = (f"<{edge:g}" if prev is None and edge is not None else
                 f"{prev:g}+" if edge is None and prev is not None else
                 f"{prev:g}-{edge:g}" if prev is not None and edge is not None
                 else "all")
        bands.append((prev, edge, label))
        prev = edge
    return tuple(bands)


def _band_position(label: str) -> float:
    """Where a numeric band label ("<150", "150-360", "1500+") sorts; others last."""
    import re

    found = re.match(r"^(<)?(-?[\d.]+(?:e[+-]?\d+)?)", label)
    if found is None:
        return float("inf")
    return float("-inf") if found.group(1) else float(found.group(2))


# The whole base's distribution is the same for every rule until the profile is rebuilt,
# so it is computed once per warehouse version (see warehouse_version) and kept here; a
# builder refresh then only groups the final audience's rows. Small and bounded: one entry
# per (version, scope, dimensions).
_CACHE: dict[tuple[Any, ...], Any] = {}
_CACHE_MAX = 64


def _cache_get(key: tuple[Any, ...] | None) -> Any:
    return None if key is None else _CACHE.get(key)


def _cache_put(key: tuple[Any, ...] | None, value: Any) -> None:
    if key is None:
        return
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = value


def warehouse_version(con: duckdb.DuckDBPyConnection) -> tuple[Any, ...] | None:
    """What identifies this warehouse's profile: the file, the last rebuild (meta, written
    in the rebuild's transaction), the as-of date and the row count. None for an in-memory
    database (nothing to key a cache by)."""
    try:
        row = con.execute("""
        SELECT (SELECT path FROM duckdb_databases() WHERE database_name = current_database()),
               (SELECT value FROM meta WHERE key = 'last_build'),
               (SELECT value FROM meta WHERE key = 'as_of_date'),
               (SELECT estimated_size FROM duckdb_tables() WHERE table_name = 'profile'
                  AND database_name = current_database() AND schema_name = current_schema())
        """).fetchone()
    except duckdb.CatalogException:  # no meta table: not a built warehouse
        return None
    if row is None or not row[0] or row[1] is None:
        return None
    return tuple(row)


# Categories a dimension shows one by one (a province's counties fit); the rest are summed
# into one "others" row, so the shares still add up to the whole audience and base.
PROFILE_ITEMS = 60
OTHERS = "…"


def _with_others(items: list[dict[str, Any]], total_hit: int, total_base: int
                 ) -> list[dict[str, Any]]:
    if len(items) <= PROFILE_ITEMS:
        return items
    shown, rest = items[:PROFILE_ITEMS - 1], items[PROFILE_ITEMS - 1:]
    count, base = sum(it["count"] for it in rest), sum(it["base"] for it in rest)
    share = count / total_hit if total_hit else 0.0
    base_share = base / total_base if total_base else 0.0
    return [*shown, {"key": OTHERS, "name": f"+{len(rest)}", "others": len(rest),
                     "count": count, "base": base,
                     "share": round(share, 4), "base_share": round(base_share, 4),
                     "index": round(100 * share / base_share) if base_share else None}]


def profile(con: duckdb.DuckDBPyConnection, rule: Matched, ctx: CompileContext,
            excl: list[Exclusion], field: str | None = None) -> dict[str, Any]:
    """The final audience by dimension: count, share and index against the whole base
    (the user's region scope). Index 100 = same share as the base.

    Two groupings: the final audience's rows (per request), and the base's (cached per
    warehouse version, scope and dimensions); both count cached per-row codes (grouping)."""
    scope = "TRUE" if ctx.region_code is None else region_condition(ctx.region_code).sql(
        dialect="duckdb")
    version = warehouse_version(con)
    dims = _dimensions(field, ctx.catalogue, con, version)
    key = None if version is None else ("base", *version, scope, tuple(dims.items()))
    base = _cache_get(key)
    if base is None:
        base = grouping.grouped(con, dims, f"SELECT p.rowid FROM profile p WHERE {scope}",
                                version)
        _cache_put(key, base)
    # the final audience's profile rows as its members query finds them (for a window the
    # profile does not store, the two parts, each carrying its rows; a materialised match,
    # its table), not by a second scan of the profile for the rows meeting the rule
    final_rows = f"SELECT f.r FROM ({final_members_sql(rule, ctx, excl)}) AS f"
    hits = grouping.grouped(con, dims, final_rows, version)
    total_hit, total_base = hits.get(None, 0), base.get(None, 0)
    names = list(dims)
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in dims}
    for k, n_base in base.items():
        if k is None:
            continue
        out[names[k[0]]].append({"key": k[1], "count": hits.get(k, 0), "base": n_base})
    for name, items in out.items():
        for item in items:
            share = item["count"] / total_hit if total_hit else 0.0
            base_share = item["base"] / total_base if total_base else 0.0
            item["share"] = round(share, 4)
            item["base_share"] = round(base_share, 4)
            item["index"] = round(100 * share / base_share) if base_share else None
        order = BAND_ORDER.get(name)
        if order is not None:  # bands read best in their own order
            items.sort(key=lambda it: order.index(it["key"]) if it["key"] in order else 99)
        elif name == "arpu_band" or dims[name].startswith("CASE WHEN"):  # numeric bands
            items.sort(key=lambda it: _band_position(str(it["key"])))
        else:
            items.sort(key=lambda it: (-it["base"], it["key"]))
        out[name] = _with_others(items, total_hit, total_base)
    # region names beside the codes, mapped here over the few groups, not joined into the
    # grouping (which counts cached per-row codes, see grouping.py)
    by_region = {**REGION_DIMENSIONS, **{f"field:{f}": f for f in ctx.catalogue.regions}}
    for name, column in by_region.items():
        names_of = ctx.catalogue.regions.get(column, {})
        for item in out.get(name, []):
            if item["key"] != OTHERS:
                item["name"] = names_of.get(item["key"])
    return {"audience": total_hit, "base": total_base, "dimensions": out}


def sample(con: duckdb.DuckDBPyConnection, rule: Matched, ctx: CompileContext,
           excl: list[Exclusion], principal: Principal, size: int = 20
           ) -> list[dict[str, Any]]:
    """A few members of the final audience, spread over it (by hash), numbers masked:
    picked among the members, then their profile rows read by row number."""
    from telcamp.access.masking import mask_msisdn

    cols = [c for c in SAMPLE_COLUMNS if c in ctx.catalogue.fields]
    rows = con.execute(
        f"SELECT {', '.join('p.' + c for c in cols)} FROM profile p JOIN ("
        f"SELECT f.r FROM ({final_members_sql(rule, ctx, excl)}) AS f "
        f"ORDER BY hash(f.msisdn) LIMIT ?) AS s ON p.rowid = s.r ORDER BY hash(p.msisdn)",
        [max(1, min(size, 200))]).fetchall()
    out = []
    for row in rows:
        item = dict(zip(cols, row, strict=True))
        item["msisdn"] = mask_msisdn(str(item["msisdn"]), principal)
        for k, v in item.items():
            if isinstance(v, float):
                item[k] = round(v, 2)
        out.append(item)
    return out
