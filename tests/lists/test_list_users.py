"""A list that saved rules name is not renamed or deleted from under them: the refusal
names each user (segments, templates, cells of live campaigns), says only what the reader
may see, and a name counts only where it finds this list."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from telcamp.core import clock, warehouse
from telcamp.core.db import session_scope
from telcamp.core.i18n import get_translator
from telcamp.lists import wording
from telcamp.segments import synthetic
from telcamp.segments.synthetic import NOW


@pytest.fixture
def api(db: str, login: Any) -> Any:
    with warehouse.connect() as con:
        synthetic.create(con, subscribers=300)
    clock.freeze(NOW)
    return login


def _list(client: Any, name: str) -> int:
    r = client.post("/api/lists", json={"name": name, "type": "custom"})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _segment(client: Any, name: str, rule: dict[str, Any]) -> int:
    r = client.post("/api/segments", json={"name": name, "rule": rule})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_rename_and_delete_are_refused_while_rules_name_the_list(api: Any) -> None:
    marketer = api("marketer", "C01")
    lst = _list(marketer, "Opt-out Moscow")
    by_name = _segment(marketer, "By name", {"not": {"in_list": "Opt-out Moscow"}})
    r = marketer.patch(f"/api/lists/{lst}", json={"name": "Opt-outs Moscow"})
    assert r.status_code == 409, r.text
    assert f"segment {by_name} 'By name'" in r.json()["message"]
    assert f"refer to it by id ({lst})" in r.json()["message"]
    assert marketer.get(f"/api/lists/{lst}").json()["name"] == "Opt-out Moscow"
    # the segment still finds its list
    assert marketer.post(f"/api/segments/{by_name}/snapshots").status_code == 201

    # by id: renaming is harmless, deleting is not
    marketer.patch(f"/api/segments/{by_name}", json={"rule": {"not": {"in_list": lst}}})
    r = marketer.patch(f"/api/lists/{lst}", json={"name": "Opt-outs Moscow"})
    assert r.status_code == 200, r.text
    r = marketer.delete(f"/api/lists/{lst}")
    assert r.status_code == 409, r.text
    assert "is still used, so it cannot be deleted" in r.json()["message"]
    assert f"segment {by_name} 'By name'" in r.json()["message"]
    assert marketer.get(f"/api/lists/{lst}").status_code == 200

    # once the segment is gone the list can go
    assert marketer.delete(f"/api/segments/{by_name}").status_code == 200
    assert marketer.delete(f"/api/lists/{lst}").status_code == 204


def test_templates_and_live_campaign_cells_are_users(api: Any) -> None:
    from telcamp.campaigns.models import Campaign, Cell, Program

    admin = api("admin")
    lst = _list(admin, "Staff")
    r = admin.post("/api/segments/templates", json={
        "name": "Not staff, ARPU over x",
        "rule": {"all": [{"not": {"in_list": "Staff"}},
                         {"field": "arpu_3m", "op": ">", "value": "{x}"}]},
        "params": {"x": {"type": "float", "label": "ARPU"}}})
    assert r.status_code == 201, r.text
    template = r.json()["id"]
    with session_scope() as s:
        prog = Program(name="p", start_date=date(2026, 1, 1), end_date=date(2027, 1, 1),
                       region_code="P01", created_by="t", created_at=NOW)
        s.add(prog)
        s.flush()
        ids = {}
        for state in ("draft", "completed"):
            c = Campaign(program_id=prog.id, name=f"Winter {state}", region_code="P01",
                         state=state, created_by="t", created_at=NOW, updated_at=NOW)
            s.add(c)
            s.flush()
            ids[state] = c.id
            s.add(Cell(campaign_id=c.id, position=1, name="staff out",
                       rule={"not": {"in_list": lst}}, channels=["sms"], messages={}))
    message = admin.delete(f"/api/lists/{lst}").json()["message"]
    assert f"template {template} 'Not staff, ARPU over x'" in message
    assert f"campaign {ids['draft']} 'Winter draft' (draft; cell 'staff out')" in message
    assert "Winter completed" not in message  # a completed campaign no longer needs it


def test_names_count_only_where_they_find_this_list(api: Any) -> None:
    moscow, spb, admin = api("marketer", "C01"), api("marketer", "C02"), api("admin")
    own = _list(moscow, "Complaints")
    _list(spb, "Complaints")  # the same name in another city: its own list
    _segment(spb, "SPb clean", {"not": {"in_list": "Complaints"}})
    r = moscow.patch(f"/api/lists/{own}", json={"name": "Complaints 2026"})
    assert r.status_code == 200, r.text  # the SPb segment never found Moscow's list

    # an operator-wide list is found by name from every city; the Moscow marketer is told
    # there is a user without being shown another city's segment
    wide = _list(admin, "Do not call")
    _segment(spb, "SPb callable", {"not": {"in_list": "Do not call"}})
    seg = _segment(moscow, "Moscow callable", {"not": {"in_list": "Do not call"}})
    message = admin.patch(f"/api/lists/{wide}", json={"name": "DNC"}).json()["message"]
    assert "'SPb callable'" in message and "'Moscow callable'" in message
    from telcamp.core.security import Principal
    from telcamp.lists import service
    from telcamp.lists.models import SpecialList

    with session_scope() as s:
        reader = Principal(username="m", role="marketer", region_code="C01")
        said = service.list_users(s, lst=s.get(SpecialList, wide), principal=reader)
    assert said == [f"segment {seg} 'Moscow callable'", "1 more in other regions"]


@pytest.mark.parametrize("lang", ["ru", "zh"])
def test_the_refusals_are_said_in_the_readers_language(lang: str) -> None:
    gettext = get_translator(lang).gettext
    for text in ("list 'Staff' is referred to by name in: segment 3 'X'; refer to it by id "
                 "(7) there first, or keep the name",
                 "list 7 'Staff' is still used, so it cannot be deleted: segment 3 'X'"):
        said = wording.say(text, gettext)
        assert said is not None and said != text, text
        assert "'Staff'" in said and "segment 3 'X'" in said and "list" not in said
