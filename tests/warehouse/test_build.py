"""Profile rebuild: window edges, metric definitions, derived fields, as-of date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from telcamp.core import clock
from telcamp.core.settings import reset_settings
from telcamp.core.warehouse import DuckDBWarehouse
from telcamp.warehouse import build
from telcamp.warehouse.build import daily_rows_sql, rebuild
from telcamp.warehouse.schema import ALL_METRICS, METRICS, WINDOWS, get_meta

from .builder import AS_OF, Warehouse

MSISDN = 8613800000001


@pytest.mark.parametrize("window", WINDOWS)
def test_window_is_the_w_days_ending_with_the_as_of_date(wh: Warehouse, window: int) -> None:
    wh.region_tree()
    wh.subscriber(MSISDN)
    wh.usage(MSISDN, AS_OF - timedelta(days=window), charge=1000)  # just outside
    wh.usage(MSISDN, AS_OF - timedelta(days=window - 1), charge=100)  # first day inside
    wh.usage(MSISDN, AS_OF, charge=10)  # last day inside
    wh.usage(MSISDN, AS_OF + timedelta(days=1), charge=1)  # after the as-of date
    rebuild(wh.con, as_of=AS_OF)
    p = wh.profile(MSISDN)
    assert p[f"charge_{window}d"] == 110
    assert p[f"active_days_{window}d"] == 2


def test_all_windows_at_once(wh: Warehouse) -> None:
    wh.region_tree()
    wh.subscriber(MSISDN)
    for back, mb in ((0, 1), (6, 2), (7, 4), (29, 8), (30, 16), (89, 32), (90, 64)):
        wh.usage(MSISDN, AS_OF - timedelta(days=back), data_mb=mb, sms_count=1)
    rebuild(wh.con, as_of=AS_OF)
    p = wh.profile(MSISDN)
    assert (p["data_mb_7d"], p["data_mb_30d"], p["data_mb_90d"]) == (3, 15, 63)
    assert (p["sms_count_7d"], p["sms_count_30d"], p["sms_count_90d"]) == (2, 4, 6)
    assert (p["active_days_7d"], p["active_days_30d"], p["active_days_90d"]) == (2, 4, 6)


def test_metric_definitions_from_raw_records(wh: Warehouse) -> None:
    """DESIGN.md "Fields and usage metrics", from raw records through usage_daily."""
    wh.region_tree()
    wh.subscriber(MSISDN)
    day, earlier = AS_OF, AS_OF - timedelta(days=3)
    # service, direction, long_distance, roaming, duration_s, volume_kb, charge, day
    records = [
        ("voice", "out", 0, 0, 120, 0, 1.0, day),   # 2 min out
        ("voice", "in", 0, 0, 60, 0, 0.0, day),     # 1 min in
        ("voice", "out", 1, 0, 30, 0, 2.0, day),    # long distance out, 0.5 min
        ("voice", "in", 1, 0, 30, 0, 0.0, day),     # long distance in: not counted
        ("voice", "in", 0, 1, 90, 0, 3.0, earlier),  # roaming in: 1.5 min
        ("voice", "out", 0, 1, 60, 0, 3.0, earlier),  # roaming out: 1 min
        ("sms", "out", 0, 0, 0, 0, 0.1, day),
        ("sms", "in", 0, 0, 0, 0, 0.0, day),        # received sms: not counted
        ("mms", "out", 0, 0, 0, 0, 0.5, earlier),
        ("mms", "in", 0, 0, 0, 0, 0.0, earlier),
        ("data", "out", 0, 0, 0, 2048, 1.0, day),   # 2 MB
        ("data", "in", 0, 0, 0, 512, 0.0, earlier),  # 0.5 MB, any direction
        ("ringback", "in", 0, 0, 0, 0, 0.2, day),
        ("ringback", "out", 0, 0, 0, 0, 0.2, earlier),
        ("vas", "out", 0, 0, 0, 0, 5.0, day),       # only in charge
    ]
    wh.con.execute(
        "CREATE TEMP TABLE raw(msisdn BIGINT, service VARCHAR, direction VARCHAR, "
        "long_distance INTEGER, roaming INTEGER, duration_s BIGINT, volume_kb DOUBLE, "
        "charge DOUBLE, day DATE)"
    )
    wh.con.executemany("INSERT INTO raw VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [(MSISDN, *r) for r in records])
    wh.con.execute(f"INSERT INTO usage_daily {daily_rows_sql('raw')}")
    rebuild(wh.con, as_of=AS_OF)
    p = wh.profile(MSISDN)
    assert p["voice_min_7d"] == pytest.approx(2 + 1 + 0.5 + 0.5 + 1.5 + 1)
    assert p["voice_out_min_7d"] == pytest.approx(2 + 0.5 + 1)
    assert p["long_distance_count_7d"] == 1
    assert p["roaming_min_7d"] == pytest.approx(2.5)
    assert p["sms_count_7d"] == 1
    assert p["mms_count_7d"] == 1
    assert p["data_mb_7d"] == pytest.approx(2.5)
    assert p["ringback_count_7d"] == 2
    assert p["charge_7d"] == pytest.approx(16.0)
    assert p["active_days_7d"] == 2
    records_row = wh.con.execute("SELECT sum(records) FROM usage_daily").fetchone()
    assert records_row == (len(records),)


def test_every_metric_and_window_is_a_profile_column(wh: Warehouse) -> None:
    wh.region_tree()
    wh.subscriber(MSISDN)
    rebuild(wh.con, as_of=AS_OF)
    p = wh.profile(MSISDN)
    for m in ALL_METRICS:
        for w in WINDOWS:
            assert p[f"{m.name}_{w}d"] == 0  # no usage: zeros, not NULL
    assert p["days_since_last_activity"] is None


@pytest.mark.parametrize(
    ("birth", "age"),
    [
        (date(1996, 6, 30), 30),  # birthday on the as-of date
        (date(1996, 7, 1), 29),  # birthday tomorrow
        (date(1996, 6, 29), 30),
        (date(2000, 2, 29), 26),
        (None, None),
    ],
)
def test_age_in_whole_years(wh: Warehouse, birth: date | None, age: int | None) -> None:
    wh.region_tree()
    wh.subscriber(MSISDN, birth=birth)
    rebuild(wh.con, as_of=AS_OF)
    assert wh.profile(MSISDN)["age"] == age


def test_age_of_a_leap_day_birth_in_a_common_year(wh: Warehouse) -> None:
    wh.region_tree()
    wh.subscriber(MSISDN, birth=date(2000, 2, 29))
    rebuild(wh.con, as_of=date(2026, 2, 28))
    assert wh.profile(MSISDN)["age"] == 25  # the birthday counts from 1 March
    rebuild(wh.con, as_of=date(2026, 3, 1))
    assert wh.profile(MSISDN)["age"] == 26


def test_tenure_and_is_new_boundary(wh: Warehouse) -> None:
    wh.region_tree()
    wh.subscriber(1, activation=AS_OF - timedelta(days=29))
    wh.subscriber(2, activation=AS_OF - timedelta(days=30))
    wh.subscriber(3, activation=AS_OF)
    rebuild(wh.con, as_of=AS_OF)
    assert (wh.profile(1)["tenure_days"], wh.profile(1)["is_new"]) == (29, True)
    assert (wh.profile(2)["tenure_days"], wh.profile(2)["is_new"]) == (30, False)
    assert (wh.profile(3)["tenure_days"], wh.profile(3)["is_new"]) == (0, True)


def test_is_new_follows_the_setting(wh: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELCAMP_NEW_SUBSCRIBER_DAYS", "10")
    reset_settings()
    wh.region_tree()
    wh.subscriber(1, activation=AS_OF - timedelta(days=9))
    wh.subscriber(2, activation=AS_OF - timedelta(days=10))
    rebuild(wh.con, as_of=AS_OF)
    assert wh.profile(1)["is_new"] is True
    assert wh.profile(2)["is_new"] is False


@pytest.mark.parametrize(
    ("region", "city", "province"),
    [("K11", "C1", "P1"), ("K21", "C2", "P1"), ("C2", "C2", "P1"), ("P1", None, "P1"),
     ("NOPE", None, None)],
)
def test_city_and_province_codes(
    wh: Warehouse, region: str, city: str | None, province: str | None
) -> None:
    wh.region_tree()
    wh.subscriber(MSISDN, region=region)
    rebuild(wh.con, as_of=AS_OF)
    p = wh.profile(MSISDN)
    assert (p["region_code"], p["city_code"], p["province_code"]) == (region, city, province)


def test_payment_type_arpu_and_last_activity(wh: Warehouse) -> None:
    wh.region_tree()
    wh.subscriber(1, tariff="POST")
    wh.subscriber(2, tariff="PRE")
    wh.usage(1, AS_OF - timedelta(days=89), charge=60)
    wh.usage(1, AS_OF - timedelta(days=90), charge=1000)  # outside the 3 months
    wh.usage(1, AS_OF - timedelta(days=5), charge=30)
    wh.usage(1, AS_OF + timedelta(days=2), charge=500)  # after the as-of date
    wh.usage(2, AS_OF - timedelta(days=200), charge=5)
    rebuild(wh.con, as_of=AS_OF)
    one, two = wh.profile(1), wh.profile(2)
    assert one["payment_type"] == "postpaid"
    assert one["arpu_3m"] == pytest.approx((60 + 30) / 3 + 30.0)
    assert one["days_since_last_activity"] == 5
    assert two["payment_type"] == "prepaid"
    assert two["arpu_3m"] == 0
    assert two["days_since_last_activity"] == 200


def test_extra_subscriber_columns_reach_the_profile(wh: Warehouse) -> None:
    wh.con.execute("ALTER TABLE subscribers ADD COLUMN loyalty_level VARCHAR")
    wh.con.execute("ALTER TABLE subscribers ADD COLUMN age INTEGER")  # clashes with derived
    wh.region_tree()
    wh.con.execute(
        "INSERT INTO subscribers VALUES (?, 'K11', 'PRE', DATE '2020-01-01', 'active', "
        "DATE '1990-06-30', 'f', 'ru', 'android', NULL, 'gold', 99)", [MSISDN]
    )
    rebuild(wh.con, as_of=AS_OF)
    p = wh.profile(MSISDN)
    assert p["loyalty_level"] == "gold"
    assert p["age"] == 36  # the derived age wins
    assert (p["language"], p["device_type"], p["gender"]) == ("ru", "android", "f")


def test_one_row_per_subscriber(wh: Warehouse) -> None:
    wh.region_tree()
    for i in range(5):
        wh.subscriber(MSISDN + i)
        wh.usage(MSISDN + i, AS_OF, voice_min=1)
        wh.payment(MSISDN + i, AS_OF)
        wh.payment(MSISDN + i, AS_OF - timedelta(days=1))
    report = rebuild(wh.con, as_of=AS_OF)
    assert report.subscribers == 5
    assert wh.con.execute("SELECT count(DISTINCT msisdn), count(*) FROM profile").fetchone() \
        == (5, 5)


def test_as_of_is_the_last_usage_day_by_default(wh: Warehouse) -> None:
    wh.region_tree()
    wh.subscriber(MSISDN)
    wh.usage(MSISDN, date(2026, 5, 1))
    wh.usage(MSISDN, date(2026, 5, 17))
    report = rebuild(wh.con)
    assert report.as_of_date == date(2026, 5, 17)
    assert get_meta(wh.con, "as_of_date") == "2026-05-17"
    assert wh.profile(MSISDN)["days_since_last_activity"] == 0


def test_as_of_from_settings_and_argument(
    wh: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    wh.region_tree()
    wh.subscriber(MSISDN)
    wh.usage(MSISDN, date(2026, 5, 17))
    monkeypatch.setenv("TELCAMP_AS_OF_DATE", "2026-05-20")
    reset_settings()
    assert rebuild(wh.con).as_of_date == date(2026, 5, 20)
    assert wh.profile(MSISDN)["days_since_last_activity"] == 3
    assert rebuild(wh.con, as_of=date(2026, 5, 18)).as_of_date == date(2026, 5, 18)


def test_as_of_is_today_without_usage(wh: Warehouse) -> None:
    clock.freeze(datetime(2026, 3, 4, 10, 0, tzinfo=UTC))
    wh.region_tree()
    wh.subscriber(MSISDN, activation=date(2026, 3, 1))
    report = rebuild(wh.con)
    assert report.as_of_date == date(2026, 3, 4)
    assert wh.profile(MSISDN)["tenure_days"] == 3
    assert get_meta(wh.con, "last_build") == "2026-03-04T10:00:00+00:00"


def test_empty_warehouse_builds_an_empty_profile(wh: Warehouse) -> None:
    report = rebuild(wh.con, as_of=AS_OF)
    assert report.subscribers == 0
    assert wh.con.execute("SELECT count(*) FROM profile").fetchone() == (0,)


def test_usage_columns_match_the_metric_list(wh: Warehouse) -> None:
    rebuild(wh.con, as_of=AS_OF)
    cols = {r[0] for r in wh.con.execute("DESCRIBE profile").fetchall()}
    expected = {f"{m.name}_{w}d" for m in (*METRICS,) for w in WINDOWS}
    assert expected <= cols
    assert {"value_score", "value_tier", "churn_risk", "arpu_3m", "is_new"} <= cols
    assert not any(c.startswith("_") for c in cols)  # score inputs are not kept


def test_payment_and_product_features(wh: Warehouse) -> None:
    wh.region_tree()
    wh.subscriber(MSISDN)
    wh.payment(MSISDN, AS_OF - timedelta(days=90))  # outside the 90 days
    wh.payment(MSISDN, AS_OF - timedelta(days=89))
    wh.payment(MSISDN, AS_OF - timedelta(days=4))
    wh.payment(MSISDN, AS_OF + timedelta(days=1))  # after the as-of date
    events = [("A", "subscribe", 10), ("A", "unsubscribe", 5), ("B", "subscribe", 3),
              ("C", "subscribe", 20), ("D", "unsubscribe", 2), ("E", "subscribe", -1)]
    for product, action, back in events:
        wh.con.execute(
            "INSERT INTO product_events VALUES (?, CAST(? AS TIMESTAMP) AT TIME ZONE 'UTC', "
            "?, ?, 'sms')",
            [MSISDN, f"{(AS_OF - timedelta(days=back)).isoformat()} 08:00:00", product, action],
        )
    rebuild(wh.con, as_of=AS_OF)
    p = wh.profile(MSISDN)
    assert p["payments_90d"] == 2
    assert p["days_since_last_payment"] == 4
    assert p["active_products"] == 2  # B and C; A cancelled, D never on, E in the future


def test_a_callers_transaction_stays_the_callers(wh: Warehouse) -> None:
    """The loader commits its load and the rebuild together; its rollback undoes both."""
    wh.region_tree()
    wh.subscriber(MSISDN)
    rebuild(wh.con, as_of=AS_OF)
    wh.con.execute("BEGIN TRANSACTION")
    wh.subscriber(MSISDN + 1)
    assert rebuild(wh.con, as_of=AS_OF).subscribers == 2
    wh.con.execute("ROLLBACK")
    assert wh.con.execute("SELECT count(*) FROM profile").fetchone() == (1,)
    assert get_meta(wh.con, "as_of_date") == AS_OF.isoformat()


def test_a_failed_rebuild_keeps_the_old_profile(wh: Warehouse) -> None:
    wh.region_tree()
    wh.subscriber(MSISDN)
    rebuild(wh.con, as_of=AS_OF)
    # A subscribers column whose type breaks the age arithmetic makes the build fail.
    wh.con.execute("ALTER TABLE subscribers ALTER birth_date TYPE VARCHAR")
    wh.con.execute("UPDATE subscribers SET birth_date = 'not a date'")
    with pytest.raises(Exception, match=r"(?i)conversion|cast|date"):
        rebuild(wh.con, as_of=AS_OF - timedelta(days=1))
    assert wh.con.execute("SELECT count(*) FROM profile").fetchone() == (1,)
    assert get_meta(wh.con, "as_of_date") == AS_OF.isoformat()
    tables = {r[0] for r in wh.con.execute("SHOW TABLES").fetchall()}
    assert "_profile_next" not in tables


def test_a_failure_after_the_new_table_is_committed_keeps_the_old_profile(
        wh: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    """The new table is committed under its own name before the scores and the swap (a
    cheaper commit, see rebuild()); a failure there leaves the old profile, its meta and
    no stray table, and a reader of profile never sees the unscored one."""
    wh.region_tree()
    wh.subscriber(MSISDN)
    rebuild(wh.con, as_of=AS_OF)
    before = wh.con.execute("SELECT value_score, value_tier FROM profile").fetchall()
    reader = wh.con.cursor()  # another connection to the same database, as a reader has
    seen: list[object] = []
    execute = DuckDBWarehouse.execute

    def spy(self: DuckDBWarehouse, sql: str, params: object = None) -> None:
        if sql.startswith("UPDATE _profile_next"):  # the second transaction's first step
            # the reader: still the old profile, and the committed (unscored) next table
            seen.append(reader.execute("SELECT count(*) FROM profile").fetchone())
            seen.append(reader.execute("SELECT count(*) FROM _profile_next").fetchone())
        execute(self, sql, params)  # type: ignore[arg-type]

    monkeypatch.setattr(DuckDBWarehouse, "execute", spy)
    monkeypatch.setattr(build, "scores_update_sql",
                        lambda config: "UPDATE _profile_next SET value_score = 'not a number'")
    wh.subscriber(MSISDN + 1)
    with pytest.raises(Exception, match=r"(?i)conversion|cast|double"):
        rebuild(wh.con, as_of=AS_OF - timedelta(days=1))
    assert seen == [(1,), (2,)]
    assert wh.con.execute("SELECT value_score, value_tier FROM profile").fetchall() == before
    assert get_meta(wh.con, "as_of_date") == AS_OF.isoformat()
    tables = {r[0] for r in wh.con.execute("SHOW TABLES").fetchall()}
    assert "_profile_next" not in tables


def test_the_callers_insertion_order_setting_is_restored(wh: Warehouse) -> None:
    def setting() -> object:
        row = wh.con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
        return row[0] if row else None

    rebuild(wh.con, as_of=AS_OF)
    assert setting() is True
    wh.con.execute("SET preserve_insertion_order = false")
    rebuild(wh.con, as_of=AS_OF)
    assert setting() is False


@pytest.mark.parametrize(("instant", "days"), [
    ("23:59:59.999999+00", 4),   # last instant of the UTC day: still that day
    ("00:00:00+00", 4),          # first instant of the UTC day
    ("23:30:00-02", 3),          # 01:30 UTC on the next day, written in another zone
    ("01:00:00+08", 5),          # 17:00 UTC the day before
])
def test_last_payment_day_is_its_utc_date(wh: Warehouse, instant: str, days: int) -> None:
    wh.region_tree()
    wh.subscriber(MSISDN)
    day = AS_OF - timedelta(days=4)
    wh.con.execute("INSERT INTO payments VALUES (?, CAST(? AS TIMESTAMPTZ), 10, 'recharge')",
                   [MSISDN, f"{day.isoformat()} {instant}"])
    rebuild(wh.con, as_of=AS_OF)
    assert wh.profile(MSISDN)["days_since_last_payment"] == days


def test_segments_before_the_first_loaded_day_are_left_out() -> None:
    def names(first: date | None) -> list[str]:
        return [name for name, _sql in build._segments(AS_OF, first)]

    assert names(None) == []
    assert names(AS_OF + timedelta(days=1)) == []  # only usage after the as-of date
    assert names(AS_OF - timedelta(days=6)) == ["seg_7"]
    assert names(AS_OF - timedelta(days=7)) == ["seg_7", "seg_14"]
    assert names(AS_OF - timedelta(days=13)) == ["seg_7", "seg_14"]
    assert names(AS_OF - timedelta(days=14)) == ["seg_7", "seg_14", "seg_30"]
    assert names(AS_OF - timedelta(days=29)) == ["seg_7", "seg_14", "seg_30"]
    assert names(AS_OF - timedelta(days=30)) == ["seg_7", "seg_14", "seg_30", "seg_90"]
    assert names(AS_OF - timedelta(days=90)) == ["seg_7", "seg_14", "seg_30", "seg_90",
                                                 "seg_before"]


@pytest.mark.parametrize("first_back", [0, 6, 7, 29, 30, 89, 90, 200])
def test_windows_are_right_whichever_segments_have_days(wh: Warehouse, first_back: int) -> None:
    """Usage from `first_back` days before the as-of date up to it: every window and the
    last activity as if summed by hand, whether or not the older segments are planned."""
    wh.region_tree()
    wh.subscriber(MSISDN)
    wh.subscriber(MSISDN + 1)  # no usage at all
    backs = sorted({0, first_back // 2, first_back})
    for back in backs:
        wh.usage(MSISDN + 0, AS_OF - timedelta(days=back), charge=1, sms_count=1)
    wh.usage(MSISDN + 1, AS_OF + timedelta(days=3), charge=7)  # after the as-of date only
    rebuild(wh.con, as_of=AS_OF)
    p, none = wh.profile(MSISDN), wh.profile(MSISDN + 1)
    for w in WINDOWS:
        inside = sum(1 for b in backs if b < w)
        assert (p[f"charge_{w}d"], p[f"sms_count_{w}d"], p[f"active_days_{w}d"]) == (
            inside, inside, inside)
        assert (none[f"charge_{w}d"], none[f"active_days_{w}d"]) == (0, 0)
    assert p["days_since_last_activity"] == 0
    assert none["days_since_last_activity"] is None


def test_arpu_is_stored_at_six_decimals(wh: Warehouse) -> None:
    """Sums of doubles depend on the order DuckDB adds them in (threads): ARPU is rounded
    like the usage windows, so two builds give the same value and the same score ranks."""
    wh.region_tree()
    wh.subscriber(1, tariff="PRE")
    wh.usage(1, AS_OF - timedelta(days=1), charge=0.1)
    wh.usage(1, AS_OF - timedelta(days=40), charge=0.2)  # another window segment
    rebuild(wh.con, as_of=AS_OF)
    arpu = wh.profile(1)["arpu_3m"]
    assert arpu == round(arpu, 6) and arpu == pytest.approx(0.1)
