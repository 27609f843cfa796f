"""GET /api/warehouse/stats: needs warehouse.read; a regional user sees its subtree only."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from telcamp.access.demo import test_credentials as credentials
from telcamp.app import create_app
from telcamp.core import warehouse
from telcamp.warehouse.build import rebuild
from telcamp.warehouse.schema import ensure_schema

from .builder import AS_OF, Warehouse


def client_as(role: str, region: str | None, via: str = "token") -> TestClient:
    _p, headers, cookies = credentials(username=f"{role}-{region}", role=role,
                                       region_code=region, via=via)
    client = TestClient(create_app(), headers=headers)
    client.cookies.update(cookies)
    return client


def test_stats_scoped_to_the_callers_region(db: str) -> None:
    with warehouse.connect() as con:
        ensure_schema(con)
        wh = Warehouse(con)
        wh.region_tree()
        wh.subscriber(1, region="K11")
        wh.subscriber(2, region="K12")
        wh.subscriber(3, region="K21", status="churned")
        wh.usage(1, AS_OF - timedelta(days=1), charge=5)
        rebuild(con, as_of=AS_OF)

    everyone = client_as("admin", None).get("/api/warehouse/stats")
    assert everyone.status_code == 200, everyone.text
    body = everyone.json()
    assert body["tables"]["subscribers"] == 3 and body["tables"]["usage_daily"] == 1
    assert sum(body["tiers"].values()) == 3 and body["churn_risk"]["high"] >= 1

    city = client_as("marketer", "C1").get("/api/warehouse/stats").json()
    assert city["tables"] == {"subscribers": 2, "profile": 2}
    assert sum(city["tiers"].values()) == 2 and sum(city["churn_risk"].values()) == 2
    county = client_as("marketer", "K21").get("/api/warehouse/stats").json()
    assert county["tables"]["subscribers"] == 1 and county["churn_risk"]["high"] == 1
    assert county["as_of_date"] == AS_OF.isoformat()


def test_stats_needs_a_login(db: str) -> None:
    assert TestClient(create_app()).get("/api/warehouse/stats").status_code == 401
