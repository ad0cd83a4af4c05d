"""Every error of every server carries ``extensions.code``; nothing a caller sends can
make a server fail.

Every query and mutation of the committed SDL is called through the gateway with an
admin token (every role), without its optional arguments and with odd values in each
argument (odd_calls.py): no answer may be a 5xx or ``INTERNAL_SERVER_ERROR``, every
error names its code, and no server logs a stack trace meanwhile. Requests that are
no GraphQL request at all, and the limits, get a code from the gateway and from each
subgraph too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import GraphQLSchema, build_schema

from mdm_common.auth import signed_headers
from mdm_infra import limits
from mdm_infra.client import GatewayClient
from mdm_infra.platform import SERVICES, Platform
from mdm_infra.sdl import sdl_path

from .odd_calls import Call, calls

pytestmark = pytest.mark.e2e


def subgraph_schema(service: str) -> GraphQLSchema:
    # The federation directives (@link, @key) are declared by the composer, not here.
    return build_schema(sdl_path(service).read_text(), assume_valid_sdl=True)


def root_fields() -> Iterator[tuple[str, str]]:
    for service in SERVICES:
        schema = subgraph_schema(service)
        for root in (schema.query_type, schema.mutation_type):
            if root is not None:
                yield from ((service, name) for name in sorted(root.fields) if name[0] != "_")


class ServerLogs:
    """What the platform's processes logged since the last look."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.seen = self._sizes()

    def _sizes(self) -> dict[Path, int]:
        return {path: path.stat().st_size for path in self.directory.glob("*.log")}

    def since_last_look(self) -> dict[str, str]:
        now = self._sizes()
        texts = {}
        for path, size in now.items():
            start = self.seen.get(path, 0)
            if size > start:
                with path.open("rb") as log:
                    log.seek(start)
                    texts[path.stem] = log.read(size - start).decode(errors="replace")
        self.seen = now
        return texts


@pytest.fixture(scope="module")
def logs(platform: Platform) -> ServerLogs:
    return ServerLogs(platform.config.log_dir)


def no_stack_traces(logs: ServerLogs) -> None:
    traced = {name for name, text in logs.since_last_look().items() if "Traceback" in text}
    assert not traced, f"stack traces in the logs of {sorted(traced)}"


def problems(call: Call, response: httpx.Response) -> list[str]:
    """What is wrong with the answer to one call; nothing when it keeps the contract."""
    where = f"{call.field}({call.about})"
    if response.status_code >= 500:
        return [f"{where}: HTTP {response.status_code}"]
    try:
        body = response.json()
    except ValueError:
        return [f"{where}: HTTP {response.status_code} without a JSON body"]
    found = []
    for error in body.get("errors") or ():
        code = (error.get("extensions") or {}).get("code")
        if not code or code == "INTERNAL_SERVER_ERROR":
            found.append(f"{where}: {code} {error.get('message', '')[:120]!r}")
    return found


@pytest.mark.parametrize(("service", "field"), list(root_fields()))
def test_odd_arguments_get_typed_errors_and_no_stack_trace(
    service: str, field: str, client_for: Any, logs: ServerLogs
) -> None:
    admin: GatewayClient = client_for("admin")
    walked = [c for c in calls(subgraph_schema(service)) if c.field == field]
    logs.since_last_look()
    found = []
    for call in walked:
        found += problems(call, admin.post(call.document, call.variables))
    assert not found, "\n".join(found)
    no_stack_traces(logs)


def test_every_field_that_takes_input_is_walked() -> None:
    """Only mutations without arguments (they start a job) are left out: no input of
    theirs can be odd."""
    for service in SERVICES:
        schema = subgraph_schema(service)
        walked = {c.field for c in calls(schema)}
        for root in (schema.query_type, schema.mutation_type):
            for name, field in (root.fields if root else {}).items():
                if name[0] != "_":
                    assert name in walked or (root is schema.mutation_type and not field.args)


# Requests that are no GraphQL request, each with the content type it is sent with.
JSON = "application/json"
NOT_GRAPHQL: dict[str, tuple[bytes, str | None]] = {
    "body not JSON": (b"{not json", JSON),
    "JSON but not an object": (b'"query"', JSON),
    "a list": (b'[{"query": "{ __typename }"}]', JSON),
    "bytes not UTF-8": (b'{"query": "\xff\xfe"}', JSON),
    "nested too deeply": (b'{"a":' * 5000 + b"1" + b"}" * 5000, JSON),
    "no query": (b"{}", JSON),
    "query not a string": (b'{"query": 5}', JSON),
    "variables not an object": (b'{"query": "{ __typename }", "variables": "x"}', JSON),
    "unknown operation name": (b'{"query": "query A { __typename }", "operationName": "B"}', JSON),
    "no content type": (b'{"query": "{ __typename }"}', None),
    "plain text": (b'{"query": "{ __typename }"}', "text/plain"),
}

