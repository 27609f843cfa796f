"""Determinism, the end date, the usage file plan, argument checks."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from telcamp.core import clock
from telcamp.core.errors import ValidationFailed
from telcamp.generate import service

END = date(2026, 11, 21)


def _hashes(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, fmt) -> None:
    args = {"subscribers": 2_000, "days": 5, "fmt": fmt, "end_date": END}
    service.generate(seed=3, out=tmp_path / "a", **args)
    service.generate(seed=3, out=tmp_path / "b", **args)
    service.generate(seed=4, out=tmp_path / "c", **args)
    a, b, c = (_hashes(tmp_path / x) for x in "abc")
    assert a == b
    # Reference data is fixed; everything about subscribers changes with the seed.
    assert {k for k in a if a[k] != c[k]} == {
        f"{k}.{fmt}" for k in ("subscribers", "usage-0001", "product_events", "payments")}


def test_bytes_do_not_depend_on_the_process_pool(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(service, "_POOL_THRESHOLD", 0)
    args = {"subscribers": 3_000, "days": 6, "seed": 9, "end_date": END,
            "rows_per_file": 15_000}
    one = service.generate(out=tmp_path / "one", workers=1, **args)
    two = service.generate(out=tmp_path / "two", workers=2, **args)
    assert len([f for f in one.files if f.kind == "usage"]) > 2
    assert _hashes(tmp_path / "one") == _hashes(tmp_path / "two")
    assert one.rows == two.rows


def test_report_counts_rows_per_kind(tmp_path) -> None:
    report = service.generate(subscribers=500, days=3, seed=1, out=tmp_path / "out", end_date=END)
    assert report.rows["subscribers"] == 500
    assert report.rows["regions"] == 51 and report.rows["tariffs"] == 10
    assert report.rows["usage"] > 0 and report.rows["payments"] > 0
    assert report.total_rows == sum(report.rows.values())
    assert (report.first_date, report.end_date) == (date(2026, 11, 19), END)
    for f in report.files:  # a CSV has one header line plus one line per row
        assert f.path.read_bytes().count(b"\n") == f.rows + 1, f.path.name


def test_usage_files_split_by_size_and_cover_every_day_once(tmp_path) -> None:
    report = service.generate(subscribers=1_000, days=10, seed=2, out=tmp_path / "out",
                              end_date=END, events_per_day=2.0, rows_per_file=4_000)
    usage = [f for f in report.files if f.kind == "usage"]
    assert [f.path.name for f in usage] == [f"usage-{i:04d}.csv" for i in
                                            range(1, len(usage) + 1)]
    assert len(usage) >= 4
    days: list[str] = []
    for f in usage:
        lines = f.path.read_text().splitlines()[1:]
        days += sorted({line.split(",")[1][:10] for line in lines})
    assert len(days) == len(set(days)) == 10


def test_end_date_defaults_to_yesterday(tmp_path) -> None:
    clock.freeze(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    report = service.generate(subscribers=200, days=2, seed=1, out=tmp_path / "out")
    assert report.end_date == date(2026, 3, 1)
    lines = (tmp_path / "out" / "usage-0001.csv").read_text().splitlines()[1:]
    assert {line.split(",")[1][:10] for line in lines} == {"2026-02-28", "2026-03-01"}


def test_earlier_generated_files_are_replaced_others_kept(tmp_path) -> None:
    out = tmp_path / "out"
    service.generate(subscribers=1_000, days=6, seed=1, out=out, end_date=END,
                     rows_per_file=3_000)
    assert (out / "usage-0003.csv").exists()
    (out / "notes.txt").write_text("mine")
    service.generate(subscribers=100, days=2, seed=1, out=out, end_date=END, fmt="parquet")
    names = sorted(p.name for p in out.iterdir())
    assert names == ["notes.txt", "payments.parquet", "product_events.parquet",
                     "regions.parquet", "subscribers.parquet", "tariffs.parquet",
                     "usage-0001.parquet"]


@pytest.mark.parametrize(("args", "field", "words"), [
    ({"subscribers": 0}, "subscribers", "--subscribers must be between 1"),
    ({"subscribers": 100_000_001}, "subscribers", "--subscribers"),
    ({"days": 0}, "days", "--days must be between 1 and 400"),
    ({"days": 401}, "days", "got 401"),
    ({"seed": -1}, "seed", "--seed"),
    ({"fmt": "xlsx"}, "format", "--format must be one of csv, parquet"),
    ({"events_per_day": 0.0}, "events_per_day", "--events-per-day must be above 0"),
    ({"events_per_day": float("nan")}, "events_per_day", "--events-per-day"),
])
def test_bad_arguments_are_refused_before_anything_is_written(tmp_path, args, field,
                                                              words) -> None:
    kwargs = {"subscribers": 10, "days": 2, "seed": 1, "out": tmp_path / "out", **args}
    with pytest.raises(ValidationFailed) as err:
        service.generate(**kwargs)
    assert err.value.field == field
    assert words in err.value.message
    assert not (tmp_path / "out").exists()


def test_out_must_be_a_folder(tmp_path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValidationFailed, match="not a folder"):
        service.generate(subscribers=10, days=1, seed=1, out=f)


def test_latent_traits_rebuild_the_same_subscribers(tmp_path) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from telcamp.generate.traits import latent_traits

    out = tmp_path / "out"
    service.generate(subscribers=600, days=3, seed=4, out=out, end_date=END)
    subs = pacsv.read_csv(out / "subscribers.csv",
                          convert_options=pacsv.ConvertOptions(column_types={
                              "msisdn": pa.string()}))
    traits = pa.concat_tables(latent_traits(subscribers=600, seed=4, end_date=END))
    assert traits.column("msisdn").to_pylist() == subs.column("msisdn").to_pylist()
    churned = [s == "churned" for s in subs.column("status").to_pylist()]
    assert [d is not None for d in traits.column("churn_date").to_pylist()] == churned
    p = traits.column("propensity").to_numpy()
    assert p.min() > 0 and p.max() < 1 and 0.1 < p.mean() < 0.3


def test_a_failed_run_leaves_no_partial_file(tmp_path, monkeypatch) -> None:
    from telcamp.generate import usage

    def broken(**_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(usage, "usage_table", broken)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="disk full"):
        service.generate(subscribers=100, days=2, seed=1, out=out, end_date=END)
    names = {p.name for p in out.iterdir()}
    assert not any(n.endswith(".part") or n.startswith("usage") for n in names)


def test_big_days_are_cut_into_bounded_batches(tmp_path, monkeypatch) -> None:
    from telcamp.generate import usage, work

    assert work._parts(10, 1.0) == [(0, 10)]
    assert work._parts(250_000, 1000.0) == [(lo, lo + 2_000) for lo in range(0, 250_000, 2_000)]
    monkeypatch.setattr(work, "BATCH_ROWS", 900)
    sizes: list[int] = []
    real = usage.usage_table

    def spy(**kwargs):
        sizes.append(len(kwargs["block"]))
        return real(**kwargs)

    monkeypatch.setattr(usage, "usage_table", spy)
    report = service.generate(subscribers=1_000, days=2, seed=1, out=tmp_path / "out",
                              end_date=END)
    assert sizes == [300, 300, 300, 100] * 2
    assert report.rows["usage"] == pytest.approx(1_000 * 2 * 3.0, rel=0.15)
    lines = (tmp_path / "out" / "usage-0001.csv").read_text().splitlines()[1:]
    assert len(lines) == report.rows["usage"]
