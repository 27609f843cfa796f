"""The customer-service lookup: every contact with campaign, channel, rendered message,
outcome and reason; region scope; masking for roles without pii.read (both databases)."""

from __future__ import annotations

from typing import Any

import pytest

from telcamp.access.permissions import ROLES
from telcamp.core.db import session_scope
from telcamp.core.errors import NotFound
from telcamp.core.security import Principal
from telcamp.subscribers import service

from .world import make_history


def test_agent_sees_every_contact_and_why(db: str, login: Any) -> None:
    h = make_history()
    agent = login("agent")
    r = agent.get(f"/api/subscribers/{h['msisdn']}/contacts")
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["msisdn"] == str(h["msisdn"]) and data["found"] is True
    assert data["email"] == f"ann{h['msisdn']}@example.test"
    by = {c["contact_id"]: c for c in data["contacts"]}
    assert set(by) == {h["sent"], h["blocked"], h["control"]}
    sent = by[h["sent"]]
    assert sent["outcome"] == "delivered" and sent["channel"] == "sms"
    assert sent["message"] == f"Hi {h['msisdn']}, 1 GB free"
    assert sent["sent_at"] and sent["time"] == sent["sent_at"]
    assert by[h["blocked"]]["outcome"] == "suppressed"
    assert by[h["blocked"]]["reason"] == "optout"
    assert "contact policy" in by[h["blocked"]]["explanation"]
    assert by[h["control"]]["outcome"] == "control"
    assert by[h["control"]]["channel"] == "email"


def test_permission_region_scope_and_bad_number(db: str, login: Any) -> None:
    h = make_history()
    assert login("marketer", "P01").get(
        f"/api/subscribers/{h['msisdn']}/contacts").status_code == 403
    assert login("agent", "P02").get(
        f"/api/subscribers/{h['msisdn']}/contacts").status_code == 404
    assert login("agent", "P01").get(
        f"/api/subscribers/{h['msisdn']}/contacts").status_code == 200
    bad = login("agent").get("/api/subscribers/12ab/contacts")
    assert bad.status_code == 422 and bad.json()["field"] == "msisdn"


def test_masked_without_pii(db: str) -> None:
    h = make_history()
    perms = ROLES["agent"] - {"pii.read"}
    who = Principal(username="x", role="agent-lite", permissions=frozenset(perms))
    with session_scope() as s:
        r = service.lookup(s, principal=who, msisdn=str(h["msisdn"]))
    full = str(h["msisdn"])
    assert r.msisdn != full and r.msisdn.endswith(full[-3:]) and "*" in r.msisdn
    assert r.email is not None and r.email.startswith("a***@")
    sent = next(c for c in r.contacts if c.contact_id == h["sent"])
    assert sent.message is not None and full not in sent.message and r.msisdn in sent.message
    region = Principal(username="y", role="agent", permissions=frozenset(ROLES["agent"]),
                       region_code="P02")
    with session_scope() as s, pytest.raises(NotFound):
        service.lookup(s, principal=region, msisdn=full)


def test_page(db: str, login: Any) -> None:
    h = make_history()
    agent = login("agent")
    page = agent.get("/subscribers", params={"msisdn": str(h["msisdn"])})
    assert page.status_code == 200
    assert f'data-testid="contact-{h["blocked"]}"' in page.text and "opted out" in page.text
    assert "Subscriber lookup" in agent.get("/").text  # in the navigation
    ru = agent.get("/subscribers", params={"msisdn": "x1", "lang": "ru"})
    assert ru.status_code == 422 and 'role="alert"' in ru.text


def test_replies_are_shown_and_masked(db: str, login: Any) -> None:
    from telcamp.channels.base import InboundMessage
    from telcamp.dispatch import feedback

    h = make_history()
    full = str(h["msisdn"])
    feedback.store([
        InboundMessage("sms", "mo", full, "5555", text=f"who is this? I am {full}",
                       bind="smsc-1"),
        InboundMessage("sms", "mo", full, "5555", text="СТОП", bind="smsc-1")])
    agent = login("agent")
    data = agent.get(f"/api/subscribers/{full}/contacts").json()
    assert [(r["kind"], r["text"], r["action"]) for r in data["replies"]] == [
        ("mo", "СТОП", "optout"), ("mo", f"who is this? I am {full}", None)]  # newest first
    assert "unsubscribed" in {row["list_name"] for row in data["lists"]}
    page = agent.get("/subscribers", params={"msisdn": full, "lang": "ru"})
    assert 'data-testid="replies"' in page.text and "Ответ по SMS" in page.text
    perms = ROLES["agent"] - {"pii.read"}
    who = Principal(username="x", role="agent-lite", permissions=frozenset(perms))
    with session_scope() as s:
        r = service.lookup(s, principal=who, msisdn=full)
    assert all(full not in m.text for m in r.replies)
    assert any(r.msisdn in m.text for m in r.replies)


