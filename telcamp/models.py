"""Imports every domain's models so Alembic and create_all see the whole schema."""

from __future__ import annotations

from telcamp.core.db import Base
from telcamp.core.discovery import domain_modules

domain_modules("models")

metadata = Base.metadata
