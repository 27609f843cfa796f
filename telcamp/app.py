"""The FastAPI application: API under /api, console pages, static files.

Routers are found by discovery (each domain's api.py and pages.py), so adding a domain
needs no edit here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from telcamp import __version__
from telcamp.core.db import migrate
from telcamp.core.discovery import domain_modules
from telcamp.core.errors import TelcampError
from telcamp.core.settings import get_settings

STATIC_DIR = Path(__file__).parent / "web" / "static"
VENDOR = {
    "htmx": ("htmx.org", "dist"),
    "echarts": ("echarts", "dist"),
    "swagger": ("swagger-ui-dist", ""),
}


def create_app(*, run_migrations: bool = True) -> FastAPI:
    settings = get_settings()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if run_migrations:
            migrate()
        # Domains may repair derived state at start-up (e.g. telcamp/lists/startup.py
        # re-copies list members a crash left stale): `startup.py` with `on_startup()`.
        for module in domain_modules("startup"):
            module.on_startup()
        yield

    # The interactive API docs load Swagger UI from our node_modules, not from a CDN: an
    # operator's network usually reaches no CDN.
    app = FastAPI(
        title="Telcamp", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )

    @app.get("/docs", include_in_schema=False)
    async def _api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Telcamp API",
            swagger_js_url="/static/vendor/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger/swagger-ui.css",
            swagger_favicon_url="/static/app/favicon.svg",
        )

    @app.get("/health", include_in_schema=False)
    def _health() -> JSONResponse:
        """For a load balancer or a monitor, without credentials: 200 while the
        operational database answers, 503 (and why) when it does not."""
        from sqlalchemy import text

        from telcamp.core.db import get_engine

        try:
            with get_engine().connect() as c:
                c.execute(text("SELECT 1"))
        except Exception as exc:  # any failure is "down" to a monitor; say which
            return JSONResponse({"status": "unavailable", "database": type(exc).__name__,
                                 "version": __version__}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok", "version": __version__})

    @app.exception_handler(TelcampError)
    async def _telcamp_error(request: Request, exc: TelcampError) -> Response:
        from telcamp.access.web import error_page, wants_page
        from telcamp.core.i18n import translate_message
        from telcamp.core.web import request_locale

        if wants_page(request):  # a console page of a missing campaign: a page, not JSON
            return error_page(request, exc.status, exc.message)

        # `code` stays the stable English key; `message` in the caller's language
        body = exc.to_dict()
        body["message"] = translate_message(exc.message, request_locale(request))
        return JSONResponse(body, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        from telcamp.access.web import error_page, wants_page
        from telcamp.core.field_errors import describe
        from telcamp.core.i18n import get_translator
        from telcamp.core.web import request_locale

        # every error at once, each as "<field label>: <plain reason>" in the caller's
        # language (the console uses the same function)
        said = describe(exc.errors(), get_translator(request_locale(request)).gettext)
        if wants_page(request):  # /campaigns/abc typed in the address bar
            return error_page(request, 422, "; ".join(e.message for e in said))
        return JSONResponse(
            {"code": "invalid",
             "message": "; ".join(e.message for e in said) or "invalid request",
             "field": said[0].field or None if said else None,
             "errors": [{"field": e.field, "message": e.message} for e in said]},
            status_code=422,
        )

    # Login redirects, HTML 403 pages, the JSON error shape for HTTP errors, and the
    # production check on the secret key.
    from telcamp.access.web import install as install_access

    install_access(app)

    app.mount("/static/app", StaticFiles(directory=STATIC_DIR), name="static")
    for name, (package, sub) in VENDOR.items():
        folder = settings.node_modules / package / sub if sub else settings.node_modules / package
        if folder.is_dir():
            app.mount(f"/static/vendor/{name}", StaticFiles(directory=folder), name=name)

    for module in domain_modules("api"):
        app.include_router(module.router)
    for module in domain_modules("pages"):
        app.include_router(module.router)
    return app
