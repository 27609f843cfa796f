"""Keep the warehouse copy of list members (`list_members`) in step with the operational DB.

The operational DB is the source of truth. Each list has a `version` bumped in the same
transaction as any change of its members; the warehouse table `list_sync` records the
version `list_members` holds for each list. After a commit the edge calls
`sync_lists(ids)`; if that fails (warehouse busy, process killed) nothing is lost: the
committed change is in the operational DB, the versions differ, and the next
`ensure_synced()` (run by the lists pages and API, by `telcamp list sync`, and by anyone
about to count an audience) copies the list again. Each list is replaced whole inside one
DuckDB transaction, so a reader sees the old or the new members, never half.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

import duckdb
import pyarrow as pa
from sqlalchemy import select

from telcamp.core import clock, warehouse
from telcamp.core.db import session_scope
from telcamp.lists.models import ListMember, SpecialList
from telcamp.warehouse.schema import ensure_schema

log = logging.getLogger(__name__)
# DuckDB connections of one process share the database; two threads replacing the same
# list at once would conflict, so this process syncs one list at a time.
_LOCK = threading.Lock()


def _op_versions(ids: Iterable[int] | None = None) -> dict[int, int]:
    with session_scope() as session:
        stmt = select(SpecialList.id, SpecialList.version)
        if ids is not None:
            stmt = stmt.where(SpecialList.id.in_(list(ids)))
        return {int(i): int(v) for i, v in session.execute(stmt).all()}


def _members_table(list_id: int) -> tuple[int | None, pa.Table]:
    """The list's version and members, read in one operational-DB transaction.

    Raw driver rows, no ORM: SQLite hands back its stored UTC text, PostgreSQL aware
    datetimes; `_replace` turns either into TIMESTAMPTZ inside DuckDB."""
    with session_scope() as session:
        version = session.scalar(select(SpecialList.version).where(SpecialList.id == list_id))
        rows = session.connection().exec_driver_sql(
            "SELECT msisdn, reason, expires_at, added_at FROM special_list_member "
            "WHERE list_id = %(id)s" if session.get_bind().dialect.name == "postgresql" else
            "SELECT msisdn, reason, expires_at, added_at FROM special_list_member "
            "WHERE list_id = ?",
            {"id": list_id} if session.get_bind().dialect.name == "postgresql" else (list_id,),
        ).fetchall()
    cols = list(zip(*rows, strict=True)) if rows else [(), (), (), ()]
    stamp = pa.string() if any(isinstance(v, str) for v in cols[3][:1]) else (
        pa.timestamp("us", tz="UTC"))
    table = pa.table({
        "msisdn": pa.array(cols[0], pa.int64()),
        "reason": pa.array(cols[1], pa.string()),
        "expires_at": pa.array(cols[2], stamp),
        "added_at": pa.array(cols[3], stamp),
    })
    return (None if version is None else int(version)), table


def _stamp(column: str, table: pa.Table) -> str:
    if pa.types.is_string(table.schema.field(column).type):
        # SQLite's text is UTC without an offset: say so, never the session's time zone.
        return f"CAST({column} AS TIMESTAMP) AT TIME ZONE 'UTC'"
    return column


def _replace(con: duckdb.DuckDBPyConnection, list_id: int) -> None:
    version, members = _members_table(list_id)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM list_members WHERE list_id = ?", [list_id])
        con.execute("DELETE FROM list_sync WHERE list_id = ?", [list_id])
        if version is not None:  # None: the list was deleted
            con.register("new_members", members)
            con.execute(
                f"INSERT INTO list_members SELECT ?, msisdn, reason, "
                f"{_stamp('expires_at', members)}, {_stamp('added_at', members)} "
                f"FROM new_members", [list_id],
            )
            con.unregister("new_members")
            con.execute("INSERT INTO list_sync VALUES (?, ?, ?)",
                        [list_id, version, clock.now()])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def sync_lists(list_ids: Iterable[int], *, strict: bool = False) -> list[int]:
    """Copy these lists (deleted ones: remove them) to the warehouse. Returns the ids
    copied. With strict=False a failure is logged, not raised: the operational change is
    committed already and `ensure_synced` repairs the copy later."""
    ids = sorted(set(list_ids))
    if not ids:
        return []
    try:
        with _LOCK, warehouse.connect() as con:
            ensure_schema(con)
            for list_id in ids:
                _replace(con, list_id)
    except Exception:
        if strict:
            raise
        log.exception("warehouse copy of lists %s failed; ensure_synced() will retry", ids)
        return []
    return ids


def _one_member(list_id: int, msisdn: int) -> tuple[int | None, tuple[object, ...] | None]:
    """The list's version and the current row of one member (None: not on the list)."""
    with session_scope() as session:
        version = session.scalar(select(SpecialList.version).where(SpecialList.id == list_id))
        row = session.execute(
            select(ListMember.reason, ListMember.expires_at, ListMember.added_at)
            .where(ListMember.list_id == list_id, ListMember.msisdn == msisdn)
        ).first()
    return (None if version is None else int(version)), (None if row is None else tuple(row))


