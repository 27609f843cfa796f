"""Exactly-once from the subscriber's view: a worker process killed with SIGKILL mid-wave
and restarted, against the node-smpp SMSC. Every number gets its SMS at most once; every
contact is either submitted (and the SMSC has it), or 'unknown' (the documented window:
the batch in flight when the worker died), never lost silently."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from channels.smpp import peers

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

N = 600
BATCH = 50


def _worker(port: int, *extra: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ,
               TELCAMP_DISPATCH_SMPP_BINDS=json.dumps([{
                   "host": "127.0.0.1", "port": port, "system_id": "telcamp",
                   "password": "secret", "tps": 300, "reconnect_initial": 0.1}]),
               TELCAMP_DISPATCH_BATCH_MAX=str(BATCH), TELCAMP_DISPATCH_LEASE_S="2",
               TELCAMP_DISPATCH_HISTORY_EVERY_S="0.5")
    return subprocess.Popen([str(Path(sys.executable).parent / "telcamp"), "dispatch", "run",
                             "--channel", "sms", *extra], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_kill_9_mid_wave_loses_none_and_sends_none_twice(db: str) -> None:
    need_peer(*peers.node_available())
    setup_warehouse(N, freeze=False)
    no_quiet_hours()  # the real clock: quiet hours must not depend on the hour
    camp = make_campaign(message="Offer for you")
    add_contacts(camp, range(N))
    smsc = peers.NodeSmsc({"dlr": None})
    first = second = None
    try:
        first = _worker(smsc.port)
        smsc.wait_for(lambda e: e["ev"] == "submit", timeout=60, count=200)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        at_kill = len(smsc.of("submit"))
        assert at_kill < N, "the worker was killed mid-wave"
        time.sleep(2.5)  # its leases expire
        second = _worker(smsc.port, "--once")
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err.decode()[-2000:]
        stats = json.loads(out.decode().strip().splitlines()[-1])
    finally:
        for proc in (first, second):  # a failed test must not leave a worker running
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        smsc.stop()
    received = collections.Counter(int(e["dest"]) - FIRST for e in smsc.of("submit"))
    assert max(received.values()) == 1, "a number got the same contact twice"
    with session_scope() as s:
        rows = s.execute(sa.select(contact.c.msisdn, contact.c.state)
                         .where(contact.c.wave_id == camp[1])).all()
    by_state: dict[str, set[int]] = collections.defaultdict(set)
    for m, st in rows:
        by_state[st].add(int(m) - FIRST)
    assert set(by_state) <= {"submitted", "unknown"}, dict(by_state)
    assert by_state["submitted"] <= set(received), "marked sent but the SMSC never had it"
    assert len(by_state["unknown"]) <= BATCH * 2, "unknown is at most the batches in flight"
    assert stats["reconciled"] == len(by_state["unknown"])
    lost = set(range(N)) - set(received) - by_state["unknown"]
    assert not lost, f"contacts neither sent nor reported unknown: {sorted(lost)[:10]}"
