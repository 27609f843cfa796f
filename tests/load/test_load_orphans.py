"""Kept orphans (`--orphans keep`) join their subscriber when it is loaded: moved to
usage_daily / product_events / payments as if loaded with the subscriber present, in
the subscribers file's transaction; orphans of subscribers still unknown stay."""

from __future__ import annotations

from pathlib import Path

import pytest

from telcamp.load import service, writers
from telcamp.warehouse.service import stats

from .conftest import counts, make_dir, query, write_csv

NEW = "79000000004"  # a subscriber that arrives after its usage
NEVER = "79999999999"  # one that never arrives

USAGE = [
    f"{NEW},2026-11-20T10:00:00+03:00,voice,out,1,0,120,0,1.5",
    f"{NEW},2026-11-20T23:30:00+03:00,sms,out,0,0,0,0,0.1",
    f"{NEW},2026-11-21T00:10:00+03:00,data,out,0,0,0,2048,0.5",
    f"{NEW},2026-11-21T23:30:00+05:00,voice,in,0,1,60,0,0",
    f"{NEVER},2026-11-21T09:00:00+03:00,voice,out,0,0,60,0,0.3",
    "79000000001,2026-11-21T09:00:00+03:00,mms,out,0,0,0,10,0.2",
]
SUBSCRIBER = f"{NEW},C01-01,T1,2026-11-19,active,,m,ru,smartphone,"
DAILY = ("SELECT msisdn, day::VARCHAR, voice_min, voice_out_min, sms_count, mms_count, "
         "data_mb, roaming_min, long_distance_count, ringback_count, round(charge, 9), "
         "records FROM usage_daily WHERE msisdn = {m} ORDER BY day")


def _orphans_loaded(root: Path) -> Path:
    """The small operator, then usage of NEW and NEVER kept aside as orphans."""
    service.load_dir(make_dir(root / "in"))
    f = write_csv(root / "usage-0002.csv", "usage", USAGE)
    r = service.load_file("usage", f, orphans="keep").files[0]
    assert (r.rows, r.orphans) == (1, 5)
    return root


def test_orphans_join_their_subscriber_when_it_is_loaded(tmp_path: Path) -> None:
    _orphans_loaded(tmp_path)
    before = counts()
    report = service.load_file(
        "subscribers", write_csv(tmp_path / "subscribers-2.csv", "subscribers", [SUBSCRIBER]))
    r = report.files[0]
    assert r.attached == {"usage": 4}
    assert r.notes == ["attached kept orphans: 4 usage records"]
    after = counts()
    assert after["usage_orphans"] == before["usage_orphans"] - 4 == 1
    assert after["usage_daily"] == before["usage_daily"] + 2  # NEW's two days
    # the subscriber that never arrived keeps its orphans
    assert query("SELECT msisdn, source_file FROM usage_orphans") == [
        (int(NEVER), "usage-0002.csv")]
    # the rebuild after the load sees the attached usage
    assert query(f"SELECT active_days_30d > 0 FROM profile WHERE msisdn = {NEW}") == [(True,)]
    # `telcamp warehouse stats` counts the orphans left
    from telcamp.core import warehouse

    with warehouse.connect() as con:
        assert stats(con)["tables"]["usage_orphans"] == 1


def test_attached_usage_is_what_a_load_with_the_subscriber_present_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from telcamp.core.settings import reset_settings

    _orphans_loaded(tmp_path / "late")
    service.load_file(
        "subscribers", write_csv(tmp_path / "subscribers-2.csv", "subscribers", [SUBSCRIBER]))
    attached = query(DAILY.format(m=NEW))
    # the same files into another warehouse, the subscriber loaded first
    var = tmp_path / "var-early"
    var.mkdir()
    monkeypatch.setenv("TELCAMP_VAR_DIR", str(var))
    reset_settings()
    service.load_dir(make_dir(tmp_path / "early"))
    service.load_file("subscribers", tmp_path / "subscribers-2.csv")
    service.load_file("usage", tmp_path / "late" / "usage-0002.csv", orphans="keep")
    assert query(DAILY.format(m=NEW)) == attached
    assert len(attached) == 2


def test_attaching_is_idempotent(tmp_path: Path) -> None:
    _orphans_loaded(tmp_path)
    service.load_file(
        "subscribers", write_csv(tmp_path / "subscribers-2.csv", "subscribers", [SUBSCRIBER]))
    before = query(DAILY.format(m=NEW))
    orphans = counts()["usage_orphans"]
    # another subscribers file (the same subscriber again, changed): nothing more to move
    again = write_csv(tmp_path / "subscribers-3.csv", "subscribers",
                      [SUBSCRIBER.replace(",active,", ",suspended,")])
    r = service.load_file("subscribers", again).files[0]
    assert r.attached == {} and r.notes == []
    assert query(DAILY.format(m=NEW)) == before
    assert counts()["usage_orphans"] == orphans


def test_nothing_is_half_attached_when_the_load_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _orphans_loaded(tmp_path)
    before = counts()
    daily = query("SELECT * FROM usage_daily ORDER BY msisdn, day")
    real = writers._merge_daily

    def merged_then_fail(con: object) -> int:
        real(con)  # type: ignore[arg-type]
        raise RuntimeError("disk full")

    monkeypatch.setattr(writers, "_merge_daily", merged_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        service.load_file("subscribers", write_csv(tmp_path / "subscribers-2.csv",
                                                   "subscribers", [SUBSCRIBER]))
    # neither the subscriber nor its records moved: the file can be loaded again
    assert counts() == before
    assert query("SELECT * FROM usage_daily ORDER BY msisdn, day") == daily
    monkeypatch.setattr(writers, "_merge_daily", real)
    r = service.load_file("subscribers", tmp_path / "subscribers-2.csv").files[0]
    assert r.attached == {"usage": 4}


def test_orphan_payments_and_events_join_too(tmp_path: Path) -> None:
    service.load_dir(make_dir(tmp_path / "in"))
    pay = write_csv(tmp_path / "payments-2.csv", "payments",
                    [f"{NEW},2026-11-21T10:00:00+05:00,50,bill",
                     f"{NEVER},2026-11-21T10:00:00+05:00,20,recharge"])
    ev = write_csv(tmp_path / "product_events-2.csv", "product_events",
                   [f"{NEW},2026-11-21T10:00:00+05:00,P200,subscribe,"])
    assert service.load_file("payments", pay, orphans="keep").files[0].orphans == 2
    assert service.load_file("product_events", ev, orphans="keep").files[0].orphans == 1
    r = service.load_file(
        "subscribers", write_csv(tmp_path / "subscribers-2.csv", "subscribers", [SUBSCRIBER])
    ).files[0]
    assert r.attached == {"product_events": 1, "payments": 1}
    assert query(f"SELECT amount, kind FROM payments WHERE msisdn = {NEW}") == [(50.0, "bill")]
    assert query(f"SELECT product_code, channel FROM product_events WHERE msisdn = {NEW}") == [
        ("P200", None)]
    assert query("SELECT msisdn FROM payments_orphans") == [(int(NEVER),)]
    assert counts()["product_events_orphans"] == 0


def test_attached_orphans_are_counted_in_singular_and_plural() -> None:
    r = service.FileReport(kind="subscribers", file="subscribers-2.csv",
                           attached={"usage": 1, "product_events": 2, "payments": 1})
    assert r.notes == ["attached kept orphans: 1 usage record, 2 product events, 1 payment"]
