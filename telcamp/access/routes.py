"""Which permission each route declares (for the route-walk tests and docs)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from telcamp.access.deps import Require


def walk(routes: list[BaseRoute]) -> list[BaseRoute]:
    """Every route, looking inside included routers (FastAPI >= 0.16x keeps them as nodes)."""
    out: list[BaseRoute] = []
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            out.extend(walk(inner.routes))
        else:
            out.append(r)
    return out


def all_routes(app: FastAPI) -> list[BaseRoute]:
    return walk(app.routes)


def api_routes(app: FastAPI) -> list[APIRoute]:
    return [r for r in all_routes(app) if isinstance(r, APIRoute)]


def declared(route: APIRoute) -> list[str]:
    """The permissions a route's dependencies require (any depth)."""
    found: list[str] = []
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Require):
            found.append(dep.call.permission)
        stack.extend(dep.dependencies)
    return found
