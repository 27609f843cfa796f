"""Channel unit prices and default send windows stored by an admin (channel settings page
or `telcamp channels`): audited, validated, read by rehearsal's cost forecast and by new
campaigns' default waves; the environment stays the default."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from telcamp.audit.models import AuditEntry
from telcamp.campaigns import rehearsal
from telcamp.campaigns.models import Wave
from telcamp.campaigns.schemas import WaveIn
from telcamp.channels import config_store
from telcamp.cli import app
from telcamp.core.db import session_scope

from .conftest import MARKETER, make_campaign, make_program


def _rehearse(cid: int) -> dict[str, Any]:
    with session_scope() as s:
        return rehearsal.rehearse(session=s, actor=MARKETER, campaign_id=cid)


def test_cli_prices_and_windows_feed_rehearsal_and_new_waves(world: str) -> None:
    runner = CliRunner()
    assert config_store.unit_prices()["sms"] == 0.05  # the environment's default
    ok = runner.invoke(app, ["channels", "set-price", "sms", "0.07"])
    assert ok.exit_code == 0, ok.output
    assert '"sms": 0.07' in ok.output
    ok = runner.invoke(app, ["channels", "set-window", "sms", "10:00", "18:30"])
    assert ok.exit_code == 0 and '"10:00"' in ok.output
    for bad, why in ((["set-price", "--", "sms", "-1"], "0 or more"),
                     (["set-price", "sms", "cheap"], "not a number"),
                     (["set-window", "sms", "18:00", "09:00"], "ends (09:00) before"),
                     (["set-window", "sms", "9am", "18:00"], "not HH:MM")):
        r = runner.invoke(app, ["channels", *bad], terminal_width=400)
        said = " ".join(r.output.replace("│", " ").split())
        assert r.exit_code != 0 and why in said, (bad, r.output)
    assert config_store.unit_prices()["sms"] == 0.07, "a refused change stores nothing"
    cid = make_campaign(make_program())
    sms = _rehearse(cid)["channels"]["sms"]
    assert sms["cost"] == pytest.approx(sms["contacts_per_run"] * 0.07)
    with session_scope() as s:
        windows = {w.channel: (w.window_start, w.window_end)
                   for w in s.scalars(sa.select(Wave).where(Wave.campaign_id == cid))}
        actions = list(s.scalars(sa.select(AuditEntry.object_id).where(
            AuditEntry.action == "channels.configure")))
    assert windows["sms"] == ("10:00", "18:30")
    default = (WaveIn.model_fields["window_start"].default,
               WaveIn.model_fields["window_end"].default)
    assert windows["email"] == default, "no stored window: the wave's default"
    assert actions == ["unit_prices", "windows"]
    back = runner.invoke(app, ["channels", "set-price", "sms", "default"])
    assert back.exit_code == 0 and config_store.unit_prices()["sms"] == 0.05


def test_admin_edits_prices_and_windows_on_the_page(world: str, login: Any) -> None:
    admin = login("admin")
    page = admin.get("/channels")
    assert page.status_code == 200 and 'data-testid="price-sms"' in page.text
    form = {"section": "defaults", "price__sms": "0.06", "price__email": "",
            "start__sms": "08:00", "end__sms": "20:00", "start__email": "", "end__email": ""}
    r = admin.post("/channels", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert config_store.unit_prices()["sms"] == 0.06
    assert config_store.unit_prices()["email"] == 0.001  # blank: the environment's
    assert config_store.send_windows() == {"sms": ("08:00", "20:00")}
    shown = admin.get("/channels").text
    assert 'value="0.06"' in shown and 'value="08:00"' in shown
    bad = admin.post("/channels", data={**form, "price__sms": "-2", "start__sms": "21:00"})
    assert bad.status_code == 422 and "must be 0 or more" in bad.text
    bad = admin.post("/channels", data={**form, "end__sms": "07:00"})
    assert bad.status_code == 422 and "before it starts" in bad.text
    assert config_store.unit_prices()["sms"] == 0.06, "nothing half-applied"
    assert config_store.send_windows() == {"sms": ("08:00", "20:00")}
    marketer = login("marketer", "P1")
    assert marketer.post("/channels", data=form, follow_redirects=False).status_code == 403


def test_a_wave_on_an_unconfigured_channel_is_warned_and_launch_refused(
        world: str, login: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from telcamp.campaigns import approvals, schedule
    from telcamp.channels.settings import get_channel_settings
    from telcamp.core.errors import Conflict
    from telcamp.dispatch import readiness
    from telcamp.dispatch.config import get_dispatch_settings

    from .conftest import CITY_HEAD

    monkeypatch.delenv("TELCAMP_DISPATCH_SMPP_BINDS")  # e-mail stays configured
    get_dispatch_settings.cache_clear()
    get_channel_settings.cache_clear()
    readiness.forget()
    cid = make_campaign(make_program())
    with session_scope() as s:
        approvals.submit(session=s, actor=MARKETER, campaign_id=cid)
    figures = _rehearse(cid)
    assert any("The sms channel is not configured" in w for w in figures["warnings"])
    assert not any("The email channel" in w for w in figures["warnings"])
    with session_scope() as s:
        approvals.approve(session=s, actor=CITY_HEAD, campaign_id=cid)
    mk = login("marketer", "P1")
    fragment = mk.get(f"/dispatch/campaigns/{cid}/progress", params={"lang": "ru"})
    assert fragment.status_code == 200
    assert 'data-testid="channel-note-sms"' in fragment.text and 'role="alert"' in fragment.text
    assert "Канал sms не настроен" in fragment.text
    assert 'channel-note-email' in fragment.text  # configured, but not dispatched here
    with session_scope() as s, pytest.raises(Conflict) as refused:
        schedule.launch(session=s, actor=MARKETER, campaign_id=cid)
    assert "cannot be launched" in refused.value.message and "sms" in refused.value.message
    r = mk.post(f"/api/campaigns/{cid}/launch")
    assert r.status_code == 409 and "sms channel is not configured" in r.json()["message"]
    # configured on the channel settings page: the launch goes through
    with session_scope() as s:
        from telcamp.core.security import system_principal

        config_store.save(s, actor=system_principal(), section="smpp_binds", value=[
            {"host": "127.0.0.1", "port": 9, "system_id": "t", "password": "t"}])
    assert mk.post(f"/api/campaigns/{cid}/launch").status_code == 200
