"""CSRF protection.

Logged-in console requests: the session row holds a random CSRF token; every non-GET
request made with the session cookie must echo it in the X-CSRF-Token header (htmx sends
it from base.html) or a `csrf_token` form field. Bearer-token requests carry no cookie a
browser would attach on its own, so they need no CSRF token.

The login form has no session yet: it uses a double-submit token, a random value in a
cookie and the same value signed with the secret key in the form.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from telcamp.core.errors import Forbidden
from telcamp.core.settings import get_settings

HEADER = "X-CSRF-Token"
FIELD = "csrf_token"
LOGIN_COOKIE = "telcamp_login_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfFailed(Forbidden):
    code = "csrf_failed"


async def submitted_token(request: Request) -> str | None:
    header = request.headers.get(HEADER)
    if header:
        return header
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(FIELD)
        return value if isinstance(value, str) else None
    return None


async def check(request: Request, expected: str) -> None:
    if request.method in SAFE_METHODS:
        return
    given = await submitted_token(request)
    if not given or not hmac.compare_digest(given, expected):
        raise CsrfFailed("missing or wrong CSRF token; reload the page and try again")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt="telcamp-login-csrf")


def new_login_token() -> tuple[str, str]:
    """(cookie value, form value) for the login form."""
    raw = secrets.token_urlsafe(24)
    return raw, _serializer().dumps(raw)


def check_login_token(cookie: str | None, form_value: str | None) -> bool:
    if not cookie or not form_value:
        return False
    try:
        raw = _serializer().loads(form_value, max_age=get_settings().session_max_age_s)
    except BadSignature:
        return False
    return isinstance(raw, str) and hmac.compare_digest(raw, cookie)
