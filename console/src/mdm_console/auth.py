"""Who is signed in, with which roles, and the gateway token that acts for them.

Production signs users in with OpenID Connect against the company's identity
provider (authlib); the groups claim maps to console roles. The embedded
platform offers a development sign-in where one picks roles, and only when the
platform runs with its own generated development secrets.

Either way the console signs a short-lived gateway token (HS256, the gateway's
secret; issuer ``CONSOLE_GATEWAY_TOKEN_ISSUER``, which the gateway's
``MDM_JWT_ISSUERS`` must allow) for the user's subject and roles, keeps it in the
server-side session and renews it shortly before it expires. The browser never
sees it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from mdm_common.auth import Role
from mdm_console.session import Session
from mdm_console.settings import CONSOLE_ROLES

GATEWAY_AUDIENCE = "mdm"
_USER = "user"
_CSRF = "csrf"
# Session keys, not secrets.
_TOKEN = "gateway_token"  # noqa: S105
_TOKEN_EXPIRES = "gateway_token_expires"  # noqa: S105
# Renew the gateway token when less than this much of its life is left.
_RENEW_BEFORE_S = 60


@dataclass(frozen=True)
class User:
    subject: str  # opaque id; what the audit trail records
    name: str  # shown in the header only
    roles: frozenset[Role]

    def has_any(self, roles: Iterable[Role]) -> bool:
        return Role.ADMIN in self.roles or bool(self.roles & frozenset(roles))

    @property
    def may_use_console(self) -> bool:
        return bool(self.roles & CONSOLE_ROLES)


def roles_from(values: Iterable[str]) -> frozenset[Role]:
    known = {r.value for r in Role}
    return frozenset(Role(v) for v in values if v in known)


def roles_from_groups(groups: object, mapping: Mapping[str, Role]) -> frozenset[Role]:
    """Console roles from an identity provider's groups claim (a list or one string)."""
    names = [groups] if isinstance(groups, str) else groups if isinstance(groups, list) else []
    return frozenset(mapping[g] for g in names if isinstance(g, str) and g in mapping)


def sign_in(session: Session, user: User) -> None:
    """Start a fresh session for ``user`` (a new id: no session fixation)."""
    session.clear()
    session.rotate()
    session[_USER] = {
        "subject": user.subject,
        "name": user.name,
        "roles": sorted(r.value for r in user.roles),
    }
    session[_CSRF] = secrets.token_urlsafe(32)


def current_user(session: Session) -> User | None:
    raw = session.get(_USER)
    if not isinstance(raw, dict):
        return None
    return User(subject=raw["subject"], name=raw["name"], roles=roles_from(raw["roles"]))


def csrf_token(session: Session) -> str:
    """The session's CSRF token (one is made for a visitor who is not signed in yet,
    so the sign-in form carries one too)."""
    token = session.get(_CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[_CSRF] = token
    return token


def csrf_valid(session: Session, submitted: str | None) -> bool:
    expected = session.get(_CSRF)
    return bool(
        isinstance(expected, str) and submitted and secrets.compare_digest(expected, submitted)
    )


def gateway_token(session: Session, user: User, *, secret: str, issuer: str, ttl_s: int) -> str:
    now = int(time.time())
    token = session.get(_TOKEN)
    if isinstance(token, str) and int(session.get(_TOKEN_EXPIRES, 0)) - now > _RENEW_BEFORE_S:
        return token
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": user.subject,
        "roles": sorted(r.value for r in user.roles),
        "aud": GATEWAY_AUDIENCE,
        "iat": now,
        "exp": now + ttl_s,
    }
    token = jwt.encode(claims, secret, algorithm="HS256")
    session[_TOKEN] = token
    session[_TOKEN_EXPIRES] = now + ttl_s
    return token
