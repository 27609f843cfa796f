"""Materialising a wave: its contacts created in bulk from the snapshot and the cells.

Set-based from start to end. DuckDB joins the snapshot members with `profile`, gives each
subscriber its first matching cell (one CASE over the compiled cell rules), the first
channel of that cell's preference the subscriber can receive, and the control flag from
the (campaign, msisdn) hash; Arrow batches of the result go into the operational
`contact` table — COPY on PostgreSQL, a staging table and one INSERT … SELECT on SQLite.

The contact policy (opt-out, caps, arbitration between campaigns) is applied to the new
contacts in the same transaction (telcamp.policy.service.apply_to_wave).

Crash safety: the wave is marked 'materialising' (committed) before the work starts, and
all its contacts plus its new state are written in ONE transaction. A crash leaves either
no contacts of that run or all of them; `recover()` (run at start and on every scheduler
tick) puts a wave stuck in 'materialising' back to 'planned' so it is done again.
"""

from __future__ import annotations

import contextlib
import io
import queue
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from telcamp.campaigns import cells as cell_sql
from telcamp.campaigns.models import Campaign, Contact, Wave
from telcamp.core import clock, warehouse
from telcamp.core.db import session_scope
from telcamp.core.errors import Conflict, ValidationFailed

BATCH_ROWS = 500_000
COLUMNS = ("campaign_id", "wave_id", "cell_id", "run", "msisdn", "channel", "priority",
           "state", "is_control", "planned_at", "language", "template_ref")


@dataclass
class Result:
    wave_id: int
    run: int
    contacts: int  # to be sent
    controls: int  # held out
    seconds: float
    by_cell: dict[int, dict[str, int]]
    suppressed: dict[str, int]  # contact policy: reason → contacts suppressed or deferred
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step, for benches

    def as_dict(self) -> dict[str, Any]:
        return {"wave_id": self.wave_id, "run": self.run, "contacts": self.contacts,
                "controls": self.controls, "seconds": round(self.seconds, 2),
                "by_cell": {str(k): v for k, v in self.by_cell.items()},
                "policy": self.suppressed}


@dataclass(frozen=True)
class Plan:
    """Everything the warehouse query needs, read from the op DB before the heavy work."""

    campaign_id: int
    wave_id: int
    run: int
    snapshot_id: int
    channel: str
    only_cell: int | None
    priority: int
    planned_at: datetime
    cells: tuple[tuple[int, dict[str, Any] | None, float, tuple[str, ...]], ...]
    reparticipation: str
    reparticipation_days: int | None
    now: datetime


def audience_sql(plan: Plan, *, exclude_table: str | None = None) -> str:
    """SELECT msisdn, cell_id, channel, is_control, language for the plan's audience."""
    assign = cell_sql.assignment_sql([(cid, rule) for cid, rule, _p, _c in plan.cells])
    chan = cell_sql.channel_sql([(cid, list(chs)) for cid, _r, _p, chs in plan.cells],
                                alias="a")
    pct = cell_sql.control_pct_sql([(cid, pct) for cid, _r, pct, _c in plan.cells])
    not_again = ""
    if exclude_table:
        not_again = f"AND m.msisdn NOT IN (SELECT msisdn FROM {exclude_table})"
    return f"""
      WITH assigned AS (
        SELECT p.msisdn, p.email, p.language, {assign} AS cell_id,
               {cell_sql.bucket_sql(plan.campaign_id, 'p')} AS bucket
        FROM segment_snapshot_members m JOIN profile p ON p.msisdn = m.msisdn
        WHERE m.snapshot_id = $snapshot {not_again}
      ), chosen AS (
        SELECT msisdn, cell_id, language, bucket, {chan} AS channel,
               {pct} AS pct
        FROM assigned a WHERE cell_id IS NOT NULL
      )
      SELECT msisdn, cell_id, channel, bucket < pct AS is_control, language
      FROM chosen"""


