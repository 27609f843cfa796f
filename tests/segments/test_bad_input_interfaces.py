"""Issue 4's bad inputs give the same clear error through the API and the CLI, and
nothing is saved: unknown field or metric, wrong value type, `between` with one value,
`in` with an empty list, an in_segment cycle, a list or segment outside the region."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from telcamp.cli import app

BAD = [
    ({"field": "agee", "op": ">", "value": 1}, 422, "rule: unknown field 'agee'"),
    ({"usage": "data_mbb", "days": 30, "op": ">", "value": 1}, 422,
     "unknown usage metric 'data_mbb'"),
    ({"field": "age", "op": "=", "value": "forty"}, 422, "is not a whole number"),
    ({"field": "age", "op": "between", "value": [20]}, 422, "'between' needs exactly two"),
    ({"field": "age", "op": "in", "value": []}, 422, "'in' needs a non-empty list"),
]



@pytest.mark.parametrize(("rule", "status", "expected"), BAD)
def test_bad_rule_same_error_in_api_and_cli(api: Any, tmp_path: Path, rule: Any, status: int,
                                            expected: str) -> None:
    client = api("marketer", "C01")
    for path in ("/api/segments/count", "/api/segments/evaluate"):
        r = client.post(path, json={"rule": rule})
        assert r.status_code == status and expected in r.json()["message"], r.text
    saved = client.post("/api/segments", json={"name": "bad", "rule": rule})
    assert saved.status_code == status and expected in saved.json()["message"]
    assert client.get("/api/segments").json() == []  # nothing saved
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(rule))
    out = CliRunner().invoke(app, ["segment", "count", str(rules)])
    assert out.exit_code != 0 and expected in str(out.exception)
    out = CliRunner().invoke(app, ["segment", "save", "bad", str(rules)])
    assert out.exit_code != 0 and expected in str(out.exception)


def test_cycle_and_out_of_region_references(api: Any, tmp_path: Path) -> None:
    c01, c02 = api("marketer", "C01"), api("marketer", "C02")
    a = c01.post("/api/segments", json={"name": "a", "rule": {
        "field": "value_tier", "op": "=", "value": "high"}}).json()["id"]
    b = c01.post("/api/segments", json={"name": "b", "rule": {"in_segment": a}}).json()["id"]
    r = c01.patch(f"/api/segments/{a}", json={"rule": {"in_segment": b}})
    assert r.status_code == 422 and "cycle" in r.json()["message"]
    assert c01.get(f"/api/segments/{a}").json()["current_version"] == 1  # unchanged
    theirs = c02.post("/api/segments", json={"name": "theirs", "rule": {
        "field": "value_tier", "op": "=", "value": "low"}}).json()["id"]
    their_list = c02.post("/api/lists", json={"name": "c02 list", "type": "custom"}).json()["id"]
    for rule, what in (({"in_segment": theirs}, "segment"), ({"in_list": their_list}, "list")):
        r = c01.post("/api/segments/count", json={"rule": rule})
        assert r.status_code == 404 and "not found" in r.json()["message"], (what, r.text)
        rules = tmp_path / f"{what}.json"
        rules.write_text(json.dumps(rule))
        out = CliRunner().invoke(app, ["segment", "count", str(rules), "--region", "C01"])
        assert out.exit_code != 0 and "not found" in str(out.exception), what
