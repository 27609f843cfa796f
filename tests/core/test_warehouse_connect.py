"""Opening the warehouse: concurrent users in one process, and a busy file elsewhere."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from telcamp.core import warehouse
from telcamp.core.errors import StoreBusy
from telcamp.core.settings import get_settings


def test_reader_and_writer_in_one_process_do_not_collide() -> None:
    # e.g. a scheduler tick writing while a page request reads
    with warehouse.connect() as writer:
        writer.execute("CREATE TABLE t AS SELECT 1 AS x")
        with warehouse.connect(read_only=True) as reader:
            assert reader.execute("SELECT x FROM t").fetchone() == (1,)


def test_busy_file_waits_then_says_so_clearly() -> None:
    path = get_settings().warehouse_file
    with warehouse.connect() as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
         " time.sleep(3)", str(path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with (
            pytest.raises(StoreBusy, match="in use by another process"),
            warehouse.connect(timeout_s=0.5),
        ):
            pass
        assert time.monotonic() - started >= 0.5
        # a patient opener gets in once the other process lets go
        with warehouse.connect(timeout_s=20) as con:
            assert con.execute("SELECT x FROM t").fetchone() == (1,)
    finally:
        holder.wait(timeout=20)
