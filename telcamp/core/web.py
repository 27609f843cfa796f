"""Server-rendered pages: one Jinja2 environment with gettext, and `render()`."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from telcamp.core.discovery import template_dirs
from telcamp.core.i18n import (
    LOCALE_NAMES,
    format_number,
    get_translator,
    negotiate,
    say_message,
)


@lru_cache
def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in template_dirs()]),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
    )
    return env


def request_locale(request: Request) -> str:
    return negotiate(
        request.query_params.get("lang"),
        request.cookies.get("lang"),
        request.headers.get("accept-language", ""),
    )


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    locale = request_locale(request)
    tr = get_translator(locale)
    env = environment()
    tmpl = env.get_template(template)
    ctx: dict[str, Any] = {
        "request": request,
        "locale": locale,
        "locales": LOCALE_NAMES,
        "_": tr.gettext,
        "gettext": tr.gettext,
        "ngettext": tr.ngettext,
        # an error or reason a domain wrote in English, in the reader's language (the
        # domains register their wordings with core.i18n; else the catalogue as is)
        "say": lambda text: say_message(str(text), tr.gettext),
        # numbers as the reader's language writes them: 5,112 (en, zh), 5 112 (ru, where
        # a comma is the decimal mark)
        "num": lambda value, digits=0: format_number(value, locale, digits),
        "current_user": getattr(request.state, "user", None),
        "nav": nav_items(request),
        # the logo's target: the first page the user may see (the home page for most
        # roles, the subscriber lookup for agents), never a 403
        "home_path": landing_path(getattr(request.state, "user", None)),
        "csrf_token": getattr(request.state, "csrf_token", ""),
    }
    ctx.update(context or {})
    html = tmpl.render(**ctx)
    response = HTMLResponse(html, status_code=status_code)
    if request.query_params.get("lang") == locale:
        response.set_cookie("lang", locale, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


# Navigation entries: (path, label msgid, permission or None). Domains append to NAV at
# import time so the base layout shows their pages; the access layer filters by permission.
NAV: list[tuple[str, str, str | None]] = []


_NAV_ORDER: dict[str, int] = {}


def register_nav(
    path: str, label: str, permission: str | None = None, *, order: int = 50
) -> None:
    """`order` places the entry (home 0, domains 50, administration 90); entries of equal
    order keep the order domains were discovered in."""
    if all(p != path for p, _l, _perm in NAV):
        NAV.append((path, label, permission))
        _NAV_ORDER[path] = order
        NAV.sort(key=lambda entry: _NAV_ORDER.get(entry[0], 50))


def nav_items(request: Request) -> list[tuple[str, str]]:
    user = getattr(request.state, "user", None)
    out = []
    for path, label, perm in NAV:
        if perm is not None and user is not None and hasattr(user, "can") and not user.can(perm):
            continue
        out.append((path, label))
    return out


# A role without the home page starts on its main page: an agent on the subscriber lookup.
LANDING_PREFERENCE = ("/", "/subscribers")


def landing_path(user: Any) -> str:
    """The home page, else the role's main page, else the first console page the role may
    see, else the API docs (a channel system's role has no console page)."""
    if user is None or not hasattr(user, "can"):
        return "/"
    allowed = [path for path, _label, perm in NAV if perm is None or user.can(perm)]
    for path in LANDING_PREFERENCE:
        if path in allowed:
            return path
    return allowed[0] if allowed else "/docs"
