"""Cells and control groups, compiled to set-based SQL over the warehouse `profile`.

A cell's rule is a segment rule (segments JSON) or the shorthand {"value_tier": ...}; a
cell without a rule is the default cell and must come last. Subscribers go to the first
cell whose rule matches. The control group of each cell is chosen by a hash of
(campaign id, msisdn) — our own integer mix, because DuckDB's hash() is not stable
across versions and md5 is ten times slower —
so the split is the same every time and can be recomputed anywhere (`control_bucket`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol

import duckdb
import sqlglot.expressions as exp

from telcamp.core import clock
from telcamp.core.errors import ValidationFailed

MAX_CONTROL_PCT = 50.0
TIERS = ("low", "medium", "high")


class CellLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def rule(self) -> dict[str, Any] | None: ...
    @property
    def control_pct(self) -> float: ...
    @property
    def channels(self) -> Sequence[str]: ...


# A stable integer mix of (campaign, msisdn): three rounds of multiply-mod-prime with
# xor-shifts. Plain BIGINT arithmetic (no overflow: every product stays below 2**62), so
# DuckDB computes it at ~0.3 µs a row where md5 of a string costs ~3 µs, and the same
# formula in Python (`control_bucket`) reproduces any subscriber's bucket exactly.
_P = 2147483647  # 2**31 - 1, prime


def control_bucket(campaign_id: int, msisdn: int) -> float:
    """The subscriber's place in [0, 100) for this campaign (same as `bucket_sql`)."""
    x = ((msisdn % _P) * 48271 + (msisdn // _P) * 16807 + campaign_id * 69621 + 12345) % _P
    x = ((x ^ (x >> 13)) * 1103515245 + 12345) % _P
    x = ((x ^ (x >> 15)) * 1594323 + 7) % _P
    return (x % 10000) / 100.0


def bucket_sql(campaign_id: int, alias: str = "p") -> str:
    m, c = f"{alias}.msisdn", int(campaign_id)
    x1 = f"((({m} % {_P}) * 48271 + ({m} // {_P}) * 16807 + {c} * 69621 + 12345) % {_P})"
    x2 = f"((xor({x1}, {x1} >> 13) * 1103515245 + 12345) % {_P})"
    x3 = f"((xor({x2}, {x2} >> 15) * 1594323 + 7) % {_P})"
    return f"(({x3} % 10000) / 100.0)"


def validate_cells(cells: Sequence[CellLike]) -> None:
    if not cells:
        raise ValidationFailed("a campaign needs at least one cell", field="cells")
    names: set[str] = set()
    for i, cell in enumerate(cells):
        where = f"cells[{i}]"
        if cell.name in names:
            raise ValidationFailed(f"{where}: cell name {cell.name!r} is used twice",
                                   field=f"{where}.name")
        names.add(cell.name)
        if not 0 <= float(cell.control_pct) <= MAX_CONTROL_PCT:
            raise ValidationFailed(
                f"{where} ({cell.name}): control percentage {cell.control_pct} is outside "
                f"0–{MAX_CONTROL_PCT:g}",
                field=f"{where}.control_pct",
            )
        if not cell.channels:
            raise ValidationFailed(f"{where} ({cell.name}): choose at least one channel",
                                   field=f"{where}.channels")
        if cell.rule is None and i != len(cells) - 1:
            raise ValidationFailed(
                f"{where} ({cell.name}): the default cell (no rule) must be the last one, "
                "otherwise the cells after it can never match",
                field=f"{where}.rule",
            )
        if cell.rule is not None:
            condition_sql(cell.rule, where=where)  # raises on a bad rule


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return exp.Literal.number(value).sql("duckdb")
    return exp.Literal.string(str(value)).sql("duckdb")


def _tier_sql(value: Any, alias: str, where: str) -> str:
    tiers = value if isinstance(value, list) else [value]
    bad = [t for t in tiers if t not in TIERS]
    if bad or not tiers:
        raise ValidationFailed(f"{where}: value tier must be one of {', '.join(TIERS)}, "
                               f"got {bad or tiers}", field=f"{where}.rule")
    return f"{alias}.value_tier IN ({', '.join(_literal(t) for t in tiers)})"


def condition_sql(rule: dict[str, Any], *, alias: str = "p", where: str = "cell") -> str:
    """Boolean SQL over `profile` for a cell rule."""
    if set(rule) == {"value_tier"}:
        return _tier_sql(rule["value_tier"], alias, where)
    try:
        from telcamp.segments import compiler, rules  # the segments domain (issue 3)
    except ImportError:
        return _fallback_sql(rule, alias, where)
    try:
        parsed = rules.parse_rule(rule)
        context = compiler.CompileContext(as_of_date=_as_of_date(), now=clock.now())
        return str(compiler.compile_condition(parsed, dialect="duckdb", alias=alias,
                                              context=context))
    except ValidationFailed as exc:
        raise ValidationFailed(f"{where}: {exc.message}", field=f"{where}.rule") from exc


def _as_of_date() -> date:
    from telcamp.core import warehouse
    from telcamp.warehouse.schema import get_meta

    with warehouse.connect(read_only=True) as con:
        try:
            value = get_meta(con, "as_of_date")
        except duckdb.Error:  # no warehouse loaded yet
            value = None
    return date.fromisoformat(value) if value else clock.today()


_OPS = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def _fallback_sql(rule: dict[str, Any], alias: str, where: str) -> str:
    """Profile-field rules only, used until the segments compiler is installed."""
    if "all" in rule or "any" in rule:
        key = "all" if "all" in rule else "any"
        parts = [_fallback_sql(r, alias, where) for r in rule[key]]
        if not parts:
            return "TRUE" if key == "all" else "FALSE"
        return "(" + (" AND " if key == "all" else " OR ").join(parts) + ")"
    if "not" in rule:
        return f"(NOT {_fallback_sql(rule['not'], alias, where)})"
    if "field" not in rule or "op" not in rule:
        raise ValidationFailed(f"{where}: unsupported cell rule {rule}", field=f"{where}.rule")
    col = f"{alias}.{exp.to_identifier(str(rule['field'])).sql('duckdb')}"
    op, value = rule["op"], rule.get("value")
    if op in _OPS:
        return f"{col} {_OPS[op]} {_literal(value)}"
    if op in ("in", "not_in") and isinstance(value, list) and value:
        neg = "NOT " if op == "not_in" else ""
        return f"{col} {neg}IN ({', '.join(_literal(v) for v in value)})"
    if op == "between" and isinstance(value, list) and len(value) == 2:
        return f"{col} BETWEEN {_literal(value[0])} AND {_literal(value[1])}"
    if op == "is_null":
        return f"{col} IS NULL"
    raise ValidationFailed(f"{where}: operator {op!r} with value {value!r} is not valid",
                           field=f"{where}.rule")


def assignment_sql(cells: Sequence[tuple[int, dict[str, Any] | None]], alias: str = "p") -> str:
    """CASE giving each profile row the id of its first matching cell (NULL: none)."""
    whens = []
    default = "NULL"
    for cell_id, rule in cells:
        if rule is None:
            default = str(int(cell_id))
        else:
            whens.append(f"WHEN {condition_sql(rule, alias=alias)} THEN {int(cell_id)}")
    if not whens:
        return default
    return f"CASE {' '.join(whens)} ELSE {default} END"


def channel_sql(
    cells: Sequence[tuple[int, list[str]]], cell_col: str = "cell_id", alias: str = "p"
) -> str:
    """CASE giving the first channel of the cell's preference the subscriber can receive."""
    def reachable(channel: str) -> str:
        if channel == "email":
            return f"{alias}.email IS NOT NULL AND {alias}.email <> ''"
        return "TRUE"

    outer = []
    for cell_id, channels in cells:
        inner = " ".join(f"WHEN {reachable(c)} THEN {_literal(c)}" for c in channels)
        outer.append(f"WHEN {cell_col} = {int(cell_id)} THEN (CASE {inner} ELSE NULL END)")
    return f"CASE {' '.join(outer)} ELSE NULL END"


def control_pct_sql(cells: Sequence[tuple[int, float]], cell_col: str = "cell_id") -> str:
    whens = " ".join(f"WHEN {cell_col} = {int(cid)} THEN {float(pct)!r}" for cid, pct in cells)
    return f"CASE {whens} ELSE 0.0 END"
