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
wait.

The lock table. Each advisory lock takes a slot of PostgreSQL's shared lock table, sized
max_locks_per_transaction × (max_connections + max_prepared_transactions) — 6,400 by
default, a little more in practice from spare shared memory (one transaction got 12,000
but not 16,000 on this machine's PostgreSQL 15) — and shared by every session. A claim
may be up to 10,000 contacts (TELCAMP_DISPATCH_BATCH_MAX), so four workers with batches
of 4,000, or one big claim beside another busy session, fill it: "out of shared memory",
the claim fails, and so may any other session needing a lock at that moment
(tests/policy/test_serialise.py reproduces it). So:

- every locking claim also takes one lock on the whole space (key GLOBAL) in *shared*
  mode: claims never wait on each other for it;
- a claim with more subscribers than its share of the table (`budget()`: a quarter of
  the nominal size, 1,600 by default, so four workers with the default batch of 1,000
  stay well inside it) takes the GLOBAL lock in *exclusive* mode instead of the
  per-subscriber ones: it waits for the claims in flight and holds the others back for
  its own short transaction — serialised, never failed;
- should the table fill anyway (many workers, other load), the per-subscriber locks are
  taken inside a savepoint: "out of shared memory" rolls back to it, which releases what
  was taken, and the claim falls back to the exclusive GLOBAL lock.

Exclusive and shared GLOBAL conflict, so an oversize claim and a normal one never check
the same subscriber at once; two normal claims are serialised per subscriber as before.
SQLite has one writer: nothing to do.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from telcamp.policy.schemas import PolicyRead

log = logging.getLogger(__name__)
NAMESPACE = 0x7E1C  # the first key of pg_advisory_xact_lock(int, int): "caps" locks
GLOBAL = -1  # the whole subscriber space (subscriber keys are >= 0)
_INT4 = 2**31 - 1
OUT_OF_LOCKS = "53200"  # SQLSTATE out_of_memory: "out of shared memory" (lock table full)
_budgets: dict[str, int] = {}


def needs_locks(policy: PolicyRead) -> bool:
    caps = any(v is not None for v in policy.caps.values()) or any(
        v is not None for c in policy.channel_caps.values() for v in c.values())
    return caps or policy.min_gap_minutes > 0


def budget(session: Session) -> int:
    """Most per-subscriber locks one claim takes: a quarter of the nominal lock table
    (read once per database)."""
    url = str(session.get_bind().engine.url)
    if url not in _budgets:
        size = int(session.execute(sa.text(
            "SELECT current_setting('max_locks_per_transaction')::int * "
            "(current_setting('max_connections')::int + "
            "current_setting('max_prepared_transactions')::int)")).scalar_one())
        _budgets[url] = max(1, size // 4)
    return _budgets[url]


def _global(session: Session, *, exclusive: bool) -> None:
    fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    session.execute(sa.text(f"SELECT {fn}(:ns, :k)"), {"ns": NAMESPACE, "k": GLOBAL})


def lock_subscribers(session: Session, msisdns: Iterable[int], policy: PolicyRead,
                     *, limit: int | None = None) -> int:
    """Take the per-subscriber locks for this transaction (or, for a claim bigger than
    `limit` — default `budget()` — the exclusive lock on the whole space). Returns how
    many per-subscriber locks were taken: 0 with the exclusive lock."""
    if session.get_bind().dialect.name != "postgresql" or not needs_locks(policy):
        return 0
    # Folded into int4 (a collision only makes two subscribers share a lock), sorted.
    keys = sorted({int(m) % _INT4 for m in msisdns})
    if not keys:
        return 0
    if len(keys) > (budget(session) if limit is None else limit):
        log.info("claim of %d subscribers over the lock budget: serialised with the "
                 "other claims (one lock)", len(keys))
        _global(session, exclusive=True)
        return 0
    try:
        with session.begin_nested():  # a full lock table rolls back to here
            _global(session, exclusive=False)
            session.execute(sa.text(
                "SELECT count(pg_advisory_xact_lock(:ns, k)) FROM "
                "(SELECT k FROM unnest(CAST(:keys AS integer[])) WITH ORDINALITY AS t(k, n) "
                "ORDER BY n) s"), {"ns": NAMESPACE, "keys": keys})
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != OUT_OF_LOCKS:
            raise
        log.warning("PostgreSQL's lock table is full (%d subscribers to lock): claim "
                    "serialised with the other claims instead; consider raising "
                    "max_locks_per_transaction", len(keys))
        _global(session, exclusive=True)
        return 0
    return len(keys)
