"""Profile bands for ARPU (and any numeric field) follow the base's quintiles, in order."""

from __future__ import annotations

from typing import Any

from telcamp.core import clock
from telcamp.segments.audience import _band_position, _nice
from telcamp.segments.synthetic import NOW


def test_band_labels_sort_numerically() -> None:
    labels = ["1500+", "unknown", "150-360", "<150", "360-1500"]
    assert sorted(labels, key=_band_position) == ["<150", "150-360", "360-1500", "1500+",
                                                  "unknown"]
    assert (_nice(358.139), _nice(1461.9), _nice(0.0)) == (360.0, 1500.0, 0.0)


def test_arpu_bands_spread_the_base(db: str, warehouse_file: str, login: Any) -> None:
    clock.freeze(NOW)
    client = login("analyst", "P01")
    body = client.post("/api/segments/profile", json={
        "rule": {"field": "value_tier", "op": "=", "value": "high"}, "field": "age"}).json()
    arpu = body["profile"]["dimensions"]["arpu_band"]
    keys = [b["key"] for b in arpu if b["key"] != "unknown"]
    assert len(keys) >= 4 and keys == sorted(keys, key=_band_position)
    known = sum(b["base"] for b in arpu if b["key"] != "unknown")
    assert max(b["base"] for b in arpu) < 0.5 * known  # no band holds most of the base
    ages = [b["key"] for b in body["profile"]["dimensions"]["field:age"]]
    assert ages == sorted(ages, key=_band_position)
