"""End to end as in `telcamp demo`: the simulator started and configured by the demo's
function, the SMS channel built by the dispatch registry from those settings, contacts of a
running campaign dispatched until their receipts make them delivered / undelivered."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from dispatch import world

from telcamp.dispatch import registry
from telcamp.dispatch.config import get_dispatch_settings
from telcamp.dispatch.worker import Worker
from telcamp.simulator import demo


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    from telcamp.channels.settings import get_channel_settings

    for name in (demo.BINDS_ENV, demo.SOURCE_ENV, demo.SMTP_ENV, demo.CHANNELS_ENV):
        monkeypatch.setenv(name, "x")  # set+del: restored after the test
        monkeypatch.delenv(name)
    get_dispatch_settings.cache_clear()
    get_channel_settings.cache_clear()
    yield
    get_dispatch_settings.cache_clear()
    get_channel_settings.cache_clear()


@pytest.mark.parametrize(("rate", "final"), [(1.0, "delivered"), (0.0, "undelivered")])
def test_demo_campaign_reaches_a_final_state(db: str, clean_env: Any, rate: float,
                                             final: str) -> None:
    world.setup_warehouse(5)
    camp = world.make_campaign(message="Offer for {{ msisdn }}")
    world.add_contacts(camp, range(5))
    assert demo.sms_already_configured() is None
    running = demo.start_demo_smsc(delivery_rate=rate, receipt_delay=0.05)
    try:
        channel = registry.build("sms", get_dispatch_settings())
        assert channel is not None
        worker = Worker(channel, grace_s=0.5)

        async def scenario() -> None:
            await channel.start(worker._sink)
            while await worker.step():
                pass
            deadline = asyncio.get_running_loop().time() + 20
            while sorted(st for st, _ in world.states(camp[1]).values()) != [final] * 5:
                await worker._housekeeping(force=True)
                assert asyncio.get_running_loop().time() < deadline, world.states(camp[1])
                await asyncio.sleep(0.1)
            await channel.close()

        asyncio.run(asyncio.wait_for(scenario(), 60))
    finally:
        running.stop()
    assert running.sim.stats.submits == 5


def test_demo_email_goes_to_the_mail_sink(db: str, clean_env: Any) -> None:
    from telcamp.core import warehouse

    world.setup_warehouse(3)
    with warehouse.connect() as con:  # the profile the e-mail channel reads addresses from
        con.execute("CREATE TABLE profile AS SELECT msisdn, 'u' || msisdn || '@example.test' "
                    "AS email FROM subscribers")
    camp = world.make_campaign(channel="email", message="Subject: Deal\nHi {{ msisdn }}")
    world.add_contacts(camp, range(3), channel="email")
    assert demo.email_already_configured() is None
    sink = demo.start_demo_smtp()
    try:
        settings = get_dispatch_settings()
        assert settings.channels == ["sms", "email"]  # the server now dispatches e-mail
        channel = registry.build("email", settings)
        assert channel is not None
        asyncio.run(Worker(channel, idle_s=0.05).run(once=True))
    finally:
        sink.stop()
    assert sink.handler.accepted == 3
    assert sorted(st for st, _ in world.states(camp[1]).values()) == ["submitted"] * 3
    assert demo.email_already_configured() == f"{demo.SMTP_ENV} is set"
