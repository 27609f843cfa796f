"""API tokens for scripts and channel systems: shown once, stored as sha256, scoped to a
role and a region, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from telcamp.access.models import ApiToken
from telcamp.access.permissions import ROLES
from telcamp.access.regions import resolve_region
from telcamp.access.service import _check_actor_region, check_role
from telcamp.audit import service as audit_service
from telcamp.core import clock
from telcamp.core.errors import NotFound, ValidationFailed
from telcamp.core.security import Principal

PREFIX = "tc_"


def token_hash(token: str) -> str:
    # 256 random bits: a plain sha256 is enough (no guessing to slow down).
    return hashlib.sha256(token.encode()).hexdigest()


def _public(row: ApiToken) -> dict[str, object]:
    return {"name": row.name, "role": row.role, "region_code": row.region_code,
            "prefix": row.prefix}


def create(
    session: Session, *, name: str, role: str, region_code: str | None, actor: Principal
) -> tuple[str, ApiToken]:
    """Returns the token text (to show once) and its row."""
    if not name.strip():
        raise ValidationFailed("a token needs a name", field="name")
    check_role(role)
    code, region_name = resolve_region(region_code)
    _check_actor_region(actor, code)
    if actor.region_code is not None and not ROLES[role] <= actor.permissions:
        raise ValidationFailed("a token cannot have rights its creator lacks", field="role")
    text = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name.strip(), token_hash=token_hash(text), prefix=text[:10], role=role,
        region_code=code, region_name=region_name, created_by=actor.username,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit_service.record(session, actor=actor, action="token.create", object_type="token",
                         object_id=str(row.id), before=None, after=_public(row))
    return text, row


def revoke(session: Session, *, token_id: int, actor: Principal) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None or not _visible(actor, row):
        raise NotFound(f"no token with id {token_id}", field="token_id")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        session.flush()
        audit_service.record(session, actor=actor, action="token.revoke",
                             object_type="token", object_id=str(row.id),
                             before=_public(row), after=None)
    return row


def _visible(actor: Principal, row: ApiToken) -> bool:
    from telcamp.access.regions import in_scope

    return in_scope(actor, row.region_code)


def list_tokens(session: Session, *, actor: Principal) -> list[ApiToken]:
    rows = list(session.scalars(select(ApiToken).order_by(ApiToken.id)))
    if actor.region_code is None:
        return rows
    return [r for r in rows if _visible(actor, r)]


def principal_for_token(row: ApiToken) -> Principal:
    return Principal(
        username=f"token:{row.name}", role=row.role, permissions=ROLES.get(row.role, frozenset()),
        region_code=row.region_code, user_id=None, region_name=row.region_name,
    )


def resolve(session: Session, *, token: str) -> Principal | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None:
        return None
    now = clock.now()
    # Record use at most once a minute: a channel system calling many times a second
    # must not turn every read into a database write.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now
    return principal_for_token(row)
