"""What `telcamp demo` does for its SMS channel: start the simulator, point dispatch at it."""

from __future__ import annotations

import json
import os
from typing import Any

from telcamp.simulator.smsc import BackgroundSmsc, SmscSimulator, pick_port
from telcamp.simulator.smtp import SmtpSink

BINDS_ENV = "TELCAMP_DISPATCH_SMPP_BINDS"
SOURCE_ENV = "TELCAMP_DISPATCH_SMS_SOURCE"
SMTP_ENV = "TELCAMP_CHANNELS_SMTP"
CHANNELS_ENV = "TELCAMP_DISPATCH_CHANNELS"


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


def _already(env: str, section: str) -> str | None:
    if os.environ.get(env):
        return f"{env} is set"
    from telcamp.channels import config_store

    if config_store.stored_section(section):
        return f"{section} is saved on the channel settings page"
    return None


def sms_already_configured() -> str | None:
    """Why the demo should leave the SMS channel alone, or None."""
    return _already(BINDS_ENV, "smpp_binds")


def email_already_configured() -> str | None:
    """Why the demo should leave the e-mail channel alone, or None."""
    return _already(SMTP_ENV, "smtp")


def start_demo_smsc(host: str = "127.0.0.1", *, delivery_rate: float = 0.95,
                    receipt_delay: float = 1.0) -> BackgroundSmsc:
    """Start the simulator in a background thread (port 2775, else a free one) and
    configure the SMS channel to use it."""
    sim = SmscSimulator(host=host, port=pick_port(host), delivery_rate=delivery_rate,
                        receipt_delay=receipt_delay)
    running = BackgroundSmsc(sim).start()
    configure_sms(host, sim.port)
    return running


def configure_email(host: str, port: int) -> None:
    """Point the e-mail channel at the sink and have the server dispatch e-mail too (unless
    the channels to dispatch are set explicitly)."""
    from telcamp.channels.settings import get_channel_settings
    from telcamp.dispatch.config import get_dispatch_settings

    os.environ[SMTP_ENV] = json.dumps({"host": host, "port": port,
                                       "sender": "offers@demo.telcamp.local"})
    os.environ.setdefault(CHANNELS_ENV, json.dumps(["sms", "email"]))
    get_channel_settings.cache_clear()
    get_dispatch_settings.cache_clear()


def start_demo_smtp(host: str = "127.0.0.1") -> SmtpSink:
    sink = SmtpSink(host).start()
    configure_email(host, sink.port)
    return sink


def start_demo_channels(console: Any) -> None:
    """What `telcamp demo` runs before serving: a simulated SMSC and a mail sink, each only
    when its channel is not configured already."""
    why = sms_already_configured()
    if why is None:
        smsc = start_demo_smsc(host="127.0.0.1")
        console.print(f"SMS channel: simulated SMSC on 127.0.0.1:{smsc.sim.port}")
    else:
        console.print(f"SMS channel left as configured ({why})")
    why = email_already_configured()
    if why is None:
        sink = start_demo_smtp()
        console.print(f"E-mail channel: demo mail sink on 127.0.0.1:{sink.port}")
    else:
        console.print(f"E-mail channel left as configured ({why})")
