"""FastAPI dependencies: who is calling, and may they.

Every route declares its permission:

    @router.get("/api/segments")
    def list_segments(principal: Principal = Depends(require("segment.read"))): ...

`require(p)` returns a dependency object whose `.permission` is p (a test walks
app.routes and fails when a route has none). It authenticates by an
`Authorization: Bearer <token>` API token or the console session cookie, checks CSRF on
non-GET session requests, sets `request.state.user` (navigation, templates) and returns
the Principal. Unauthenticated: 401 JSON under /api, a redirect to /login for pages;
authenticated without the permission: 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from telcamp.access import csrf, sessions, tokens
from telcamp.access.permissions import PERMISSIONS
from telcamp.core.db import session_scope
from telcamp.core.errors import Forbidden, NotAuthenticated
from telcamp.core.security import Principal


class LoginRequired(NotAuthenticated):
    """A page was asked for without a session: send the browser to /login."""


class PageForbidden(Forbidden):
    """A page the role may not see: an HTML 403 rather than JSON."""


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


@dataclass(frozen=True)
class Identity:
    principal: Principal
    csrf_token: str | None  # set for cookie sessions only


def _lookup(bearer: str | None, cookie: str | None) -> Identity | None:
    with session_scope() as session:
        if bearer is not None:
            principal = tokens.resolve(session, token=bearer)
            if principal is None:
                raise NotAuthenticated("the API token is unknown or revoked")
            return Identity(principal, None)
        if cookie:
            found = sessions.resolve(session, token=cookie)
            if found is not None:
                return Identity(found[0], found[1].csrf_token)
    return None


async def identify(request: Request) -> Identity | None:
    """The caller's identity, or None when anonymous. Cached on the request."""
    cached = getattr(request.state, "identity", None)
    if isinstance(cached, Identity):
        return cached
    bearer = None
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, credential = auth.partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise NotAuthenticated("use 'Authorization: Bearer <token>'")
        bearer = credential.strip()
    identity = await run_in_threadpool(_lookup, bearer, request.cookies.get(sessions.COOKIE))
    if identity is not None:
        request.state.identity = identity
        request.state.user = identity.principal
        request.state.csrf_token = identity.csrf_token or ""
    return identity


class Require:
    """The dependency `require(permission)` returns; `.permission` names what it checks."""

    def __init__(self, permission: str) -> None:
        if permission not in PERMISSIONS:
            raise ValueError(f"unknown permission {permission!r} (see access/permissions.py)")
        self.permission = permission

    def __repr__(self) -> str:
        return f"require({self.permission!r})"

    async def __call__(self, request: Request) -> Principal:
        identity = await identify(request)
        if identity is None:
            if is_api(request):
                raise NotAuthenticated("log in or send an API token")
            raise LoginRequired("log in to see this page")
        if identity.csrf_token is not None:
            await csrf.check(request, identity.csrf_token)
        principal = identity.principal
        if not principal.can(self.permission):
            message = f"the role {principal.role} lacks the permission {self.permission}"
            if is_api(request):
                raise Forbidden(message)
            raise PageForbidden(message)
        return principal


def require(permission: str) -> Require:
    return Require(permission)
