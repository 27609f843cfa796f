"""ensure_schema evolves a warehouse made by an earlier version in place."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from telcamp.core import warehouse
from telcamp.warehouse.schema import ensure_schema

OLD_REGISTRY = """CREATE TABLE load_registry(
  fingerprint VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, file_name VARCHAR NOT NULL,
  rows BIGINT NOT NULL, orphans BIGINT NOT NULL DEFAULT 0, loaded_at TIMESTAMPTZ NOT NULL)"""


def test_an_old_load_registry_gets_the_content_columns_and_keeps_its_rows(
    tmp_path: Path,
) -> None:
    from telcamp.load import service

    with warehouse.connect() as con:
        con.execute(OLD_REGISTRY)
        con.execute("INSERT INTO load_registry VALUES ('abc', 'usage', 'usage-old.csv', 7, 0, ?)",
                    [datetime(2026, 11, 1, tzinfo=UTC)])
        ensure_schema(con)
        ensure_schema(con)  # a second time is a no-op
        cols = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'load_registry' ORDER BY ordinal_position").fetchall()]
        assert cols[-4:] == ["content_fingerprint", "first_day", "last_day", "days"]
        assert con.execute("SELECT file_name, rows, content_fingerprint, days "
                           "FROM load_registry").fetchall() == [("usage-old.csv", 7, None, None)]
    # and loading works on it: the new row has its content and days, and the old row
    # (no days) never shows as an overlap
    f = tmp_path / "payments.csv"
    f.write_text("msisdn,event_time,amount,kind\n79000000001,2026-11-01T10:00:00Z,5,bill\n",
                 encoding="utf-8")
    report = service.load_file("payments", f, orphans="keep", rebuild=False)
    assert report.files[0].orphans == 1 and report.files[0].overlaps == []
    with warehouse.connect() as con:
        assert con.execute(
            "SELECT file_name, content_fingerprint IS NOT NULL, days::VARCHAR[] "
            "FROM load_registry ORDER BY loaded_at").fetchall() == [
            ("usage-old.csv", False, None), ("payments.csv", True, ["2026-11-01"])]
