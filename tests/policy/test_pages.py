"""The contact-policy page keeps what the admin typed when a save is rejected."""

from __future__ import annotations

from typing import Any

from telcamp.core.db import session_scope
from telcamp.policy import service

FORM = {"cap_24h": "2", "cap_7d": "5", "cap_30d": "12", "channel_caps": "{}",
        "min_gap_minutes": "30", "quiet_start": "21:00", "quiet_end": "08:00",
        "region_quiet": "{}", "default_timezone": "UTC", "list_types": "blacklist",
        "arbitration_hours": "24", "note": "tighter weekly cap"}


def test_rejected_save_shows_the_typed_values(db: str, login: Any) -> None:
    admin = login("admin")
    with session_scope() as s:
        before = service.current(s).version
    r = admin.post("/policy", data={**FORM, "quiet_start": "25:99"})
    assert r.status_code == 422 and 'data-testid="error"' in r.text
    assert 'value="5" data-testid="cap-7d"' in r.text  # the 7-day cap survives the error
    assert 'value="25:99"' in r.text and 'value="tighter weekly cap"' in r.text
    r = admin.post("/policy", data={**FORM, "cap_24h": "two"})
    assert r.status_code == 422 and 'value="two" data-testid="cap-24h"' in r.text
    assert 'value="5" data-testid="cap-7d"' in r.text
    with session_scope() as s:
        assert service.current(s).version == before  # nothing saved
    r = admin.post("/policy", data=FORM, follow_redirects=False)
    assert r.status_code == 303
    assert 'value="5" data-testid="cap-7d"' in admin.get("/policy").text