def sync_member(list_id: int, msisdn: int, *, strict: bool = False) -> bool:
    """After one number was added or removed: copy just that row when the warehouse holds
    the version right before this change, else the whole list (some other change was
    missed). Reads the number's current state, so running it twice is harmless. Returns
    False when the copy failed (logged; `ensure_synced` repairs it)."""
    try:
        with _LOCK, warehouse.connect() as con:
            ensure_schema(con)
            version, row = _one_member(list_id, msisdn)
            held = con.execute("SELECT version FROM list_sync WHERE list_id = ?",
                               [list_id]).fetchall()
            if version is None or not held or int(held[0][0]) != version - 1:
                _replace(con, list_id)
                return True
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute("DELETE FROM list_members WHERE list_id = ? AND msisdn = ?",
                            [list_id, msisdn])
                if row is not None:
                    con.execute("INSERT INTO list_members VALUES (?, ?, ?, ?, ?)",
                                [list_id, msisdn, *row])
                con.execute("UPDATE list_sync SET version = ?, synced_at = ? WHERE list_id = ?",
                            [version, clock.now(), list_id])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
    except Exception:
        if strict:
            raise
        log.exception("warehouse copy of list %s failed; ensure_synced() will retry", list_id)
        return False
    return True


def sync_import(list_id: int, rows: pa.Table, *, strict: bool = False) -> bool:
    """After an import: merge the imported rows (msisdn, reason, expires_at) into the
    warehouse copy instead of copying the whole list, when the copy holds the version
    right before the import and nothing changed since. The result equals a whole-list
    copy: imported numbers get the file's reason and expiry, keep their first added_at
    and new ones get the import's time (the list's updated_at). Otherwise: whole copy."""
    try:
        with _LOCK, warehouse.connect() as con:
            ensure_schema(con)
            with session_scope() as session:
                head = session.execute(select(SpecialList.version, SpecialList.updated_at)
                                       .where(SpecialList.id == list_id)).first()
            held = con.execute("SELECT version FROM list_sync WHERE list_id = ?",
                               [list_id]).fetchall()
            if head is None or not held or int(held[0][0]) != int(head[0]) - 1:
                _replace(con, list_id)
                return True
            con.register("imported", rows.select(["msisdn", "reason", "expires_at"]))
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(
                    "CREATE OR REPLACE TEMP TABLE merged AS SELECT CAST(? AS BIGINT) AS list_id, "
                    "i.msisdn, i.reason, i.expires_at, coalesce(m.added_at, ?) AS added_at "
                    "FROM imported i LEFT JOIN list_members m "
                    "ON m.list_id = ? AND m.msisdn = i.msisdn", [list_id, head[1], list_id])
                con.execute("DELETE FROM list_members WHERE list_id = ? AND msisdn IN "
                            "(SELECT msisdn FROM imported)", [list_id])
                con.execute("INSERT INTO list_members SELECT * FROM merged")
                con.execute("DROP TABLE merged")
                con.execute("UPDATE list_sync SET version = ?, synced_at = ? WHERE list_id = ?",
                            [int(head[0]), clock.now(), list_id])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            finally:
                con.unregister("imported")
    except Exception:
        if strict:
            raise
        log.exception("warehouse copy of list %s failed; ensure_synced() will retry", list_id)
        return False
    return True


def stale_lists(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Ids whose warehouse copy differs from the operational DB (or that no longer exist)."""
    ensure_schema(con)
    op = _op_versions()
    held = con.execute("SELECT list_id, version FROM list_sync").fetchall()
    wh = {int(i): int(v) for i, v in held}
    orphans = {
        int(r[0]) for r in con.execute("SELECT DISTINCT list_id FROM list_members").fetchall()
    }
    stale = {i for i, v in op.items() if wh.get(i) != v}
    stale |= (set(wh) | orphans) - set(op)
    return sorted(stale)


def ensure_synced() -> list[int]:
    """Bring every stale list up to date; cheap when nothing changed. Returns ids copied."""
    with _LOCK, warehouse.connect() as con:
        stale = stale_lists(con)
        for list_id in stale:
            _replace(con, list_id)
    return stale
