"""Approval chains by region level and budget; decisions; edits void approvals; mail."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from telcamp.audit.models import AuditEntry
from telcamp.campaigns import approvals, service
from telcamp.campaigns.schemas import CampaignUpdate
from telcamp.core.db import session_scope
from telcamp.core.errors import Conflict, Forbidden, NotFound, ValidationFailed

from .conftest import (
    CITY_HEAD,
    MARKETER,
    OTHER_CITY_HEAD,
    PROVINCE_HEAD,
    make_campaign,
    make_program,
)


def _submit(cid: int) -> None:
    with session_scope() as s:
        approvals.submit(session=s, actor=MARKETER, campaign_id=cid)


def _state(cid: int) -> tuple[str, list[tuple[int, str, str]]]:
    with session_scope() as s:
        c = service.get_campaign(session=s, actor=PROVINCE_HEAD, campaign_id=cid)
        return c.state, [(a.step, a.approver_region, a.decision) for a in c.approvals]


def test_county_campaign_goes_to_city_head_then_is_scheduled(world: str) -> None:
    cid = make_campaign(make_program())
    _submit(cid)
    assert _state(cid) == ("submitted", [(1, "C1", "pending")])
    with session_scope() as s:
        assert [i["campaign"].id for i in approvals.inbox(session=s, actor=CITY_HEAD)] == [cid]
        assert approvals.inbox(session=s, actor=OTHER_CITY_HEAD) == []
    with pytest.raises(NotFound), session_scope() as s:  # outside C2: not even visible
        approvals.approve(session=s, actor=OTHER_CITY_HEAD, campaign_id=cid)
    with session_scope() as s:
        approvals.approve(session=s, actor=CITY_HEAD, campaign_id=cid, comment="ok")
    assert _state(cid) == ("scheduled", [(1, "C1", "approved")])


def test_big_budget_adds_the_province_head_in_order(world: str) -> None:
    cid = make_campaign(make_program(budget=10_000_000), budget=200_000)
    _submit(cid)
    assert _state(cid)[1] == [(1, "C1", "pending"), (2, "P1", "pending")]
    with pytest.raises(Forbidden), session_scope() as s:  # step 2 waits for step 1
        approvals.approve(session=s, actor=PROVINCE_HEAD, campaign_id=cid)
    with session_scope() as s:
        approvals.approve(session=s, actor=CITY_HEAD, campaign_id=cid)
        assert approvals.inbox(session=s, actor=PROVINCE_HEAD)[0]["step"].step == 2
    assert _state(cid)[0] == "submitted"
    with session_scope() as s:
        approvals.approve(session=s, actor=PROVINCE_HEAD, campaign_id=cid)
    assert _state(cid)[0] == "scheduled"


def test_city_campaign_goes_to_province(world: str) -> None:
    cid = make_campaign(make_program(), region_code="C1")
    _submit(cid)
    assert _state(cid)[1] == [(1, "P1", "pending")]


def test_submitter_cannot_approve_own_campaign(world: str) -> None:
    from .conftest import actor

    boss = actor("boss@example.org", "admin", None)  # may approve anything, but not own work
    cid = make_campaign(make_program(), who=boss)
    with session_scope() as s:
        approvals.submit(session=s, actor=boss, campaign_id=cid)
    with pytest.raises(Forbidden), session_scope() as s:
        approvals.approve(session=s, actor=boss, campaign_id=cid)
    assert _state(cid)[0] == "submitted"


def test_marketer_cannot_approve(world: str) -> None:
    cid = make_campaign(make_program())
    _submit(cid)
    from .conftest import actor

    with pytest.raises(Forbidden), session_scope() as s:
        approvals.approve(session=s, actor=actor("other", "marketer", "C1"), campaign_id=cid)


def test_reject_needs_a_comment_then_edit_and_resubmit_shows_changes(world: str) -> None:
    cid = make_campaign(make_program())
    _submit(cid)
    with pytest.raises(ValidationFailed), session_scope() as s:
        approvals.reject(session=s, actor=CITY_HEAD, campaign_id=cid, comment=" ")
    with session_scope() as s:
        approvals.reject(session=s, actor=CITY_HEAD, campaign_id=cid, comment="lower budget")
    assert _state(cid)[0] == "rejected"
    with session_scope() as s:
        service.update_campaign(session=s, actor=MARKETER, campaign_id=cid,
                                campaign_in=CampaignUpdate(budget=500))
    assert _state(cid)[0] == "draft"
    _submit(cid)
    with session_scope() as s:
        item = approvals.inbox(session=s, actor=CITY_HEAD)[0]
        assert item["changes"] == [{"field": "budget", "before": 1000.0, "after": 500.0}]
        assert item["step"].round == 2


def test_editing_an_approved_campaign_voids_approvals(world: str) -> None:
    cid = make_campaign(make_program(), auto_launch=False)
    _submit(cid)
    with session_scope() as s:
        approvals.approve(session=s, actor=CITY_HEAD, campaign_id=cid)
    assert _state(cid) == ("approved", [(1, "C1", "approved")])
    with session_scope() as s:
        service.update_campaign(session=s, actor=MARKETER, campaign_id=cid,
                                campaign_in=CampaignUpdate(name="renamed"))
    assert _state(cid) == ("draft", [(1, "C1", "void")])
    with pytest.raises(Conflict), session_scope() as s:
        approvals.approve(session=s, actor=CITY_HEAD, campaign_id=cid)


def test_every_step_is_audited(world: str) -> None:
    cid = make_campaign(make_program())
    _submit(cid)
    with session_scope() as s:
        approvals.approve(session=s, actor=CITY_HEAD, campaign_id=cid, comment="fine")
    with session_scope() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "campaign",
                                                  AuditEntry.object_id == str(cid))
                         .order_by(AuditEntry.id)).all()
        assert [r.action for r in rows] == ["campaign.create", "campaign.submit",
                                            "campaign.approve"]
        assert rows[-1].actor == CITY_HEAD.username
        assert rows[-1].after is not None and rows[-1].after["comment"] == "fine"


class _Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.mails.append((list(envelope.rcpt_tos),  # type: ignore[attr-defined]
                           envelope.content.decode()))  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Inbox]:
    import socket

    from aiosmtpd.controller import Controller

    from telcamp.core.settings import reset_settings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    handler = _Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("TELCAMP_SMTP_PORT", str(port))
    reset_settings()
    yield handler
    controller.stop()


def _add_user(username: str, role: str, region: str) -> None:
    from telcamp.access.models import User
    from telcamp.core import clock

    with session_scope() as s:
        s.add(User(username=username, password_hash="x", role=role, region_code=region,
                   region_name=region, disabled=False, created_at=clock.now(),
                   password_changed_at=clock.now()))


def _wait(inbox: _Inbox, n: int) -> None:
    deadline = time.monotonic() + 5
    while len(inbox.mails) < n and time.monotonic() < deadline:
        time.sleep(0.05)


def test_approvers_are_mailed_after_commit_only(world: str, smtp: _Inbox) -> None:
    _add_user(CITY_HEAD.username, "approver", "C1")
    _add_user(OTHER_CITY_HEAD.username, "approver", "C2")
    cid = make_campaign(make_program())
    # a submit that rolls back sends nothing
    with pytest.raises(RuntimeError), session_scope() as s:
        approvals.submit(session=s, actor=MARKETER, campaign_id=cid)
        raise RuntimeError("crash before commit")
    time.sleep(0.3)
    assert smtp.mails == []
    _submit(cid)
    _wait(smtp, 1)
    assert len(smtp.mails) == 1
    rcpts, body = smtp.mails[0]
    assert rcpts == [CITY_HEAD.username]
    assert "Data pack for K1" in body
