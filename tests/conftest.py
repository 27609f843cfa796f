"""Shared fixtures: an isolated var/ per test, both operational databases, a live server
and Debian's Chromium through Playwright."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_ADMIN_URL = os.environ.get("TELCAMP_TEST_PG_URL")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
OUTPUT_DIR = Path(__file__).parent.parent / "test-output"


def need(condition: bool, reason: str) -> None:
    """Skip outside CI when a real component is missing; in CI nothing skips."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and a real component is missing: {reason}")
    pytest.skip(reason)


def _reset_caches() -> None:
    from telcamp.core import clock
    from telcamp.core.db import reset_engine
    from telcamp.core.settings import reset_settings
    from telcamp.dispatch.config import get_dispatch_settings

    reset_settings()
    get_dispatch_settings.cache_clear()  # a test's TELCAMP_DISPATCH_* must not leak on
    from telcamp.channels.settings import get_channel_settings
    from telcamp.dispatch import readiness

    get_channel_settings.cache_clear()
    readiness.forget()
    reset_engine()
    clock.freeze(None)


# PostgreSQL's lock table is one per server, shared by every session. A test that fills
# most of it on purpose (tests/policy/test_serialise.py) would make any other test's
# statements fail with "out of shared memory" meanwhile, e.g. a migration in the other
# xdist worker. Every test holds this file lock shared; a test marked
# `fills_lock_table` holds it exclusively, so it runs alone.
_LOCK_TABLE_GATE = Path(os.environ.get("TMPDIR", "/tmp")) / "telcamp-tests-lock-table.gate"


@pytest.fixture(autouse=True)
def _lock_table_gate(request: pytest.FixtureRequest) -> Iterator[None]:
    exclusive = request.node.get_closest_marker("fills_lock_table") is not None
    with open(_LOCK_TABLE_GATE, "a+") as gate:
        fcntl.flock(gate.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield  # released when the file closes


@pytest.fixture(autouse=True)
def isolated_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own var/ (SQLite file, DuckDB file) and fresh caches."""
    var = tmp_path / "var"
    var.mkdir()
    monkeypatch.setenv("TELCAMP_VAR_DIR", str(var))
    monkeypatch.delenv("TELCAMP_DATABASE_URL", raising=False)
    monkeypatch.delenv("TELCAMP_WAREHOUSE_PATH", raising=False)
    # no numbering plan unless a test sets one (`telcamp demo` sets its own in-process:
    # recorded here, so it is undone after the test)
    for name in ("TELCAMP_MSISDN_COUNTRY_CODE", "TELCAMP_MSISDN_NATIONAL_DIGITS",
                 "TELCAMP_MSISDN_TRUNK_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(
        "TELCAMP_NODE_MODULES", str(Path(__file__).parent.parent / "node_modules")
    )
    _reset_caches()
    yield var
    _reset_caches()


def _pg_database(template: str | None = None) -> Iterator[str]:
    import sqlalchemy as sa

    assert PG_ADMIN_URL
    name = f"telcamp_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"{copy}'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        from telcamp.core.db import reset_engine

        reset_engine()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostgreSQL database, one per test process, that the tests' migrated
    databases are copied from: CREATE DATABASE ... TEMPLATE takes ~0.1-0.3 s where
    running the migrations takes ~0.6 s, for each of ~280 tests."""
    import sqlalchemy as sa

    from telcamp.core.db import migrate

    for url in _pg_database():
        name = url.rsplit("/", 1)[1]
        migrate(url)
        assert PG_ADMIN_URL
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:  # a template must have no session open on it
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
        admin.dispose()
        yield name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, one per test process, copied into each test's var/."""
    import sqlite3

    from telcamp.core.db import migrate

    folder = tmp_path_factory.mktemp("sqlite-template")
    migrated, path = folder / "migrated.db", folder / "telcamp.db"
    migrate(f"sqlite:///{migrated.as_posix()}")
    # the backup API copies what is committed, the write-ahead log's pages included
    with contextlib.closing(sqlite3.connect(migrated)) as src, \
            contextlib.closing(sqlite3.connect(path)) as dst:
        src.backup(dst)
    return path


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    need(PG_ADMIN_URL is not None, "TELCAMP_TEST_PG_URL is not set: PostgreSQL tests skipped")
    yield from _pg_database()


@pytest.fixture
def pg(pg_template: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The operational database on PostgreSQL only, migrated (tests of what only it does:
    several worker processes, SKIP LOCKED, advisory locks). Yields its URL."""
    from telcamp.core.db import reset_engine
    from telcamp.core.settings import reset_settings

    for url in _pg_database(pg_template):
        monkeypatch.setenv("TELCAMP_DATABASE_URL", url)
        reset_settings()
        reset_engine()
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The operational database, migrated, on SQLite and on PostgreSQL. Yields its URL."""
    from telcamp.core.db import reset_engine
    from telcamp.core.settings import reset_settings

    if request.param == "sqlite":
        reset_settings()
        reset_engine()
        from telcamp.core.settings import get_settings

        settings = get_settings()
        target = settings.var_dir / "telcamp.db"
        # A server started before this fixture (live_server) may have opened the file in
        # WAL mode: its -wal/-shm beside the copied file make SQLite's next open fail
        # with "disk I/O error". The engine was just disposed, so they are stale.
        for stale in (target, target.with_name("telcamp.db-wal"),
                      target.with_name("telcamp.db-shm")):
            stale.unlink(missing_ok=True)
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        assert settings.db_url.endswith("/telcamp.db"), settings.db_url
        yield settings.db_url
        return
    need(PG_ADMIN_URL is not None, "TELCAMP_TEST_PG_URL is not set: PostgreSQL tests skipped")
    for url in _pg_database(request.getfixturevalue("pg_template")):
        monkeypatch.setenv("TELCAMP_DATABASE_URL", url)
        reset_settings()
        reset_engine()
        yield url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, url: str) -> None:
        self.url = url


@pytest.fixture
def live_server() -> Iterator[LiveServer]:
    """The real app served by uvicorn on 127.0.0.1 in a thread of this process."""
    import uvicorn

    from telcamp.app import create_app

    port = free_port()
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=10)


