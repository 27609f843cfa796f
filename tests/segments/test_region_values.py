"""Region fields (region_code, city_code, province_code) take the codes of the loaded
region tree: a city's name or a code in another case is refused with a suggestion, not
counted as nobody."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from telcamp.core.errors import ValidationFailed
from telcamp.segments.catalogue import Catalogue, load
from telcamp.segments.rules import NotAllowedValue, parse_rule


@pytest.fixture
def full(con: duckdb.DuckDBPyConnection) -> Catalogue:
    return load(con)


def _refusal(rule: dict[str, Any], cat: Catalogue) -> str:
    with pytest.raises(NotAllowedValue) as caught:
        parse_rule(rule, catalogue=cat)
    return caught.value.message


def test_the_catalogue_knows_each_region_fields_codes_with_names(full: Catalogue) -> None:
    assert full.regions["city_code"] == {"C01": "City One", "C02": "City Two"}
    assert full.regions["province_code"] == {"P01": "Province One"}
    # region_code reads "in region X" at any level (compiler.in_region)
    assert set(full.regions["region_code"]) == {"P01", "C01", "C02", "C01-01", "C01-02",
                                                "C02-01"}
    city = next(f for f in full.to_dict()["fields"] if f["name"] == "city_code")
    assert city["regions"] == [{"code": "C01", "name": "City One"},
                               {"code": "C02", "name": "City Two"}]


def test_a_known_code_passes_and_an_unknown_one_is_refused_with_its_path(
        full: Catalogue) -> None:
    parse_rule({"field": "city_code", "op": "in", "value": ["C01", "C02"]}, catalogue=full)
    parse_rule({"field": "region_code", "op": "=", "value": "C01-02"}, catalogue=full)
    message = _refusal({"all": [{"field": "age", "op": ">", "value": 20},
                                {"field": "city_code", "op": "in", "value": ["C02", "c01"]}]},
                       full)
    assert message == ("all[1]: value \"c01\" is not a known city code; "
                       "did you mean 'C01' (City One)?")


def test_a_regions_name_suggests_its_code(full: Catalogue) -> None:
    assert _refusal({"field": "city_code", "op": "=", "value": "city two"}, full).endswith(
        "did you mean 'C02' (City Two)?")
    assert _refusal({"field": "province_code", "op": "!=", "value": "Province One"},
                    full) == ("rule: value \"Province One\" is not a known province code; "
                              "did you mean 'P01' (Province One)?")


def test_a_code_of_another_level_names_the_field_that_holds_it(full: Catalogue) -> None:
    """A county's code in city_code would count no one: the refusal says which field
    holds such codes, and suggests the county's city."""
    assert _refusal({"field": "city_code", "op": "=", "value": "C01-02"}, full) == (
        "rule: value \"C01-02\" is the code of a county (County 1-2): use region_code; "
        "did you mean 'C01' (City One)?")
    assert _refusal({"field": "province_code", "op": "=", "value": "C01"}, full) == (
        "rule: value \"C01\" is the code of a city (City One): use city_code; "
        "did you mean 'P01' (Province One)?")


def test_a_scoped_user_names_only_codes_of_their_region_and_above(
        con: duckdb.DuckDBPyConnection) -> None:
    c01 = load(con, "C01")
    assert set(c01.regions["region_code"]) == {"P01", "C01", "C01-01", "C01-02"}
    assert c01.regions["city_code"] == {"C01": "City One"}
    assert c01.regions["province_code"] == {"P01": "Province One"}  # above: covers C01
    for ok in ({"field": "province_code", "op": "=", "value": "P01"},
               {"field": "region_code", "op": "=", "value": "C01-02"}):
        parse_rule(ok, catalogue=c01)
    assert _refusal({"field": "city_code", "op": "=", "value": "C02"}, c01) == (
        "rule: value \"C02\" is outside your region C01")
    assert _refusal({"field": "region_code", "op": "=", "value": "C02-01"}, c01) == (
        "rule: value \"C02-01\" is outside your region C01")


def test_nothing_is_checked_before_regions_are_loaded() -> None:
    parse_rule({"field": "city_code", "op": "=", "value": "anything"}, catalogue=Catalogue())



