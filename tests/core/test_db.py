import sqlalchemy as sa

from telcamp.core.db import get_engine, session_scope


def test_migrations_apply_on_both_databases(db: str) -> None:
    names = sa.inspect(get_engine()).get_table_names()
    assert "app_setting" in names
    assert "alembic_version" in names


def test_session_scope_rolls_back_on_error(db: str) -> None:
    try:
        with session_scope() as s:
            s.execute(sa.text("INSERT INTO app_setting(key, value) VALUES ('k', '1')"))
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with session_scope() as s:
        assert s.execute(sa.text("SELECT count(*) FROM app_setting")).scalar() == 0
