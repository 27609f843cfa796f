"""Concurrent console requests, as the builder sends them on opening (catalogue,
segments, lists, templates at once), against the real server: each opens and closes the
warehouse, and none may fail because another was closing it at the same moment."""

from __future__ import annotations

import collections
import re
import threading
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow


def _session(url: str, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=url, follow_redirects=False, timeout=60)
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    r = client.post("/login", data={"username": username, "password": password,
                                    "csrf_token": token.group(1), "next": ""})
    assert r.status_code == 303, r.text[:300]
    return client


def test_parallel_builder_requests_never_fail(warehouse_file: str, db: str,
                                              live_server: Any) -> None:
    from telcamp.access import demo

    demo.create_test_user(username="par", role="marketer", region_code="C01")
    codes: collections.Counter[int] = collections.Counter()
    failures: list[str] = []

    def work() -> None:
        client = _session(live_server.url, "par", demo.TEST_PASSWORD)
        for _ in range(25):
            for path in ("/api/segments", "/api/segments/catalogue", "/api/lists",
                         "/api/segments/templates"):
                r = client.get(path)
                codes[r.status_code] += 1
                if r.status_code != 200:
                    failures.append(f"{path}: {r.status_code} {r.text[:120]}")

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == {200: 600}, failures[:3]
