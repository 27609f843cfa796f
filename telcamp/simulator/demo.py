"""What `telcamp demo` does for its SMS channel: start the simulator, point dispatch at it."""

from __future__ import annotations

import json
import os
from typing import Any

from telcamp.simulator.smsc import BackgroundSmsc, SmscSimulator, pick_port

BINDS_ENV = "TELCAMP_DISPATCH_SMPP_BINDS"
SOURCE_ENV = "TELCAMP_DISPATCH_SMS_SOURCE"


def demo_binds(host: str, port: int, system_id: str = "demo",
               password: str = "demo",  # noqa: S107 - the simulator's, checked by nobody
               ) -> list[dict[str, Any]]:
    return [{"host": host, "port": port, "system_id": system_id, "password": password,
             "name": "demo-smsc", "tps": 200}]


def configure_sms(host: str, port: int) -> list[dict[str, Any]]:
    """Set the SMS channel's binds in this process's environment (read by the server's
    dispatch loop at start) and forget cached dispatch settings so they are read again."""
    from telcamp.dispatch.config import get_dispatch_settings

    binds = demo_binds(host, port)
    os.environ[BINDS_ENV] = json.dumps(binds)
    os.environ.setdefault(SOURCE_ENV, "Telcamp")
    get_dispatch_settings.cache_clear()
    return binds


def sms_already_configured() -> str | None:
    """Why the demo should leave the SMS channel alone, or None."""
    if os.environ.get(BINDS_ENV):
        return f"{BINDS_ENV} is set"
    from telcamp.channels import config_store

    if config_store.stored_section("smpp_binds"):
        return "binds are saved on the channel settings page"
    return None


def start_demo_smsc(host: str = "127.0.0.1", *, delivery_rate: float = 0.95,
                    receipt_delay: float = 1.0) -> BackgroundSmsc:
    """Start the simulator in a background thread (port 2775, else a free one) and
    configure the SMS channel to use it."""
    sim = SmscSimulator(host=host, port=pick_port(host), delivery_rate=delivery_rate,
                        receipt_delay=receipt_delay)
    running = BackgroundSmsc(sim).start()
    configure_sms(host, sim.port)
    return running
