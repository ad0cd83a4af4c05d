from __future__ import annotations

import json
import time

import pytest

from mdm_common.auth import Principal, Role, SignatureError, principal_from_body, sign, verify

SECRET = b"shared-between-gateway-and-subgraphs"


def now_ms() -> str:
    return str(int(time.time() * 1000))


class TestVerify:
    def test_accepts_the_gateway_signature(self) -> None:
        ts, body = now_ms(), b'{"query":"{ __typename }"}'
        verify(SECRET, timestamp=ts, signature=sign(SECRET, ts, body), body=body, max_age_s=60)

    @pytest.mark.parametrize(
        ("timestamp", "signature", "message"),
        [(None, "x", "through the gateway"), ("123", None, "through the gateway"),
         ("soon", "x", "Malformed"), ("1000", "x", "expired")],
    )  # fmt: skip
    def test_refuses_missing_malformed_or_old(
        self, timestamp: str | None, signature: str | None, message: str
    ) -> None:
        with pytest.raises(SignatureError, match=message):
            verify(SECRET, timestamp=timestamp, signature=signature, body=b"{}", max_age_s=60)

    def test_refuses_a_body_changed_after_signing(self) -> None:
        ts = now_ms()
        signed = sign(SECRET, ts, b'{"extensions":{"jwt":{"payload":{"roles":["app"]}}}}')
        forged = b'{"extensions":{"jwt":{"payload":{"roles":["admin"]}}}}'
        with pytest.raises(SignatureError, match="Invalid"):
            verify(SECRET, timestamp=ts, signature=signed, body=forged, max_age_s=60)

    def test_refuses_another_key(self) -> None:
        ts, body = now_ms(), b"{}"
        with pytest.raises(SignatureError, match="Invalid"):
            verify(
                SECRET, timestamp=ts, signature=sign(b"other", ts, body), body=body, max_age_s=60
            )

    def test_matches_the_gateway_encoding(self) -> None:
        # Same inputs as gateway/src/signing.mjs: base64url HMAC-SHA256 of "<ts>.<body>", unpadded.
        assert sign(b"k", "1", b"{}") == "PdSbJZPQ-aNJ6eccS94-K4YsK-QAP-m0uoEzICkxAVg"


class TestPrincipal:
    def body(self, payload: object) -> bytes:
        return json.dumps({"query": "{}", "extensions": {"jwt": {"payload": payload}}}).encode()

    def test_reads_subject_and_known_roles(self) -> None:
        principal = principal_from_body(
            self.body({"sub": "u1", "roles": ["app", "root", "steward"]})
        )
        assert principal == Principal("u1", frozenset({Role.APP, Role.STEWARD}))

    @pytest.mark.parametrize("payload", [None, {}, {"roles": ["admin"]}, {"sub": 5}, []])
    def test_no_principal_without_a_subject(self, payload: object) -> None:
        assert principal_from_body(self.body(payload)) is None

    def test_no_principal_from_non_json(self) -> None:
        assert principal_from_body(b"\xff not json") is None

    def test_admin_holds_every_role(self) -> None:
        admin = Principal("a", frozenset({Role.ADMIN}))
        assert admin.has_any(frozenset({Role.COMPLIANCE}))
        assert not Principal("b", frozenset({Role.APP})).has_any(frozenset({Role.COMPLIANCE}))
