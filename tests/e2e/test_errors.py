"""Bad input and bad callers get clear, typed errors, and no server error is logged."""

from __future__ import annotations

from collections.abc import Callable

import jwt
import pytest

from mdm_infra import limits
from mdm_infra.client import GatewayClient
from mdm_infra.platform import Platform
from mdm_infra.testing import log_text

from .queries import CREATE_PERSON, PERSON_360, RECORD_CONSENT, consent_input, person_input

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def error_codes(body: dict[str, object]) -> list[str]:
    errors = body.get("errors")
    assert isinstance(errors, list), body
    assert errors, body
    return [e.get("extensions", {}).get("code") for e in errors]


class TestQueryErrors:
    def test_malformed_query(self, gateway: GatewayClient) -> None:
        response = gateway.post("{ person(id: ")
        assert error_codes(response.json()) == ["GRAPHQL_PARSE_FAILED"]
        assert "Syntax Error" in response.json()["errors"][0]["message"]

    def test_unknown_field(self, gateway: GatewayClient) -> None:
        response = gateway.post('{ person(id: "x") { shoeSize } }')
        assert error_codes(response.json()) == ["GRAPHQL_VALIDATION_FAILED"]

    def test_unknown_id_is_not_found(self, gateway: GatewayClient) -> None:
        body = gateway.post(PERSON_360, {"id": UNKNOWN_ID}).json()
        assert error_codes(body) == ["NOT_FOUND"]
        assert UNKNOWN_ID in body["errors"][0]["message"]

    def test_over_deep_query_is_refused_at_the_gateway(self, gateway: GatewayClient) -> None:
        deep = '{ person(id: "x") ' + "{ consents " * 9 + "{ id }" + " }" * 9 + " }"
        body = gateway.post(deep).json()
        assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
        assert body["errors"][0]["message"] == "Query depth limit of 8 exceeded, found 11."

    def test_too_many_aliases_are_refused(self, gateway: GatewayClient) -> None:
        aliases = " ".join(f'a{i}: person(id: "x") {{ id }}' for i in range(20))
        body = gateway.post(f"{{ {aliases} }}").json()
        assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
        assert "Aliases limit of 15 exceeded" in body["errors"][0]["message"]

    def test_too_many_tokens_are_refused(self, gateway: GatewayClient) -> None:
        fields = " ".join(["id"] * 1200)
        body = gateway.post(f'{{ person(id: "x") {{ {fields} }} }}').json()
        assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
        assert "Token limit of 1000 exceeded" in body["errors"][0]["message"]

    def test_oversized_body_is_refused(self, gateway: GatewayClient) -> None:
        over = limits.gateway_limits()["maxBodyBytes"] + 1
        response = gateway.post("{ __typename }", {"padding": "x" * over})
        assert response.status_code == 413
        assert error_codes(response.json()) == ["PAYLOAD_TOO_LARGE"]


class TestInputErrors:
    def test_invalid_email_writes_nothing(self, gateway: GatewayClient) -> None:
        body = gateway.post(CREATE_PERSON, {"input": person_input(email="not-an-address")}).json()
        assert error_codes(body) == ["BAD_USER_INPUT"]
        assert body["errors"][0]["extensions"]["field"] == "email"
        assert "not-an-address" not in body["errors"][0]["message"]  # no personal data echoed

    @pytest.mark.parametrize(
        ("override", "field"),
        [({"familyName": "   "}, "familyName"), ({"familyName": "x" * 301}, "familyName")],
    )
    def test_invalid_names(
        self, gateway: GatewayClient, override: dict[str, str], field: str
    ) -> None:
        body = gateway.post(CREATE_PERSON, {"input": person_input(**override)}).json()
        assert error_codes(body) == ["BAD_USER_INPUT"]
        assert body["errors"][0]["extensions"]["field"] == field

    @pytest.mark.parametrize(
        ("override", "field"),
        [({"purpose": "Not A Code"}, "purpose"), ({"collectionPoint": ""}, "collectionPoint"),
         ({"personId": "not-an-id"}, "personId")],
    )  # fmt: skip
    def test_invalid_consent(
        self, gateway: GatewayClient, override: dict[str, str], field: str
    ) -> None:
        person_id = gateway.execute(CREATE_PERSON, {"input": person_input()})["createPerson"]["id"]
        body = gateway.post(RECORD_CONSENT, {"input": consent_input(person_id, **override)}).json()
        assert error_codes(body) == ["BAD_USER_INPUT"]
        assert body["errors"][0]["extensions"]["field"] == field
        history = gateway.execute(PERSON_360, {"id": person_id})["person"]["consents"]
        assert history == []

    def test_unknown_enum_value(self, gateway: GatewayClient) -> None:
        body = gateway.post(
            RECORD_CONSENT, {"input": consent_input(UNKNOWN_ID, channel="PIGEON")}
        ).json()
        assert error_codes(body) == ["BAD_USER_INPUT"]
        assert "PIGEON" in body["errors"][0]["message"]


