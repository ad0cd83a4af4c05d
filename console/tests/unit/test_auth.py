"""Roles, CSRF tokens and the gateway token the console signs for a user."""

from __future__ import annotations

import jwt
import pytest

from mdm_common.auth import Role
from mdm_console import auth
from mdm_console.session import Session

SECRET = "test-secret-of-32-characters-at-least"
TOKEN = {"secret": SECRET, "issuer": "mdm-console", "ttl_s": 600}


def test_roles_come_only_from_mapped_groups() -> None:
    mapping = {"mdm-stewards": Role.STEWARD, "dpo": Role.COMPLIANCE}
    assert auth.roles_from_groups(["mdm-stewards", "staff"], mapping) == {Role.STEWARD}
    assert auth.roles_from_groups("dpo", mapping) == {Role.COMPLIANCE}
    assert auth.roles_from_groups(None, mapping) == frozenset()
    assert auth.roles_from_groups({"dpo": 1}, mapping) == frozenset()


def test_only_people_roles_open_the_console() -> None:
    assert not auth.User("a", "a", frozenset({Role.APP})).may_use_console
    assert auth.User("s", "s", frozenset({Role.STEWARD})).may_use_console
    admin = auth.User("x", "x", frozenset({Role.ADMIN}))
    assert admin.has_any({Role.COMPLIANCE})


def test_signing_in_rotates_the_session_and_sets_a_csrf_token() -> None:
    session = Session("old-id", {"next": "/review"})
    auth.sign_in(session, auth.User("dev:ann", "ann", frozenset({Role.STEWARD})))
    assert session.rotated
    assert "next" not in session
    token = auth.csrf_token(session)
    assert auth.csrf_valid(session, token)
    assert not auth.csrf_valid(session, token + "x")
    assert not auth.csrf_valid(session, None)
    assert not auth.csrf_valid(Session(None), token)


def test_the_gateway_token_carries_the_users_roles_and_is_renewed_before_expiry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = auth.User("dev:ann", "ann", frozenset({Role.STEWARD, Role.COMPLIANCE}))
    session = Session(None)
    clock = [auth.time.time()]
    monkeypatch.setattr(auth.time, "time", lambda: clock[0])
    first = auth.gateway_token(session, user, **TOKEN)
    claims = jwt.decode(
        first, SECRET, algorithms=["HS256"], audience="mdm", options={"verify_exp": False}
    )
    assert claims["sub"] == "dev:ann"
    assert claims["iss"] == "mdm-console"
    assert claims["roles"] == ["compliance", "steward"]
    assert claims["exp"] - claims["iat"] == 600
    clock[0] += 500
    assert auth.gateway_token(session, user, **TOKEN) == first
    clock[0] += 60
    assert auth.gateway_token(session, user, **TOKEN) != first
