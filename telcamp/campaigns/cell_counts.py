"""Per-cell counts of a campaign's audience, for saved or not-yet-saved cells.

One scan of the snapshot joined with `profile` counts, for every cell: the subscribers
its rule matches, those it gets (first matching cell wins), and for every earlier cell
how many match both (the overlap that goes to the earlier one). The wizard's cells step
and `POST /api/campaigns/{id}/cell-counts` show it, so a marketer sees before saving which
cells overlap and which come out empty. Control groups and channels are the rehearsal's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from telcamp.campaigns import cells as cell_sql
from telcamp.campaigns import service as campaign_service
from telcamp.campaigns.schemas import CellIn
from telcamp.core import warehouse
from telcamp.core.errors import ValidationFailed
from telcamp.core.security import Principal


def saved_cells(campaign: Any) -> list[CellIn]:
    return [CellIn.model_validate({k: getattr(c, k) for k in CellIn.model_fields})
            for c in campaign.cells]


def _conditions(cells: Sequence[CellIn]) -> list[str]:
    """Each cell's boolean SQL over `profile AS p` (TRUE for the default cell), checked.
    Compiled before the warehouse is opened: compiling a segment rule reads it itself."""
    cell_sql.validate_cells(cells)
    return ["TRUE" if c.rule is None else
            cell_sql.condition_sql(c.rule, alias="p", where=f"cells[{i}]")
            for i, c in enumerate(cells)]


def count(snapshot_id: int, cells: Sequence[CellIn]) -> dict[str, Any]:
    """The figures for these cells over snapshot `snapshot_id` (see the module doc)."""
    conds = _conditions(cells)
    n = len(cells)
    first = "CASE " + " ".join(f"WHEN {conds[i]} THEN {i}" for i in range(n)) + " END"
    cols = ["count(*)"]
    cols += [f"count(*) FILTER (WHERE {conds[i]})" for i in range(n)]
    cols += [f"count(*) FILTER (WHERE first_cell = {i})" for i in range(n)]
    pairs = [(i, j) for i in range(n) for j in range(i) if cells[i].rule is not None]
    cols += [f"count(*) FILTER (WHERE ({conds[i]}) AND ({conds[j]}))" for i, j in pairs]
    sql = (f"SELECT {', '.join(cols)} FROM (SELECT p.*, {first} AS first_cell "
           "FROM segment_snapshot_members m JOIN profile p ON p.msisdn = m.msisdn "
           "WHERE m.snapshot_id = ?) p")
    with warehouse.connect(read_only=True) as con:
        row = con.execute(sql, [snapshot_id]).fetchone()
    values = [int(v or 0) for v in (row or [0] * len(cols))]
    members, matches, gets = values[0], values[1:1 + n], values[1 + n:1 + 2 * n]
    both = dict(zip(pairs, values[1 + 2 * n:], strict=True))
    out_cells: list[dict[str, Any]] = []
    warnings: list[str] = []
    for i, c in enumerate(cells):
        overlaps = [{"cell": cells[j].name, "subscribers": both[(i, j)]}
                    for j in range(i) if (i, j) in both and both[(i, j)] > 0]
        empty = gets[i] == 0
        out_cells.append({"name": c.name, "position": i, "default": c.rule is None,
                          "matches": matches[i] if c.rule is not None else None,
                          "audience": gets[i], "overlaps": overlaps, "empty": empty})
        for o in overlaps:
            warnings.append(f"cell {c.name}: {o['subscribers']} subscribers also match the "
                            f"earlier cell {o['cell']} and go there (first match wins)")
        if empty and members:
            why = (" (all its matches go to earlier cells)"
                   if c.rule is not None and matches[i] else "")
            warnings.append(f"cell {c.name} comes out empty{why}")
    assigned = sum(gets)
    if members and assigned < members:
        warnings.append(f"{members - assigned} subscribers match no cell and are left out "
                        "(add a default cell without a rule to include them)")
    if not members:
        warnings.append("the audience is empty")
    return {"snapshot_id": snapshot_id, "members": members, "assigned": assigned,
            "unassigned": members - assigned, "cells": out_cells, "warnings": warnings}


def random_member(snapshot_id: int, cells: Sequence[CellIn], position: int,
                  region_code: str | None = None) -> int | None:
    """A subscriber of the snapshot whom cell `position` gets (the first matching cell
    wins, as at materialisation), drawn at random among those in `region_code` (a region,
    city or province code; None: anywhere), the only ones the user may look at; None when
    the cell gets no one there."""
    conds = _conditions(cells)[:position + 1]
    # the cell's own condition, and none of the earlier cells' (they would take the member)
    where = " AND ".join([f"({conds[position]})",
                          *(f"NOT coalesce(({c}), FALSE)" for c in conds[:position])])
    # reservoir sampling draws one row without sorting the whole snapshot; DuckDB samples
    # a FROM before its WHERE, hence the sample over the filtered subquery
    params: list[object] = [snapshot_id]
    if region_code is not None:
        where += " AND ? IN (p.region_code, p.city_code, p.province_code)"
        params.append(region_code)
    sql = ("SELECT msisdn FROM (SELECT p.msisdn FROM segment_snapshot_members m JOIN "
           f"profile p ON p.msisdn = m.msisdn WHERE m.snapshot_id = ? AND {where}) "
           "USING SAMPLE reservoir(1 ROWS)")
    with warehouse.connect(read_only=True) as con:
        row = con.execute(sql, params).fetchone()
    return None if row is None else int(row[0])


def for_campaign(*, session: Session, actor: Principal, campaign_id: int,
                 cells: Sequence[CellIn] | None = None) -> dict[str, Any]:
    """Counts for the given cells (unsaved), or for the campaign's saved cells."""
    campaign = campaign_service.get_campaign(session=session, actor=actor,
                                             campaign_id=campaign_id)
    if campaign.snapshot_id is None:
        raise ValidationFailed("the campaign has no audience snapshot to count",
                               field="snapshot_id")
    return count(campaign.snapshot_id,
                 list(cells) if cells is not None else saved_cells(campaign))
