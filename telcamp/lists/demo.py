"""Special lists of the demo operator: a blacklist, a greylist, an opt-out list and test
numbers, so default exclusions and test sends have something to work on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from telcamp.core import warehouse
from telcamp.core.db import session_scope
from telcamp.core.security import system_principal
from telcamp.lists import importer, sync
from telcamp.lists.models import SpecialList
from telcamp.lists.schemas import ListCreate
from telcamp.lists.service import create_list

# name, type, share of the subscriber base (every n-th subscriber), reason
DEMO_LISTS: tuple[tuple[str, str, int, str], ...] = (
    ("blacklist", "blacklist", 997, "complaint"),
    ("greylist", "greylist", 1499, "employee"),
    ("optout", "optout", 311, "replied STOP"),
    ("test numbers", "test", 0, "QA handset"),
)


def _numbers(every: int, limit: int) -> list[int]:
    with warehouse.connect(read_only=True) as con:
        if every:
            rows = con.execute(
                "SELECT msisdn FROM subscribers WHERE msisdn % ? = 0 ORDER BY msisdn LIMIT ?",
                [every, limit],
            ).fetchall()
        else:
            rows = con.execute(
                "SELECT msisdn FROM subscribers ORDER BY msisdn LIMIT 5"
            ).fetchall()
    return [int(r[0]) for r in rows]


def ensure_demo_lists(console: Any, *, region_code: str = "P01") -> None:
    """Create the demo's operator-wide lists once (owned by the top region)."""
    actor = system_principal()
    created: list[tuple[int, Any]] = []
    for name, kind, every, reason in DEMO_LISTS:
        with session_scope() as session:
            exists = session.scalar(
                select(SpecialList.id).where(SpecialList.name == name)
            )
            if exists is not None:
                continue
            numbers = _numbers(every, 2000)
            lst = create_list(
                session, principal=actor,
                list_in=ListCreate(name=name, type=kind,
                                   region_code=region_code,
                                   description=f"demo {kind} list"),
            )
            if numbers:
                body = "msisdn,reason\n" + "".join(f"{n},{reason}\n" for n in numbers)
                parsed = importer.parse(body.encode(), file=f"demo-{kind}.csv")
                importer.apply(session, principal=actor, list_id=lst.id, parsed=parsed)
                created.append((lst.id, parsed.valid))
            console.print(f"demo list {name!r} ({kind}): {len(numbers)} numbers")
    # the warehouse copy is written after the commit, like every list change
    for list_id, rows in created:
        sync.sync_import(list_id, rows)