def _plan(session: Session, wave: Wave, campaign: Campaign, now: datetime) -> Plan:
    snapshot = wave.snapshot_id or campaign.snapshot_id
    if snapshot is None:
        raise ValidationFailed(f"campaign {campaign.id} has no audience snapshot",
                               field="snapshot_id")
    if not campaign.cells:
        raise ValidationFailed(f"campaign {campaign.id} has no cells", field="cells")
    return Plan(
        campaign_id=campaign.id, wave_id=wave.id, run=wave.runs + 1, snapshot_id=snapshot,
        channel=wave.channel, only_cell=wave.cell_id, priority=campaign.priority,
        planned_at=planned_time(wave, now.astimezone(UTC)),
        cells=tuple((c.id, c.rule, float(c.control_pct), tuple(c.channels))
                    for c in campaign.cells),
        reparticipation=campaign.reparticipation,
        reparticipation_days=campaign.reparticipation_days,
        now=now,
    )


def planned_time(wave: Wave, now: datetime) -> datetime:
    """The first moment inside the wave's send window, from now on (UTC)."""
    start_h, start_m = (int(x) for x in wave.window_start.split(":"))
    end_h, end_m = (int(x) for x in wave.window_end.split(":"))
    start = now.replace(hour=start_h, minute=start_m, second=0, microsecond=0)
    end = now.replace(hour=end_h, minute=end_m, second=0, microsecond=0)
    if now < start:
        return start
    if now < end:
        return now
    return start + timedelta(days=1)


def begin(*, wave_id: int, now: datetime | None = None) -> Plan:
    """Mark the wave 'materialising' and commit, so a crash afterwards is visible."""
    now = now or clock.now()
    with session_scope() as s:
        wave = s.scalars(select(Wave).where(Wave.id == wave_id).with_for_update()).first()
        if wave is None:
            raise ValidationFailed(f"wave {wave_id} does not exist", field="wave_id")
        campaign = s.get(Campaign, wave.campaign_id)
        assert campaign is not None
        if campaign.state not in ("scheduled", "running"):
            raise Conflict(f"campaign {campaign.id} is {campaign.state}; only a scheduled or "
                           "running campaign has its contacts created", field="state")
        if wave.state != "planned":
            raise Conflict(f"wave {wave_id} is {wave.state}, not planned", field="state")
        plan = _plan(s, wave, campaign, now)
        wave.state = "materialising"
    return plan


def _prior_contacts(session: Session, plan: Plan) -> pa.Table | None:
    """Subscribers this campaign already took part with, per its re-participation rule.

    Read in bulk (COPY on PostgreSQL, fetchmany on SQLite) straight into Arrow: a
    recurring wave of a 10M campaign must not build 10M Python objects through the ORM.
    """
    if session.scalar(select(Contact.id).where(Contact.campaign_id == plan.campaign_id)
                      .limit(1)) is None:
        return None  # first run: nothing to leave out, skip the read
    since = None
    if plan.reparticipation == "every_n_days" and plan.reparticipation_days:
        since = plan.planned_at - timedelta(days=plan.reparticipation_days)
    raw = session.connection().connection.driver_connection
    if session.get_bind().dialect.name == "postgresql":
        sql = "SELECT DISTINCT msisdn FROM contact WHERE campaign_id = %s"
        params: tuple[Any, ...] = (plan.campaign_id,)
        if since is not None:
            sql += " AND planned_at > %s"
            params += (since,)
        buf = io.BytesIO()
        with raw.cursor() as cur, cur.copy(  # type: ignore[union-attr]
                f"COPY ({sql}) TO STDOUT", params) as copy:
            for chunk in copy:
                buf.write(chunk)
        buf.seek(0)
        if not buf.getbuffer().nbytes:
            return pa.table({"msisdn": pa.array([], type=pa.int64())})
        return pacsv.read_csv(buf, read_options=pacsv.ReadOptions(column_names=["msisdn"]),
                              convert_options=pacsv.ConvertOptions(
                                  column_types={"msisdn": pa.int64()}))
    sql = "SELECT DISTINCT msisdn FROM contact WHERE campaign_id = ?"
    args: tuple[Any, ...] = (plan.campaign_id,)
    if since is not None:
        sql += " AND planned_at > ?"
        args += (since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),)
    cur = raw.cursor()  # type: ignore[union-attr]
    cur.execute(sql, args)
    parts = []
    while rows := cur.fetchmany(BATCH_ROWS):
        parts.append(pa.array([r[0] for r in rows], type=pa.int64()))
    cur.close()
    return pa.table({"msisdn": pa.concat_arrays(parts) if parts else pa.array(
        [], type=pa.int64())})


