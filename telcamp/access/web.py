"""Hooks the access layer installs into the app: page redirects for 401, HTML for 403,
the one JSON error shape for HTTP errors under /api, and the production safety check."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from telcamp.access.deps import LoginRequired, PageForbidden
from telcamp.core.errors import TelcampError
from telcamp.core.i18n import _
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
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        codes = {401: "not_authenticated", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed"}
        if wants_page(request):
            return error_page(request, exc.status_code, str(exc.detail))
        return JSONResponse(
            {"code": codes.get(exc.status_code, f"http_{exc.status_code}"),
             "message": str(exc.detail)},
            status_code=exc.status_code, headers=getattr(exc, "headers", None),
        )


def wants_page(request: Request) -> bool:
    """A browser asking for a console page (not the API, a static file or an htmx
    fragment): its errors are shown as a page, not as the API's JSON."""
    path = request.url.path
    return (request.method == "GET" and not path.startswith(("/api/", "/static/"))
            and not request.headers.get("hx-request")
            and "text/html" in request.headers.get("accept", ""))


def error_page(request: Request, status: int, message: str) -> Response:
    """The console's page for an error (not found, invalid address), in the reader's
    language; the API keeps its JSON."""
    from telcamp.core.i18n import get_translator, say_message
    from telcamp.core.web import render, request_locale

    tr = get_translator(request_locale(request))
    titles = {404: _("Not found"), 422: _("Invalid address")}
    title = tr.gettext(titles.get(status, _("Something went wrong")))
    said = say_message(message, tr.gettext) if message else title
    if message == "Not Found":  # the router's own word for an unknown address
        said = tr.gettext(_("There is no page at this address."))
    return render(request, "access/error.html", {"title": title, "message": said},
                  status_code=status)
