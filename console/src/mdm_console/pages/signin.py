"""Sign-in (OpenID Connect, or the development sign-in), sign-out, language."""

from __future__ import annotations

from typing import Any

from authlib.integrations.starlette_client import OAuth, OAuthError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mdm_common.auth import Role
from mdm_console import auth, i18n
from mdm_console.i18n import _
from mdm_console.settings import CONSOLE_ROLES, ConsoleSettings
from mdm_console.web import check_csrf, console, error_page, render, session

DEV_PREFIX = "dev:"
MAX_NAME = 60


def _safe_next(target: str | None) -> str:
    """Only paths of this console: no open redirect to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def oauth_client(settings: ConsoleSettings) -> OAuth:
    oauth = OAuth()
    oauth.register(
        "idp",
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value(),
        client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256"},
    )
    return oauth


async def signin_page(request: Request) -> Response:
    settings = console(request).settings
    return render(
        request,
        "auth/signin.html",
        {
            "next": _safe_next(request.query_params.get("next")),
            "roles": [r for r in Role if r in CONSOLE_ROLES],
            "oidc": settings.oidc_enabled,
            "signed_out": request.query_params.get("signed_out") == "1",
        },
    )


async def dev_signin(request: Request) -> Response:
    if not console(request).settings.dev_signin:
        return error_page(
            request,
            code="FORBIDDEN",
            status=403,
            detail=_("The development sign-in is switched off."),
        )
    await check_csrf(request)
    form = await request.form()
    name = str(form.get("name", "")).strip()[:MAX_NAME] or "steward"
    roles = auth.roles_from(str(v) for v in form.getlist("roles"))
    user = auth.User(subject=DEV_PREFIX + name, name=name, roles=roles)
    return _start(request, user, _safe_next(str(form.get("next", ""))))


async def oidc_start(request: Request) -> Response:
    settings = console(request).settings
    if not settings.oidc_enabled:
        return error_page(
            request, code="NOT_FOUND", status=404, detail=_("No identity provider is configured.")
        )
    session(request)["next"] = _safe_next(request.query_params.get("next"))
    client: Any = request.app.state.oauth.idp
    return await client.authorize_redirect(  # type: ignore[no-any-return]
        request, settings.public_url.rstrip("/") + "/signin/callback"
    )


async def oidc_callback(request: Request) -> Response:
    settings = console(request).settings
    client: Any = request.app.state.oauth.idp
    try:
        token = await client.authorize_access_token(request)
    except OAuthError as exc:
        return error_page(
            request,
            code="UNAUTHENTICATED",
            status=401,
            detail=_("The identity provider refused the sign-in: {error}").format(
                error=exc.error or "-"
            ),
        )
    claims = token.get("userinfo") or {}
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        return error_page(
            request,
            code="UNAUTHENTICATED",
            status=401,
            detail=_("The identity provider sent no user id."),
        )
    roles = auth.roles_from_groups(
        claims.get(settings.oidc_groups_claim), settings.oidc_role_mapping
    )
    name = str(claims.get("name") or claims.get("preferred_username") or subject)[:MAX_NAME]
    target = _safe_next(session(request).get("next"))
    return _start(request, auth.User(subject=subject, name=name, roles=roles), target)


def _start(request: Request, user: auth.User, target: str) -> Response:
    auth.sign_in(session(request), user)
    if not user.may_use_console:
        return RedirectResponse("/", status_code=303)
    return RedirectResponse(target, status_code=303)


async def signout(request: Request) -> Response:
    await check_csrf(request)
    session(request).end()
    return RedirectResponse("/signin?signed_out=1", status_code=303)


async def choose_language(request: Request) -> Response:
    language = request.path_params["language"]
    back = _safe_next(request.query_params.get("back"))
    response = RedirectResponse(back, status_code=303)
    if language in i18n.LANGUAGES:
        response.set_cookie(
            i18n.LANGUAGE_COOKIE,
            language,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="strict",
        )
    return response


routes = [
    Route("/signin", signin_page),
    Route("/signin/dev", dev_signin, methods=["POST"]),
    Route("/signin/oidc", oidc_start),
    Route("/signin/callback", oidc_callback),
    Route("/signout", signout, methods=["POST"]),
    Route("/language/{language}", choose_language),
]
