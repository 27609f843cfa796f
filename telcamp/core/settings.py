"""Typed settings, read from TELCAMP_* environment variables (and a .env file)."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TELCAMP_", env_file=".env", extra="ignore")

    mode: str = Field(
        "development",
        description="development or production. Production refuses to start with default secrets.",
    )
    var_dir: Path = Field(
        Path("var"), description="Folder for the embedded stores and runtime files."
    )
    database_url: str | None = Field(
        None,
        description="Operational database URL (SQLAlchemy). Default: SQLite file var/telcamp.db. "
        "Production: postgresql+psycopg://user@host/db.",
    )
    warehouse_path: Path | None = Field(
        None, description="DuckDB warehouse file. Default: var/warehouse.duckdb."
    )
    clock: datetime | None = Field(
        None,
        description="Freeze 'now' at this ISO 8601 instant (with offset); for tests and demos.",
    )
    as_of_date: date | None = Field(
        None,
        description="As-of date of derived features; default: the last day of loaded usage.",
    )
    msisdn_country_code: str | None = Field(
        None, pattern=r"^[1-9][0-9]{0,2}$",
        description="The operator's country code (e.g. 7, 86). Set with "
        "msisdn_national_digits, numbers typed onto lists in the national form (8 912 "
        "000-00-03, 912 000-00-03; 138 1234 5678) are read as international, and numbers "
        "of another country are refused: they can never be a subscriber.",
    )
    msisdn_national_digits: int | None = Field(
        None, ge=4, le=14,
        description="Digits of a national (significant) number: 10 in Russia, 11 in China.",
    )
    msisdn_trunk_prefix: str = Field(
        "", pattern=r"^[0-9]{0,2}$",
        description="The national trunk prefix written before a national number, if any: "
        "8 in Russia (8 912 000-00-03); empty in China for mobile numbers.",
    )
    new_subscriber_days: int = Field(
        30, description="A subscriber is 'new' (is_new) while tenure_days is below this."
    )
    scoring_config: Path | None = Field(
        None,
        description="YAML file with value-score factors, weights, tier thresholds and churn-risk "
        "weights. Default: the one shipped in telcamp/warehouse/scoring.yaml.",
    )
    orphan_usage: str = Field(
        "reject",
        description="What to do with usage, product event and payment rows of unknown "
        "subscribers: 'reject' the file, or 'keep' them aside as orphans (usage_orphans, "
        "product_events_orphans, payments_orphans) and report their count.",
    )
    secret_key: str = Field(
        "dev-insecure-secret-key",
        description="Secret for session cookies and CSRF tokens. Must be set in production.",
    )
    session_max_age_s: int = Field(8 * 3600, description="Console session lifetime, seconds.")
    node_modules: Path = Field(
        Path("node_modules"), description="Where `npm install` put the front-end packages."
    )
    recent_contact_days: int = Field(
        7,
        ge=0,
        description="Default exclusion: leave out subscribers contacted by any campaign in the "
        "last this many days (0 turns the rule off).",
    )
    warehouse_lock_timeout_s: float = Field(
        30.0,
        description="How long a warehouse writer waits for another process to release the "
        "DuckDB file before giving a clear error.",
    )
    warehouse_memory_limit: str | None = Field(
        None,
        description="DuckDB memory_limit of every warehouse connection (e.g. 6GB); larger "
        "work spills to disk. Default: DuckDB's own (80% of RAM).",
    )
    smtp_host: str = Field("127.0.0.1", description="SMTP server for e-mail notifications.")
    smtp_port: int = Field(25, description="SMTP server port.")
    mail_from: str = Field(
        "telcamp@localhost", description="Sender address of notifications Telcamp e-mails."
    )
    channel_unit_prices: dict[str, float] = Field(
        default_factory=lambda: {"sms": 0.05, "email": 0.001, "ivr": 0.20, "call": 1.50,
                                 "push": 0.002, "mms": 0.15},
        description="Cost of one contact per channel (JSON object), used by campaign "
        "rehearsal to forecast cost.",
    )
    approval_budget_threshold: float = Field(
        100000.0,
        description="A campaign whose budget is above this also needs the province head's "
        "approval, whatever its region level.",
    )
    sms_max_parts: int = Field(
        6, ge=1, description="Longest SMS a campaign message may be, in concatenated parts."
    )
    scheduler_interval_s: float = Field(
        60.0,
        ge=0,
        description="How often the server's campaign scheduler tick runs (automatic launch, "
        "due waves); 0 turns the in-server scheduler off.",
    )

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'telcamp.db').as_posix()}"

    @property
    def warehouse_file(self) -> Path:
        return self.warehouse_path or self.var_dir / "warehouse.duckdb"


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
