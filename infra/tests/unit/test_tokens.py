from __future__ import annotations

import jwt
import pytest

from mdm_infra import tokens

SECRET = "development-secret-of-32-characters"


def decode(token: str) -> dict[str, object]:
    return dict(
        jwt.decode(
            token, SECRET, algorithms=["HS256"], audience=tokens.AUDIENCE, issuer=tokens.ISSUER
        )
    )


def test_a_development_token_carries_what_the_gateway_requires() -> None:
    claims = decode(tokens.mint(SECRET, subject="dev", roles=["steward", "app", "app"]))
    assert claims["sub"] == "dev"
    assert claims["roles"] == ["app", "steward"]
    assert claims["exp"] - claims["iat"] == tokens.MAX_LIFETIME_S  # type: ignore[operator]


def test_a_token_source_renews_before_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1_900_000_000.0]
    monkeypatch.setattr(tokens.time, "time", lambda: clock[0])
    source = tokens.renewing(SECRET, subject="bench", roles=["app"], ttl_s=100)
    first = source()
    clock[0] += 80
    assert source() == first
    clock[0] += 11
    renewed = source()
    assert renewed != first
    assert jwt.decode(renewed, options={"verify_signature": False})["iat"] == 1_900_000_091
