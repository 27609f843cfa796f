"""Channel registry: name → factory building the channel from settings.

Other channels (email, webhook, call list) register themselves here with
`register("email", factory)`; a factory returns None when the channel is not configured.
"""

from __future__ import annotations

from collections.abc import Callable

from telcamp.channels.base import Channel
from telcamp.dispatch.config import DispatchSettings

Factory = Callable[[DispatchSettings], Channel | None]
_FACTORIES: dict[str, Factory] = {}


def register(name: str, factory: Factory) -> None:
    _FACTORIES[name] = factory


def names() -> list[str]:
    return sorted(_FACTORIES)


def build(name: str, settings: DispatchSettings) -> Channel | None:
    if name not in _FACTORIES:
        raise KeyError(f"unknown channel {name!r} (known: {', '.join(names()) or 'none'})")
    return _FACTORIES[name](settings)


def _sms(settings: DispatchSettings) -> Channel | None:
    if not settings.smpp_binds:
        return None
    from telcamp.channels.smpp import BindConfig
    from telcamp.channels.sms import SmsChannel

    return SmsChannel([BindConfig(**b) for b in settings.smpp_binds], source=settings.sms_source)


def _fake(_settings: DispatchSettings) -> Channel | None:
    from telcamp.channels.fake import FakeChannel

    return FakeChannel("fake")


register("sms", _sms)
register("fake", _fake)

# E-mail and webhook channels (H11) register themselves; imported last, after register().
import telcamp.channels.plugins  # noqa: E402, F401
