"""`telcamp dispatch run --workers N`: N worker processes share the outbox on PostgreSQL
(SKIP LOCKED) and send every contact exactly once; SQLite refuses more than one worker."""

from __future__ import annotations

import collections
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from channels.smpp import peers
from typer.testing import CliRunner

from telcamp.core.db import session_scope
from telcamp.dispatch.tables import contact

from .world import (
    FIRST,
    add_contacts,
    make_campaign,
    need_peer,
    no_quiet_hours,
    setup_warehouse,
)

N = 1200


def test_two_workers_on_postgresql_send_every_contact_once(pg: str) -> None:
    need_peer(*peers.node_available())
    setup_warehouse(N, freeze=False)
    no_quiet_hours()  # the real clock: quiet hours must not depend on the hour
    camp = make_campaign(message="Offer for you")
    add_contacts(camp, range(N))
    smsc = peers.NodeSmsc({"dlr": None})
    try:
        # 300 submit_sm/s per worker's bind: one worker alone would need 4 s, so both
        # take part (they start claiming together, once both are built)
        env = dict(os.environ, TELCAMP_DISPATCH_SMPP_BINDS=json.dumps([{
            "host": "127.0.0.1", "port": smsc.port, "system_id": "telcamp",
            "password": "secret", "tps": 300}]), TELCAMP_DISPATCH_BATCH_MAX="100")
        proc = subprocess.run(
            [str(Path(sys.executable).parent / "telcamp"), "dispatch", "run", "--channel",
             "sms", "--workers", "2", "--once"], env=env, capture_output=True, timeout=180)
        assert proc.returncode == 0, proc.stderr.decode()[-2000:]
        stats = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    finally:
        smsc.stop()
    received = collections.Counter(int(e["dest"]) - FIRST for e in smsc.of("submit"))
    assert set(received) == set(range(N)), "every number got its SMS"
    assert max(received.values()) == 1, "a number got the same contact twice"
    with session_scope() as s:
        rows = s.execute(sa.select(contact.c.state, contact.c.attempts)
                         .where(contact.c.wave_id == camp[1])).all()
    assert collections.Counter(st for st, _ in rows) == {"submitted": N}
    assert max(int(a) for _, a in rows) == 1, "a contact was claimed twice"
    assert stats["workers"] == 2 and stats["sent"] == N
    assert len(stats["per_worker"]) == 2
    assert all(w["sent"] > 0 for w in stats["per_worker"]), stats["per_worker"]


def test_sqlite_refuses_several_workers() -> None:
    from telcamp.cli import app

    result = CliRunner().invoke(app, ["dispatch", "run", "--channel", "fake", "--workers",
                                      "2", "--once"])
    assert result.exit_code == 2
    said = " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.output).split())  # the box unwrapped
    assert "2 workers need PostgreSQL" in said and "run one worker" in said, said
