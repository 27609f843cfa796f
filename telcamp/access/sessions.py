"""Console sessions and login throttling.

The cookie carries a random token; the database keeps its sha256, the CSRF token of the
session, the expiry, and the revocation time (logout, disable, password reset).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import duckdb
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from telcamp.access import passwords
from telcamp.access.models import LoginAttempt, User, UserSession
from telcamp.access.service import principal_for
from telcamp.audit import service as audit_service
from telcamp.core import clock
from telcamp.core.security import Principal
from telcamp.core.settings import get_settings

COOKIE = "telcamp_session"
# Back-off: this many failures within the window blocks further tries for the window.
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_IP = 20  # an office behind one NAT address shares it, so higher
WINDOW = timedelta(minutes=15)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    error: str | None  # 'invalid' or 'throttled'


def _failures(session: Session, *, by_ip: bool, value: str) -> int:
    since = clock.now() - WINDOW
    column = LoginAttempt.ip if by_ip else LoginAttempt.username
    count = session.scalar(
        select(func.count()).select_from(LoginAttempt)
        .where(column == value, LoginAttempt.at >= since)
    )
    return int(count or 0)


def throttled(session: Session, *, username: str, ip: str) -> bool:
    return (
        _failures(session, by_ip=False, value=username) >= MAX_FAILURES_PER_USER
        or _failures(session, by_ip=True, value=ip) >= MAX_FAILURES_PER_IP
    )


def attempt_login(session: Session, *, username: str, password: str, ip: str) -> LoginResult:
    """Check a console login. Never raises for bad credentials: the failure must be
    recorded (and committed by the edge) even though the login is refused."""
    username = username.strip()
    if throttled(session, username=username, ip=ip):
        return LoginResult(None, "throttled")
    user = session.scalar(select(User).where(User.username == username))
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if ok and user is not None and not user.disabled and user.role != "channel":
        session.execute(delete(LoginAttempt).where(LoginAttempt.username == username))
        return LoginResult(user, None)
    now = clock.now()
    # Attempts older than the window no longer count; drop them so the table stays small.
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - WINDOW))
    session.add(LoginAttempt(username=username, ip=ip, at=now))
    session.flush()
    if throttled(session, username=username, ip=ip):
        audit_service.record(
            session, actor=Principal(username=username, role="anonymous"),
            action="login.throttled", object_type="user", object_id=username,
            before=None, after={"ip": ip, "minutes": int(WINDOW.total_seconds() // 60)},
        )
    return LoginResult(None, "invalid")


def start(session: Session, *, user: User, ip: str | None) -> tuple[str, UserSession]:
    """Open a session; returns the cookie token (shown to nobody else) and the row."""
    if user.region_code and not user.region_name:
        _fill_region_name(user)
    token = secrets.token_urlsafe(32)
    now = clock.now()
    # Housekeeping on the way: sessions expired a week ago are of no use to anyone.
    session.execute(delete(UserSession).where(UserSession.expires_at < now - timedelta(days=7)))
    row = UserSession(
        token_hash=token_hash(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
        created_at=now, expires_at=now + timedelta(seconds=get_settings().session_max_age_s),
        ip=ip,
    )
    session.add(row)
    session.flush()
    audit_service.record(session, actor=principal_for(user), action="login",
                         object_type="user", object_id=user.username, before=None,
                         after={"ip": ip})
    return token, row


def _fill_region_name(user: User) -> None:
    # Users made before the first load have no region name yet; pick it up at login, but
    # never let a busy warehouse stop anyone logging in.
    from telcamp.access.regions import region_info
    from telcamp.core.errors import TelcampError

    try:
        info = region_info(user.region_code or "")
    except (TelcampError, OSError, duckdb.Error):
        return
    if info is not None:
        user.region_name = str(info["name"])


def resolve(session: Session, *, token: str) -> tuple[Principal, UserSession] | None:
    """The principal of a live session, or None (unknown, expired, revoked, disabled)."""
    row = session.scalar(select(UserSession).where(UserSession.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= clock.now():
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    return principal_for(user), row


def end(session: Session, *, token: str) -> None:
    row = session.scalar(select(UserSession).where(UserSession.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None:
        return
    row.revoked_at = clock.now()
    user = session.get(User, row.user_id)
    if user is not None:
        audit_service.record(session, actor=principal_for(user), action="logout",
                             object_type="user", object_id=user.username)
    session.flush()


def revoke_all(session: Session, *, user_id: int) -> int:
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    return int(getattr(result, "rowcount", 0) or 0)
