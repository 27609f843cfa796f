"""Who is acting. Core glue shared by every domain; telcamp.access fills it in."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    """The authenticated actor of a request, command or job.

    region_code is the node of the region tree the user belongs to (province, city or
    county); everything they see or target is limited to its subtree. None means the
    whole operator (used by system jobs and the CLI run by operator IT).
    """

    username: str
    role: str
    permissions: frozenset[str] = field(default_factory=frozenset)
    region_code: str | None = None
    user_id: int | None = None
    region_name: str | None = None

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def has_pii(self) -> bool:
        return "pii.read" in self.permissions


def system_principal() -> Principal:
    """The CLI and background jobs act as the operator, unrestricted."""
    from telcamp.access.permissions import PERMISSIONS

    return Principal(username="system", role="admin", permissions=frozenset(PERMISSIONS))
