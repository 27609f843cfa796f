"""Per-subscriber claim locks and PostgreSQL's shared lock table (telcamp/policy/serialise.py):
a claim over the budget, or one that finds the table full, is serialised with the other
claims through one exclusive lock instead of failing with "out of shared memory"; normal
claims lock per subscriber and never wait for each other otherwise. PostgreSQL only."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from dispatch.world import (
    FIRST,
    add_contacts,
    cap_one_a_day,
    make_campaign,
    setup_warehouse,
    slow_policy_in,
)

from telcamp.core.db import session_scope
from telcamp.core.security import system_principal
from telcamp.dispatch import outbox
from telcamp.dispatch.tables import send_log
from telcamp.policy import serialise
from telcamp.policy.schemas import PolicyRead

CAPS = PolicyRead(caps={"24h": 1})


@pytest.fixture
def other(pg: str) -> Iterator[psycopg.Connection[Any]]:
    """A second session, as another worker or any other client of the database."""
    with psycopg.connect(pg.replace("postgresql+psycopg://", "postgresql://"),
                         autocommit=False) as con:
        yield con


def _ours(s: Any) -> dict[int, str]:
    """This session's caps locks: key → mode."""
    return {int(k): str(m) for k, m in s.execute(sa.text(
        "SELECT objid::int, mode FROM pg_locks WHERE locktype = 'advisory' "
        "AND classid = :ns AND objsubid = 2 AND pid = pg_backend_pid()"),
        {"ns": serialise.NAMESPACE})}


def _try(con: psycopg.Connection[Any], fn: str, key: int) -> bool:
    row = con.execute(f"SELECT {fn}(%s, %s)", (serialise.NAMESPACE, key)).fetchone()
    con.rollback()
    assert row is not None
    return bool(row[0])


def test_the_budget_is_a_quarter_of_the_lock_table(pg: str) -> None:
    with session_scope() as s:
        size = int(s.execute(sa.text(
            "SELECT current_setting('max_locks_per_transaction')::int * "
            "(current_setting('max_connections')::int + "
            "current_setting('max_prepared_transactions')::int)")).scalar_one())
        assert serialise.budget(s) == size // 4
    assert size // 4 >= 1000, "the default batch of 1,000 fits on a default server"


def test_normal_claim_locks_each_subscriber_and_shares_the_space(
        pg: str, other: psycopg.Connection[Any]) -> None:
    with session_scope() as s:
        assert serialise.lock_subscribers(s, [FIRST + 2, FIRST, FIRST + 2], CAPS) == 2
        held = _ours(s)
        assert held.pop(serialise.GLOBAL) == "ShareLock"
        assert len(held) == 2 and set(held.values()) == {"ExclusiveLock"}
        key = next(iter(held))
        assert not _try(other, "pg_try_advisory_xact_lock", key), "the subscriber is held"
        assert _try(other, "pg_try_advisory_xact_lock_shared", serialise.GLOBAL)
        assert not _try(other, "pg_try_advisory_xact_lock", serialise.GLOBAL)
    assert _try(other, "pg_try_advisory_xact_lock", key), "released at commit"


def test_a_claim_over_the_budget_takes_one_exclusive_lock(
        pg: str, other: psycopg.Connection[Any]) -> None:
    with session_scope() as s:
        assert serialise.lock_subscribers(s, range(FIRST, FIRST + 50), CAPS, limit=10) == 0
        assert _ours(s) == {serialise.GLOBAL: "ExclusiveLock"}
        # a normal claim (shared) waits for it; so does another big one
        assert not _try(other, "pg_try_advisory_xact_lock_shared", serialise.GLOBAL)


@pytest.mark.fills_lock_table
def test_a_full_lock_table_serialises_instead_of_failing(
        pg: str, other: psycopg.Connection[Any]) -> None:
    """Another session holds most of the table; a claim whose per-subscriber locks do not
    fit rolls them back and takes the exclusive lock: the transaction goes on."""
    other.execute("SELECT count(pg_advisory_xact_lock(1, k)) FROM generate_series(1, 6000) k")
    with session_scope() as s:
        taken = serialise.lock_subscribers(s, range(FIRST, FIRST + 20_000), CAPS,
                                           limit=10**6)
        assert taken == 0
        assert _ours(s) == {serialise.GLOBAL: "ExclusiveLock"}
        assert s.execute(sa.text("SELECT 1")).scalar_one() == 1
    other.rollback()


@pytest.mark.fills_lock_table
def test_a_big_claim_beside_a_lock_hungry_session_keeps_the_cap(
        pg: str, other: psycopg.Connection[Any]) -> None:
    """End to end through the outbox: 10,000 contacts (the largest batch allowed) claimed
    while another session holds 8,000 locks, with a cap of one a day: the claim works and
    the subscriber in two campaigns is sent once."""
    setup_warehouse(10_000)
    cap_one_a_day()
    first = make_campaign(priority=90)
    second = make_campaign(priority=10)
    add_contacts(first, range(10_000), priority=90)
    add_contacts(second, [0], priority=10)
    other.execute("SELECT count(pg_advisory_xact_lock(1, k)) FROM generate_series(1, 8000) k")
    batches: list[outbox.Batch] = []
    errors: list[BaseException] = []

    def claim() -> None:
        try:
            batches.append(outbox.claim(channel="sms", limit=10_000))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    other.rollback()
    assert errors == []
    claimed = sorted(c.msisdn - FIRST for b in batches for c in b.contacts)
    assert claimed == list(range(10_000)), "each subscriber once: the cap held"
    with session_scope() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(send_log)) == 10_000


def test_a_call_list_export_and_an_sms_claim_share_the_cap(
        pg: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SMS worker has checked subscriber 0 and not committed yet when a call list is
    exported with the same subscriber: the export waits and then sees the SMS, so a cap of
    one a day holds across channels."""
    from telcamp.channels import calllist

    setup_warehouse(2)
    cap_one_a_day()
    sms = make_campaign(priority=90)
    call = make_campaign(channel="call")
    add_contacts(sms, [0], priority=90)
    add_contacts(call, [0, 1], channel="call")
    # the SMS claim checks, then pauses before committing
    checked = slow_policy_in("sms-worker", monkeypatch)
    claimed: list[outbox.Batch] = []
    worker = threading.Thread(target=lambda: claimed.append(outbox.claim(channel="sms",
                                                                         limit=10)),
                              name="sms-worker")
    worker.start()
    assert checked.wait(10)
    with session_scope() as s:
        result = calllist.export_wave(s, actor=system_principal(), wave_id=call[1],
                                      groups=["a"])
    worker.join(20)
    assert [c.msisdn for c in claimed[0].contacts] == [FIRST]
    assert result.exported == 1 and result.policy == {"cap_24h": 1}
    with session_scope() as s:
        per = dict(s.execute(sa.select(send_log.c.msisdn, sa.func.count())
                             .group_by(send_log.c.msisdn)).all())
    assert per == {FIRST: 1, FIRST + 1: 1}
