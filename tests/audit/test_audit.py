"""Audit log: entries in the change's transaction, hash chain, tamper detection, queries."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from telcamp.access import service as access_service
from telcamp.audit import service
from telcamp.cli import app as cli_app
from telcamp.core.db import get_engine, session_scope
from telcamp.core.security import Principal, system_principal

ALICE = Principal(username="alice", role="marketer", user_id=7, region_code="C01")


def _write(n: int) -> None:
    with session_scope() as session:
        for i in range(n):
            service.record(session, actor=ALICE, action="segment.update", object_type="segment",
                           object_id=str(i % 3), before={"name": f"s{i}"},
                           after={"name": f"s{i + 1}", "limit": 1.5})


def _tamper(sql: str) -> None:
    engine = get_engine()
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(sa.text("DROP TRIGGER audit_entry_no_update"))
            conn.execute(sa.text("DROP TRIGGER audit_entry_no_delete"))
        else:
            conn.execute(sa.text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_no_change"))
        conn.execute(sa.text(sql))


def test_chain_verifies_and_queries_filter(db: str) -> None:
    _write(5)
    with session_scope() as session:
        assert service.verify(session).ok
        assert service.verify(session).checked == 5
        seg0 = service.search(session, object_type="segment", object_id="0")
        assert [e.id for e in seg0] == [4, 1]
        assert len(service.search(session, user="alice")) == 5
        assert service.search(session, user="bob") == []
        first = service.search(session, object_id="0")[-1]
        assert first.prev_hash == service.GENESIS
        assert first.before == {"name": "s0"}


def test_rolled_back_change_leaves_no_entry(db: str) -> None:
    with pytest.raises(RuntimeError), session_scope() as session:
        service.record(session, actor=ALICE, action="x", object_type="t", object_id="1")
        raise RuntimeError("the change failed")
    with session_scope() as session:
        assert service.search(session) == []


def test_database_refuses_updates(db: str) -> None:
    _write(1)
    with pytest.raises(sa.exc.DBAPIError), get_engine().begin() as conn:
        conn.execute(sa.text("UPDATE audit_entry SET actor = 'mallory'"))
    with pytest.raises(sa.exc.DBAPIError), get_engine().begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_entry"))


def test_edited_row_is_found_by_verify_and_cli(db: str) -> None:
    _write(6)
    _tamper("UPDATE audit_entry SET actor = 'mallory' WHERE id = 4")
    with session_scope() as session:
        result = service.verify(session)
    assert not result.ok and result.broken is not None
    assert result.broken.id == 4 and result.checked == 3
    assert "edited" in result.broken.reason
    out = CliRunner().invoke(cli_app, ["audit", "verify"])
    assert out.exit_code == 1
    assert "entry 4" in out.output and "segment.update" in out.output


def test_deleted_row_and_relinked_chain_are_found(db: str) -> None:
    _write(5)
    _tamper("DELETE FROM audit_entry WHERE id = 3")
    with session_scope() as session:
        result = service.verify(session)
    assert result.broken is not None and result.broken.id == 4
    assert "missing" in result.broken.reason


def test_cli_verify_ok_and_listing(db: str) -> None:
    with session_scope() as session:
        access_service.create_user(session, username="bob", password="long-enough-1",
                                   role="analyst", region_code=None, actor=system_principal())
    runner = CliRunner()
    ok = runner.invoke(cli_app, ["audit", "verify"])
    assert ok.exit_code == 0 and "intact" in ok.output
    listed = runner.invoke(cli_app, ["audit", "--object", "user:bob", "--json"])
    assert listed.exit_code == 0 and '"action": "user.create"' in listed.output
    assert "password" not in listed.output.replace('"password_changed_at"', "")
    by_user = runner.invoke(cli_app, ["audit", "--user", "nobody", "--json"])
    assert by_user.output.strip() == ""


def test_api_filters_by_object_and_user(db: str, login) -> None:  # type: ignore[no-untyped-def]
    _write(3)
    admin = login("admin", None)
    rows = admin.get("/api/audit", params={"object_type": "segment", "object_id": "1"}).json()
    assert [r["object_id"] for r in rows] == ["1"]
    assert all(r["actor"] == "alice" for r in admin.get("/api/audit?user=alice").json())
    assert admin.get("/api/audit/verify").json()["ok"] is True
    page = admin.get("/audit?user=alice")
    assert page.status_code == 200 and "segment.update" in page.text


def test_regional_admin_reads_only_their_subtree(db: str, login, test_regions) -> None:  # type: ignore[no-untyped-def]
    with session_scope() as session:
        for name, region in (("c1-user", "C01-01"), ("c2-user", "C02")):
            access_service.create_user(session, username=name, password="long-enough-1",
                                       role="marketer", region_code=region,
                                       actor=system_principal())
        service.record(session, actor=ALICE, action="segment.create", object_type="segment",
                       object_id="9", after={"name": "x"}, region_code="C02-01")
    city_admin = login("admin", "C01")
    objects = {(r["object_type"], r["object_id"]) for r in city_admin.get("/api/audit").json()}
    assert ("user", "c1-user") in objects
    assert ("user", "c2-user") not in objects and ("segment", "9") not in objects
    assert city_admin.get("/api/audit/verify").json()["ok"] is True
    page = city_admin.get("/audit")
    assert "c1-user" in page.text and "c2-user" not in page.text
    with session_scope() as session:
        assert service.verify(session).ok


def test_concurrent_writers_keep_one_chain(db: str) -> None:
    import threading

    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(8):
                with session_scope() as session:
                    service.record(session, actor=ALICE, action="t", object_type="w",
                                   object_id=f"{n}-{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with session_scope() as session:
        result = service.verify(session)
    assert result.ok and result.checked == 32


def test_rolled_back_savepoint_does_not_break_the_chain(db: str) -> None:
    with session_scope() as session:
        service.record(session, actor=ALICE, action="a", object_type="t", object_id="1")
        nested = session.begin_nested()
        service.record(session, actor=ALICE, action="b", object_type="t", object_id="2")
        nested.rollback()
        service.record(session, actor=ALICE, action="c", object_type="t", object_id="3")
    with session_scope() as session:
        result = service.verify(session)
        assert result.ok and result.checked == 2
        assert [e.action for e in service.search(session)] == ["c", "a"]


def test_verify_command_exits_1_and_names_the_entry() -> None:
    import subprocess
    import sys
    from pathlib import Path

    from telcamp.core.db import migrate

    migrate()
    _write(3)
    _tamper("UPDATE audit_entry SET after = NULL WHERE id = 2")
    exe = str(Path(sys.executable).parent / "telcamp")
    out = subprocess.run([exe, "audit", "verify"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "entry 2" in out.stdout.replace("\n", " ")