class TestAuthentication:
    def test_missing_token(self, client_for: Callable[..., GatewayClient]) -> None:
        response = client_for().post("{ __typename }")
        assert response.status_code == 401
        assert error_codes(response.json()) == ["UNAUTHENTICATED"]

    def test_forged_token(
        self, client_for: Callable[..., GatewayClient], platform: Platform
    ) -> None:
        forged = jwt.encode(
            {"sub": "intruder", "roles": ["admin"], "aud": "mdm", "exp": 4_102_444_800},
            "not-the-platform-secret-but-long-enough-32b", algorithm="HS256",
        )  # fmt: skip
        client = client_for()
        response = client.post("{ __typename }", headers={"authorization": f"Bearer {forged}"})
        assert response.status_code == 401
        assert error_codes(response.json()) == ["UNAUTHENTICATED"]

    def test_expired_token(
        self, client_for: Callable[..., GatewayClient], platform: Platform
    ) -> None:
        expired = jwt.encode(
            {"sub": "late", "roles": ["app"], "aud": "mdm", "exp": 1_000_000_000},
            platform.config.secrets.jwt, algorithm="HS256",
        )  # fmt: skip
        response = client_for().post(
            "{ __typename }", headers={"authorization": f"Bearer {expired}"}
        )
        assert response.status_code == 401
        assert error_codes(response.json()) == ["UNAUTHENTICATED"]

    def test_alg_none_token_is_refused(self, client_for: Callable[..., GatewayClient]) -> None:
        unsigned = jwt.encode(
            {"sub": "x", "roles": ["admin"], "aud": "mdm"}, None, algorithm="none"
        )
        response = client_for().post(
            "{ __typename }", headers={"authorization": f"Bearer {unsigned}"}
        )
        assert response.status_code == 401


class TestRoles:
    def test_app_may_not_read_consent_records(
        self, client_for: Callable[..., GatewayClient]
    ) -> None:
        app = client_for("app")
        person_id = app.execute(CREATE_PERSON, {"input": person_input()})["createPerson"]["id"]
        body = app.post(
            "query($id: ID!) { person(id: $id) { consents { purpose } } }", {"id": person_id}
        ).json()
        assert error_codes(body) == ["FORBIDDEN"]

    def test_compliance_may_not_create_persons(
        self, client_for: Callable[..., GatewayClient]
    ) -> None:
        body = client_for("compliance").post(CREATE_PERSON, {"input": person_input()}).json()
        assert error_codes(body) == ["FORBIDDEN"]

    def test_token_without_roles_reads_nothing(
        self, platform: Platform, token_for: Callable[..., str]
    ) -> None:
        client = GatewayClient(platform.config.gateway_url, token_for())
        try:
            body = client.post(PERSON_360, {"id": UNKNOWN_ID}).json()
        finally:
            client.close()
        assert error_codes(body) == ["FORBIDDEN"]

    def test_admin_holds_every_role(self, client_for: Callable[..., GatewayClient]) -> None:
        admin = client_for("admin")
        person_id = admin.execute(CREATE_PERSON, {"input": person_input()})["createPerson"]["id"]
        admin.execute(RECORD_CONSENT, {"input": consent_input(person_id)})
        person = admin.execute(PERSON_360, {"id": person_id})["person"]
        assert len(person["consents"]) == 1


def test_no_server_errors_were_logged(platform: Platform, gateway: GatewayClient) -> None:
    """Runs after the error tests above (file order): expected errors are not server errors."""
    for name in ("gateway", "profile", "matching", "consent", "distribution"):
        text = log_text(platform, name)
        assert "Traceback" not in text, name
        assert " ERROR " not in text, name
        assert " ERR " not in text, name  # the gateway's log level marker
