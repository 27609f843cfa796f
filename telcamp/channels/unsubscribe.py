"""Unsubscribe from e-mail: signed tokens and putting the subscriber on the opt-out list.

The token in the List-Unsubscribe link names the subscriber (msisdn) and the contact it
came from, signed with the server's secret key, so a link cannot be forged to opt out
someone else, and it needs no login (RFC 8058 one-click). The subscriber goes on the
operator-wide opt-out list "unsubscribed" (type optout, created on first use) through
the lists service, with an audit row; the policy honours it at the next claim.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from telcamp.core.errors import ValidationFailed
from telcamp.core.security import Principal
from telcamp.core.settings import get_settings

LIST_NAME = "unsubscribed"
_CREATE_LOCK = 0x7E1C0001  # pg_advisory_xact_lock key: creating the opt-out list
_SALT = "telcamp.unsubscribe"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt=_SALT)


def make_token(*, msisdn: str, contact_id: int, channel: str = "email") -> str:
    return str(_serializer().dumps({"m": msisdn, "c": contact_id, "ch": channel}))


def read_token(token: str) -> dict[str, Any]:
    """The token's payload; a forged or damaged token is a clear 400."""
    try:
        data = _serializer().loads(token)
    except BadSignature as exc:
        raise ValidationFailed("the unsubscribe link is invalid or damaged",
                               field="token") from exc
    if not isinstance(data, dict) or not str(data.get("m", "")).isdigit():
        raise ValidationFailed("the unsubscribe link is invalid", field="token")
    return data


def _principal(username: str = "unsubscribe-link") -> Principal:
    from telcamp.access.permissions import PERMISSIONS

    # The subscriber acts; the audit log names them through this username.
    return Principal(username=username, role="admin",
                     permissions=frozenset(PERMISSIONS))


def opt_out(session: Session, *, token: str) -> tuple[int, str]:
    """Put the token's subscriber on the opt-out list; returns (list id, msisdn). Flushes
    only; the edge commits and then syncs the warehouse copy of the list."""
    data = read_token(token)
    msisdn = str(data["m"])
    list_id = add_to_optout(session, msisdn=msisdn, username="unsubscribe-link",
                            reason=f"unsubscribe link ({data.get('ch', 'email')}, contact "
                                   f"{data.get('c')})")
    return list_id, msisdn


def add_to_optout(session: Session, *, msisdn: str, reason: str, username: str) -> int:
    """Put `msisdn` on the operator-wide opt-out list (created on first use), audited as
    `username` (the subscriber's own act: a link, an SMS "STOP"). Flushes only."""
    from telcamp.lists import service as list_service
    from telcamp.lists.models import SpecialList
    from telcamp.lists.schemas import ListCreate

    actor = _principal(username)
    if session.get_bind().dialect.name == "postgresql":
        # Two first opt-outs at once must not create the list twice (a NULL region is not
        # caught by the unique constraint): one creator at a time, until commit.
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CREATE_LOCK})
    lst = session.scalars(sa.select(SpecialList).where(
        SpecialList.name == LIST_NAME, SpecialList.region_code.is_(None))
        .order_by(SpecialList.id)).first()
    if lst is None:
        lst = list_service.create_list(session, principal=actor, list_in=ListCreate(
            name=LIST_NAME, type="optout", region_code=None,
            description="Subscribers who unsubscribed (link or SMS reply)"))
    list_service.add_member(session, principal=actor, list_id=lst.id, msisdn=msisdn,
                            reason=reason[:200])
    return int(lst.id)
