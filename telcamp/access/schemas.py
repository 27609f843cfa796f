"""API shapes for users and tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class UserCreate(BaseModel):
    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=8, max_length=200)
    role: str
    region_code: str | None = None
    email: str | None = None


class UserUpdate(BaseModel):
    role: str | None = None
    region_code: str | None = None
    email: str | None = None  # "" removes it
    disabled: bool | None = None
    password: str | None = Field(None, min_length=8, max_length=200)


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: str
    region_code: str | None
    region_name: str | None
    email: str | None = None
    disabled: bool
    created_at: datetime


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: str
    region_code: str | None = None


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    role: str
    region_code: str | None
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="The token itself. Shown only in this response.")


class Me(BaseModel):
    username: str
    role: str
    region_code: str | None
    region_name: str | None
    permissions: list[str]
