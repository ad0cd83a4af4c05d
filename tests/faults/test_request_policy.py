"""What the gateway and the subgraphs accept: media types, CORS, schema exposure per
role, rate limits, trusted documents, and the documented maxima passing every limit."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from mdm_common.auth import signed_headers
from mdm_console.client.gateway import Operations
from mdm_infra import demo, sdl, trusted_documents
from mdm_infra import node as node_js
from mdm_infra.client import GatewayClient
from mdm_infra.platform import GATEWAY_DIR, SERVICES, Platform, PlatformConfig
from mdm_infra.ports import free_port
from mdm_infra.process import ManagedProcess

ROLES = ("app", "steward", "compliance", "admin")
INTROSPECTION = "{ __schema { queryType { name } } }"
TYPE_INTROSPECTION = '{ __type(name: "Person") { name } }'
MISSPELT = '{ persn(id: "x") { id } }'


def register_purpose(code: str) -> str:
    purpose = {**demo.NEWSLETTER, "code": code, "name": "Policy test"}
    return json.dumps({"query": demo.REGISTER_PURPOSE, "variables": {"input": purpose}})


def purpose_exists(compliance: GatewayClient, code: str) -> bool:
    body = compliance.post(demo.PURPOSE, {"code": code}).json()
    return bool(body.get("data"))


def codes(response: httpx.Response) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in response.json().get("errors", [])]


class TestGatewayMediaTypes:
    """Only application/json carries an operation; a refused body never runs."""

    @pytest.mark.parametrize(
        ("content_type", "body"),
        [
            ("application/x-www-form-urlencoded", "query={q}"),
            (
                "multipart/form-data; boundary=x",
                '--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{j}\r\n--x--\r\n',
            ),
            ("application/graphql", "{q}"),
            ("text/plain", "{j}"),
            ("application/graphql-response+json", "{j}"),
            ("application/json; charset=latin-1", "{j}"),
        ],
    )
    def test_other_bodies_are_refused_and_not_run(
        self, client_for: Callable[..., GatewayClient], content_type: str, body: str
    ) -> None:
        compliance = client_for("compliance")
        code = f"policy_{uuid.uuid4().hex[:10]}"
        payload = register_purpose(code)
        query = json.loads(payload)["query"]
        content = body.replace("{j}", payload).replace("{q}", query)
        response = compliance.http.post(
            compliance.url, content=content.encode(), headers={"content-type": content_type}
        )
        assert response.status_code == 415
        assert codes(response) == ["UNSUPPORTED_MEDIA_TYPE"]
        assert not purpose_exists(compliance, code)

    def test_a_post_without_content_type_is_refused(
        self, client_for: Callable[..., GatewayClient]
    ) -> None:
        app = client_for("app")
        response = app.http.post(app.url, content=b'{"query": "{ __typename }"}')
        assert response.status_code == 415

    def test_json_runs_and_may_ask_for_the_graphql_response_type(
        self, client_for: Callable[..., GatewayClient]
    ) -> None:
        app = client_for("app")
        for accept in ("application/graphql-response+json", "application/json"):
            response = app.http.post(
                app.url,
                content=b'{"query": "{ __typename }"}',
                headers={"content-type": "application/json; charset=utf-8", "accept": accept},
            )
            assert response.status_code == 200
            assert response.headers["content-type"].startswith(accept)
            assert response.json() == {"data": {"__typename": "Query"}}

    def test_get_runs_queries_but_never_a_mutation(
        self, client_for: Callable[..., GatewayClient]
    ) -> None:
        compliance = client_for("compliance")
        assert compliance.http.get(compliance.url, params={"query": "{ __typename }"}).json() == {
            "data": {"__typename": "Query"}
        }
        code = f"policy_{uuid.uuid4().hex[:10]}"
        payload = json.loads(register_purpose(code))
        response = compliance.http.get(
            compliance.url,
            params={"query": payload["query"], "variables": json.dumps(payload["variables"])},
        )
        assert response.status_code == 405
        assert all(codes(response))
        assert not purpose_exists(compliance, code)


def signed(config: PlatformConfig, service: str, body: bytes, content_type: str) -> httpx.Response:
    headers = {"content-type": content_type} | signed_headers(config.secrets.gateway.encode(), body)
    return httpx.post(config.service_url(service) + "/graphql", content=body, headers=headers)


def with_claims(query: str, *roles: str) -> bytes:
    claims = {"sub": "policy-test", "roles": list(roles)}
    return json.dumps({"query": query, "extensions": {"jwt": {"payload": claims}}}).encode()


@pytest.mark.parametrize("service", SERVICES)
class TestSubgraphMediaTypes:
    @pytest.mark.parametrize(
        "content_type",
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/graphql",
            "text/plain",
        ],
    )
    def test_other_bodies_are_refused_even_when_signed(
        self, platform: Platform, service: str, content_type: str
    ) -> None:
        response = signed(
            platform.config, service, with_claims("{ __typename }", "admin"), content_type
        )
        assert response.status_code == 415
        assert codes(response) == ["UNSUPPORTED_MEDIA_TYPE"]

    def test_json_is_served(self, platform: Platform, service: str) -> None:
        response = signed(
            platform.config, service, with_claims("{ __typename }", "app"), "application/json"
        )
        assert response.json() == {"data": {"__typename": "Query"}}


class TestCors:
    def preflight(self, platform: Platform, origin: str) -> httpx.Response:
        return httpx.options(
            platform.config.gateway_url,
            headers={
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization, content-type",
            },
        )

    def test_the_consoles_origin_is_allowed_without_credentials(self, platform: Platform) -> None:
        origin = platform.config.console_url
        response = self.preflight(platform, origin)
        assert response.headers["access-control-allow-origin"] == origin
        assert "authorization" in response.headers["access-control-allow-headers"]
        assert "access-control-allow-credentials" not in response.headers

    @pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1:1"])
    def test_other_origins_get_no_cors_headers(
        self, platform: Platform, client_for: Callable[..., GatewayClient], origin: str
    ) -> None:
        preflight = self.preflight(platform, origin)
        assert not any(h.startswith("access-control-") for h in preflight.headers)
        app = client_for("app")
        response = app.http.post(
            app.url, json={"query": "{ __typename }"}, headers={"origin": origin}
        )
        assert not any(h.startswith("access-control-") for h in response.headers)


class TestSchemaExposureAtTheGateway:
    @pytest.mark.parametrize("role", ["app", "steward", "compliance"])
    def test_introspection_and_suggestions_are_for_admins_only(
        self, client_for: Callable[..., GatewayClient], role: str
    ) -> None:
        client = client_for(role)
        for query in (INTROSPECTION, TYPE_INTROSPECTION):
            body = client.post(query).json()
            assert body.get("data") is None
            assert {e["extensions"]["code"] for e in body["errors"]} == {
                "GRAPHQL_VALIDATION_FAILED"
            }
            assert "introspection" in body["errors"][0]["message"]
        errors = client.post(MISSPELT).json()["errors"]
        assert "persn" in errors[0]["message"]
        assert not any("Did you mean" in e["message"] for e in errors)

    def test_no_suggestions_in_variable_errors_either(
        self, client_for: Callable[..., GatewayClient]
    ) -> None:
        query = (
            'query($c: Channel!) { contactCheck(personId: "x", purpose: "p", channel: $c)'
            " { allowed } }"
        )
        errors = client_for("app").post(query, {"c": "EMIAL"}).json()["errors"]
        assert "EMIAL" in errors[0]["message"]
        assert not any("Did you mean" in e["message"] for e in errors)

    def test_an_admin_introspects_and_gets_suggestions(
        self, client_for: Callable[..., GatewayClient]
    ) -> None:
        admin = client_for("admin")
        assert admin.execute(INTROSPECTION) == {"__schema": {"queryType": {"name": "Query"}}}
        assert admin.execute(TYPE_INTROSPECTION) == {"__type": {"name": "Person"}}
        errors = admin.post(MISSPELT).json()["errors"]
        assert any("Did you mean" in e["message"] for e in errors)


@pytest.mark.parametrize("service", SERVICES)
class TestSchemaExposureInTheSubgraphs:
    @pytest.mark.parametrize(
        "query", [INTROSPECTION, "{ _service { sdl } }", '{ __type(name: "Query") { name } }']
    )
    @pytest.mark.parametrize("roles", [(), ("app",), ("steward", "compliance")])
    def test_refused_without_admin(
        self, platform: Platform, service: str, query: str, roles: tuple[str, ...]
    ) -> None:
        body = with_claims(query, *roles)
        response = signed(platform.config, service, body, "application/json").json()
        assert response.get("data") is None
        assert {e["extensions"]["code"] for e in response["errors"]} == {
            "GRAPHQL_VALIDATION_FAILED"
        }

    def test_an_admin_gets_the_sdl_and_introspection(
        self, platform: Platform, service: str
    ) -> None:
        response = signed(
            platform.config,
            service,
            with_claims("{ _service { sdl } }", "admin"),
            "application/json",
        ).json()
        assert response["data"]["_service"]["sdl"] == sdl.current_sdl(service).rstrip("\n")
        introspected = signed(
            platform.config, service, with_claims(INTROSPECTION, "admin"), "application/json"
        ).json()
        assert introspected == {"data": {"__schema": {"queryType": {"name": "Query"}}}}

    def test_suggestions_only_for_admins(self, platform: Platform, service: str) -> None:
        query = "{ _servce { sdl } }"
        plain = signed(platform.config, service, with_claims(query, "app"), "application/json")
        assert not any("Did you mean" in e["message"] for e in plain.json()["errors"])
        admin = signed(platform.config, service, with_claims(query, "admin"), "application/json")
        assert any("Did you mean" in e["message"] for e in admin.json()["errors"])


# --- a second gateway with the optional modes on ---------------------------------------

RATE_LIMIT = 5
RATE_WINDOW_S = 30


@pytest.fixture(scope="module")
def strict_gateway(platform: Platform) -> Iterator[str]:
    """A gateway in trusted-documents mode with a small rate limit, over the same subgraphs."""
    node = node_js.executable()  # the project's own Node.js, as the platform's gateway
    config = platform.config
    port = free_port()
    process = ManagedProcess(
        name="gateway-strict",
        argv=[node, "src/server.mjs"],
        env=config.gateway_env()
        | {
            "MDM_GATEWAY_PORT": str(port),
            "MDM_PERSISTED_DOCUMENTS": str(trusted_documents.MANIFEST_PATH),
            "MDM_RATE_LIMIT_MAX": str(RATE_LIMIT),
            "MDM_RATE_LIMIT_WINDOW_S": str(RATE_WINDOW_S),
        },
        cwd=GATEWAY_DIR,
        log_path=config.log_dir / "gateway-strict.log",
    )
    process.start()
    base = f"http://127.0.0.1:{port}"
    try:
        process.wait_ready(lambda: httpx.get(base + "/readiness").status_code == 200, timeout_s=60)
        yield base + "/graphql"
    finally:
        process.stop()


# A console operation without variables that the compliance role may run.
PURPOSES = "ContactCheckPurposes"


def post(url: str, token: str, payload: dict[str, object]) -> httpx.Response:
    return httpx.post(url, json=payload, headers={"authorization": f"Bearer {token}"}, timeout=30)


class TestTrustedDocuments:
    def test_the_consoles_documents_run_by_text_and_by_id(
        self, strict_gateway: str, token_for: Callable[..., str]
    ) -> None:
        text = Operations().texts[PURPOSES]
        token = token_for("compliance", subject="trusted-documents")
        by_text = post(strict_gateway, token, {"query": text, "operationName": PURPOSES})
        assert by_text.status_code == 200, by_text.text
        assert "purposes" in by_text.json()["data"]
        document_id = trusted_documents.document_id(text)
        by_id = post(strict_gateway, token, {"documentId": document_id})
        assert by_id.json() == by_text.json()
        apollo = post(
            strict_gateway,
            token,
            {
                "extensions": {"persistedQuery": {"version": 1, "sha256Hash": document_id}},
            },
        )
        assert apollo.json() == by_text.json()

    @pytest.mark.parametrize(
        ("payload", "code"),
        [
            ({"query": "{ purposes { code } }"}, "PERSISTED_QUERY_ONLY"),
            ({"query": INTROSPECTION}, "PERSISTED_QUERY_ONLY"),
            ({"documentId": "0" * 64}, "PERSISTED_QUERY_NOT_FOUND"),
            ({"variables": {}}, "PERSISTED_QUERY_ID_REQUIRED"),
        ],
    )
    def test_other_documents_are_refused(
        self,
        strict_gateway: str,
        token_for: Callable[..., str],
        payload: dict[str, object],
        code: str,
    ) -> None:
        token = token_for("admin", subject="trusted-documents-refused")
        response = post(strict_gateway, token, payload)
        assert response.status_code == 400
        assert codes(response) == [code]

    def test_the_committed_manifest_holds_the_consoles_operations(self) -> None:
        assert not trusted_documents.is_stale(), "run `make schema`"


class TestRateLimit:
    def test_a_client_over_its_budget_gets_429_with_retry_after(
        self, strict_gateway: str, token_for: Callable[..., str]
    ) -> None:
        text = Operations().texts[PURPOSES]
        token = token_for("compliance", subject=f"busy-{uuid.uuid4().hex[:8]}")
        answers = [post(strict_gateway, token, {"query": text}) for _ in range(RATE_LIMIT + 2)]
        assert [a.status_code for a in answers] == [200] * RATE_LIMIT + [429, 429]
        refused = answers[-1]
        assert codes(refused) == ["RATE_LIMITED"]
        assert 1 <= int(refused.headers["retry-after"]) <= RATE_WINDOW_S
        # Another client (another token subject) still has its whole budget.
        other = token_for("compliance", subject=f"calm-{uuid.uuid4().hex[:8]}")
        assert post(strict_gateway, other, {"query": text}).status_code == 200


# --- documented maxima -----------------------------------------------------------------


def documented_maximum(service: str, field: str, pattern: str) -> int:
    """The maximum the committed SDL states in a field's description."""
    text = sdl.sdl_path(service).read_text()
    match = re.search(r'"""\s*([^"]*?)\s*"""\s*' + field + r"\(", text)
    assert match is not None, field
    number = re.search(pattern, match.group(1))
    assert number is not None, match.group(1)
    return int(number.group(1).replace(",", ""))


