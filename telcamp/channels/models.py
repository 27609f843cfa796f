"""Channel settings an admin saved on the channel settings page (one row per section)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from telcamp.core.db import Base, UTCDateTime


class ChannelConfig(Base):
    __tablename__ = "channel_config"

    # 'smtp', 'webhooks', 'smpp_binds', 'windows', 'unit_prices', ...
    section: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
