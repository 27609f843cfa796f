"""The approval chain's configuration: which region levels approve a campaign of each
level, the budget threshold and which levels are added above it.

Stored in the `app_setting` row `campaigns.approval_chain` with a version number, who set
it and when; every change is audited (`approval_chain.set`, before and after). Until an
admin sets it, the defaults apply: county → city head, city → province head, province →
province head, and above `TELCAMP_APPROVAL_BUDGET_THRESHOLD` the province head too.
An older row holding only the level map ({"county": ["city"], ...}) is still read.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy.orm import Session

from telcamp.core import clock
from telcamp.core.errors import Forbidden, ValidationFailed
from telcamp.core.security import Principal
from telcamp.core.settings import get_settings

KEY = "campaigns.approval_chain"
LEVELS: tuple[str, ...] = ("county", "city", "province")
Level = Literal["county", "city", "province"]
DEFAULT_LEVELS: dict[str, list[str]] = {
    "county": ["city"], "city": ["province"], "province": ["province"],
}
_TABLE = sa.table("app_setting", sa.column("key", sa.String), sa.column("value", sa.JSON))


class ChainConfig(BaseModel):
    """What an admin sets. `levels`: for a campaign owned at that level, the levels whose
    head approves, in order. `budget_threshold` None = the server setting."""

    levels: dict[Level, list[Level]]
    budget_threshold: float | None = Field(None, ge=0)
    above_threshold: list[Level] = Field(default_factory=lambda: list[Level](["province"]))

    @field_validator("levels")
    @classmethod
    def _levels(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        missing = [lv for lv in LEVELS if lv not in v]
        if missing:
            raise ValueError(f"give the approvers of {', '.join(missing)} campaigns too")
        for owner, approvers in v.items():
            if not approvers:
                raise ValueError(f"{owner} campaigns need at least one approving level")
            if len(set(approvers)) != len(approvers):
                raise ValueError(f"{owner}: a level is named twice in {approvers}")
            below = [a for a in approvers if LEVELS.index(a) < LEVELS.index(owner)]
            if below:
                # a county office has no head above a city campaign's region
                raise ValueError(f"{owner} campaigns cannot be approved at {below[0]} "
                                 "level (below the campaign's own region)")
        return v


def _row(session: Session) -> dict[str, Any] | None:
    value = session.execute(sa.select(_TABLE.c.value).where(_TABLE.c.key == KEY)).scalar()
    if value is None:
        return None
    if isinstance(value, str):
        value = json.loads(value)
    return dict(value)


def current(session: Session) -> dict[str, Any]:
    """The chain in force: levels, threshold (resolved), above_threshold, version, who."""
    row = _row(session)
    threshold = get_settings().approval_budget_threshold
    if row is None:
        return {"levels": DEFAULT_LEVELS, "budget_threshold": threshold,
                "above_threshold": ["province"], "version": 0, "source": "default",
                "updated_by": None, "updated_at": None}
    if "levels" not in row:  # the older form: only the level map
        row = {"levels": row, "version": 1}
    levels = {str(k): [str(x) for x in v] for k, v in dict(row["levels"]).items()}
    return {"levels": {**DEFAULT_LEVELS, **levels},
            "budget_threshold": float(row["budget_threshold"])
            if row.get("budget_threshold") is not None else threshold,
            "above_threshold": list(row.get("above_threshold", ["province"])),
            "version": int(row.get("version", 1)), "source": "setting",
            "updated_by": row.get("updated_by"), "updated_at": row.get("updated_at")}


def parse(data: Any) -> ChainConfig:
    """Validate what an admin typed; the error names the field."""
    try:
        return ChainConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "chain"
        msg = str(first["msg"]).removeprefix("Value error, ")
        raise ValidationFailed(f"{where}: {msg}", field=where) from exc


def set_chain(session: Session, *, actor: Principal, config: ChainConfig) -> dict[str, Any]:
    """Replace the chain (next version). Only an operator-wide admin: the chain applies to
    every region. Campaigns already submitted keep the steps they were given."""
    if not actor.can("campaign.chain") or actor.region_code is not None:
        raise Forbidden("only an operator-wide admin may configure approval chains")
    before = current(session)
    value = {**config.model_dump(mode="json"), "version": before["version"] + 1,
             "updated_by": actor.username, "updated_at": clock.now().isoformat()}
    if _row(session) is None:
        session.execute(sa.insert(_TABLE).values(key=KEY, value=value))
    else:
        session.execute(sa.update(_TABLE).where(_TABLE.c.key == KEY).values(value=value))
    session.flush()
    from telcamp.audit import service as audit_service

    audit_service.record(session, actor=actor, action="approval_chain.set",
                         object_type="approval_chain", object_id=KEY,
                         before={k: before[k] for k in ("levels", "budget_threshold",
                                                        "above_threshold", "version")},
                         after={k: value[k] for k in ("levels", "budget_threshold",
                                                      "above_threshold", "version")})
    return current(session)


def history(session: Session, limit: int = 20) -> list[dict[str, Any]]:
    """Earlier versions from the audit log, newest first (what each change replaced)."""
    from telcamp.audit.models import AuditEntry

    rows = session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "approval_chain.set").order_by(AuditEntry.id.desc())
        .limit(limit))
    return [{"version": (r.after or {}).get("version"), "by": r.actor, "at": r.at,
             "levels": (r.after or {}).get("levels", {}),
             "budget_threshold": (r.after or {}).get("budget_threshold"),
             "above_threshold": (r.after or {}).get("above_threshold", [])} for r in rows]
