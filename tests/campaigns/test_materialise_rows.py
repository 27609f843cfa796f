"""Every column of a materialised contact as written by the bulk path (binary COPY on
PostgreSQL, staging table on SQLite), and the per-cell counts taken from the stream."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from telcamp.campaigns import approvals, materialise, schedule
from telcamp.campaigns.models import Contact, Wave
from telcamp.core import warehouse
from telcamp.core.db import session_scope

from .conftest import CITY_HEAD, MARKETER, make_campaign, make_program

# a NULL, a two-byte-per-character and a long language tag next to the usual ones
LANGUAGES = ("en", "ru", None, "zh-Hans", "ру")


def test_contact_rows_are_exact_and_counts_match_the_table(world: str) -> None:
    with warehouse.connect() as con:
        con.execute("UPDATE profile SET language = ["
                    + ", ".join("NULL" if x is None else f"'{x}'" for x in LANGUAGES)
                    + f"][1 + CAST((msisdn - 79000000000) % {len(LANGUAGES)} AS INTEGER)]")
    cid = make_campaign(make_program(), priority=7)
    with session_scope() as s:
        approvals.submit(session=s, actor=MARKETER, campaign_id=cid)
    with session_scope() as s:
        approvals.approve(session=s, actor=CITY_HEAD, campaign_id=cid)
    with session_scope() as s:
        schedule.launch(session=s, actor=MARKETER, campaign_id=cid)
    with session_scope() as s:
        wave = s.scalars(select(Wave).where(Wave.campaign_id == cid, Wave.channel == "sms")).one()
        wave_id = wave.id
    plan = materialise.begin(wave_id=wave_id)
    result = materialise.finish(plan)

    with session_scope() as s:
        rows = list(s.scalars(select(Contact).where(Contact.wave_id == wave_id)))
    assert rows and len(rows) == result.contacts + result.controls
    for c in rows:
        assert (c.campaign_id, c.wave_id, c.run, c.channel, c.priority) == (
            cid, wave_id, 1, "sms", 7)
        assert c.language == LANGUAGES[(c.msisdn - 79000000000) % len(LANGUAGES)]
        assert c.planned_at == plan.planned_at
        assert c.state == ("control" if c.is_control else "planned")
        assert c.template_ref is None
    by_cell: Counter[tuple[int, bool]] = Counter((c.cell_id, c.is_control) for c in rows)
    assert result.by_cell == {
        cell: {"contacts": by_cell[(cell, False)], "controls": by_cell[(cell, True)]}
        for cell in {c.cell_id for c in rows}}


def _batches(n: int, fail_at: int | None = None) -> Any:
    import pyarrow as pa

    for i in range(n):
        if i == fail_at:
            raise RuntimeError("warehouse read failed")
        yield pa.record_batch({"cell_id": [1, 2], "is_control": [False, True]})


def test_a_failed_write_stops_the_producer_and_a_failed_read_reaches_the_writer() -> None:
    import contextlib
    import threading

    import pytest

    counts: dict[int, dict[str, int]] = {}
    with pytest.raises(OSError), contextlib.closing(
            materialise._consume(_batches(1000), lambda b: b.num_rows, counts)) as chunks:
        for _chunk in chunks:
            raise OSError("connection lost")  # the database side fails at once
    assert not [t for t in threading.enumerate() if t.name == "materialise-producer"]
    assert sum(v["contacts"] + v["controls"] for v in counts.values()) < 2000  # it stopped
    with pytest.raises(RuntimeError, match="warehouse read failed"), contextlib.closing(
            materialise._consume(_batches(5, fail_at=3), lambda b: b.num_rows, {})) as chunks:
        assert list(chunks)
