"""The only place where the console's parts are wired.

Served by ``uvicorn mdm_console.app:create_app --factory``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mdm_common.auth import Role
from mdm_common.readiness import Dependency, http_probe, readiness_endpoint
from mdm_console import i18n, web
from mdm_console.client import Gateway, GatewayError, Operations
from mdm_console.pages import (
    compliance,
    employment,
    jobs,
    persons,
    purposes,
    reconsent,
    rectification,
    requests,
    review,
    signin,
)
from mdm_console.session import ServerSessions, SessionStore
from mdm_console.settings import ConsoleSettings
from mdm_console.templating import install_filters

PACKAGE_DIR = Path(__file__).resolve().parent
CONSOLE_DIR = PACKAGE_DIR.parents[1]
HTMX_DIR = CONSOLE_DIR / "node_modules" / "htmx.org" / "dist"

# No inline script or style anywhere: htmx and the keyboard script are files of
# this console; forms post only here; no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


class PageHeaders:
    """Security headers on every answer; the user's language for the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        i18n.use(i18n.language_of(Request(scope)))
        static = scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in SECURITY_HEADERS if not (static and h[0] == b"cache-control")]
                message["headers"] = list(message.get("headers", [])) + headers
            await send(message)

        await self.app(scope, receive, with_headers)


async def home(request: Request) -> Response:
    user = web.user(request)
    if user.has_any({Role.STEWARD}):
        return RedirectResponse("/review", status_code=303)
    if user.has_any({Role.COMPLIANCE}):
        return RedirectResponse("/compliance", status_code=303)
    raise web.Refused


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


def build_templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(PACKAGE_DIR / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    install_filters(env)
    return Jinja2Templates(env=env)


def create_app(settings: ConsoleSettings | None = None) -> Starlette:
    settings = settings or ConsoleSettings()
    i18n.load_catalogues()
    if not (HTMX_DIR / "htmx.min.js").exists():
        raise RuntimeError(f"htmx is missing in {HTMX_DIR}: run `make install`.")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=settings.gateway_timeout_s) as http:
            app.state.console = web.Console(
                settings=settings,
                gateway=Gateway(url=settings.gateway_url, http=http, operations=Operations()),
                templates=build_templates(),
            )
            if settings.oidc_enabled:
                app.state.oauth = signin.oauth_client(settings)
            yield

    store = SessionStore(idle_s=settings.session_idle_s, max_s=settings.session_max_s)
    return Starlette(
        routes=[
            Route("/", home),
            Route("/healthz", healthz),
            # 503 naming the gateway while it does not serve (mdm_common.readiness).
            Route(
                "/readyz",
                readiness_endpoint(
                    "console", [Dependency("gateway", http_probe(settings.gateway_readiness))]
                ),
            ),
            *signin.routes,
            *review.routes,
            *employment.routes,
            *persons.routes,
            *jobs.routes,
            *compliance.routes,
            *requests.routes,
            *rectification.routes,
            *reconsent.routes,
            *purposes.routes,
            Mount("/static/vendor", StaticFiles(directory=HTMX_DIR), name="vendor"),
            Mount("/static", StaticFiles(directory=PACKAGE_DIR / "static"), name="static"),
        ],
        middleware=[
            Middleware(PageHeaders),
            Middleware(ServerSessions, store=store, secure=settings.secure_cookies),
        ],
        exception_handlers={
            GatewayError: web.on_gateway_error,
            web.NotSignedIn: web.on_not_signed_in,
            web.Refused: web.on_refused,
            web.BadCsrf: web.on_bad_csrf,
            HTTPException: web.on_http_error,
            Exception: web.on_unexpected,
        },
        lifespan=lifespan,
    )
