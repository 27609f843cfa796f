"""One subscriber's pre-send checks, one worker at a time (PostgreSQL).

The caps and the minimum gap count the send log. Two workers claiming contacts of the
same subscriber at the same moment each read the log before the other's claim committed,
so both would pass a cap with one send left: the cap exceeded by one. Inside the claim
transaction, before the policy check, each worker therefore takes a transaction-level
advisory lock per subscriber of its batch (sorted, so two workers never wait on each
other in a circle). The second worker waits until the first committed its send-log rows;
READ COMMITTED gives its next statement a snapshot that sees them. Locks go with the
commit; nothing to clean up after a crash.

Cost: one statement per claimed batch, and only when the policy has a cap or a minimum
gap (otherwise there is nothing to race on). Workers on different subscribers never
wait. Each lock takes a slot of PostgreSQL's shared lock table
(max_locks_per_transaction × max_connections, 6,400 by default): workers × batch size
must stay below that (4 workers × 1,000 do). SQLite has one writer: nothing to do.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from telcamp.policy.schemas import PolicyRead

NAMESPACE = 0x7E1C  # the first key of pg_advisory_xact_lock(int, int): "caps" locks
_INT4 = 2**31 - 1


def needs_locks(policy: PolicyRead) -> bool:
    caps = any(v is not None for v in policy.caps.values()) or any(
        v is not None for c in policy.channel_caps.values() for v in c.values())
    return caps or policy.min_gap_minutes > 0


def lock_subscribers(session: Session, msisdns: Iterable[int], policy: PolicyRead) -> int:
    """Take the per-subscriber locks for this transaction; returns how many."""
    if session.get_bind().dialect.name != "postgresql" or not needs_locks(policy):
        return 0
    # Folded into int4 (a collision only makes two subscribers share a lock), sorted.
    keys = sorted({int(m) % _INT4 for m in msisdns})
    if keys:
        session.execute(sa.text(
            "SELECT count(pg_advisory_xact_lock(:ns, k)) FROM "
            "(SELECT k FROM unnest(CAST(:keys AS integer[])) WITH ORDINALITY AS t(k, n) "
            "ORDER BY n) s"), {"ns": NAMESPACE, "keys": keys})
    return len(keys)
