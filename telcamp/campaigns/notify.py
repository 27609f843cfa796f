"""E-mail notifications (approvals), sent over SMTP with aiosmtplib only after commit.

Services call `queue(session, ...)`; the mail goes out when that session's transaction
commits, and never if it rolls back (an approval that failed must not announce itself).
A failed send is logged, not raised: the decision is already committed.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from email.message import EmailMessage
from typing import Any

import aiosmtplib
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from telcamp.access.permissions import ROLES
from telcamp.core.settings import get_settings

log = logging.getLogger(__name__)
_KEY = "campaigns.outbox"


def queue(session: Session, *, to: list[str], subject: str, body: str) -> None:
    if not to:
        return
    outbox: list[EmailMessage] | None = session.info.get(_KEY)
    if outbox is None:
        outbox = session.info[_KEY] = []
        event.listen(session, "after_commit", _after_commit, once=True)
        event.listen(session, "after_rollback", _after_rollback, once=True)
    msg = EmailMessage()
    msg["From"] = get_settings().mail_from
    msg["To"] = ", ".join(sorted(set(to)))
    msg["Subject"] = subject
    msg.set_content(body)
    outbox.append(msg)


def _after_rollback(session: Session) -> None:
    session.info.pop(_KEY, None)


def _after_commit(session: Session) -> None:
    outbox = session.info.pop(_KEY, [])
    if outbox:
        send_all(outbox)


def send_all(messages: list[EmailMessage]) -> None:
    settings = get_settings()

    async def go() -> None:
        for msg in messages:
            try:
                await aiosmtplib.send(msg, hostname=settings.smtp_host, port=settings.smtp_port,
                                      timeout=10)
            except (aiosmtplib.SMTPException, OSError) as exc:
                log.warning("notification to %s not sent: %s", msg["To"], exc)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(go())
        return
    # Called from inside an event loop (an async route): send from a helper thread.
    worker = threading.Thread(target=lambda: asyncio.run(go()), daemon=True)
    worker.start()
    worker.join(timeout=30)


def approvers(session: Session, region_code: str) -> list[tuple[str, str | None]]:
    """(username, e-mail or None) of the active users who may approve for this region."""
    from telcamp.access.models import User

    roles = [r for r, perms in ROLES.items() if "campaign.approve" in perms and r != "admin"]
    users = session.scalars(select(User).where(
        User.region_code == region_code, User.role.in_(roles), User.disabled.is_(False))
        .order_by(User.username)).all()
    return [(u.username, address_of(u)) for u in users]


def approver_addresses(session: Session, region_code: str) -> list[str]:
    """E-mail addresses of the active users who may approve for this region node."""
    return [a for _u, a in approvers(session, region_code) if a]


def unreachable_approvers(session: Session, region_code: str) -> dict[str, Any]:
    """What the console warns about: approvers of the region with no address, and whether
    anyone at all gets the notification."""
    found = approvers(session, region_code)
    return {"without_email": [u for u, a in found if a is None],
            "nobody": not any(a for _u, a in found)}


def address_of(user: Any) -> str | None:
    """A user's e-mail; without one, a username that is an address is used."""
    email = getattr(user, "email", None)
    if email:
        return str(email)
    name = str(user.username)
    return name if "@" in name else None
