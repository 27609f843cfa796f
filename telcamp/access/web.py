"""Hooks the access layer installs into the app: page redirects for 401, HTML for 403,
the one JSON error shape for HTTP errors under /api, and the production safety check."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from telcamp.access.deps import LoginRequired, PageForbidden
from telcamp.core.errors import TelcampError
from telcamp.core.settings import Settings, get_settings

DEFAULT_SECRET = Settings.model_fields["secret_key"].default


class InsecureConfiguration(TelcampError):
    code = "insecure_configuration"
    status = 500


def check_production(settings: Settings) -> None:
    if settings.mode == "production" and settings.secret_key in {DEFAULT_SECRET, ""}:
        raise InsecureConfiguration(
            "production mode refuses to start with the default secret key: set "
            "TELCAMP_SECRET_KEY to a long random value", field="secret_key",
        )


def install(app: FastAPI) -> None:
    check_production(get_settings())

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        location = "/login?next=" + quote(target, safe="")
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": location})
        return RedirectResponse(location, status_code=303)

    @app.exception_handler(PageForbidden)
    async def _page_forbidden(request: Request, exc: PageForbidden) -> Response:
        from telcamp.access.pages import landing
        from telcamp.core.web import render

        user = getattr(request.state, "user", None)
        if request.url.path == "/" and user is not None and landing(user) != "/":
            # "/" is where the logo and bookmarks lead: a role without the home page
            # goes to its own landing page (the agent to the lookup) instead of a 403.
            return RedirectResponse(landing(user), status_code=303)

        return render(request, "access/forbidden.html", {"message": exc.message},
                      status_code=403)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        codes = {401: "not_authenticated", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed"}
        return JSONResponse(
            {"code": codes.get(exc.status_code, f"http_{exc.status_code}"),
             "message": str(exc.detail)},
            status_code=exc.status_code, headers=getattr(exc, "headers", None),
        )
