"""Registers the e-mail and webhook channels with the dispatch registry.

Imported at the end of telcamp.dispatch.registry, so `registry.build("email", ...)` works
wherever the registry is used (server, `telcamp dispatch run`). A factory returns None
when its channel is not configured, like the SMS one.
"""

from __future__ import annotations

from telcamp.channels.base import Channel
from telcamp.channels.settings import ChannelSettings
from telcamp.dispatch import registry
from telcamp.dispatch.config import DispatchSettings

# Channel names campaigns offer (campaigns.schemas.CHANNELS) that a webhook serves.
WEBHOOK_NAMES = ("ivr", "push", "mms")


def current() -> ChannelSettings:
    """Environment settings with the admin's stored overrides (channel settings page)."""
    from telcamp.channels import config_store

    return config_store.effective_settings()


def email_channel(settings: ChannelSettings) -> Channel | None:
    if settings.smtp is None:
        return None
    from telcamp.channels.email import EmailChannel

    return EmailChannel(settings.smtp, public_url=settings.public_url,
                        unsubscribe_mailto=settings.unsubscribe_mailto)


def webhook_channel(name: str, settings: ChannelSettings) -> Channel | None:
    config = settings.webhooks.get(name)
    if config is None:
        return None
    from telcamp.channels.webhook import WebhookChannel

    return WebhookChannel(name, config, public_url=settings.public_url)


def _email(_d: DispatchSettings) -> Channel | None:
    return email_channel(current())


def _webhook(name: str) -> registry.Factory:
    def factory(_d: DispatchSettings) -> Channel | None:
        return webhook_channel(name, current())
    return factory


# SMPP binds saved on the channel settings page replace the environment's; the SMS
# channel itself stays dispatch's (registry's "sms" factory, wrapped, not rewritten).
_env_sms = registry._FACTORIES.get("sms")


def _sms(d: DispatchSettings) -> Channel | None:
    from telcamp.channels import config_store

    stored = config_store.stored_section("smpp_binds")
    if stored:
        d = d.model_copy(update={"smpp_binds": stored})
    return _env_sms(d) if _env_sms is not None else None


registry.register("sms", _sms)
registry.register("email", _email)


def register_webhooks(names: list[str] | set[str]) -> None:
    """Make webhook channel names known to the registry (env, stored, or just saved)."""
    for name in names:
        if name not in registry.names():
            registry.register(name, _webhook(name))


def _configured_names() -> set[str]:
    # Any channel the server is told to dispatch that nobody else registered is served
    # by a webhook (configured in the environment or on the settings page). No database
    # read here: this runs at import time.
    others = {"sms", "fake", "email", "call"}
    # Uncached on purpose: caching here would pin the environment of import time.
    return {n for n in DispatchSettings().channels if n not in others}


register_webhooks(set(WEBHOOK_NAMES) | set(ChannelSettings().webhooks) | _configured_names())
