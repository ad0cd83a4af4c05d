"""Signed subgraph calls are good once: a request captured between the gateway and a
subgraph, sent again within its validity window, is refused by every process of
every subgraph; so are timestamps from the future. Subgraphs listen on loopback."""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from mdm_common.auth import NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from mdm_infra.client import GatewayClient
from mdm_infra.platform import SERVICES, Platform, asgi_server
from mdm_infra.ports import free_port
from mdm_infra.process import ManagedProcess

from .servers import Captured, RecordingProxy, extra_gateway

CREATE_COMPANY = """mutation CreateCompany($name: String!) {
  createCompany(name: $name) { id name }
}"""
READ_PERSON = "query Read($id: ID!) { person(id: $id) { id givenName email } }"
PROFILE_READS = """query ProfileReads($personId: ID) {
  profileReads(personId: $personId) { operation }
}"""
CREATE_PERSON = """mutation CreatePerson($input: CreatePersonInput!) {
  createPerson(input: $input) { id }
}"""


@pytest.fixture(scope="module")
def profile_proxy(platform: Platform) -> Iterator[RecordingProxy]:
    with RecordingProxy(platform.config.service_url("profile") + "/graphql") as proxy:
        yield proxy  # type: ignore[misc]


@pytest.fixture(scope="module")
def listened_gateway(platform: Platform, profile_proxy: RecordingProxy) -> Iterator[str]:
    """A gateway whose calls to the profile subgraph pass someone listening."""
    with extra_gateway(platform, "gateway-listened", {"MDM_PROFILE_URL": profile_proxy.url}) as url:
        yield url


@pytest.fixture
def through_listened(
    listened_gateway: str, token_for: Callable[..., str], profile_proxy: RecordingProxy
) -> Callable[..., tuple[dict[str, object], Captured]]:
    """Run an operation through the listened gateway; return its answer and the one
    request the profile subgraph received for it."""

    def run(query: str, variables: dict[str, object], *roles: str) -> tuple[dict, Captured]:
        before = len(profile_proxy.captured)
        answer = httpx.post(
            listened_gateway,
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {token_for(*roles)}"},
        ).json()
        assert len(profile_proxy.captured) == before + 1
        return answer, profile_proxy.captured[-1]

    return run


def send(platform: Platform, service: str, captured: Captured) -> httpx.Response:
    return httpx.post(
        platform.config.service_url(service) + "/graphql",
        content=captured.body,
        headers=captured.headers,
    )


def assert_refused(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert reason in body["errors"][0]["message"]


class TestReplay:
    def test_a_replayed_mutation_is_refused(
        self, platform: Platform, through_listened: Callable[..., tuple[dict, Captured]]
    ) -> None:
        name = f"Replay {uuid.uuid4().hex[:8]} GmbH"
        answer, captured = through_listened(CREATE_COMPANY, {"name": name}, "steward")
        assert answer["data"]["createCompany"]["name"] == name
        replayed = send(platform, "profile", captured)
        assert_refused(replayed, "already used")

    def test_a_replayed_read_returns_no_personal_data(
        self,
        platform: Platform,
        through_listened: Callable[..., tuple[dict, Captured]],
    ) -> None:
        created, _ = through_listened(
            CREATE_PERSON,
            {"input": {"givenName": "Rita", "familyName": "Replay", "email": "rita@example.org"}},
            "app",
        )
        person_id = created["data"]["createPerson"]["id"]
        answer, captured = through_listened(READ_PERSON, {"id": person_id}, "compliance")
        assert answer["data"]["person"]["email"] == "rita@example.org"
        replayed = send(platform, "profile", captured)
        assert_refused(replayed, "already used")
        assert b"rita@example.org" not in replayed.content

    def test_a_replayed_read_leaves_no_audit_record(
        self,
        platform: Platform,
        through_listened: Callable[..., tuple[dict, Captured]],
        gateway: GatewayClient,
    ) -> None:
        """The read runs while the nonce store is asked; its record waits for the
        answer, so only the read that was answered is on record."""
        created, _ = through_listened(
            CREATE_PERSON,
            {"input": {"givenName": "Ada", "familyName": "Audit", "email": "ada@example.org"}},
            "app",
        )
        person_id = created["data"]["createPerson"]["id"]
        _, captured = through_listened(READ_PERSON, {"id": person_id}, "compliance")
        assert_refused(send(platform, "profile", captured), "already used")
        records = gateway.execute(PROFILE_READS, {"personId": person_id})["profileReads"]
        assert [r["operation"] for r in records].count("Read") == 1

    def test_a_replay_to_another_subgraph_is_refused(
        self, platform: Platform, through_listened: Callable[..., tuple[dict, Captured]]
    ) -> None:
        _, captured = through_listened(READ_PERSON, {"id": str(uuid.uuid4())}, "app")
        for service in ("consent", "matching"):
            assert_refused(send(platform, service, captured), "already used")

    def test_a_replay_to_another_process_of_the_subgraph_is_refused(
        self, platform: Platform, through_listened: Callable[..., tuple[dict, Captured]]
    ) -> None:
        """Two processes of one subgraph (as uvicorn --workers or two hosts would run
        it) share the nonce memory through the broker."""
        config = platform.config
        port = free_port()
        second = ManagedProcess(
            name="profile-second-process",
            argv=asgi_server(sys.executable, "mdm_profile.app:create_app", port),
            env=config.service_env("profile"),
            log_path=config.log_dir / "profile-second-process.log",
        )
        second.start()
        try:
            base = f"http://127.0.0.1:{port}"
            second.wait_ready(lambda: httpx.get(base + "/readyz").status_code == 200, timeout_s=60)
            _, captured = through_listened(READ_PERSON, {"id": str(uuid.uuid4())}, "app")
            replayed = httpx.post(
                base + "/graphql", content=captured.body, headers=captured.headers
            )
            assert_refused(replayed, "already used")
        finally:
            second.stop()


def signed_at(platform: Platform, offset_s: float) -> httpx.Response:
    """A correctly signed request whose timestamp is ``offset_s`` from now."""
    body = json.dumps({"query": "{ __typename }"}).encode()
    timestamp = str(int((time.time() + offset_s) * 1000))
    nonce = uuid.uuid4().hex
    secret = platform.config.secrets.gateway.encode()
    headers = {
        "content-type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: sign(secret, timestamp, nonce, body),
    }
    return httpx.post(
        platform.config.service_url("profile") + "/graphql", content=body, headers=headers
    )


class TestTimestamps:
    def test_a_timestamp_in_the_future_beyond_the_skew_is_refused(self, platform: Platform) -> None:
        assert_refused(signed_at(platform, 10), "future")

    def test_a_timestamp_older_than_the_window_is_refused(self, platform: Platform) -> None:
        assert_refused(signed_at(platform, -6), "expired")

    def test_a_fresh_signature_is_served(self, platform: Platform) -> None:
        response = signed_at(platform, 0)
        assert response.status_code == 200
        assert response.json() == {"data": {"__typename": "Query"}}


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on ``port`` (from /proc/net/tcp*)."""
    found = set()
    for table in ("tcp", "tcp6"):
        for row in Path("/proc/net", table).read_text().splitlines()[1:]:
            fields = row.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_subgraphs_listen_on_loopback_only(platform: Platform, service: str) -> None:
    port = getattr(platform.config.ports, service)
    assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, little-endian hex
