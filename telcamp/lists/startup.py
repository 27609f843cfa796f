"""At server start, copy to the warehouse any list whose copy a crash or a busy warehouse
left stale (see telcamp.lists.sync). A busy warehouse must not stop the server: the next
read of the lists repairs it instead."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def on_startup() -> None:
    from telcamp.lists import sync

    try:
        copied = sync.ensure_synced()
    except Exception:
        log.exception("list members could not be re-copied to the warehouse at start-up")
        return
    if copied:
        log.info("re-copied lists %s to the warehouse", copied)
