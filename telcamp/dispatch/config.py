"""Dispatch settings (TELCAMP_DISPATCH_*), typed and described like core settings."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DispatchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TELCAMP_DISPATCH_", env_file=".env",
                                      extra="ignore")

    interval_s: float = Field(
        1.0, ge=0, description="How often the server's dispatch loop looks for due contacts "
        "when idle; 0 turns the in-server dispatcher off (run `telcamp dispatch run`).")
    channels: list[str] = Field(
        default_factory=lambda: ["sms"], description="Channels the server dispatches.")
    batch_max: int = Field(1000, ge=1, le=10000,
                           description="Most contacts claimed per query.")
    lease_s: float = Field(
        60.0, gt=0, description="A claimed contact's lease; renewed while its batch is in "
        "flight. A 'sending' contact past its lease belonged to a dead worker.")
    resend_unknown: bool = Field(
        False, description="After a worker died mid-batch, send the contacts whose outcome is "
        "unknown again (at least once) instead of marking them 'unknown' (at most once).")
    receipt_grace_s: float = Field(
        5.0, description="How long a receipt whose message id is not yet recorded waits "
        "before it is stored as an orphan.")
    history_every_s: float = Field(
        2.0, description="How often outcomes are copied to the warehouse contact history.")
    smpp_binds: list[dict[str, Any]] = Field(
        default_factory=list, description="SMS channel binds (JSON list of BindConfig fields: "
        "host, port, system_id, password, tps, window, ...). Empty = no SMS channel.")
    sms_source: str = Field("", description="Source address (sender) of campaign SMS.")
    stop_keywords: list[str] = Field(
        default_factory=lambda: ["STOP", "СТОП", "退订"], description="An incoming SMS "
        "whose whole text is one of these (any case, spaces ignored) puts the sender on the "
        "opt-out list 'unsubscribed'.")
    respond_window_h: float = Field(
        72.0, ge=0, description="An incoming SMS counts as the answer to the latest campaign "
        "SMS sent to that number within this many hours (progress bucket 'responded').")
    mo_parts_expire_s: float = Field(
        86400.0, gt=0, description="Parts of a multi-part incoming SMS wait this long for "
        "the rest (across restarts and binds); then the parts received are stored as one "
        "'incomplete' reply, not acted on, and a warning is logged.")
    retry_max_attempts: int = Field(
        5, ge=1, le=100, description="Attempts of one contact whose channel answered "
        "'retry' (SMTP 4xx, webhook down) before it fails.")
    retry_backoff_s: float = Field(
        30.0, ge=0, description="Wait before the first retry of a contact; doubles with "
        "each further attempt.")
    retry_backoff_max_s: float = Field(
        3600.0, ge=0, description="Longest wait between two attempts of one contact.")


@lru_cache
def get_dispatch_settings() -> DispatchSettings:
    return DispatchSettings()
