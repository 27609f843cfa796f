"""The synthetic operator is worth marketing to: the shapes analytics will rely on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from telcamp.generate import service

from .conftest import END, open_generated


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    """8,000 subscribers over 21 days: enough for statistical assertions, still quick."""
    out = tmp_path_factory.mktemp("realism")
    service.generate(subscribers=8_000, days=21, seed=5, out=out, fmt="parquet",
                     end_date=END, events_per_day=2.0)
    c = open_generated(out, "parquet")
    c.execute("""CREATE TABLE per_sub AS
        SELECT s.*, date_diff('year', CAST(s.birth_date AS DATE), DATE '2026-11-21') AS age,
          coalesce(sum(CAST(u.volume_kb AS DOUBLE)) FILTER (WHERE u.service = 'data'), 0)
            / 1024 AS data_mb,
          coalesce(sum(CAST(u.duration_s AS DOUBLE)) FILTER (WHERE u.service = 'voice'), 0)
            / 60 AS voice_min,
          count(u.msisdn) AS records
        FROM subscribers s LEFT JOIN usage u USING (msisdn)
        WHERE s.status = 'active' GROUP BY ALL""")
    return c


def _mean(con, expr: str, where: str) -> float:
    return float(con.execute(f"SELECT avg({expr}) FROM per_sub WHERE {where}").fetchone()[0])


def test_data_volume_depends_on_device(con) -> None:
    modem = _mean(con, "data_mb", "device_type = 'modem'")
    smart = _mean(con, "data_mb", "device_type = 'smartphone'")
    feature = _mean(con, "data_mb", "device_type = 'feature'")
    assert modem > 2 * smart > 0
    assert smart > 10 * feature


def test_volumes_depend_on_tariff(con) -> None:
    big = _mean(con, "data_mb", "tariff_code IN ('PRE_L', 'POST_PREMIUM') "
                "AND device_type = 'smartphone'")
    small = _mean(con, "data_mb", "tariff_code IN ('PRE_BASIC', 'PRE_S') "
                  "AND device_type = 'smartphone'")
    assert big > 1.5 * small
    senior_voice = _mean(con, "voice_min", "tariff_code = 'PRE_SENIOR'")
    youth_voice = _mean(con, "voice_min", "tariff_code = 'PRE_YOUTH'")
    assert senior_voice > 2 * youth_voice


def test_volumes_depend_on_age(con) -> None:
    young = "age BETWEEN 18 AND 34 AND device_type = 'smartphone'"
    old = "age >= 65 AND device_type = 'smartphone'"
    assert _mean(con, "data_mb", young) > 2 * _mean(con, "data_mb", old)
    assert _mean(con, "voice_min", old) > 1.3 * _mean(con, "voice_min", young)


def test_mean_records_per_subscriber_per_day_follows_the_option(con) -> None:
    usage = con.execute("SELECT count(*) FROM usage").fetchone()[0]
    assert usage / (8_000 * 21) == pytest.approx(2.0, rel=0.08)


def test_daily_rhythm_busier_by_day_than_at_night(con) -> None:
    hours = dict(con.execute("SELECT CAST(substr(event_time, 12, 2) AS INT), count(*) "
                             "FROM usage GROUP BY 1").fetchall())
    night = sum(hours.get(h, 0) for h in range(1, 6)) / 5
    evening = sum(hours.get(h, 0) for h in range(17, 21)) / 4
    assert evening > 8 * night > 0


def test_population_mix(con) -> None:
    def share(where: str) -> float:
        return float(con.execute(f"SELECT avg(CASE WHEN {where} THEN 1 ELSE 0 END) "
                                 "FROM subscribers").fetchone()[0])

    first_new = (END - timedelta(days=29)).isoformat()
    assert 0.015 < share(f"activation_date >= '{first_new}'") < 0.06  # steady joiners
    assert share("activation_date < '2017-11-21'") > 0.02  # ten years of history
    assert 0.04 < share("status = 'churned'") < 0.10
    assert 0.01 < share("status = 'suspended'") < 0.06
    assert 0.02 < share("birth_date IS NULL") < 0.12
    assert 0.15 < share("email IS NOT NULL") < 0.6
    langs = {r[0] for r in con.execute("SELECT DISTINCT language FROM subscribers").fetchall()}
    assert {"ru", "zh", "en"} <= langs and len(langs) > 4
    genders = {r[0] for r in con.execute("SELECT DISTINCT gender FROM subscribers").fetchall()}
    assert genders == {"m", "f", "u"}
    devices = {r[0] for r in con.execute("SELECT DISTINCT device_type FROM subscribers")
               .fetchall()}
    assert {"smartphone", "feature", "tablet", "modem"} <= devices
    # The Chinese city speaks mostly Chinese.
    zh = con.execute("SELECT avg(CASE WHEN language = 'zh' THEN 1 ELSE 0 END) FROM subscribers "
                     "WHERE region_code LIKE 'C10-%'").fetchone()[0]
    assert zh > 0.7


def test_who_uses_the_network(con) -> None:
    last_week = (END - timedelta(days=6)).isoformat()
    by_status = dict(con.execute(f"""
        SELECT s.status, count(*) / any_value(n) FROM usage u JOIN subscribers s USING (msisdn)
        JOIN (SELECT status, count(*) AS n FROM subscribers GROUP BY 1) c USING (status)
        WHERE substr(u.event_time, 1, 10) >= '{last_week}' GROUP BY 1""").fetchall())
    assert "churned" not in by_status  # churners left more than a week ago
    assert by_status["suspended"] < 0.1 * by_status["active"]
    # New joiners have no usage before they joined.
    early = con.execute("""SELECT count(*) FROM usage u JOIN subscribers s USING (msisdn)
        WHERE substr(u.event_time, 1, 10) < s.activation_date""").fetchone()[0]
    assert early == 0


def test_payments_follow_the_payment_type(con) -> None:
    rows = dict(con.execute("""SELECT t.payment_type || ':' || p.kind, count(*) FROM payments p
        JOIN subscribers s USING (msisdn) JOIN tariffs t ON t.code = s.tariff_code
        GROUP BY 1""").fetchall())
    assert set(rows) == {"prepaid:recharge", "postpaid:bill"}
    suspended = con.execute("""SELECT count(*) FROM payments JOIN subscribers s USING (msisdn)
        WHERE s.status = 'suspended'""").fetchone()[0]
    assert suspended == 0
