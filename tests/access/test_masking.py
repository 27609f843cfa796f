"""PII masking: the same rule for Python values and SQL exports."""

from __future__ import annotations

import duckdb

from telcamp.access.masking import email_sql, mask_email, mask_msisdn, mask_row, msisdn_sql
from telcamp.access.permissions import ROLES
from telcamp.core.security import Principal

MARKETER = Principal(username="m", role="marketer", permissions=ROLES["marketer"])
AGENT = Principal(username="a", role="agent", permissions=ROLES["agent"])


def test_msisdn_masked_without_pii_permission() -> None:
    assert mask_msisdn("79123456567", MARKETER) == "7912****567"
    assert mask_msisdn(79123456567, MARKETER) == "7912****567"
    assert mask_msisdn("8613812345678", MARKETER) == "8613******678"
    assert mask_msisdn("12345", MARKETER) == "***45"
    assert mask_msisdn(None, MARKETER) is None
    assert mask_msisdn("79123456567", AGENT) == "79123456567"


def test_email_masked_without_pii_permission() -> None:
    assert mask_email("ivan.petrov@mail.ru", MARKETER) == "i***@mail.ru"
    assert mask_email("broken", MARKETER) == "***"
    assert mask_email("ivan.petrov@mail.ru", AGENT) == "ivan.petrov@mail.ru"


def test_mask_row_only_touches_pii_fields() -> None:
    row = {"msisdn": 79123456567, "email": "a@b.c", "age": 30}
    assert mask_row(row, MARKETER) == {"msisdn": "7912****567", "email": "a***@b.c", "age": 30}
    assert mask_row(row, AGENT) == row


def test_sql_masking_matches_python() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE s(msisdn BIGINT, email VARCHAR)")
    con.executemany("INSERT INTO s VALUES (?, ?)", [
        (79123456567, "ivan.petrov@mail.ru"), (8613812345678, "x@y.cn"), (None, None),
        (12345, "nomail")])
    rows = con.execute(f"SELECT {msisdn_sql(MARKETER)}, {email_sql(MARKETER)}, msisdn, email "
                       "FROM s").fetchall()
    for masked_m, masked_e, m, e in rows:
        assert masked_m == (None if m is None else mask_msisdn(m, MARKETER))
        assert masked_e == mask_email(e, MARKETER)
    full = con.execute(f"SELECT {msisdn_sql(AGENT)} FROM s WHERE msisdn = 79123456567").fetchone()
    assert full == ("79123456567",)


def test_sql_masking_runs_on_postgresql(pg_url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE s(msisdn BIGINT, email VARCHAR)"))
            conn.execute(sa.text("INSERT INTO s VALUES (79123456567, 'ivan.petrov@mail.ru'), "
                                 "(12345, 'nomail'), (NULL, NULL)"))
            rows = conn.execute(sa.text(
                f"SELECT {msisdn_sql(MARKETER)}, {email_sql(MARKETER)}, msisdn, email FROM s"
            )).all()
    finally:
        engine.dispose()
    for masked_m, masked_e, m, e in rows:
        assert masked_m == (None if m is None else mask_msisdn(m, MARKETER))
        assert masked_e == mask_email(e, MARKETER)