# Module scope, not session: Playwright's sync API keeps an asyncio loop marked running in
# the main thread while it is alive, which makes asyncio.run() fail in every later
# non-browser test module (the channels' webhook tests, for one).
@pytest.fixture(scope="module")
def chromium_browser() -> Iterator[object]:
    need(CHROMIUM is not None, "Debian's chromium is not installed (make test installs it as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium_browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh browser context and page; a screenshot is saved under test-output/."""
    context = chromium_browser.new_context()  # type: ignore[attr-defined]
    pg = context.new_page()
    yield pg
    OUTPUT_DIR.mkdir(exist_ok=True)
    safe = request.node.nodeid.replace("/", "_").replace("::", "__")
    safe = safe.replace("[", "_").replace("]", "")
    # a failed screenshot must not hide the test's own result
    with contextlib.suppress(Exception):
        pg.screenshot(path=str(OUTPUT_DIR / f"{safe}.png"), full_page=True)
    context.close()


TEST_REGIONS = [
    # code, name, parent_code, level, timezone
    ("P01", "Province One", None, "province", "Europe/Moscow"),
    ("C01", "City One", "P01", "city", "Europe/Moscow"),
    ("C02", "City Two", "P01", "city", "Europe/Moscow"),
    ("C01-01", "County One-One", "C01", "county", "Europe/Moscow"),
    ("C02-01", "County Two-One", "C02", "county", "Europe/Moscow"),
]


@pytest.fixture
def test_regions() -> list[tuple[str, str, str | None, str, str]]:
    """Write the small region tree P01 → C01, C02 → C01-01, C02-01 into the warehouse."""
    from telcamp.core import warehouse
    from telcamp.warehouse.schema import ensure_schema

    with warehouse.connect() as con:
        ensure_schema(con)
        con.executemany("INSERT OR REPLACE INTO regions VALUES (?, ?, ?, ?, ?)", TEST_REGIONS)
    return TEST_REGIONS


@pytest.fixture
def login() -> Iterator[object]:
    """Factory: `client = login("marketer", "C01")` → a TestClient logged in as a new user
    of that role and region (session cookie + X-CSRF-Token header, so page forms, htmx
    and API calls all work). `login("channel", via="token")` gives a Bearer-token client.
    `client.principal` is the Principal. Uses whatever database the test set up (request
    `db` first to run on both SQLite and PostgreSQL)."""
    from fastapi.testclient import TestClient

    from telcamp.access import demo

    clients: list[TestClient] = []

    def factory(role: str, region_code: str | None = None, *, via: str = "session") -> TestClient:
        from telcamp.app import create_app

        username = f"{role}-{region_code or 'all'}-{len(clients) + 1}"
        principal, headers, cookies = demo.test_credentials(
            username=username, role=role, region_code=region_code, via=via
        )
        client = TestClient(create_app(), headers=headers, cookies=cookies)
        client.__enter__()
        client.principal = principal  # type: ignore[attr-defined]
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def page_as(live_server: LiveServer, page: object) -> object:
    """Factory: `page_as("marketer", "C01")` creates a user and logs the browser `page`
    in through the real login form; returns the Principal. Then `page.goto(...)`."""
    from telcamp.access import demo

    count = [0]

    def factory(role: str, region_code: str | None = None) -> object:
        count[0] += 1
        username = f"{role}-{region_code or 'all'}-b{count[0]}"
        principal = demo.create_test_user(username=username, role=role, region_code=region_code)
        pg = page
        pg.goto(f"{live_server.url}/login")  # type: ignore[attr-defined]
        pg.fill("input[name=username]", username)  # type: ignore[attr-defined]
        pg.fill("input[name=password]", demo.TEST_PASSWORD)  # type: ignore[attr-defined]
        pg.click("form[data-testid=login-form] button[type=submit]")  # type: ignore[attr-defined]
        pg.wait_for_load_state()  # type: ignore[attr-defined]
        return principal

    return factory
