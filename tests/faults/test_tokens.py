"""Tokens at the real gateway: what is refused (401 UNAUTHENTICATED, never 400) and
what is accepted, with the embedded default's local HS256 key and with an identity
provider's JWKS (RS256, ES256, rotation by ``kid``) served by a real HTTP server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import string
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from mdm_console import auth as console_auth
from mdm_console.session import Session
from mdm_infra import tokens
from mdm_infra.platform import CONSOLE_TOKEN_ISSUER, Platform

from .servers import JwksServer, extra_gateway

# A read that needs a role: with a token the gateway accepted, the subgraph answers
# (NOT_FOUND for a random id); without the claims' roles it would answer FORBIDDEN.
READ = "query Read($id: ID!) { person(id: $id) { id } }"
SKEW_S = 30  # the gateway's default MDM_JWT_CLOCK_SKEW_S
LIFETIME_S = tokens.MAX_LIFETIME_S
IDP = "https://idp.example.test/realms/mdm"
DROP = object()


@dataclass(frozen=True)
class Now:
    """A time claim relative to the moment the token is made."""

    offset_s: int = 0


def claims(**changes: object) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": tokens.ISSUER,
        "sub": "faults",
        "aud": "mdm",
        "roles": ["app"],
        "iat": now,
        "exp": now + 600,
    }
    for name, value in changes.items():
        if value is DROP:
            base.pop(name, None)
        else:
            base[name] = now + value.offset_s if isinstance(value, Now) else value
    return base


def ask(url: str, authorization: str | None) -> httpx.Response:
    headers = {} if authorization is None else {"authorization": authorization}
    return httpx.post(
        url, json={"query": READ, "variables": {"id": str(uuid.uuid4())}}, headers=headers
    )


def assert_refused(response: httpx.Response, reason: str = "") -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert reason in body["errors"][0]["message"]
    assert response.headers["www-authenticate"].startswith("Bearer")


def assert_accepted(response: httpx.Response) -> None:
    """The profile subgraph ran the read with the token's role: not FORBIDDEN, just
    nothing under that id."""
    assert response.status_code == 200, response.text
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["NOT_FOUND"]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_by_hand(payload: dict[str, Any], key: bytes, kid: str) -> str:
    """HS256 keyed with any bytes (PyJWT refuses a public key as an HMAC secret)."""
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = b64(json.dumps(payload).encode())
    mac = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(mac)}"


@pytest.fixture(scope="module")
def url(platform: Platform) -> str:
    return platform.config.gateway_url


@pytest.fixture(scope="module")
def secret(platform: Platform) -> str:
    return platform.config.secrets.jwt


def bearer(payload: dict[str, Any], key: str) -> str:
    return "Bearer " + jwt.encode(payload, key, algorithm="HS256")


class TestLocalKeyRefuses:
    """The embedded default: HS256 with the launcher's secret."""

    @pytest.mark.parametrize(
        ("changes", "reason"),
        [
            ({"exp": DROP}, '"exp"'),
            ({"exp": Now(LIFETIME_S + 120)}, "lives longer"),
            ({"iat": DROP, "exp": Now(LIFETIME_S + 120)}, "lives longer"),
            ({"exp": Now(-SKEW_S - 60)}, "expired"),
            ({"iat": Now(SKEW_S + 60)}, "future"),
            ({"nbf": Now(SKEW_S + 60)}, '"nbf"'),
            ({"iss": "someone-else"}, '"iss"'),
            ({"iss": DROP}, '"iss"'),
            ({"aud": "another-api"}, '"aud"'),
            ({"aud": DROP}, '"aud"'),
            ({"sub": DROP}, '"sub"'),
            ({"exp": "tomorrow"}, '"exp"'),
        ],
        ids=[
            "no exp",
            "exp too far",
            "exp too far, no iat",
            "expired",
            "iat in future",
            "nbf in future",
            "wrong iss",
            "no iss",
            "wrong aud",
            "no aud",
            "no sub",
            "exp not a number",
        ],
    )
    def test_claims(self, url: str, secret: str, changes: dict[str, object], reason: str) -> None:
        assert_refused(ask(url, bearer(claims(**changes), secret)), reason)

    def test_bad_signature(self, url: str) -> None:
        forged = bearer(claims(roles=["admin"]), "not-the-platform-secret-but-long-enough-32b")
        assert_refused(ask(url, forged), "signature")

    def test_alg_none(self, url: str) -> None:
        unsigned = jwt.encode(claims(roles=["admin"]), None, algorithm="none")
        assert_refused(ask(url, f"Bearer {unsigned}"), "algorithm")

    def test_an_asymmetric_token_without_a_configured_provider(self, url: str) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        assert_refused(ask(url, "Bearer " + jwt.encode(claims(), key, algorithm="RS256")))

    @pytest.mark.parametrize(
        "authorization",
        [
            None,
            "",
            "Bearer",
            "Basic dXNlcjpwYXNz",
            "bearer",
            "Token abc.def.ghi",
            "Bearer not-a-jwt",
            "Bearer a.b.c",
            "Bearer ....",
            "Bearer eyJhbGciOiJIUzI1NiJ9..",
            "Bearer two tokens",
        ],
    )
    def test_missing_or_malformed(self, url: str, authorization: str | None) -> None:
        assert_refused(ask(url, authorization))

    @settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        authorization=st.text(alphabet=string.printable.strip() + " ", max_size=300).map(str.strip)
    )
    def test_any_header_is_refused_with_401(self, url: str, authorization: str) -> None:
        assert_refused(ask(url, authorization))