def test_the_api_refuses_a_city_name_in_the_readers_language(api: Any) -> None:
    client = api("analyst", "P01")
    rule = {"all": [{"field": "city_code", "op": "in", "value": ["City One"]}]}
    r = client.post("/api/segments/count", json={"rule": rule})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "all[0]"
    assert r.json()["message"] == ("all[0]: value \"City One\" is not a known city code; "
                                   "did you mean 'C01' (City One)?")
    ru = client.post("/api/segments/count?lang=ru", json={"rule": rule}).json()["message"]
    assert ru.startswith("all[0]: ") and "C01" in ru and "is not" not in ru
    fixed = client.post("/api/segments/count", json={"rule": {"all": [
        {"field": "city_code", "op": "in", "value": ["C01"]}]}})
    assert fixed.status_code == 200 and fixed.json()["count"] > 0
    catalogue = client.get("/api/segments/catalogue").json()
    county = next(f for f in catalogue["fields"] if f["name"] == "region_code")
    assert {"code": "C01-01", "name": "County 1-1"} in county["regions"]
    # the builder suggests a scoped user only the codes of their region and above
    scoped = api("marketer", "C01").get("/api/segments/catalogue").json()
    city = next(f for f in scoped["fields"] if f["name"] == "city_code")
    assert city["regions"] == [{"code": "C01", "name": "City One"}]
    refused = api("marketer", "C01").post("/api/segments/count?lang=ru", json={
        "rule": {"field": "city_code", "op": "=", "value": "C02"}})
    assert refused.status_code == 422
    assert refused.json()["message"] == "rule: значение \"C02\" — вне вашего региона C01"


def test_a_template_parameter_on_a_region_field_is_checked_when_filled(api: Any) -> None:
    client = api("marketer", "C01")
    made = client.post("/api/segments/templates", json={
        "name": "In city", "params": {"c": {"type": "str"}},
        "rule": {"field": "city_code", "op": "=", "value": "{c}"}})
    assert made.status_code == 201, made.text
    tid = made.json()["id"]
    bad = client.post(f"/api/segments/templates/{tid}/fill", json={"values": {"c": "c01"}})
    assert bad.status_code == 422
    assert "did you mean 'C01' (City One)?" in bad.json()["message"]
    ok = client.post(f"/api/segments/templates/{tid}/fill", json={"values": {"c": "C01"}})
    assert ok.status_code == 200, ok.text


def test_the_profile_names_the_regions_beside_their_codes(api: Any) -> None:
    client = api("analyst", None)
    body = client.post("/api/segments/profile", json={
        "rule": {"all": []}, "field": "province_code"}).json()
    dims = body["profile"]["dimensions"]
    assert {(i["key"], i["name"]) for i in dims["city"]} == {("C01", "City One"),
                                                             ("C02", "City Two")}
    assert ("C01-02", "County 1-2") in {(i["key"], i["name"]) for i in dims["county"]}
    assert [(i["key"], i["name"]) for i in dims["field:province_code"]] == [
        ("P01", "Province One")]


def test_validation_failed_is_the_base_of_the_refusal() -> None:
    # the edges (API 422, CLI exit 2) catch ValidationFailed
    assert issubclass(NotAllowedValue, ValidationFailed)


def test_region_code_reads_in_region_at_any_level(con: duckdb.DuckDBPyConnection,
                                                   ctx: Any) -> None:
    """DESIGN.md's `region_code in [C01, C02]`: a city's code takes the subscribers of its
    counties, the province's all of them; != and not_in are the rest, a subscriber with an
    unknown city included."""
    from telcamp.segments import audience

    con.execute("UPDATE profile SET city_code = NULL WHERE msisdn IN "
                "(SELECT msisdn FROM profile WHERE city_code = 'C02' LIMIT 5)")
    cat = load(con)

    def count(rule: dict[str, Any]) -> int:
        from dataclasses import replace

        return audience.count(con, parse_rule(rule, catalogue=cat), replace(ctx, catalogue=cat))

    def sql(where: str) -> int:
        return int(con.execute(f"SELECT count(*) FROM profile WHERE {where}").fetchone()[0])  # type: ignore[index]

    total = sql("TRUE")
    in_c01 = sql("city_code = 'C01'")
    assert 0 < in_c01 < total
    assert count({"field": "region_code", "op": "=", "value": "C01"}) == in_c01
    assert count({"field": "region_code", "op": "in", "value": ["C01", "C02-01"]}) == sql(
        "city_code = 'C01' OR region_code = 'C02-01'")
    assert count({"field": "region_code", "op": "=", "value": "P01"}) == sql(
        "province_code = 'P01'")
    assert count({"field": "region_code", "op": "!=", "value": "C01"}) == total - in_c01
    assert count({"field": "region_code", "op": "not_in", "value": ["C01-01"]}) == sql(
        "region_code <> 'C01-01'")
