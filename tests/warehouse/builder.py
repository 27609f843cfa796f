"""A hand-made warehouse: rows inserted straight into the schema tables."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from telcamp.warehouse.schema import METRICS

AS_OF = date(2026, 6, 30)


class Warehouse:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def region_tree(self) -> None:
        """Province P1 > cities C1, C2 > counties K11, K12 (C1), K21 (C2)."""
        self.con.executemany(
            "INSERT INTO regions VALUES (?, ?, ?, ?, 'Asia/Shanghai')",
            [("P1", "Province", None, "province"), ("C1", "City 1", "P1", "city"),
             ("C2", "City 2", "P1", "city"), ("K11", "County 11", "C1", "county"),
             ("K12", "County 12", "C1", "county"), ("K21", "County 21", "C2", "county")],
        )
        self.con.executemany(
            "INSERT INTO tariffs VALUES (?, ?, ?, ?)",
            [("PRE", "Prepaid", "prepaid", 0.0), ("POST", "Postpaid", "postpaid", 30.0)],
        )

    def subscriber(self, msisdn: int, *, region: str = "K11", tariff: str = "PRE",
                   activation: date = date(2025, 1, 1), status: str = "active",
                   birth: date | None = None, gender: str = "u") -> int:
        self.con.execute(
            "INSERT INTO subscribers VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)",
            [msisdn, region, tariff, activation, status, birth, gender],
        )
        return msisdn

    def usage(self, msisdn: int, day: date, **metrics: float) -> None:
        """One usage_daily row; metrics not given are 0."""
        unknown = set(metrics) - {m.name for m in METRICS}
        assert not unknown, unknown
        values = [metrics.get(m.name, 0) for m in METRICS]
        marks = ", ".join("?" for _ in METRICS)
        self.con.execute(
            f"INSERT INTO usage_daily VALUES (?, ?, {marks}, 1)", [msisdn, day, *values]
        )

    def payment(self, msisdn: int, day: date, amount: float = 10.0) -> None:
        self.con.execute(
            "INSERT INTO payments VALUES (?, CAST(? AS TIMESTAMP) AT TIME ZONE 'UTC', ?, "
            "'recharge')", [msisdn, f"{day.isoformat()} 12:00:00", amount]
        )

    def profile(self, msisdn: int) -> dict[str, Any]:
        cur = self.con.execute("SELECT * FROM profile WHERE msisdn = ?", [msisdn])
        names = [d[0] for d in cur.description]
        row = cur.fetchone()
        assert row is not None, f"no profile row for {msisdn}"
        return dict(zip(names, row, strict=True))