class TestRememberedTokens:
    """The gateway verifies a local-key token once and remembers it until it expires."""

    def test_a_remembered_token_is_refused_once_it_has_expired(
        self, platform: Platform, secret: str
    ) -> None:
        no_skew = {"MDM_JWT_CLOCK_SKEW_S": "0"}
        with extra_gateway(platform, "gateway-no-skew", no_skew) as url:
            token = bearer(claims(exp=Now(3)), secret)
            assert_accepted(ask(url, token))
            assert_accepted(ask(url, token))
            time.sleep(4)
            assert_refused(ask(url, token), "expired")

    def test_a_refused_token_stays_refused(self, url: str, secret: str) -> None:
        token = bearer(claims(), secret)
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        assert_accepted(ask(url, token))
        assert_refused(ask(url, forged), "signature")


class TestClaimsReachTheSubgraphsOnlyFromTheToken:
    def test_a_clients_own_extensions_jwt_is_overwritten(self, url: str, secret: str) -> None:
        response = httpx.post(
            url,
            json={
                "query": "{ dataSubjectRequests { hasNextPage } }",  # role: compliance
                "extensions": {"jwt": {"payload": {"sub": "x", "roles": ["compliance"]}}},
            },
            headers={"authorization": bearer(claims(roles=["app"]), secret)},
        )
        assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["FORBIDDEN"]


