"""Value score, tiers and churn risk from a config file; config errors name file and key."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from telcamp.core.errors import ValidationFailed
from telcamp.core.settings import reset_settings
from telcamp.warehouse import scoring
from telcamp.warehouse.build import rebuild

from .builder import AS_OF, Warehouse


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def write_config(tmp_path: Path, value: dict[str, object] | None = None,
                 churn: dict[str, object] | None = None, name: str = "scoring.yaml") -> Path:
    tree: dict[str, object] = {"value": value or {
        "factors": {"arpu_3m": {"weight": 1, "normalise": "cap", "cap": 100}},
        "tiers": {"method": "thresholds", "medium": 20, "high": 50},
    }}
    if churn is not None:
        tree["churn"] = churn
    path = tmp_path / name
    path.write_text(yaml.safe_dump(tree), encoding="utf-8")
    return path


def with_arpu(wh: Warehouse, arpus: list[float]) -> list[int]:
    """Prepaid subscribers (fee 0) whose arpu_3m is exactly the given figure."""
    wh.region_tree()
    ids = []
    for i, arpu in enumerate(arpus):
        msisdn = wh.subscriber(1000 + i)
        wh.usage(msisdn, AS_OF - timedelta(days=10), charge=arpu * 3)
        ids.append(msisdn)
    return ids


def test_value_score_and_tier_thresholds_from_a_custom_config(
    wh: Warehouse, tmp_path: Path
) -> None:
    ids = with_arpu(wh, [10, 19.99, 20, 49.99, 50, 150])
    rebuild(wh.con, as_of=AS_OF, config_path=write_config(tmp_path))
    got = [(wh.profile(i)["value_score"], wh.profile(i)["value_tier"]) for i in ids]
    assert got == [(10, "low"), (19.99, "low"), (20, "medium"), (49.99, "medium"),
                   (50, "high"), (100, "high")]


def test_config_path_from_settings(
    wh: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = with_arpu(wh, [30])
    path = write_config(tmp_path, {
        "factors": {"arpu_3m": {"weight": 1, "normalise": "cap", "cap": 100}},
        "tiers": {"medium": 10, "high": 25},
    })
    monkeypatch.setenv("TELCAMP_SCORING_CONFIG", str(path))
    reset_settings()
    rebuild(wh.con, as_of=AS_OF)
    assert wh.profile(ids[0])["value_tier"] == "high"


def test_percentile_tiers(wh: Warehouse, tmp_path: Path) -> None:
    ids = with_arpu(wh, [float(i) for i in range(10)])
    path = write_config(tmp_path, {
        "factors": {"arpu_3m": {"weight": 1, "normalise": "cap", "cap": 100}},
        "tiers": {"method": "percentiles", "medium": 0.5, "high": 0.8},
    })
    rebuild(wh.con, as_of=AS_OF, config_path=path)
    tiers = [wh.profile(i)["value_tier"] for i in ids]
    # percent rank i/9: >= 0.5 from i = 5, >= 0.8 from i = 8
    assert tiers == ["low"] * 5 + ["medium"] * 3 + ["high"] * 2


@pytest.mark.parametrize("method", ["thresholds", "percentiles"])
def test_value_tier_is_an_enum_that_compares_as_text(
    wh: Warehouse, tmp_path: Path, method: str
) -> None:
    ids = with_arpu(wh, [10, 30, 90])
    medium, high = (20, 50) if method == "thresholds" else (0.4, 0.9)
    path = write_config(tmp_path, {
        "factors": {"arpu_3m": {"weight": 1, "normalise": "cap", "cap": 100}},
        "tiers": {"method": method, "medium": medium, "high": high},
    })
    rebuild(wh.con, as_of=AS_OF, config_path=path)
    (kind,) = wh.con.execute("SELECT data_type FROM information_schema.columns "
                             "WHERE table_name = 'profile' AND column_name = 'value_tier'"
                             ).fetchone() or ("",)
    assert kind == "ENUM('low', 'medium', 'high')"
    assert [wh.profile(i)["value_tier"] for i in ids] == ["low", "medium", "high"]
    assert wh.con.execute("SELECT list(msisdn ORDER BY msisdn) FROM profile "
                          "WHERE value_tier IN ('medium', 'high')").fetchone() == (ids[1:],)
    # sorted in tier order, not alphabetically (docs/scoring.md)
    assert wh.con.execute("SELECT list(value_tier::VARCHAR ORDER BY value_tier) FROM profile"
                          ).fetchone() == (["low", "medium", "high"],)


@pytest.mark.parametrize(
    ("normalise", "arpus", "scores"),
    [("percentile", [5, 1, 3], [100, 0, 50]), ("minmax", [10, 30, 20], [0, 100, 50]),
     ("minmax", [7, 7], [0, 0])],
)
def test_normalisations(wh: Warehouse, tmp_path: Path, normalise: str,
                        arpus: list[float], scores: list[float]) -> None:
    ids = with_arpu(wh, arpus)
    path = write_config(tmp_path, {
        "factors": {"arpu_3m": {"weight": 2, "normalise": normalise}},
        "tiers": {"medium": 40, "high": 60},
    })
    rebuild(wh.con, as_of=AS_OF, config_path=path)
    assert [wh.profile(i)["value_score"] for i in ids] == scores


def test_weighted_mean_of_factors(wh: Warehouse, tmp_path: Path) -> None:
    wh.region_tree()
    wh.subscriber(1, activation=AS_OF - timedelta(days=500))
    wh.usage(1, AS_OF, charge=150)  # arpu 50 -> 0.5; tenure 500/1000 -> 0.5
    wh.subscriber(2, activation=AS_OF)
    wh.usage(2, AS_OF, charge=300)  # arpu 100 -> 1; tenure 0 -> 0
    path = write_config(tmp_path, {
        "factors": {"arpu_3m": {"weight": 3, "normalise": "cap", "cap": 100},
                    "tenure_days": {"weight": 1, "normalise": "cap", "cap": 1000}},
    })
    rebuild(wh.con, as_of=AS_OF, config_path=path)
    assert wh.profile(1)["value_score"] == 50
    assert wh.profile(2)["value_score"] == 75


def test_default_config_scores_in_range_and_orders_good_over_bad(wh: Warehouse) -> None:
    wh.region_tree()
    good = wh.subscriber(1, tariff="POST", activation=AS_OF - timedelta(days=1500))
    bad = wh.subscriber(2, status="suspended", activation=AS_OF - timedelta(days=200))
    average = wh.subscriber(3, activation=AS_OF - timedelta(days=400))
    for back in range(90):
        day = AS_OF - timedelta(days=back)
        wh.usage(good, day, charge=5, data_mb=300, voice_min=20)
        if back % 3 == 0:
            wh.usage(average, day, charge=1, data_mb=50, voice_min=5)
        if back > 60:
            wh.usage(bad, day, charge=1, voice_min=1)
    for back in (5, 35, 65):
        wh.payment(good, AS_OF - timedelta(days=back), 30)
    rebuild(wh.con, as_of=AS_OF)
    g, b, a = wh.profile(good), wh.profile(bad), wh.profile(average)
    for p in (g, b, a):
        assert 0 <= p["value_score"] <= 100
        assert 0 <= p["churn_risk"] <= 1
    assert g["value_score"] > a["value_score"] > b["value_score"]
    assert (g["value_tier"], b["value_tier"]) == ("high", "low")
    assert b["churn_risk"] > a["churn_risk"] > g["churn_risk"]
    assert b["churn_risk"] > 0.9 and g["churn_risk"] < 0.1


def churn_only(tmp_path: Path, intercept: float, **factors: float) -> Path:
    return write_config(tmp_path, churn={
        "intercept": intercept, "factors": factors, "payment_gap_days": 60,
        "inactivity_days": 10, "usage_drop_metric": "charge",
    })


def test_churn_status(wh: Warehouse, tmp_path: Path) -> None:
    wh.region_tree()
    for i, status in enumerate(("active", "suspended", "churned")):
        wh.subscriber(i + 1, status=status)
    rebuild(wh.con, as_of=AS_OF, config_path=churn_only(tmp_path, 0, suspended=2))
    assert wh.profile(1)["churn_risk"] == 0.5
    assert wh.profile(2)["churn_risk"] == pytest.approx(sigmoid(2), abs=1e-4)
    assert wh.profile(3)["churn_risk"] == 1.0


def test_churn_inactivity(wh: Warehouse, tmp_path: Path) -> None:
    wh.region_tree()
    wh.subscriber(1)
    wh.usage(1, AS_OF - timedelta(days=5))  # 5 of 10 days -> 0.5
    wh.subscriber(2)
    wh.usage(2, AS_OF - timedelta(days=40))  # capped at 1
    wh.subscriber(3, activation=AS_OF - timedelta(days=3))  # never used: since activation
    rebuild(wh.con, as_of=AS_OF, config_path=churn_only(tmp_path, -2, inactivity=4))
    assert wh.profile(1)["churn_risk"] == 0.5
    assert wh.profile(2)["churn_risk"] == pytest.approx(sigmoid(2), abs=1e-4)
    assert wh.profile(3)["churn_risk"] == pytest.approx(sigmoid(-2 + 4 * 0.3), abs=1e-4)


def test_churn_usage_drop(wh: Warehouse, tmp_path: Path) -> None:
    wh.region_tree()
    wh.subscriber(1)
    wh.usage(1, AS_OF - timedelta(days=60), charge=60)  # prior 60 days: 1 per day
    wh.usage(1, AS_OF - timedelta(days=1), charge=15)  # last 30 days: 0.5 per day
    wh.subscriber(2)
    wh.usage(2, AS_OF - timedelta(days=60), charge=60)
    wh.usage(2, AS_OF - timedelta(days=1), charge=90)  # rising: no drop
    rebuild(wh.con, as_of=AS_OF, config_path=churn_only(tmp_path, -1, usage_drop=2))
    assert wh.profile(1)["churn_risk"] == 0.5
    assert wh.profile(2)["churn_risk"] == pytest.approx(sigmoid(-1), abs=1e-4)


def test_churn_payment_gap(wh: Warehouse, tmp_path: Path) -> None:
    wh.region_tree()
    wh.subscriber(1)
    wh.payment(1, AS_OF - timedelta(days=80))
    wh.payment(1, AS_OF - timedelta(days=30))  # the last one: 30 of 60 days
    wh.payment(1, AS_OF + timedelta(days=3))  # after the as-of date: ignored
    wh.subscriber(2)  # never paid, active for years: full gap
    rebuild(wh.con, as_of=AS_OF, config_path=churn_only(tmp_path, -1, payment_gap=2))
    assert wh.profile(1)["churn_risk"] == 0.5
    assert wh.profile(2)["churn_risk"] == pytest.approx(sigmoid(1), abs=1e-4)


BASE_VALUE = {"factors": {"arpu_3m": {"weight": 1}}}


@pytest.mark.parametrize(
    ("tree", "key", "reason"),
    [
        ({"value": {"factors": {"happiness": {"weight": 1}}}}, "value.factors.happiness",
         "unknown factor"),
        ({"value": {"factors": {"arpu_3m": {"weight": "heavy"}}}},
         "value.factors.arpu_3m.weight", "must be a number"),
        ({"value": {"factors": {"arpu_3m": {"weight": True}}}},
         "value.factors.arpu_3m.weight", "must be a number"),
        ({"value": {"factors": {"arpu_3m": {"weight": -1}}}},
         "value.factors.arpu_3m.weight", "must not be negative"),
        ({"value": {"factors": {"arpu_3m": {"weight": 0}}}}, "value.factors", "all be 0"),
        ({"value": {"factors": {"arpu_3m": {"weight": 1, "normalise": "log"}}}},
         "value.factors.arpu_3m.normalise", "must be one of"),
        ({"value": {"factors": {"arpu_3m": {"weight": 1, "normalise": "cap"}}}},
         "value.factors.arpu_3m.cap", "is missing"),
        ({"value": {"factors": {"arpu_3m": {"weight": 1, "cap": 0}}}},
         "value.factors.arpu_3m.cap", "greater than 0"),
        ({"value": {**BASE_VALUE, "tiers": {"medium": 70, "high": 40}}}, "value.tiers",
         "must increase"),
        ({"value": {**BASE_VALUE, "tiers": {"medium": 40, "high": 140}}}, "value.tiers",
         "must increase"),
        ({"value": {**BASE_VALUE, "tiers": {"method": "percentiles", "medium": 40,
                                            "high": 70}}}, "value.tiers", "must increase"),
        ({"value": {**BASE_VALUE, "tiers": {"medium": "forty", "high": 70}}},
         "value.tiers.medium", "must be a number"),
        ({"value": {**BASE_VALUE, "tiers": {"method": "kmeans"}}}, "value.tiers.method",
         "must be one of"),
        ({"value": BASE_VALUE, "churn": {"factors": {"moon_phase": 1}}},
         "churn.factors.moon_phase", "unknown key"),
        ({"value": BASE_VALUE, "churn": {"factors": {"inactivity": "high"}}},
         "churn.factors.inactivity", "must be a number"),
        ({"value": BASE_VALUE, "churn": {"usage_drop_metric": "karma"}},
         "churn.usage_drop_metric", "must be one of"),
        ({"value": BASE_VALUE, "churn": {"inactivity_days": 0}}, "churn.inactivity_days",
         "greater than 0"),
        ({"value": BASE_VALUE, "extra": 1}, "extra", "unknown key"),
        ({"value": {"factors": []}}, "value.factors", "must be a mapping"),
        ({"value": {"factors": {}}}, "value.factors", "at least one factor"),
        ([1, 2], "(top level)", "must be a mapping"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path: Path, tree: object, key: str,
                                     reason: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(tree), encoding="utf-8")
    with pytest.raises(ValidationFailed) as err:
        scoring.load_config(path)
    assert str(path) in err.value.message
    assert f": {key}: " in err.value.message
    assert reason in err.value.message


def test_bad_config_leaves_the_profile_as_it_was(wh: Warehouse, tmp_path: Path) -> None:
    ids = with_arpu(wh, [30])
    rebuild(wh.con, as_of=AS_OF)
    before = wh.profile(ids[0])
    path = tmp_path / "bad.yaml"
    path.write_text("value: {factors: {happiness: {weight: 1}}}", encoding="utf-8")
    with pytest.raises(ValidationFailed):
        rebuild(wh.con, as_of=AS_OF - timedelta(days=1), config_path=path)
    assert wh.profile(ids[0]) == before


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="cannot be read"):
        scoring.load_config(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("value: [unclosed", encoding="utf-8")
    with pytest.raises(ValidationFailed, match=r"broken\.yaml: not valid YAML"):
        scoring.load_config(broken)


def test_shipped_config_is_valid() -> None:
    config = scoring.load_config(scoring.DEFAULT_CONFIG)
    assert {f.name for f in config.factors} >= {"arpu_3m", "data_mb_30d", "tenure_days"}
    assert config.medium < config.high
