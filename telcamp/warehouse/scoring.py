"""Value score, value tier and churn risk: configuration and SQL (docs/scoring.md).

The scores are SQL expressions evaluated inside the profile rebuild (build.py), over the
feature columns of one subscriber plus window functions over all subscribers, so scoring
10M subscribers is part of one set-based statement. Factors, weights and thresholds come
from a YAML file (scoring.yaml beside this module, or settings.scoring_config).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from telcamp.core.errors import ValidationFailed
from telcamp.core.settings import get_settings
from telcamp.warehouse.schema import ALL_METRICS, WINDOWS

SCORE_COLUMNS: tuple[str, ...] = ("value_score", "value_tier", "churn_risk")
TIERS: tuple[str, ...] = ("low", "medium", "high")
# value_tier is a DuckDB ENUM (1 byte a row, compared as a small integer) rather than a
# VARCHAR: segment rules filter on it over the whole profile (docs/performance.md). Its
# values and their text are the same; ORDER BY / min / max follow this order.
TIER_TYPE = "ENUM(" + ", ".join(f"'{t}'" for t in TIERS) + ")"
DEFAULT_CONFIG = Path(__file__).with_name("scoring.yaml")

# Value factors a config may name, and the feature expression each one reads.
VALUE_FACTORS: dict[str, str] = {
    "arpu_3m": "arpu_3m",
    "tenure_days": "tenure_days",
    "age": "coalesce(age, 0)",
    "active_products": "active_products",
    "payment_regularity": "payments_90d",
    **{f"{m.name}_{w}d": f"{m.name}_{w}d" for m in ALL_METRICS for w in WINDOWS},
}
NORMALISERS = ("percentile", "cap", "minmax")
CHURN_FACTORS = ("usage_drop", "payment_gap", "inactivity", "suspended")
TIER_METHODS = ("thresholds", "percentiles")


@dataclass(frozen=True)
class ValueFactor:
    name: str
    weight: float
    normalise: str
    cap: float | None


@dataclass(frozen=True)
class ScoringConfig:
    source: str
    factors: tuple[ValueFactor, ...]
    tier_method: str
    medium: float
    high: float
    churn_intercept: float
    churn_weights: dict[str, float]
    usage_drop_metric: str
    payment_gap_days: float
    inactivity_days: float


class _Reader:
    """Reads keys of the YAML tree, naming the file and the dotted key in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, reason: str) -> ValidationFailed:
        return ValidationFailed(f"scoring config {self.source}: {key}: {reason}", field=key)

    def mapping(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, "must be a mapping")
        return value

    def number(self, tree: dict[str, Any], name: str, key: str, *,
               default: float | None = None, positive: bool = False,
               non_negative: bool = False) -> float:
        value = tree.get(name, default)
        if value is None:
            raise self.fail(key, "is missing")
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise self.fail(key, f"must be a number, not {value!r}")
        if positive and value <= 0:
            raise self.fail(key, f"must be greater than 0, not {value!r}")
        if non_negative and value < 0:
            raise self.fail(key, f"must not be negative, not {value!r}")
        return float(value)

    def unknown(self, tree: dict[str, Any], allowed: tuple[str, ...], key: str) -> None:
        for name in tree:
            if name not in allowed:
                where = f"{key}.{name}" if key else str(name)
                raise self.fail(where, f"unknown key (known: {', '.join(allowed)})")


def parse_config(raw: Any, source: str) -> ScoringConfig:
    """Validate a loaded YAML tree; every error names the file and the key."""
    r = _Reader(source)
    top = r.mapping(raw, "(top level)")
    r.unknown(top, ("value", "churn"), "")
    value = r.mapping(top.get("value"), "value")
    r.unknown(value, ("factors", "tiers"), "value")
    raw_factors = r.mapping(value.get("factors"), "value.factors")
    if not raw_factors:
        raise r.fail("value.factors", "needs at least one factor")
    factors: list[ValueFactor] = []
    for name, spec in raw_factors.items():
        key = f"value.factors.{name}"
        if name not in VALUE_FACTORS:
            raise r.fail(key, f"unknown factor (known: {', '.join(sorted(VALUE_FACTORS))})")
        spec = r.mapping(spec, key)
        r.unknown(spec, ("weight", "normalise", "cap"), key)
        weight = r.number(spec, "weight", f"{key}.weight", non_negative=True)
        normalise = spec.get("normalise", "percentile")
        if normalise not in NORMALISERS:
            raise r.fail(f"{key}.normalise", f"must be one of {', '.join(NORMALISERS)}")
        cap = None
        if "cap" in spec or normalise == "cap":
            cap = r.number(spec, "cap", f"{key}.cap", positive=True)
        factors.append(ValueFactor(str(name), weight, str(normalise), cap))
    if sum(f.weight for f in factors) <= 0:
        raise r.fail("value.factors", "the weights must not all be 0")
    tiers = r.mapping(value.get("tiers", {}), "value.tiers")
    r.unknown(tiers, ("method", "medium", "high"), "value.tiers")
    method = tiers.get("method", "thresholds")
    if method not in TIER_METHODS:
        raise r.fail("value.tiers.method", f"must be one of {', '.join(TIER_METHODS)}")
    top_value = 100.0 if method == "thresholds" else 1.0
    medium = r.number(tiers, "medium", "value.tiers.medium",
                      default=40 if method == "thresholds" else 0.5)
    high = r.number(tiers, "high", "value.tiers.high",
                    default=65 if method == "thresholds" else 0.8)
    if not 0 <= medium < high <= top_value:
        raise r.fail("value.tiers", f"thresholds must increase within 0..{top_value:g}: "
                     f"0 <= medium ({medium:g}) < high ({high:g}) <= {top_value:g}")
    churn = r.mapping(top.get("churn", {}), "churn")
    r.unknown(churn, ("intercept", "factors", "usage_drop_metric", "payment_gap_days",
                      "inactivity_days"), "churn")
    raw_weights = r.mapping(churn.get("factors", {}), "churn.factors")
    r.unknown(raw_weights, CHURN_FACTORS, "churn.factors")
    weights = {n: r.number(raw_weights, n, f"churn.factors.{n}", default=0.0)
               for n in CHURN_FACTORS}
    metric = churn.get("usage_drop_metric", "charge")
    metric_names = tuple(m.name for m in ALL_METRICS)
    if metric not in metric_names:
        raise r.fail("churn.usage_drop_metric", f"must be one of {', '.join(metric_names)}")
    return ScoringConfig(
        source=source,
        factors=tuple(factors),
        tier_method=str(method),
        medium=medium,
        high=high,
        churn_intercept=r.number(churn, "intercept", "churn.intercept", default=-4.0),
        churn_weights=weights,
        usage_drop_metric=str(metric),
        payment_gap_days=r.number(churn, "payment_gap_days", "churn.payment_gap_days",
                                  default=60, positive=True),
        inactivity_days=r.number(churn, "inactivity_days", "churn.inactivity_days",
                                 default=14, positive=True),
    )


