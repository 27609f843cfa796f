"""Users: create, change role/region/password, disable, list; principals from users.

Services flush, never commit; every change writes its audit entry in the same transaction.
Region helpers are re-exported here so other domains need one import:
`from telcamp.access import service as access_service`.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from telcamp.access import passwords
from telcamp.access.models import User
from telcamp.access.permissions import PERMISSIONS, ROLES
from telcamp.access.regions import (
    in_scope,
    region_info,
    region_subtree,
    resolve_region,
    scope_codes,
    subscriber_predicate,
    subscriber_rule,
)
from telcamp.audit import service as audit_service
from telcamp.core import clock
from telcamp.core.errors import Conflict, NotFound, ValidationFailed
from telcamp.core.security import Principal

# Re-exported: the scoping API other domains call as access_service.<name>.
__all__ = [
    "create_user", "get_user", "in_scope", "list_users", "principal_for", "region_info",
    "region_subtree", "resolve_region", "scope_codes", "set_disabled", "set_password",
    "subscriber_predicate", "subscriber_rule", "update_user",
]

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
CONSOLE_ROLES = tuple(r for r in ROLES if r != "channel")


def check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationFailed(
            f"unknown role {role!r}; roles are {', '.join(ROLES)}", field="role"
        )


def principal_for(user: User) -> Principal:
    return Principal(
        username=user.username, role=user.role, permissions=ROLES.get(user.role, frozenset()),
        region_code=user.region_code, user_id=user.id, region_name=user.region_name,
    )


def _public(user: User) -> dict[str, Any]:
    return {"username": user.username, "role": user.role, "region_code": user.region_code,
            "email": user.email, "disabled": user.disabled}


# Deliberately loose (one @, a dot in the domain, no spaces): the SMTP server is the judge.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_email(email: str | None) -> str | None:
    """A cleaned address, or None for blank."""
    if email is None or not email.strip():
        return None
    email = email.strip()
    if len(email) > 254 or not EMAIL.match(email):
        raise ValidationFailed(f"{email!r} is not an e-mail address", field="email")
    return email


def get_user(session: Session, *, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}", field="username")
    return user


def get_user_by_id(session: Session, *, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}", field="user_id")
    return user


def list_users(session: Session, *, actor: Principal | None = None) -> list[User]:
    """All users, or for a regional admin only those inside their subtree."""
    users = list(session.scalars(select(User).order_by(User.username)))
    if actor is None or actor.region_code is None:
        return users
    codes = scope_codes(actor) or set()
    return [u for u in users if u.region_code in codes]


def _check_actor_region(actor: Principal, region_code: str | None) -> None:
    # A regional admin may only place users inside their own subtree.
    if not in_scope(actor, region_code):
        raise ValidationFailed(
            f"region {region_code or 'operator-wide'} is outside your region "
            f"{actor.region_code}", field="region_code",
        )


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    region_code: str | None,
    actor: Principal,
    email: str | None = None,
) -> User:
    if not USERNAME.match(username):
        raise ValidationFailed(
            "a username has 2-64 letters, digits or . _ @ -", field="username"
        )
    check_role(role)
    code, name = resolve_region(region_code)
    _check_actor_region(actor, code)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists", field="username")
    now = clock.now()
    user = User(
        username=username, password_hash=passwords.hash_password(password), role=role,
        region_code=code, region_name=name, disabled=False, created_at=now,
        password_changed_at=now, email=check_email(email),
    )
    session.add(user)
    session.flush()
    audit_service.record(session, actor=actor, action="user.create", object_type="user",
                         object_id=username, before=None, after=_public(user))
    return user


def update_user(
    session: Session,
    *,
    username: str,
    actor: Principal,
    role: str | None = None,
    region_code: str | None = None,
    clear_region: bool = False,
    email: str | None = None,
) -> User:
    """Change role, region and/or e-mail ("" removes it); open sessions keep working with
    the new rights."""
    user = get_user(session, username=username)
    _check_actor_region(actor, user.region_code)
    before = _public(user)
    if role is not None:
        check_role(role)
        user.role = role
    if clear_region:
        _check_actor_region(actor, None)
        user.region_code, user.region_name = None, None
    elif region_code is not None:
        code, name = resolve_region(region_code)
        _check_actor_region(actor, code)
        user.region_code, user.region_name = code, name
    if email is not None:
        user.email = check_email(email)
    session.flush()
    if _public(user) != before:
        audit_service.record(session, actor=actor, action="user.update", object_type="user",
                             object_id=username, before=before, after=_public(user))
    return user


def set_password(session: Session, *, username: str, password: str, actor: Principal) -> User:
    """Reset a password; the user's open sessions end (a reset is often after a leak)."""
    from telcamp.access import sessions

    user = get_user(session, username=username)
    _check_actor_region(actor, user.region_code)
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = clock.now()
    sessions.revoke_all(session, user_id=user.id)
    session.flush()
    # Never the hash itself in the log; the fact and the time are enough.
    audit_service.record(session, actor=actor, action="user.password", object_type="user",
                         object_id=username, before=None,
                         after={"password_changed_at": user.password_changed_at.isoformat()})
    return user


def set_disabled(
    session: Session, *, username: str, disabled: bool, actor: Principal
) -> User:
    from telcamp.access import sessions

    user = get_user(session, username=username)
    _check_actor_region(actor, user.region_code)
    if disabled and actor.user_id is not None and actor.user_id == user.id:
        raise ValidationFailed("you cannot disable yourself", field="username")
    before = _public(user)
    user.disabled = disabled
    if disabled:
        sessions.revoke_all(session, user_id=user.id)
    session.flush()
    if before != _public(user):
        audit_service.record(
            session, actor=actor, action="user.disable" if disabled else "user.enable",
            object_type="user", object_id=username, before=before, after=_public(user),
        )
    return user


def permission_names() -> list[str]:
    return list(PERMISSIONS)
