from __future__ import annotations

import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdm_common.auth import (
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Principal,
    Role,
    SignatureError,
    new_nonce,
    principal_from_body,
    sign,
    signed_headers,
    verify,
)

SECRET = b"shared-between-gateway-and-subgraphs"
WINDOW = {"max_age_s": 5.0, "skew_s": 1.0}


def ms(offset_s: float = 0) -> str:
    return str(int((time.time() + offset_s) * 1000))


def check(body: bytes, headers: dict[str, str], secret: bytes = SECRET) -> str:
    return verify(
        secret,
        timestamp=headers.get(TIMESTAMP_HEADER),
        nonce=headers.get(NONCE_HEADER),
        signature=headers.get(SIGNATURE_HEADER),
        body=body,
        **WINDOW,
    )


def headers_at(timestamp: str, body: bytes, nonce: str | None = None) -> dict[str, str]:
    nonce = nonce or new_nonce()
    return {
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: sign(SECRET, timestamp, nonce, body),
    }


class TestVerify:
    def test_accepts_the_gateway_signature_and_names_its_nonce(self) -> None:
        body = b'{"query":"{ __typename }"}'
        headers = signed_headers(SECRET, body)
        assert check(body, headers) == headers[NONCE_HEADER]

    @pytest.mark.parametrize("missing", [TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER])
    def test_refuses_a_missing_header(self, missing: str) -> None:
        headers = signed_headers(SECRET, b"{}")
        del headers[missing]
        with pytest.raises(SignatureError, match="through the gateway"):
            check(b"{}", headers)

    @pytest.mark.parametrize(
        ("timestamp", "nonce"),
        [
            ("soon", new_nonce()),
            ("-5", new_nonce()),
            ("1" * 17, new_nonce()),
            (ms(), "short"),
            (ms(), "not base64url but 22+ characters"),
        ],
    )
    def test_refuses_malformed_headers(self, timestamp: str, nonce: str) -> None:
        with pytest.raises(SignatureError, match="Malformed"):
            check(b"{}", headers_at(timestamp, b"{}", nonce))

    def test_refuses_a_signature_older_than_the_window(self) -> None:
        with pytest.raises(SignatureError, match="expired"):
            check(b"{}", headers_at(ms(-6), b"{}"))

    def test_accepts_a_signature_inside_the_window(self) -> None:
        check(b"{}", headers_at(ms(-4), b"{}"))
        check(b"{}", headers_at(ms(0.5), b"{}"))

    def test_refuses_a_timestamp_in_the_future_beyond_the_skew(self) -> None:
        with pytest.raises(SignatureError, match="future"):
            check(b"{}", headers_at(ms(3), b"{}"))

    def test_refuses_a_body_changed_after_signing(self) -> None:
        headers = signed_headers(SECRET, b'{"extensions":{"jwt":{"payload":{"roles":["app"]}}}}')
        forged = b'{"extensions":{"jwt":{"payload":{"roles":["admin"]}}}}'
        with pytest.raises(SignatureError, match="Invalid"):
            check(forged, headers)

    def test_refuses_another_nonce_under_the_same_signature(self) -> None:
        headers = signed_headers(SECRET, b"{}") | {NONCE_HEADER: new_nonce()}
        with pytest.raises(SignatureError, match="Invalid"):
            check(b"{}", headers)

    def test_refuses_another_key(self) -> None:
        with pytest.raises(SignatureError, match="Invalid"):
            check(b"{}", signed_headers(b"other", b"{}"))

    def test_matches_the_gateway_encoding(self) -> None:
        # Same inputs as gateway/src/signing.mjs: base64url HMAC-SHA256 of
        # "<ts>.<nonce>.<body>", unpadded.
        assert sign(b"k", "1", "n", b"{}") == "To6ry9h3X5jhj7bz_J57R2vMA1SEyHws6FrZetIlB8I"

    @given(
        timestamp=st.one_of(st.none(), st.text(max_size=30)),
        nonce=st.one_of(st.none(), st.text(max_size=70)),
        signature=st.one_of(st.none(), st.text(max_size=60)),
    )
    def test_any_header_values_are_refused_cleanly(
        self, timestamp: str | None, nonce: str | None, signature: str | None
    ) -> None:
        with pytest.raises(SignatureError):
            verify(
                SECRET,
                timestamp=timestamp,
                nonce=nonce,
                signature=signature,
                body=b"{}",
                **WINDOW,
            )


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