DOCUMENTS = {
    "does not parse": "{ __typename ",
    "too deep": "{ _service " + "{ sdl " * 11 + "}" * 11 + " }",
    "too many aliases": "{ " + " ".join(f"a{i}: __typename" for i in range(40)) + " }",
    "too many tokens": "{ " + " ".join(["__typename"] * 2100) + " }",
    "unknown field": "{ shoeSize }",
}
EXPECTED = {
    "does not parse": "GRAPHQL_PARSE_FAILED",
    "too deep": "QUERY_TOO_COMPLEX",
    "too many aliases": "QUERY_TOO_COMPLEX",
    "too many tokens": "QUERY_TOO_COMPLEX",
    "unknown field": "GRAPHQL_VALIDATION_FAILED",
}


def codes_of(response: httpx.Response) -> list[str]:
    assert response.status_code < 500, response.text
    assert "json" in response.headers.get("content-type", ""), response.text
    errors = response.json()["errors"]
    assert errors
    return [error.get("extensions", {}).get("code") for error in errors]


def signed(
    platform: Platform, service: str, body: bytes, content_type: str | None
) -> httpx.Response:
    headers = signed_headers(platform.config.secrets.gateway.encode(), body)
    if content_type:
        headers["content-type"] = content_type
    url = platform.config.service_url(service) + "/graphql"
    return httpx.post(url, content=body, headers=headers)


@pytest.mark.parametrize("service", SERVICES)
class TestEachSubgraph:
    @pytest.mark.parametrize("case", NOT_GRAPHQL)
    def test_a_request_that_is_no_graphql_request(
        self, platform: Platform, service: str, case: str, logs: ServerLogs
    ) -> None:
        logs.since_last_look()
        body, content_type = NOT_GRAPHQL[case]
        response = signed(platform, service, body, content_type)
        assert 400 <= response.status_code < 500
        [code] = codes_of(response)
        assert code in {"BAD_REQUEST", "UNSUPPORTED_MEDIA_TYPE"}
        no_stack_traces(logs)

    @pytest.mark.parametrize("case", DOCUMENTS)
    def test_documents_refused_before_execution(
        self, platform: Platform, service: str, case: str
    ) -> None:
        body = json.dumps({"query": DOCUMENTS[case]}).encode()
        codes = codes_of(signed(platform, service, body, "application/json"))
        assert EXPECTED[case] in codes
        assert all(codes), codes

    def test_a_representation_of_no_entity(self, platform: Platform, service: str) -> None:
        query = "query($v: _Any!) { _entities(representations: [$v]) { __typename } }"
        body = json.dumps({"query": query, "variables": {"v": "x"}}).encode()
        codes = codes_of(signed(platform, service, body, "application/json"))
        assert codes == ["BAD_USER_INPUT"]

    def test_an_oversized_body(self, platform: Platform, service: str) -> None:
        padding = " " * limits.service_body_limit(service)
        body = json.dumps({"query": "{ __typename }" + padding}).encode()
        response = signed(platform, service, body, "application/json")
        assert response.status_code == 413
        assert codes_of(response) == ["PAYLOAD_TOO_LARGE"]

    @pytest.mark.parametrize(("method", "path"), [("GET", "/graphql"), ("GET", "/nothing")])
    def test_a_wrong_method_or_path(
        self, platform: Platform, service: str, method: str, path: str
    ) -> None:
        url = platform.config.service_url(service) + path
        response = httpx.request(method, url)
        assert response.status_code in {404, 405}
        assert codes_of(response) == [
            {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}[response.status_code]
        ]


class TestTheGateway:
    @pytest.mark.parametrize("case", NOT_GRAPHQL)
    def test_a_request_that_is_no_graphql_request(
        self, platform: Platform, case: str, client_for: Any
    ) -> None:
        admin: GatewayClient = client_for("admin")
        body, content_type = NOT_GRAPHQL[case]
        headers = {"content-type": content_type} if content_type else {}
        response = admin.http.post(admin.url, content=body, headers=headers)
        assert response.status_code < 500
        assert all(codes_of(response)), response.text

    def test_an_unknown_path(self, platform: Platform, client_for: Any) -> None:
        admin: GatewayClient = client_for("admin")
        response = admin.http.get(admin.url.replace("/graphql", "/nothing"))
        assert response.status_code == 404
        assert codes_of(response) == ["NOT_FOUND"]

    def test_a_date_literal_no_scalar_can_parse(self, client_for: Any) -> None:
        query = (
            '{ contactCheck(personId: "x", purpose: "p", channel: EMAIL, at: "nope") { allowed } }'
        )
        codes = codes_of(client_for("admin").post(query))
        assert codes == ["BAD_USER_INPUT"]


def test_set_parent_company_needs_its_parent_or_an_explicit_null(client_for: Any) -> None:
    admin: GatewayClient = client_for("admin")
    company = admin.execute('mutation { createCompany(name: "Ast AG") { id } }')["createCompany"]
    document = "mutation($c: ID!) { setParentCompany(companyId: $c) { id parent { id } } }"
    [error] = admin.post(document, {"c": company["id"]}).json()["errors"]
    assert (error["extensions"]["code"], error["extensions"]["field"]) == (
        "BAD_USER_INPUT",
        "parentId",
    )
    detach = (
        "mutation($c: ID!) { setParentCompany(companyId: $c, parentId: null) { parent { id } } }"
    )
    assert admin.execute(detach, {"c": company["id"]})["setParentCompany"]["parent"] is None