def test_lookup_shows_the_sent_text_with_offer_fields_and_no_text_for_control(
        db: str, login: Any) -> None:
    """The lookup renders with the context dispatch uses (offer_code, reward_size...), not
    the raw template; a control-group contact shows no message, only that it was held out."""
    import sqlalchemy as sa
    from dispatch.world import add_contacts, make_campaign

    from telcamp.campaigns import messages
    from telcamp.campaigns.models import Campaign, Cell
    from telcamp.dispatch.tables import contact

    h = make_history()
    camp = make_campaign(message="Код: {{ offer_code }}, {{ reward_size }} MB")
    with session_scope() as s:
        c = s.get(Campaign, camp[0])
        cell = s.get(Cell, camp[2])
        assert c is not None and cell is not None
        c.offer_code, cell.reward_size = "K1", 50
        s.flush()
        sent_ctx = messages.render_context(messages.offer_fields(cell), None, h["msisdn"])
    [cid] = add_contacts(camp, [0])
    with session_scope() as s:
        s.execute(sa.update(contact).where(contact.c.id == cid).values(state="delivered"))
    data = login("agent").get(f"/api/subscribers/{h['msisdn']}/contacts").json()
    by = {c["contact_id"]: c for c in data["contacts"]}
    assert by[cid]["message"] == "Код: K1, 50 MB"
    assert by[cid]["message"] == messages.render(
        "Код: {{ offer_code }}, {{ reward_size }} MB", sent_ctx)
    control = by[h["control"]]
    assert control["message"] is None
    assert control["explanation"] == "Held out (control group), not contacted."
    page = login("agent").get("/subscribers", params={"msisdn": str(h["msisdn"])})
    assert "Код: K1, 50 MB" in page.text and "{{" not in page.text
    assert "Held out (control group), not contacted." in page.text
    full = str(h["msisdn"])  # typed with a plus and spaces, as people do
    typed = f"+{full[0]} {full[1:4]} {full[4:7]}-{full[7:9]}-{full[9:]}"
    again = login("agent").get("/subscribers", params={"msisdn": typed})
    assert again.status_code == 200 and "Код: K1, 50 MB" in again.text


def test_network_codes_in_words_why_names_campaign_cell_tier_segment_and_opt_out(
        db: str, login: Any) -> None:
    """UNDELIV is said in words (code in small print, translated); 'why' names campaign,
    cell, value tier and segment; an agent opts the subscriber out (audited, opt-out
    list); a role without subscriber.optout cannot."""
    import sqlalchemy as sa

    from telcamp.access.permissions import PERMISSIONS
    from telcamp.audit.models import AuditEntry
    from telcamp.campaigns.models import Campaign, Cell
    from telcamp.core import clock
    from telcamp.dispatch.tables import contact
    from telcamp.lists import service as list_service
    from telcamp.segments.models import Segment

    h = make_history()
    with session_scope() as s:
        s.execute(sa.update(contact).where(contact.c.id == h["sent"]).values(
            state="undelivered", reason="UNDELIV"))
        sent = s.execute(sa.select(contact.c.campaign_id, contact.c.cell_id)
                         .where(contact.c.id == h["sent"])).one()
        now = clock.now()
        seg = Segment(name="Data lovers", region_code=None, created_by="t", created_at=now,
                      updated_at=now)
        s.add(seg)
        s.flush()
        camp, cell = s.get(Campaign, sent[0]), s.get(Cell, sent[1])
        assert camp is not None and cell is not None
        camp.name, camp.segment_id = "Winter data", seg.id
        cell.name, cell.rule = "medium", {"value_tier": "medium"}
    agent = login("agent")
    page = agent.get("/subscribers", params={"msisdn": str(h["msisdn"])})
    row = page.text.split(f'data-testid="contact-{h["sent"]}"')[1].split("</tr>")[0]
    assert "Sent but not delivered." in row and "phone off, out of coverage" in row
    assert '<small class="muted" data-testid="reason-code"><code>UNDELIV</code>' in row
    assert "«Winter data»" in row and "«medium»" in row and "value tier" in row
    assert "«Data lovers»" in row
    ru = agent.get("/subscribers", params={"msisdn": str(h["msisdn"]), "lang": "ru"})
    assert "Сеть не смогла доставить" in ru.text
    api = agent.get(f"/api/subscribers/{h['msisdn']}/contacts").json()
    by = {c["contact_id"]: c for c in api["contacts"]}
    assert (by[h["sent"]]["tier"], by[h["sent"]]["segment"]) == ("medium", "Data lovers")
    assert 'data-testid="optout-form"' in page.text and api["opted_out"] is False

    assert login("marketer").post(f"/api/subscribers/{h['msisdn']}/optout",
                                  json={}).status_code == 403
    r = agent.post("/subscribers/optout", data={
        "msisdn": str(h["msisdn"]), "reason": "asked on the phone"}, follow_redirects=True)
    assert r.status_code == 200, r.text
    assert 'data-testid="optout-done"' in r.text and 'data-testid="opted-out"' in r.text
    with session_scope() as s:
        admin = Principal(username="a", role="admin", permissions=frozenset(PERMISSIONS))
        hits = list_service.search(s, principal=admin, msisdn=str(h["msisdn"]))
        assert [(x.list_type, x.reason) for x in hits if x.list_type == "optout"] == [
            ("optout", "opted out by agent " + agent.principal.username
             + ": asked on the phone")]
        audited = s.scalars(sa.select(AuditEntry).where(
            AuditEntry.actor == agent.principal.username)).all()
        assert audited, "the opt-out is audited under the agent's name"
