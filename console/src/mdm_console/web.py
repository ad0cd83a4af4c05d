"""What every page handler uses: the signed-in user, their gateway calls, the
CSRF check, rendering, and the words a gateway error becomes on screen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from mdm_common.auth import Role
from mdm_console import auth, i18n
from mdm_console.client import Gateway, GatewayError
from mdm_console.i18n import _
from mdm_console.session import Session
from mdm_console.settings import ConsoleSettings

Handler = Callable[[Request], Awaitable[Response]]
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class Console:
    """The console's parts, built once in ``app.py`` and kept in ``app.state``."""

    settings: ConsoleSettings
    gateway: Gateway
    templates: Jinja2Templates


class NotSignedIn(Exception):
    pass


class Refused(Exception):
    """The user's roles do not allow this page (403 with a readable page)."""


class BadCsrf(Exception):
    pass


def console(request: Request) -> Console:
    found: Console = request.app.state.console
    return found


def session(request: Request) -> Session:
    found: Session = request.scope["session"]
    return found


def user(request: Request) -> auth.User:
    found = auth.current_user(session(request))
    if found is None:
        raise NotSignedIn
    return found


async def ask(
    request: Request, operation: str, *, allow_missing: bool = False, **variables: Any
) -> dict[str, Any]:
    """Run a named gateway operation as the signed-in user (``allow_missing``: see
    :meth:`Gateway.run`)."""
    parts = console(request)
    token = auth.gateway_token(
        session(request),
        user(request),
        secret=parts.settings.jwt_secret.get_secret_value(),
        issuer=parts.settings.gateway_token_issuer,
        ttl_s=parts.settings.gateway_token_ttl_s,
    )
    return await parts.gateway.run(operation, token, allow_missing=allow_missing, **variables)


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> Response:
    parts = console(request)
    found = auth.current_user(session(request))
    base = {
        "user": found,
        "csrf_token": auth.csrf_token(session(request)),
        "dev_signin": parts.settings.dev_signin,
        "language": i18n.current(),
        "Role": Role,
    }
    return parts.templates.TemplateResponse(
        request, template, base | (context or {}), status_code=status
    )


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def redirect(request: Request, url: str) -> Response:
    """After a form: htmx follows ``HX-Redirect``, a plain form a 303."""
    if is_htmx(request):
        return Response(status_code=204, headers={"hx-redirect": url})
    return RedirectResponse(url, status_code=303)


def page(*roles: Role) -> Callable[[Handler], Handler]:
    """A page for these roles (admin may use every page)."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def checked(request: Request) -> Response:
            signed_in = user(request)
            if not signed_in.may_use_console or (roles and not signed_in.has_any(roles)):
                raise Refused
            return await handler(request)

        return checked

    return decorate


def action(*roles: Role) -> Callable[[Handler], Handler]:
    """A form handler (POST) for these roles: the CSRF token must match the session's."""

    def decorate(handler: Handler) -> Handler:
        @page(*roles)
        @wraps(handler)
        async def checked(request: Request) -> Response:
            await check_csrf(request)
            return await handler(request)

        return checked

    return decorate


async def check_csrf(request: Request) -> None:
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    if not auth.csrf_valid(session(request), submitted):
        raise BadCsrf


async def form_value(request: Request, name: str, default: str = "") -> str:
    value = (await request.form()).get(name, default)
    return value.strip() if isinstance(value, str) else default


def sign_in_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/signin?next=" + quote(target, safe="")


# --- errors become pages --------------------------------------------------------

ERROR_STATUS = {
    "FORBIDDEN": 403,
    "UNAUTHENTICATED": 401,
    "NOT_FOUND": 404,
    "CONFLICT": 409,
    "BAD_USER_INPUT": 400,
    "UNAVAILABLE": 503,
}


def error_title(code: str) -> str:
    titles = {
        "FORBIDDEN": _("Your roles do not allow this"),
        "UNAUTHENTICATED": _("Please sign in again"),
        "NOT_FOUND": _("Not found"),
        "CONFLICT": _("Someone else was faster"),
        "BAD_USER_INPUT": _("Please check your input"),
        "UNAVAILABLE": _("The platform cannot be reached right now"),
    }
    return titles.get(code, _("The platform reported an error"))


def error_page(request: Request, *, code: str, detail: str, status: int | None = None) -> Response:
    return render(
        request,
        "errors/error.html",
        {
            "code": code,
            "title": error_title(code),
            "detail": detail,
            "back": request.headers.get("hx-current-url") or request.url.path,
        },
        status=status or ERROR_STATUS.get(code, 502),
    )


async def on_gateway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    return error_page(request, code=exc.code, detail=exc.message)


async def on_not_signed_in(request: Request, exc: Exception) -> Response:
    if is_htmx(request):
        return Response(status_code=204, headers={"hx-redirect": "/signin"})
    return RedirectResponse(sign_in_url(request), status_code=303)


async def on_refused(request: Request, exc: Exception) -> Response:
    found = auth.current_user(session(request))
    roles = ", ".join(sorted(r.value for r in found.roles)) if found else ""
    return error_page(
        request,
        code="FORBIDDEN",
        detail=_("This page is not open to your roles ({roles}).").format(roles=roles or "-"),
    )


async def on_bad_csrf(request: Request, exc: Exception) -> Response:
    return error_page(
        request,
        code="FORBIDDEN",
        status=403,
        detail=_(
            "The form was not sent from this console (its security token is missing or "
            "out of date). Reload the page and try again."
        ),
    )


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = "NOT_FOUND" if exc.status_code == 404 else "BAD_USER_INPUT"
    detail = _("There is no such page.") if exc.status_code == 404 else str(exc.detail)
    return error_page(request, code=code, detail=detail, status=exc.status_code)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    # Logged by uvicorn; the user gets words, never a stack trace.
    return error_page(
        request,
        code="INTERNAL",
        status=500,
        detail=_("Something went wrong in the console. The error was logged."),
    )