class TestDocumentedMaxima:
    def test_a_contact_check_of_the_documented_maximum_passes(
        self, platform: Platform, client_for: Callable[..., GatewayClient]
    ) -> None:
        demo.ensure_newsletter(client_for("compliance"))
        most = documented_maximum("consent", "contactCheckBatch", r"at most ([\d,]+)")
        assert most == 10_000
        ids = [str(uuid.uuid4()) for _ in range(most)]
        query = (
            'query($ids: [ID!]!) { contactCheckBatch(personIds: $ids, purpose: "newsletter",'
            " channel: EMAIL) { personId allowed } }"
        )
        app = client_for("app")
        app.http.timeout = httpx.Timeout(120)
        response = app.post(query, {"ids": ids})
        assert response.status_code == 200, response.text[:500]
        decisions = response.json()["data"]["contactCheckBatch"]
        assert [d["personId"] for d in decisions] == ids
        too_many = app.post(query, {"ids": [*ids, str(uuid.uuid4())]}).json()
        assert [e["extensions"]["code"] for e in too_many["errors"]] == ["BAD_USER_INPUT"]

    def test_an_ingest_of_the_documented_maximum_passes_every_body_limit(
        self, client_for: Callable[..., GatewayClient]
    ) -> None:
        records = documented_maximum("profile", "ingestSourceRecords", r"up to (\d+) records")
        length = documented_maximum("profile", "ingestSourceRecords", r"at most (\d+) characters")
        fields = [
            "fullName",
            "givenName",
            "familyName",
            "salutation",
            "birthDate",
            "email",
            "phone",
            "street",
            "houseNumber",
            "postalCode",
            "city",
            "country",
            "language",
        ]
        stated = re.search(r"At most (\d+) identifiers", sdl.sdl_path("profile").read_text())
        assert stated is not None
        identifiers = int(stated.group(1))
        longest = "\u00fc" * length  # two bytes in UTF-8
        identifier = {"scheme": "CUSTOMER_NUMBER", "value": "1" * 64, "issuer": "\u00fc" * 64}
        batch = [
            {"sourceId": f"{i:0128d}", "recordedAt": "2026-12-31T23:59:59.999999+00:00"}
            | dict.fromkeys(fields, longest)
            | {"identifiers": [identifier] * identifiers}
            for i in range(records)
        ]
        # The last record is refused, so the atomic batch writes nothing; what matters
        # is that it reached the service.
        batch[-1]["sourceId"] = "not a source id"
        query = (
            "mutation($r: [SourceRecordInput!]!)"
            ' { ingestSourceRecords(source: "crm", records: $r, atomic: true) { created } }'
        )
        app = client_for("app")
        app.http.timeout = httpx.Timeout(120)
        response = app.post(query, {"r": batch})
        assert len(response.request.content) > 3_500_000
        assert response.status_code == 200, response.text[:500]
        assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_USER_INPUT"]

    def test_a_body_over_the_limit_is_refused(
        self, client_for: Callable[..., GatewayClient]
    ) -> None:
        limit = json.loads((GATEWAY_DIR / "limits.json").read_text())["maxBodyBytes"]
        app = client_for("app")
        padding = " " * limit
        response = app.http.post(
            app.url,
            content=f'{{"query": "{{ __typename }}{padding}"}}'.encode(),
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 413
        assert codes(response) == ["PAYLOAD_TOO_LARGE"]
