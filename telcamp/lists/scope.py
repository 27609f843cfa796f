"""Which lists a user may read and change.

A list is owned by a region node (or by nobody = operator-wide). A user at node X:
- reads lists owned inside X's subtree and lists owned by X's ancestors (so the
  province's blacklist applies to, and is visible in, every city and county office) and
  operator-wide lists;
- changes only lists owned inside X's subtree.
A user without a region (operator IT, the CLI) reads and changes everything.
Anything else is reported as "not found", so ids and names of other regions leak nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from telcamp.core import warehouse
from telcamp.core.security import Principal

_TREE_SQL = """
WITH RECURSIVE down(code) AS (
  SELECT code FROM regions WHERE code = ?
  UNION SELECT r.code FROM regions r JOIN down d ON r.parent_code = d.code
),
up(code, parent_code) AS (
  SELECT code, parent_code FROM regions WHERE code = ?
  UNION SELECT r.code, r.parent_code FROM regions r JOIN up u ON r.code = u.parent_code
)
SELECT 'down', code FROM down UNION ALL SELECT 'up', code FROM up
"""


@dataclass(frozen=True)
class Scope:
    """None sets mean unrestricted."""

    subtree: frozenset[str] | None
    ancestors: frozenset[str] | None

    def can_read(self, owner: str | None) -> bool:
        if self.subtree is None or owner is None:
            return True
        return owner in self.subtree or owner in (self.ancestors or frozenset())

    def can_write(self, owner: str | None) -> bool:
        if self.subtree is None:
            return True
        return owner is not None and owner in self.subtree


def scope_of(principal: Principal) -> Scope:
    """Read the principal's region subtree and ancestors from the warehouse regions table."""
    code = principal.region_code
    if code is None:
        return Scope(None, None)
    with warehouse.connect() as con:
        has = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'regions'"
        ).fetchone()
        rows = con.execute(_TREE_SQL, [code, code]).fetchall() if has and has[0] else []
    down = {str(c) for d, c in rows if d == "down"} | {code}
    up = {str(c) for d, c in rows if d == "up"} - {code}
    return Scope(frozenset(down), frozenset(up))


def known_region(code: str) -> bool:
    """Whether `code` is a node of the region tree (True while no tree is loaded, so lists
    can be prepared before the first load)."""
    with warehouse.connect() as con:
        has = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'regions'"
        ).fetchone()
        if not has or not has[0]:
            return True
        row = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE code = ?) FROM regions", [code]
        ).fetchone()
    return row is None or row[0] == 0 or row[1] > 0
