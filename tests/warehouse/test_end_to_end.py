"""Generate, load, rebuild: the profile agrees with figures computed independently from
the raw files, with DESIGN.md's definitions written out again here (not schema.METRICS)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from telcamp.core import warehouse
from telcamp.generate import service as generate_service
from telcamp.load import service as load_service

END = date(2026, 5, 31)
# DESIGN.md "Fields and usage metrics", over raw records r.
DEFINITIONS = {
    "voice_min": "sum(CASE WHEN service = 'voice' THEN duration_s / 60.0 ELSE 0 END)",
    "voice_out_min": "sum(CASE WHEN service = 'voice' AND direction = 'out' "
                     "THEN duration_s / 60.0 ELSE 0 END)",
    "sms_count": "count(*) FILTER (WHERE service = 'sms' AND direction = 'out')",
    "mms_count": "count(*) FILTER (WHERE service = 'mms' AND direction = 'out')",
    "data_mb": "sum(CASE WHEN service = 'data' THEN volume_kb / 1024.0 ELSE 0 END)",
    "roaming_min": "sum(CASE WHEN service = 'voice' AND roaming = 1 "
                   "THEN duration_s / 60.0 ELSE 0 END)",
    "long_distance_count": "count(*) FILTER (WHERE service = 'voice' AND long_distance = 1 "
                           "AND direction = 'out')",
    "ringback_count": "count(*) FILTER (WHERE service = 'ringback')",
    "charge": "sum(charge)",
    "active_days": "count(DISTINCT day)",
}


@pytest.mark.slow
def test_profile_matches_the_raw_files(tmp_path: Path) -> None:
    out = tmp_path / "data"
    generate_service.generate(subscribers=400, days=35, seed=7, out=out, fmt="csv",
                              end_date=END, workers=1)
    load_service.load_dir(out)
    raw = duckdb.connect()
    raw.execute(
        "CREATE TABLE r AS SELECT CAST(msisdn AS BIGINT) AS msisdn, service, direction, "
        "CAST(long_distance AS INTEGER) AS long_distance, CAST(roaming AS INTEGER) AS roaming,"
        " CAST(duration_s AS BIGINT) AS duration_s, CAST(volume_kb AS DOUBLE) AS volume_kb, "
        "CAST(charge AS DOUBLE) AS charge, "
        "CAST(substr(CAST(event_time AS VARCHAR), 1, 10) AS DATE) AS day "
        f"FROM read_csv('{out.as_posix()}/usage-*.csv', all_varchar = true)"
    )
    with warehouse.connect(read_only=True) as con:
        as_of = con.execute("SELECT value FROM meta WHERE key = 'as_of_date'").fetchone()
        assert as_of == (END.isoformat(),)
        cur = con.execute("SELECT * FROM profile")
        names = [d[0] for d in cur.description]
        profile = {row[0]: dict(zip(names, row, strict=True)) for row in cur.fetchall()}
    assert len(profile) == 400
    checked = 0
    for w in (7, 30):
        cols = ", ".join(f"{sql} AS {m}" for m, sql in DEFINITIONS.items())
        expected = raw.execute(
            f"SELECT msisdn, {cols} FROM r WHERE day > DATE '{END}' - {w} "
            f"AND day <= DATE '{END}' GROUP BY msisdn"
        ).fetchall()
        assert expected, "the generator wrote no usage in the window"
        for row in expected:
            p = profile[row[0]]
            for m, value in zip(DEFINITIONS, row[1:], strict=True):
                # window sums are kept at 6 decimals (stable whatever the summation order)
                assert p[f"{m}_{w}d"] == pytest.approx(value, rel=1e-9, abs=5.1e-7), (m, w)
                checked += 1
    assert checked > 1000
    never = set(profile) - {r[0] for r in raw.execute("SELECT DISTINCT msisdn FROM r").fetchall()}
    for msisdn in never:
        assert profile[msisdn]["active_days_90d"] == 0
        assert profile[msisdn]["days_since_last_activity"] is None
