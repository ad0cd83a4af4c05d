"""What each subgraph enforces on its own: gateway-only access, limits, health."""

from __future__ import annotations

import json
import sys

import httpx
import pytest

from mdm_common.auth import signed_headers
from mdm_infra import limits
from mdm_infra.platform import SERVICES, Platform, PlatformConfig
from mdm_infra.ports import free_port
from mdm_infra.process import ManagedProcess


def signed_post(
    config: PlatformConfig, service: str, body: bytes, secret: str | None = None
) -> httpx.Response:
    key = (secret or config.secrets.gateway).encode()
    headers = {"content-type": "application/json"} | signed_headers(key, body)
    return httpx.post(config.service_url(service) + "/graphql", content=body, headers=headers)


def graphql_body(query: str, roles: list[str] | None = None) -> bytes:
    payload: dict[str, object] = {"query": query}
    if roles is not None:
        payload["extensions"] = {"jwt": {"payload": {"sub": "t", "roles": roles}}}
    return json.dumps(payload).encode()


@pytest.mark.parametrize("service", SERVICES)
class TestGatewayOnly:
    def test_unsigned_requests_are_refused(self, platform: Platform, service: str) -> None:
        response = httpx.post(
            platform.config.service_url(service) + "/graphql", json={"query": "{ __typename }"}
        )
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    def test_a_signature_with_another_key_is_refused(
        self, platform: Platform, service: str
    ) -> None:
        response = signed_post(
            platform.config, service, graphql_body("{ __typename }", ["admin"]), "guess"
        )
        assert response.status_code == 401

    def test_signed_requests_are_served(self, platform: Platform, service: str) -> None:
        response = signed_post(platform.config, service, graphql_body("{ __typename }"))
        assert response.status_code == 200
        assert response.json() == {"data": {"__typename": "Query"}}

    def test_oversized_bodies_are_refused(self, platform: Platform, service: str) -> None:
        over = limits.service_body_limit(service) + 1
        body = graphql_body("{ __typename }" + " " * over)
        assert signed_post(platform.config, service, body).status_code == 413

    def test_depth_is_limited_here_too(self, platform: Platform, service: str) -> None:
        deep = "{ _service " + "{ sdl " * 11 + "}" * 11 + " }"
        errors = signed_post(platform.config, service, graphql_body(deep)).json()["errors"]
        assert any("exceeds maximum operation depth" in e["message"] for e in errors)

    def test_aliases_and_tokens_are_limited_here_too(
        self, platform: Platform, service: str
    ) -> None:
        aliases = " ".join(f"a{i}: __typename" for i in range(40))
        errors = signed_post(platform.config, service, graphql_body(f"{{ {aliases} }}")).json()
        assert "aliases found" in errors["errors"][0]["message"]
        tokens = " ".join(["__typename"] * 2100)
        errors = signed_post(platform.config, service, graphql_body(f"{{ {tokens} }}")).json()
        assert "more than 2000 tokens" in errors["errors"][0]["message"]

    def test_health_endpoints(self, platform: Platform, service: str) -> None:
        base = platform.config.service_url(service)
        assert httpx.get(base + "/healthz").json()["status"] == "alive"
        assert httpx.get(base + "/readyz").json() == {
            "status": "ready",
            "service": service,
            "dependencies": {"graph": {"status": "ok"}, "broker": {"status": "ok"}},
        }

    def test_get_queries_are_not_served(self, platform: Platform, service: str) -> None:
        url = platform.config.service_url(service) + "/graphql?query={__typename}"
        assert httpx.get(url).status_code == 405


def test_readiness_fails_while_the_graph_is_unreachable(platform: Platform) -> None:
    config = platform.config
    port = free_port()
    env = config.service_env("consent") | {
        "CONSENT_GRAPH_URI": f"bolt://127.0.0.1:{free_port()}",  # nothing listens there
        "CONSENT_GRAPH_CONNECT_TIMEOUT_S": "1",
    }
    service = ManagedProcess(
        name="consent-without-graph",
        argv=[sys.executable, "-m", "uvicorn", "mdm_consent.app:create_app", "--factory",
              "--port", str(port), "--log-level", "warning"],
        env=env, log_path=config.log_dir / "consent-without-graph.log",
    )  # fmt: skip
    service.start()
    try:
        base = f"http://127.0.0.1:{port}"
        service.wait_ready(lambda: httpx.get(base + "/healthz").status_code == 200, timeout_s=30)
        ready = httpx.get(base + "/readyz")
        assert ready.status_code == 503
        assert ready.json()["dependencies"]["graph"]["status"] in {"starting", "unavailable"}
        assert ready.json()["dependencies"]["broker"] == {"status": "ok"}
    finally:
        service.stop()
