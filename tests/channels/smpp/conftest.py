from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .peers import NodeSmsc, node_available

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def need(condition: bool, reason: str) -> None:
    """As tests/conftest.need: skip outside CI when a real peer is missing, fail in CI."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and a real component is missing: {reason}")
    pytest.skip(reason)


@pytest.fixture
def node_smsc() -> Iterator[Callable[..., NodeSmsc]]:
    """Factory: start node_smsc.js with a config; every server is stopped afterwards."""
    ok, reason = node_available()
    need(ok, reason)
    started: list[NodeSmsc] = []

    def start(config: dict[str, Any] | None = None, port: int = 0) -> NodeSmsc:
        srv = NodeSmsc(config, port)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()
