"""Settings of the e-mail, webhook and call-list channels (TELCAMP_CHANNELS_*).

The environment gives the start-up values; an admin's edits on the channel settings page
are stored in the operational table `channel_config` (telcamp.channels.models) and win
over the environment (`effective()`), so a change takes effect at the next worker start
without editing files on the server. Secrets (SMTP password, webhook secrets) are stored
but never shown back.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SmtpConfig(BaseModel):
    host: str = Field("127.0.0.1", description="SMTP server host.")
    port: int = Field(25, ge=1, le=65535, description="SMTP server port.")
    username: str | None = Field(None, description="SMTP login (none: no AUTH).")
    password: str | None = Field(None, description="SMTP password (never shown back).")
    use_tls: bool = Field(False, description="Implicit TLS (port 465 style).")
    start_tls: bool = Field(False, description="STARTTLS after connecting.")
    sender: str = Field("offers@localhost", description="From address of campaign e-mail.")
    subject: str = Field("Offer", description="Subject when the message gives none "
                         "(a first line 'Subject: ...' in the template sets one).")
    pool_size: int = Field(8, ge=1, le=256, description="Open SMTP connections kept.")
    timeout_s: float = Field(30.0, gt=0, description="Timeout of one SMTP command.")
    tps: float | None = Field(None, gt=0, description="E-mails per second (none: no limit).")
    soft_retries: int = Field(5, ge=0, le=100, description="Times one contact may be "
                              "answered 4xx and sent again before it fails.")
    return_path: str | None = Field(
        None, pattern=r"^[^@+\s]+@[^@\s]+$", description="Bounce address base, e.g. "
        "bounce@bounces.example.org: each e-mail's envelope sender becomes "
        "bounce+<token>@bounces.example.org (VERP), read by `telcamp bounce-server`; none = "
        "the From address (bounces are not read).")


class WebhookConfig(BaseModel):
    url: str = Field(description="Endpoint receiving signed JSON batches (http or https).")
    secret: str = Field(description="HMAC-SHA256 key shared with the endpoint (never shown).")
    timeout_s: float = Field(10.0, gt=0, description="Timeout of one POST.")
    retries: int = Field(4, ge=0, le=20, description="Retries after the first attempt.")
    backoff_s: float = Field(1.0, ge=0, description="First back-off; doubles each retry.")
    backoff_max_s: float = Field(60.0, ge=0, description="Longest back-off.")
    batch_size: int = Field(500, ge=1, le=10000, description="Contacts per POST.")
    tps: float | None = Field(None, gt=0, description="Contacts per second (none: no limit).")


class ChannelSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TELCAMP_CHANNELS_", env_file=".env",
                                      extra="ignore")

    smtp: SmtpConfig | None = Field(
        None, description="The e-mail channel (JSON object of SmtpConfig fields); none = "
        "no e-mail channel.")
    webhooks: dict[str, WebhookConfig] = Field(
        default_factory=dict, description="Webhook channels by channel name (ivr, push, mms, "
        "...): JSON object name → WebhookConfig fields.")
    public_url: str = Field(
        "http://127.0.0.1:8000", description="Public base URL of this server, for the "
        "unsubscribe link in e-mail.")
    unsubscribe_mailto: str = Field(
        "unsubscribe@localhost", description="Mailbox of the List-Unsubscribe mailto link.")
    call_groups: list[str] = Field(
        default_factory=lambda: ["group-1"], description="Agent groups a call-list wave is "
        "split across (one CSV per group).")
    test_send_max: int = Field(
        100, ge=1, description="Most test numbers one test send goes to.")


@lru_cache
def get_channel_settings() -> ChannelSettings:
    return ChannelSettings()


def effective(overrides: dict[str, Any] | None = None) -> ChannelSettings:
    """The environment's settings with the admin's stored overrides on top."""
    base = get_channel_settings().model_dump()
    if overrides:
        base.update(overrides)
    return ChannelSettings.model_validate(base)
