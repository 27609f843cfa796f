"""A small hand-made operator (every data contract) and helpers to spoil it."""

from __future__ import annotations

from pathlib import Path

import pytest

from telcamp.core import warehouse

HEADERS = {
    "regions": "code,name,parent_code,level,timezone",
    "tariffs": "code,name,payment_type,monthly_fee",
    "subscribers": "msisdn,region_code,tariff_code,activation_date,status,birth_date,gender,"
    "language,device_type,email",
    "usage": "msisdn,event_time,service,direction,long_distance,roaming,duration_s,volume_kb,"
    "charge",
    "product_events": "msisdn,event_time,product_code,action,channel",
    "payments": "msisdn,event_time,amount,kind",
}

ROWS = {
    "regions": [
        "P01,Province,,province,Europe/Moscow",
        "C01,City One,P01,city,Europe/Moscow",
        "C01-01,County A,C01,county,Europe/Moscow",
        "C01-02,County B,C01,county,Asia/Yekaterinburg",
    ],
    "tariffs": ["T1,Basic,prepaid,0", "T2,Gold,postpaid,30.5"],
    "subscribers": [
        "79000000001,C01-01,T1,2020-01-05,active,1990-03-01,m,ru,smartphone,a@x.ru",
        "79000000002,C01-02,T2,2026-11-10,active,,f,zh,feature,",
        "79000000003,C01-01,T2,2015-06-30,suspended,1970-12-31,u,en,tablet,",
    ],
    "usage": [
        "79000000001,2026-11-20T10:00:00+03:00,voice,out,1,0,120,0,1.5",
        "79000000001,2026-11-20T23:30:00+03:00,sms,out,0,0,0,0,0.1",
        "79000000001,2026-11-21T00:10:00+03:00,data,out,0,0,0,2048,0.5",
        # 23:30 UTC+5 is the 21st written: the day is the local date as written
        "79000000002,2026-11-21T23:30:00+05:00,voice,in,0,1,60,0,0",
    ],
    "product_events": ["79000000001,2026-11-20T10:00:00+03:00,P100,subscribe,web"],
    "payments": ["79000000001,2026-11-20T10:00:00+03:00,100,recharge"],
}

TABLES = ("regions", "tariffs", "subscribers", "usage_daily", "usage_orphans",
          "product_events", "payments", "product_events_orphans", "payments_orphans",
          "load_registry")


def write_csv(path: Path, kind: str, rows: list[str], header: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = (header if header is not None else HEADERS[kind]) + "\n"
    text += "".join(r + "\n" for r in rows)
    path.write_text(text, encoding="utf-8")
    return path


def make_dir(root: Path, skip: tuple[str, ...] = ()) -> Path:
    for kind, rows in ROWS.items():
        if kind in skip:
            continue
        name = "usage-0001.csv" if kind == "usage" else f"{kind}.csv"
        write_csv(root / name, kind, rows)
    return root


def counts() -> dict[str, int]:
    """Row count of every table the loader writes (the 'warehouse unchanged' witness)."""
    with warehouse.connect() as con:
        from telcamp.warehouse.schema import ensure_schema

        ensure_schema(con)
        out = {}
        for t in TABLES:
            row = con.execute(f"SELECT count(*) FROM {t}").fetchone()
            out[t] = int(row[0]) if row else 0
        return out


def query(sql: str) -> list[tuple[object, ...]]:
    with warehouse.connect() as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return make_dir(tmp_path / "in")


@pytest.fixture
def loaded(data_dir: Path) -> Path:
    """The small operator loaded; yields its folder."""
    from telcamp.load import service

    service.load_dir(data_dir)
    return data_dir