def batch_sql(plan: Plan, *, with_prior: bool) -> tuple[str, dict[str, Any]]:
    """The contact rows of the run. Compiled before the warehouse is opened, because
    compiling a segment rule reads the warehouse catalogue itself."""
    where = ["channel = $channel"]
    params: dict[str, Any] = {"snapshot": plan.snapshot_id, "channel": plan.channel,
                              "campaign": plan.campaign_id, "wave": plan.wave_id,
                              "run": plan.run, "priority": plan.priority,
                              "planned": plan.planned_at.isoformat()}
    if plan.only_cell is not None:
        where.append("cell_id = $cell")
        params["cell"] = plan.only_cell
    audience = audience_sql(plan, exclude_table="prior_contacts" if with_prior else None)
    sql = f"""
      SELECT CAST($campaign AS INTEGER) AS campaign_id, CAST($wave AS INTEGER) AS wave_id,
             cell_id, CAST($run AS INTEGER) AS run, msisdn, channel,
             CAST($priority AS INTEGER) AS priority,
             CASE WHEN is_control THEN 'control' ELSE 'planned' END AS state, is_control,
             CAST($planned AS VARCHAR) AS planned_at, language,
             CAST(NULL AS VARCHAR) AS template_ref
      FROM ({audience}) x
      WHERE {' AND '.join(where)}
      ORDER BY msisdn"""
    # msisdn order (a parallel sort in DuckDB) makes the (campaign_id, msisdn) index
    # grow at its right edge on both databases instead of splitting pages at random
    return sql, params


# Binary COPY: the server skips parsing text (integers, a timestamp per row), about a
# sixth of its CPU per contact. Every field but `language` has a fixed width, so a row is
# one numpy record (big-endian, each field behind its int32 length) followed by the
# language's bytes; pyarrow joins the two per row in C. template_ref is left out (NULL).
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_PG_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8  # signature, flags, no extension
_PG_TRAILER = b"\xff\xff"
PG_COLUMNS = ("campaign_id", "wave_id", "cell_id", "run", "msisdn", "channel", "priority",
              "state", "is_control", "planned_at", "language")
_STATES = (b"planned", b"control")  # equal lengths: state is a fixed-width field here
assert len(_STATES[0]) == len(_STATES[1])


def _pg_record(channel: bytes) -> np.dtype[Any]:
    fields: list[tuple[str, str]] = [("nfields", ">i2")]
    for name, kind in (("campaign_id", ">i4"), ("wave_id", ">i4"), ("cell_id", ">i4"),
                       ("run", ">i4"), ("msisdn", ">i8"), ("channel", f"S{len(channel)}"),
                       ("priority", ">i4"), ("state", f"S{len(_STATES[0])}"),
                       ("is_control", "u1"), ("planned_at", ">i8")):
        fields += [(f"{name}_len", ">i4"), (name, kind)]
    return np.dtype([*fields, ("language_len", ">i4")])  # the language's bytes follow


def pg_binary_rows(batch: pa.RecordBatch, plan: Plan) -> pa.Buffer:
    """The batch's contacts as rows of PostgreSQL's binary COPY format (no header)."""
    if not batch.num_rows:
        return pa.py_buffer(b"")
    channel = plan.channel.encode()
    rec = np.zeros(batch.num_rows, dtype=_pg_record(channel))
    rec["nfields"] = len(PG_COLUMNS)
    for name, width in (("campaign_id", 4), ("wave_id", 4), ("cell_id", 4), ("run", 4),
                        ("msisdn", 8), ("channel", len(channel)), ("priority", 4),
                        ("state", len(_STATES[0])), ("is_control", 1), ("planned_at", 8)):
        rec[f"{name}_len"] = width
    control = batch.column("is_control").fill_null(False).to_numpy(zero_copy_only=False)
    rec["campaign_id"] = plan.campaign_id
    rec["wave_id"] = plan.wave_id
    rec["cell_id"] = batch.column("cell_id").to_numpy(zero_copy_only=False)
    rec["run"] = plan.run
    rec["msisdn"] = batch.column("msisdn").to_numpy(zero_copy_only=False)
    rec["channel"] = channel
    rec["priority"] = plan.priority
    rec["state"] = np.where(control, _STATES[1], _STATES[0])
    rec["is_control"] = control
    rec["planned_at"] = (plan.planned_at - _PG_EPOCH) // timedelta(microseconds=1)
    language = batch.column("language").cast(pa.binary())
    rec["language_len"] = pc.fill_null(pc.binary_length(language), -1).to_numpy(
        zero_copy_only=False)
    fixed = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(rec.dtype.itemsize), batch.num_rows, [None, pa.py_buffer(rec)])
    rows = pc.binary_join_element_wise(fixed.cast(pa.binary()), language.fill_null(b""), b"")
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)
    first, last = offsets[rows.offset], offsets[rows.offset + len(rows)]
    return rows.buffers()[2][int(first):int(last)]