class TestLocalKeyAccepts:
    def test_a_token_within_every_rule(self, url: str, secret: str) -> None:
        assert_accepted(ask(url, bearer(claims(), secret)))

    def test_clocks_apart_within_the_skew(self, url: str, secret: str) -> None:
        early = claims(iat=Now(SKEW_S // 2), nbf=Now(SKEW_S // 2))
        assert_accepted(ask(url, bearer(early, secret)))
        assert_accepted(ask(url, bearer(claims(exp=Now(-SKEW_S // 2)), secret)))

    def test_the_longest_allowed_lifetime(self, url: str, secret: str) -> None:
        assert_accepted(ask(url, bearer(claims(iat=Now(), exp=Now(LIFETIME_S)), secret)))

    def test_every_issuer_of_the_project(self, url: str, platform: Platform) -> None:
        """The launcher's, the tests' and the benchmarks' tokens, and the console's."""
        config = platform.config
        development = tokens.mint(config.secrets.jwt, subject="faults", roles=["app"])
        assert_accepted(ask(url, f"Bearer {development}"))
        user = console_auth.User("dev:ann", "Ann", frozenset({console_auth.Role.STEWARD}))
        console = console_auth.gateway_token(
            Session(None), user, secret=config.secrets.jwt, issuer=CONSOLE_TOKEN_ISSUER, ttl_s=900
        )
        assert_accepted(ask(url, f"Bearer {console}"))


def public_jwk(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        return jwk | {"kid": kid, "alg": "RS256", "use": "sig"}
    jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return jwk | {"kid": kid, "alg": "ES256", "use": "sig"}


class Provider:
    """The identity provider's signing keys; the JWKS server publishes their public
    halves."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey] = {
            "rsa-1": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "rsa-2": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ec-1": ec.generate_private_key(ec.SECP256R1()),
        }

    def jwks(self, *kids: str) -> list[dict[str, Any]]:
        return [public_jwk(self.keys[kid], kid) for kid in kids]

    def token(self, kid: str, *, signed_by: str | None = None, **changes: object) -> str:
        key = self.keys[signed_by or kid]
        algorithm = "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"
        payload = claims(**({"iss": IDP, "sub": "idp-user-7"} | changes))
        return "Bearer " + jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid})


@pytest.fixture(scope="module")
def provider() -> Provider:
    return Provider()


@pytest.fixture(scope="module")
def jwks(provider: Provider) -> Iterator[JwksServer]:
    with JwksServer() as server:
        server.keys = provider.jwks("rsa-1", "ec-1")
        yield server  # type: ignore[misc]


COOLDOWN_S, CACHE_S = 1, 3


@pytest.fixture(scope="module")
def idp_url(platform: Platform, jwks: JwksServer) -> Iterator[str]:
    """A gateway as production runs it: the provider's JWKS for applications and
    people, the local key for the console's tokens."""
    env = {
        "MDM_JWT_JWKS_URL": jwks.url,
        "MDM_JWT_ISSUERS": f"{IDP},{CONSOLE_TOKEN_ISSUER}",
        # Short, so the rotation test need not wait for the defaults (30 s, 10 min).
        "MDM_JWT_JWKS_COOLDOWN_S": str(COOLDOWN_S),
        "MDM_JWT_JWKS_CACHE_S": str(CACHE_S),
    }
    with extra_gateway(platform, "gateway-idp", env) as url:
        yield url


class TestIdentityProviderKeys:
    def test_rs256_and_es256(self, idp_url: str, provider: Provider) -> None:
        assert_accepted(ask(idp_url, provider.token("rsa-1")))
        assert_accepted(ask(idp_url, provider.token("ec-1")))

    def test_the_same_rules_apply(self, idp_url: str, provider: Provider) -> None:
        assert_refused(ask(idp_url, provider.token("rsa-1", exp=DROP)), '"exp"')
        assert_refused(ask(idp_url, provider.token("ec-1", exp=Now(LIFETIME_S + 120))))
        assert_refused(ask(idp_url, provider.token("ec-1", iat=Now(SKEW_S + 60))), "future")
        assert_refused(ask(idp_url, provider.token("rsa-1", iss="https://evil.test")), '"iss"')
        assert_refused(ask(idp_url, provider.token("ec-1", aud="other")), '"aud"')
        assert_refused(ask(idp_url, provider.token("rsa-1", exp=Now(-120))), "expired")

    def test_the_key_named_by_kid_must_have_signed(self, idp_url: str, provider: Provider) -> None:
        assert_refused(ask(idp_url, provider.token("rsa-1", signed_by="rsa-2")), "signature")

    def test_the_development_issuer_is_not_allowed_here(
        self, idp_url: str, platform: Platform
    ) -> None:
        development = tokens.mint(platform.config.secrets.jwt, subject="x", roles=["app"])
        assert_refused(ask(idp_url, f"Bearer {development}"), '"iss"')

    def test_the_local_key_still_signs_the_consoles_tokens(
        self, idp_url: str, platform: Platform
    ) -> None:
        console = claims(iss=CONSOLE_TOKEN_ISSUER)
        assert_accepted(ask(idp_url, bearer(console, platform.config.secrets.jwt)))

    def test_a_public_key_is_no_hmac_secret(self, idp_url: str, provider: Provider) -> None:
        """Algorithm confusion: HS256 keyed with the provider's published key."""
        public = (
            provider.keys["rsa-1"]
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        forged = hs256_by_hand(claims(iss=IDP, roles=["admin"]), public, "rsa-1")
        assert_refused(ask(idp_url, f"Bearer {forged}"), "signature")

    def test_rotation_by_kid(self, idp_url: str, provider: Provider, jwks: JwksServer) -> None:
        try:
            # A key the provider has not published yet.
            assert_refused(ask(idp_url, provider.token("rsa-2")), "unknown key")
            # The provider publishes its next key next to the current one ...
            jwks.keys = provider.jwks("rsa-1", "rsa-2", "ec-1")
            time.sleep(COOLDOWN_S + 0.5)
            assert_accepted(ask(idp_url, provider.token("rsa-2")))
            assert_accepted(ask(idp_url, provider.token("rsa-1")))
            # ... and retires the old one: refused once the cached set is renewed.
            jwks.keys = provider.jwks("rsa-2", "ec-1")
            time.sleep(CACHE_S + 0.5)
            assert_refused(ask(idp_url, provider.token("rsa-1")), "unknown key")
            assert_accepted(ask(idp_url, provider.token("rsa-2")))
        finally:
            jwks.keys = provider.jwks("rsa-1", "ec-1")

    def test_unreachable_keys_answer_503_not_401(
        self, idp_url: str, provider: Provider, jwks: JwksServer
    ) -> None:
        try:
            jwks.broken = True
            time.sleep(CACHE_S + 0.5)
            response = ask(idp_url, provider.token("ec-1"))
            assert response.status_code == 503
            assert response.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
        finally:
            jwks.broken = False
        assert_accepted(ask(idp_url, provider.token("ec-1")))
