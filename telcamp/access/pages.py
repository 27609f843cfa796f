"""Console pages: login and logout; user and API-token administration for admins."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from telcamp.access import csrf, regions, service, sessions, tokens
from telcamp.access.deps import identify, require
from telcamp.access.permissions import ROLES
from telcamp.core.db import session_scope
from telcamp.core.errors import TelcampError
from telcamp.core.i18n import _
from telcamp.core.security import Principal
from telcamp.core.settings import get_settings
from telcamp.core.web import landing_path, register_nav, render

router = APIRouter(include_in_schema=False)
register_nav("/admin/users", _("Users"), "user.manage", order=90)
register_nav("/admin/tokens", _("API tokens"), "token.manage", order=90)


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths: "//evil.example" and "https://..." would be open redirects.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def landing(principal: Principal) -> str:
    """Where the role starts (after login, from the logo, from "/"): see
    telcamp.core.web.landing_path."""
    return landing_path(principal)


def _login_page(request: Request, *, error: str | None = None, status: int = 200,
                username: str = "", next_path: str | None = None) -> Response:
    """The form; `next_path` is where a refused attempt was going (the posted form's
    `next`), so a mistyped password does not lose it."""
    cookie, form_token = csrf.new_login_token()
    target = next_path if next_path is not None else request.query_params.get("next")
    response = render(request, "access/login.html", {
        "login_csrf": form_token, "error": error, "username": username, "nav": [],
        "next": _safe_next(target) or "",
    }, status_code=status)
    response.set_cookie(csrf.LOGIN_COOKIE, cookie, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", max_age=3600)
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    if request.cookies.get(sessions.COOKIE):
        identity = await identify(request)
        if identity is not None:  # already logged in: go where the login would have gone
            target = _safe_next(request.query_params.get("next"))
            return RedirectResponse(target or landing(identity.principal), status_code=303)
    return _login_page(request)


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form(""),
) -> Response:
    if not csrf.check_login_token(request.cookies.get(csrf.LOGIN_COOKIE), csrf_token):
        return _login_page(request, error=_("The form expired; please try again."),
                           status=403, username=username, next_path=next)
    ip = request.client.host if request.client else "unknown"
    with session_scope() as session:
        result = sessions.attempt_login(session, username=username, password=password, ip=ip)
        token = None
        if result.user is not None:
            token, _row = sessions.start(session, user=result.user, ip=ip)
            principal = service.principal_for(result.user)
    if result.error == "throttled":
        return _login_page(request, status=429, username=username, next_path=next, error=_(
            "Too many failed logins. Try again in 15 minutes."))
    if token is None:
        return _login_page(request, status=401, username=username, next_path=next,
                           error=_("Wrong username or password."))
    response = RedirectResponse(_safe_next(next) or landing(principal), status_code=303)
    response.set_cookie(
        sessions.COOKIE, token, httponly=True, samesite="lax",
        secure=request.url.scheme == "https", path="/",
        max_age=get_settings().session_max_age_s,
    )
    response.delete_cookie(csrf.LOGIN_COOKIE)
    return response


def _end_session(token: str) -> None:
    with session_scope() as session:
        sessions.end(session, token=token)


@router.post("/logout")
async def logout(request: Request) -> Response:
    identity = await identify(request)
    if identity is not None and identity.csrf_token is not None:
        await csrf.check(request, identity.csrf_token)
        await run_in_threadpool(_end_session, request.cookies.get(sessions.COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


# --- users -------------------------------------------------------------------------------

def _region_choices(principal: Principal) -> list[dict[str, Any]]:
    codes = regions.scope_codes(principal)
    return [r for r in regions.list_regions() if codes is None or r["code"] in codes]


def _users_page(request: Request, principal: Principal, *, error: str | None = None,
                notice: str | None = None, status: int = 200) -> Response:
    with session_scope() as session:
        users = service.list_users(session, actor=principal)
    return render(request, "access/users.html", {
        "users": users, "roles": list(ROLES), "regions": _region_choices(principal),
        "error": error, "notice": notice, "principal": principal,
    }, status_code=status)


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(
    request: Request, principal: Principal = Depends(require("user.manage"))
) -> Response:
    return _users_page(request, principal, notice=request.query_params.get("done"))


@router.post("/admin/users", response_class=HTMLResponse)
def users_create(
    request: Request,
    username: str = Form(...),
    password: str = Form(...),
    role: str = Form(...),
    region_code: str = Form(""),
    email: str = Form(""),
    principal: Principal = Depends(require("user.manage")),
) -> Response:
    try:
        with session_scope() as session:
            service.create_user(session, username=username.strip(), password=password,
                                role=role, region_code=region_code or None, actor=principal,
                                email=email or None)
    except TelcampError as exc:
        return _users_page(request, principal, error=exc.message, status=exc.status)
    return RedirectResponse("/admin/users?done=" + username.strip(), status_code=303)


@router.post("/admin/users/{username}", response_class=HTMLResponse)
def users_change(
    request: Request,
    username: str,
    action: str = Form(...),
    role: str = Form(""),
    region_code: str = Form(""),
    password: str = Form(""),
    email: str = Form(""),
    principal: Principal = Depends(require("user.manage")),
) -> Response:
    """One form per row: action is 'update' (role, region, e-mail), 'password', 'disable'
    or 'enable'."""
    try:
        with session_scope() as session:
            user = service.get_user(session, username=username)
            if not regions.in_scope(principal, user.region_code):
                raise TelcampError(_("No such user."))
            if action == "update":
                service.update_user(session, username=username, actor=principal,
                                    role=role or None, region_code=region_code or None,
                                    clear_region=region_code == "", email=email)
            elif action == "password":
                service.set_password(session, username=username, password=password,
                                     actor=principal)
            elif action in ("disable", "enable"):
                service.set_disabled(session, username=username, actor=principal,
                                     disabled=action == "disable")
            else:
                raise TelcampError(f"unknown action {action!r}")
    except TelcampError as exc:
        return _users_page(request, principal, error=exc.message, status=exc.status)
    return RedirectResponse("/admin/users?done=" + username, status_code=303)


# --- tokens ------------------------------------------------------------------------------

def _tokens_page(request: Request, principal: Principal, *, error: str | None = None,
                 created: str | None = None, status: int = 200) -> Response:
    with session_scope() as session:
        rows = tokens.list_tokens(session, actor=principal)
    return render(request, "access/tokens.html", {
        "tokens": rows, "roles": list(ROLES), "regions": _region_choices(principal),
        "error": error, "created": created, "principal": principal,
    }, status_code=status)


@router.get("/admin/tokens", response_class=HTMLResponse)
def tokens_page(
    request: Request, principal: Principal = Depends(require("token.manage"))
) -> Response:
    return _tokens_page(request, principal)


@router.post("/admin/tokens", response_class=HTMLResponse)
def tokens_create(
    request: Request,
    name: str = Form(...),
    role: str = Form(...),
    region_code: str = Form(""),
    principal: Principal = Depends(require("token.manage")),
) -> Response:
    try:
        with session_scope() as session:
            text, _row = tokens.create(session, name=name, role=role,
                                       region_code=region_code or None, actor=principal)
    except TelcampError as exc:
        return _tokens_page(request, principal, error=exc.message, status=exc.status)
    # Shown in this response only; never stored in clear, never shown again.
    return _tokens_page(request, principal, created=text, status=201)


@router.post("/admin/tokens/{token_id}/revoke", response_class=HTMLResponse)
def tokens_revoke(
    request: Request, token_id: int, principal: Principal = Depends(require("token.manage"))
) -> Response:
    try:
        with session_scope() as session:
            tokens.revoke(session, token_id=token_id, actor=principal)
    except TelcampError as exc:
        return _tokens_page(request, principal, error=exc.message, status=exc.status)
    return RedirectResponse("/admin/tokens", status_code=303)
