"""A subscriber with a history: three campaigns touched them (sent, suppressed by the
opt-out list, control), plus a profile with e-mail and language in the warehouse."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from dispatch.world import FIRST, NOW, add_contacts, make_campaign, setup_warehouse

from telcamp.core import warehouse
from telcamp.core.db import session_scope
from telcamp.dispatch.tables import contact


def make_history() -> dict[str, int]:
    setup_warehouse(3)
    with warehouse.connect() as con:
        con.execute("CREATE TABLE profile AS SELECT s.msisdn, s.region_code, "
                    "r.parent_code AS city_code, 'P01' AS province_code, "
                    "'ann' || s.msisdn || '@example.test' AS email, 'en' AS language "
                    "FROM subscribers s JOIN regions r ON r.code = s.region_code")
    sent = make_campaign(message="Hi {{ msisdn }}, 1 GB free")
    blocked = make_campaign(message="Second offer")
    held = make_campaign(channel="email", message="Control offer")
    a = add_contacts(sent, [0])[0]
    b = add_contacts(blocked, [0])[0]
    c = add_contacts(held, [0], channel="email")[0]
    add_contacts(sent, [1])  # another subscriber: never shown
    with session_scope() as s:
        s.execute(sa.update(contact).where(contact.c.id == a).values(
            state="delivered", sent_at=NOW - timedelta(hours=2), done_at=NOW))
        s.execute(sa.update(contact).where(contact.c.id == b).values(
            state="suppressed", reason="optout", done_at=NOW))
        s.execute(sa.update(contact).where(contact.c.id == c).values(
            state="control", is_control=True))
    return {"sent": a, "blocked": b, "control": c, "msisdn": FIRST}