def config_path(path: Path | None = None) -> Path:
    """The file load_config(path) reads: `path`, else settings.scoring_config, else the
    shipped one."""
    return Path(path or get_settings().scoring_config or DEFAULT_CONFIG)


def load_config(path: Path | None = None) -> ScoringConfig:
    """The scoring config at `path`, else settings.scoring_config, else the shipped one."""
    target = config_path(path)
    try:
        text = Path(target).read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationFailed(f"scoring config {target}: cannot be read: {exc.strerror}",
                               field="scoring_config") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"scoring config {target}: not valid YAML: {exc}",
                               field="scoring_config") from exc
    return parse_config(raw, str(target))


def _normalised(f: ValueFactor) -> str:
    x = VALUE_FACTORS[f.name]
    if f.cap is not None:
        x = f"least(greatest({x}, 0), {f.cap!r})"
    if f.normalise == "percentile":
        # percent_rank: share of subscribers strictly below (0 .. 1), ties share a rank.
        return f"percent_rank() OVER (ORDER BY {x})"
    if f.normalise == "cap":
        return f"({x}) / {f.cap!r}"
    lo, hi = f"min({x}) OVER ()", f"max({x}) OVER ()"
    return f"coalesce(({x} - {lo}) / nullif({hi} - {lo}, 0), 0)"


def needs_all_rows(config: ScoringConfig) -> bool:
    """True when a score needs a figure over all subscribers (a rank, a min or a max), so
    it cannot be computed row by row in the features statement."""
    return config.tier_method == "percentiles" or any(
        f.normalise != "cap" and f.weight > 0 for f in config.factors
    )


def value_score_sql(config: ScoringConfig) -> str:
    """0..100: weighted mean of the normalised factors, rounded to 2 decimals."""
    total = sum(f.weight for f in config.factors)
    terms = " + ".join(f"{f.weight!r} * {_normalised(f)}" for f in config.factors
                       if f.weight > 0)
    return f"round(100.0 * ({terms}) / {total!r}, 2)::DOUBLE"


def tier_sql(config: ScoringConfig) -> str:
    x = "value_score"
    if config.tier_method == "percentiles":
        x = "percent_rank() OVER (ORDER BY value_score)"
    return (f"(CASE WHEN {x} >= {config.high!r} THEN 'high' "
            f"WHEN {x} >= {config.medium!r} THEN 'medium' ELSE 'low' END)::{TIER_TYPE}")


def churn_factor_sql(config: ScoringConfig) -> dict[str, str]:
    """Each churn factor as an expression over the features, 0..1."""
    m = config.usage_drop_metric
    recent = f"{m}_30d / 30.0"
    prior = f"({m}_90d - {m}_30d) / 60.0"  # daily rate over the 60 days before the last 30
    return {
        # Relative fall of the daily rate, last 30 days vs the 60 before; 0 when no fall.
        "usage_drop": f"CASE WHEN {prior} > 0 THEN greatest(0.0, 1.0 - ({recent}) / ({prior}))"
                      " ELSE 0.0 END",
        # Days since the last payment (or since activation when never paid) over the gap.
        "payment_gap": "least(greatest(coalesce(days_since_last_payment, tenure_days), 0) / "
                       f"{config.payment_gap_days!r}, 1.0)",
        # Days since the last usage (or since activation when never used) over the limit.
        "inactivity": "least(greatest(coalesce(days_since_last_activity, tenure_days), 0) / "
                      f"{config.inactivity_days!r}, 1.0)",
        "suspended": "CASE WHEN status = 'suspended' THEN 1.0 ELSE 0.0 END",
    }


def churn_risk_sql(config: ScoringConfig) -> str:
    exprs = churn_factor_sql(config)
    z = " + ".join([repr(config.churn_intercept)] + [
        f"{w!r} * ({exprs[n]})" for n, w in config.churn_weights.items() if w != 0
    ])
    return (f"CASE WHEN status = 'churned' THEN 1.0 "
            f"ELSE round(1.0 / (1.0 + exp(-({z}))), 4) END::DOUBLE")

