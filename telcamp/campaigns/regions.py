"""The region tree as campaigns need it: a node's ancestors and levels (warehouse `regions`)."""

from __future__ import annotations

from dataclasses import dataclass

from telcamp.core import warehouse
from telcamp.core.errors import Forbidden, ValidationFailed
from telcamp.core.security import Principal


@dataclass(frozen=True)
class Region:
    code: str
    level: str
    parent_code: str | None


def lineage(code: str) -> list[Region]:
    """The region and its ancestors, nearest first; unknown region → a clear error."""
    with warehouse.connect(read_only=True) as con:
        rows = con.execute(
            """WITH RECURSIVE up(code, level, parent_code, depth) AS (
                 SELECT code, level, parent_code, 0 FROM regions WHERE code = ?
                 UNION ALL
                 SELECT r.code, r.level, r.parent_code, up.depth + 1
                 FROM regions r JOIN up ON r.code = up.parent_code WHERE up.depth < 10)
               SELECT code, level, parent_code FROM up ORDER BY depth""",
            [code],
        ).fetchall() if _has_regions(con) else []
    if not rows:
        raise ValidationFailed(f"unknown region {code!r} (not in the loaded regions)",
                               field="region_code")
    return [Region(str(c), str(lv), None if p is None else str(p)) for c, lv, p in rows]


def _has_regions(con: object) -> bool:
    row = con.execute(  # type: ignore[attr-defined]
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'regions'"
    ).fetchall()[0]
    return bool(row and row[0])


def level_of(code: str) -> str:
    return lineage(code)[0].level


def ancestor_at(code: str, level: str) -> str | None:
    """The node of `level` above (or at) `code`, None if the tree has none."""
    for region in lineage(code):
        if region.level == level:
            return region.code
    return None


def within(code: str, root: str) -> bool:
    return any(r.code == root for r in lineage(code))


def require_scope(actor: Principal, code: str) -> None:
    """A user acts only inside their own region's subtree."""
    if actor.region_code is None:
        lineage(code)  # still refuse unknown regions
        return
    if not within(code, actor.region_code):
        raise Forbidden(
            f"region {code} is outside your region {actor.region_code}", field="region_code"
        )
