"""``create_app``: the dashboard (server-rendered pages) and its JSON API, one FastAPI app.

Every asset is served by occ itself (no CDN, no external font). Errors a user can cause
become a page (or problem JSON under ``/api``) with the right status and one line that says
what to do; a database that goes away answers 503 until it is back (the pool re-connects).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from occ import __version__
from occ.config import Settings
from occ.contracts.secrets import mask
from occ.decisions.actions import ActionAlreadyDecided
from occ.errors import NotFoundError, OccError, StoreError
from occ.store.engine import masked_url, open_store
from occ.store.operators import app_secret
from occ.web import api, apidocs, exports, pages
from occ.web.context import STATIC_DIR, TEMPLATES_DIR, WebContext
from occ.web.filters import install_filters
from occ.web.knowledge import KnowledgeShelf
from occ.web.openapi import PROBLEM_MEDIA_TYPE, Problem, install_openapi
from occ.web.refresher import Refresher
from occ.web.security import CsrfRejected, SignInRequired
from occ.web.tiles import DashboardCache

__all__ = ["create_app"]

log = logging.getLogger("occ.web")
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def _wants_json(request: Request) -> bool:
    return (
        request.url.path.startswith("/api/")
        or "application/json" in request.headers.get("accept", "").split(",")[0]
    )


def _problem(request: Request, status: int, title: str, detail: str) -> Response:
    detail = mask(detail)
    if _wants_json(request):
        problem = Problem(type="about:blank", title=title, status=status, detail=detail)
        return JSONResponse(problem.model_dump(), status_code=status, media_type=PROBLEM_MEDIA_TYPE)
    ctx: WebContext = request.app.state.ctx
    return ctx.templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "title": title, "detail": detail, "principal": None},
        status_code=status,
    )


class _Headers:
    """Request id and security headers on every response (pure ASGI: no extra task per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = Headers(scope=scope).get("x-request-id") or str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = rid
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = rid
                headers.setdefault("Content-Security-Policy", _CSP)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                headers["X-Frame-Options"] = "DENY"
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    settings: Settings,
    engine: Engine | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """The dashboard app over ``engine`` (default: the settings' store, migrated)."""
    store = engine or open_store(settings.resolved_database_url())
    now = clock or (lambda: datetime.now(UTC))
    secret = (
        settings.web_secret_key.get_secret_value()
        if settings.web_secret_key is not None
        else app_secret(store, "session-signing-key", now())
    )
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    install_filters(templates.env)
    app = FastAPI(
        title="occ — Operator Control Center",
        version=__version__,
        docs_url=None,  # occ.web.apidocs serves /api/docs as one of occ's own pages
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    cache = DashboardCache()
    app.state.ctx = WebContext(
        settings=settings,
        engine=store,
        cache=cache,
        refresher=Refresher(store, settings, now, on_finished=cache.invalidate),
        templates=templates,
        clock=now,
        knowledge=KnowledgeShelf(settings),
    )

    app.add_middleware(_Headers)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="occ_session",
        max_age=int(timedelta(hours=settings.web_session_hours).total_seconds()),
        same_site="lax",
        https_only=settings.web_secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(exports.router)
    app.include_router(apidocs.router)
    install_openapi(app)

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, exc: SignInRequired) -> Response:
        if _wants_json(request) or request.method != "GET":
            response = _problem(request, 401, "Sign-in required", str(exc))
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={_quote(target)}", status_code=303)

    @app.exception_handler(CsrfRejected)
    async def csrf_rejected(request: Request, exc: CsrfRejected) -> Response:
        return _problem(
            request,
            403,
            "CSRF check failed",
            "the form or request lacks this session's CSRF token; reload the page and retry",
        )

    @app.exception_handler(ActionAlreadyDecided)
    async def already_decided(request: Request, exc: ActionAlreadyDecided) -> Response:
        return _problem(request, 409, "Already decided", str(exc))

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        return _problem(request, 404, "Not found", str(exc))

    @app.exception_handler(StoreError)
    @app.exception_handler(SQLAlchemyError)
    async def store_down(request: Request, exc: Exception) -> Response:
        log.warning("store unavailable: %s", type(exc).__name__)
        return _problem(
            request,
            503,
            "Database unavailable",
            f"the store {masked_url(str(store.url))} does not answer; occ keeps running and "
            "recovers when it is back — check the database",
        )

    @app.exception_handler(OccError)
    async def occ_error(request: Request, exc: OccError) -> Response:
        return _problem(request, 400, "Bad request", str(exc))

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, exc: RequestValidationError) -> Response:
        first: dict[str, Any] = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
        if first.get("type") == "json_invalid":
            where = "body"  # its location is a character offset, not a field
        return _problem(
            request,
            400,
            "Malformed request",
            f"{where or 'request'}: {first.get('msg', 'invalid')}; fix the form or JSON and retry",
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return _problem(
                request, 404, "Not found", f"no page at {request.url.path}; go to the overview"
            )
        if exc.status_code == 405:
            allow = (exc.headers or {}).get("Allow") or "GET, HEAD"  # StaticFiles names none
            response = _problem(
                request,
                405,
                "Method not allowed",
                f"{request.method} is not allowed on {request.url.path}; use {allow}",
            )
            response.headers["Allow"] = allow
            return response
        return _problem(request, exc.status_code, "Error", str(exc.detail))

    return app


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")
