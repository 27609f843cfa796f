"""Write and read the audit log.

`record()` runs in the caller's transaction, so the entry exists exactly when the change
does. Each entry's hash is sha256 over the canonical JSON of its fields plus the previous
entry's hash; editing, deleting or inserting a row anywhere breaks the chain from there.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from telcamp.audit.models import AuditEntry
from telcamp.core import clock
from telcamp.core.security import Principal

GENESIS = "0" * 64
# Any constant; serialises writers of the chain on PostgreSQL for one transaction.
_PG_LOCK_KEY = 7_243_101


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def _normal(value: dict[str, Any] | None) -> dict[str, Any] | None:
    # Store exactly what is hashed (dates become strings once, here).
    return None if value is None else json.loads(canonical(value))


def entry_hash(entry: AuditEntry, prev_hash: str) -> str:
    body = {
        "id": entry.id, "at": entry.at.isoformat(), "actor": entry.actor,
        "actor_id": entry.actor_id, "role": entry.role, "action": entry.action,
        "object_type": entry.object_type, "object_id": entry.object_id,
        "before": entry.before, "after": entry.after,
    }
    # Added after the first release: hashed only when set, so older entries still verify,
    # and setting or clearing it later changes the hash all the same.
    if entry.region_code is not None:
        body["region_code"] = entry.region_code
    return hashlib.sha256((canonical(body) + prev_hash).encode()).hexdigest()


def _lock_chain(session: Session) -> None:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    elif dialect == "sqlite":
        # Take SQLite's write lock before reading the chain's tail, so two writers cannot
        # both build on the same tail (a statement that writes nothing still takes it).
        session.execute(text("UPDATE app_setting SET key = key WHERE 1 = 0"))


def record(
    session: Session,
    *,
    actor: Principal,
    action: str,
    object_type: str,
    object_id: str | int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    region_code: str | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (flush, never commit).

    `region_code` is the owning region of the object; when omitted it is taken from
    after/before["region_code"], else the actor's region. It decides which regional admins
    may read the entry."""
    if region_code is None:
        for snap in (after, before):
            if snap and isinstance(snap.get("region_code"), str):
                region_code = snap["region_code"]
                break
        else:
            region_code = actor.region_code
    # The lock lasts until this transaction ends, so within it the tail we wrote last is
    # still the tail: later entries of the same transaction skip the lock and the read.
    # A savepoint is part of the key, so a rolled-back savepoint never leaves a stale tail.
    txn = (session.get_transaction(), session.get_nested_transaction())
    cached = session.info.get("audit_tail")
    if cached is not None and cached[0][0] is txn[0] and cached[0][1] is txn[1]:
        prev_id, prev_hash = cached[1], cached[2]
    else:
        _lock_chain(session)
        tail = session.execute(
            select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
        ).first()
        prev_id, prev_hash = (tail[0], tail[1]) if tail else (0, GENESIS)
    entry = AuditEntry(
        id=prev_id + 1, at=clock.now(), actor=actor.username, actor_id=actor.user_id,
        role=actor.role, action=action, object_type=object_type, object_id=str(object_id),
        before=_normal(before), after=_normal(after), prev_hash=prev_hash,
        region_code=region_code,
    )
    entry.hash = entry_hash(entry, prev_hash)
    session.add(entry)
    session.flush()
    session.info["audit_tail"] = (txn, entry.id, entry.hash)
    return entry


def search(
    session: Session,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    user: str | None = None,
    action: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
    scope: set[str] | None = None,
) -> list[AuditEntry]:
    """Newest first; `before_id` pages backwards. `scope` (from
    access regions.scope_codes) limits to entries of objects in those regions."""
    q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if scope is not None:
        q = q.where(AuditEntry.region_code.in_(sorted(scope)))
    if object_type:
        q = q.where(AuditEntry.object_type == object_type)
    if object_id:
        q = q.where(AuditEntry.object_id == object_id)
    if user:
        q = q.where(AuditEntry.actor == user)
    if action:
        q = q.where(AuditEntry.action == action)
    if before_id is not None:
        q = q.where(AuditEntry.id < before_id)
    return list(session.scalars(q))


@dataclass(frozen=True)
class Break:
    """The first entry where the chain does not hold."""

    id: int
    at: datetime | None
    action: str | None
    object: str | None
    reason: str

    def __str__(self) -> str:
        when = self.at.isoformat() if self.at else "?"
        return f"entry {self.id} ({when}, {self.action} {self.object}): {self.reason}"


@dataclass(frozen=True)
class Verification:
    checked: int
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def _entries(session: Session) -> Iterator[AuditEntry]:
    q = select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=2000)
    yield from session.scalars(q)


def verify(session: Session) -> Verification:
    """Walk the whole chain; report the first entry that was edited, removed or forged."""
    prev_id, prev_hash, checked = 0, GENESIS, 0
    for entry in _entries(session):
        reason = None
        if entry.id != prev_id + 1:
            reason = (f"entries {prev_id + 1}..{entry.id - 1} are missing"
                      if entry.id > prev_id + 1 else "id out of sequence")
        elif entry.prev_hash != prev_hash:
            reason = "prev_hash does not match the previous entry's hash"
        elif entry_hash(entry, prev_hash) != entry.hash:
            reason = "content does not match its hash (the row was edited)"
        if reason is not None:
            return Verification(checked, Break(
                id=entry.id, at=entry.at, action=entry.action,
                object=f"{entry.object_type}:{entry.object_id}", reason=reason))
        prev_id, prev_hash = entry.id, entry.hash
        checked += 1
    return Verification(checked, None)


def to_dict(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id, "at": entry.at.isoformat(), "actor": entry.actor,
        "role": entry.role, "action": entry.action, "object_type": entry.object_type,
        "object_id": entry.object_id, "region_code": entry.region_code,
        "before": entry.before, "after": entry.after, "hash": entry.hash,
    }