_DONE = object()


def _produce(reader: pa.RecordBatchReader, encode: Any, out: queue.Queue[Any],
             counts: dict[int, dict[str, int]], stop: threading.Event) -> None:
    """Producer thread: read the warehouse's batches, count them and encode them, so the
    database never waits for the next batch (pyarrow, numpy and DuckDB release the GIL)."""
    def put(item: Any) -> bool:
        while not stop.is_set():  # never block for good on a consumer that has gone
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    try:
        for batch in reader:
            _count(batch, counts)
            if not put(encode(batch)):
                return
        put(_DONE)
    except BaseException as exc:  # handed to the consumer, which re-raises it
        put(exc)


def _consume(reader: pa.RecordBatchReader, encode: Any,
             counts: dict[int, dict[str, int]]) -> Generator[Any, None, None]:
    chunks: queue.Queue[Any] = queue.Queue(maxsize=3)  # bounded: ~3 batches in memory
    stop = threading.Event()
    producer = threading.Thread(target=_produce, args=(reader, encode, chunks, counts, stop),
                                name="materialise-producer", daemon=True)
    producer.start()
    try:
        while (item := chunks.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()  # the consumer failed or finished: the producer stops at its next put
        producer.join()


def _count(batch: pa.RecordBatch, counts: dict[int, dict[str, int]]) -> None:
    """Per-cell counts of what is inserted. The contact policy only changes states, never
    is_control, so these equal a GROUP BY over the new rows without reading them back."""
    if not batch.num_rows:
        return
    grouped = pa.Table.from_batches([batch.select(["cell_id", "is_control"])]).group_by(
        ["cell_id", "is_control"]).aggregate([([], "count_all")])
    for cell, control, n in zip(*(c.to_pylist() for c in grouped.columns), strict=True):
        entry = counts.setdefault(int(cell), {"contacts": 0, "controls": 0})
        entry["controls" if control else "contacts"] += int(n)


def _copy_postgres(session: Session, reader: pa.RecordBatchReader, plan: Plan,
                   counts: dict[int, dict[str, int]]) -> None:
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cur, cur.copy(  # type: ignore[union-attr]
            f"COPY contact ({', '.join(PG_COLUMNS)}) FROM STDIN WITH (FORMAT binary)") as copy:
        copy.write(_PG_HEADER)
        # closing(): on a failed write the producer is stopped and joined here, before
        # the warehouse connection it reads from is closed
        with contextlib.closing(_consume(reader, lambda b: pg_binary_rows(b, plan),
                                         counts)) as chunks:
            for chunk in chunks:
                copy.write(chunk)
        copy.write(_PG_TRAILER)


def _insert_sqlite(session: Session, reader: pa.RecordBatchReader, plan: Plan,
                   counts: dict[int, dict[str, int]]) -> None:
    # Only the varying columns go through executemany, into an index-free staging table
    # in memory; one INSERT … SELECT then writes the contacts with the constant columns
    # bound once. A large page cache keeps the contact indexes' pages in memory meanwhile.
    raw = session.connection().connection.driver_connection
    cur = raw.cursor()  # type: ignore[union-attr]
    cur.execute("PRAGMA cache_size = -262144")  # 256 MiB, for this connection
    cur.execute("CREATE TEMP TABLE IF NOT EXISTS contact_stage("
                "msisdn INTEGER, cell_id INTEGER, is_control INTEGER, language TEXT)")
    cur.execute("DELETE FROM contact_stage")
    for batch in reader:
        _count(batch, counts)
        cols = [
            batch.column("msisdn").to_numpy().tolist(),
            batch.column("cell_id").to_numpy().tolist(),
            batch.column("is_control").to_numpy(zero_copy_only=False).tolist(),
            batch.column("language").to_pylist(),
        ]
        cur.executemany("INSERT INTO contact_stage VALUES (?, ?, ?, ?)", zip(*cols, strict=True))
    planned = plan.planned_at.strftime("%Y-%m-%d %H:%M:%S.%f")
    cur.execute(
        f"INSERT INTO contact ({', '.join(COLUMNS)}) "
        "SELECT ?, ?, cell_id, ?, msisdn, ?, ?, "
        "CASE WHEN is_control THEN 'control' ELSE 'planned' END, is_control, ?, language, "
        "NULL FROM contact_stage",  # rowid order = msisdn order (sorted by DuckDB)
        (plan.campaign_id, plan.wave_id, plan.run, plan.channel, plan.priority, planned))
    cur.execute("DELETE FROM contact_stage")
    cur.execute("PRAGMA cache_size = -2000")
    cur.close()


def finish(plan: Plan, *, crash_after_insert: bool = False) -> Result:
    """Create the run's contacts and close the wave's run in one transaction."""
    started = time.monotonic()
    phases: dict[str, float] = {}

    def lap(name: str) -> None:
        phases[name] = round(time.monotonic() - started - sum(phases.values()), 3)

    with session_scope() as s:
        wave = s.scalars(select(Wave).where(Wave.id == plan.wave_id).with_for_update()).one()
        if wave.state != "materialising":
            raise Conflict(f"wave {plan.wave_id} is {wave.state}, not materialising")
        # leftovers of this run cannot exist after a rollback; deleting keeps it idempotent
        s.execute(delete(Contact).where(Contact.campaign_id == plan.campaign_id,
                                        Contact.wave_id == plan.wave_id, Contact.run == plan.run))
        prior = _prior_contacts(s, plan)
        sql, params = batch_sql(plan, with_prior=prior is not None)
        with warehouse.connect(read_only=True) as con:
            if prior is not None:
                con.register("prior_contacts", prior)
            reader = con.sql(sql, params=params).to_arrow_reader(BATCH_ROWS)
            counts: dict[int, dict[str, int]] = {}
            if s.get_bind().dialect.name == "postgresql":
                _copy_postgres(s, reader, plan, counts)
            else:
                _insert_sqlite(s, reader, plan, counts)
        lap("insert")
        if crash_after_insert:  # tests simulate a crash between the insert and the commit
            raise RuntimeError("simulated crash during materialisation")
        # The contact policy (opt-out, caps, arbitration between campaigns) in the same
        # transaction, so a wave never exists without it; docs/policy.md.
        from telcamp.policy import service as policy_service

        suppressed = policy_service.apply_to_wave(
            session=s, campaign_id=plan.campaign_id, wave_id=plan.wave_id, run=plan.run,
            now=plan.now)
        lap("policy")
        contacts = sum(v["contacts"] for v in counts.values())
        controls = sum(v["controls"] for v in counts.values())
        wave.runs = plan.run
        wave.last_run_at = plan.now
        wave.contacts_planned = int(wave.contacts_planned or 0) + contacts
        wave.controls = int(wave.controls or 0) + controls
        from telcamp.campaigns import schedule  # the next run of a recurring wave

        schedule.after_run(wave, plan.now)
    lap("commit")
    return Result(plan.wave_id, plan.run, contacts, controls, time.monotonic() - started,
                  counts, suppressed, phases)


def abort(*, wave_id: int) -> None:
    """Give a wave whose materialisation failed back to 'planned' (its run never happened)."""
    with session_scope() as s:
        wave = s.scalars(select(Wave).where(Wave.id == wave_id).with_for_update()).first()
        if wave is not None and wave.state == "materialising":
            s.execute(delete(Contact).where(Contact.campaign_id == wave.campaign_id,
                                            Contact.wave_id == wave_id,
                                            Contact.run == wave.runs + 1))
            wave.state = "planned"


def materialise_wave(*, wave_id: int, now: datetime | None = None) -> Result:
    plan = begin(wave_id=wave_id, now=now)
    try:
        return finish(plan)
    except BaseException:
        abort(wave_id=wave_id)
        raise


def recover() -> list[int]:
    """Waves left 'materialising' by a crashed process go back to 'planned'."""
    with session_scope() as s:
        stuck = list(s.scalars(select(Wave.id).where(Wave.state == "materialising")).all())
    for wave_id in stuck:
        abort(wave_id=wave_id)
    return stuck
