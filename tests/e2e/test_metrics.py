"""Each subgraph's /metrics, scraped like Prometheus would: operations, errors by code,
backlogs and the domain's counters, and no personal data in any label."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from mdm_infra.client import GatewayClient, GraphQLError
from mdm_infra.platform import Platform

from .test_profile_privacy import Customer, new_person

PERSON = "query MetricsProbe($id: ID!) { person(id: $id) { id givenName email } }"
FORBIDDEN_READ = 'query NotMine { profileReads(reader: "x") { auditId } }'
CONTACT_CHECK = """query MetricsCheck($id: ID!) {
  contactCheck(personId: $id, purpose: "newsletter", channel: EMAIL) { allowed }
}"""
SAMPLE = re.compile(r"^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")


def scrape(platform: Platform, service: str) -> str:
    response = httpx.get(f"{platform.config.service_url(service)}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    found = []
    for line in text.splitlines():
        match = SAMPLE.match(line)
        if match and match["name"] == name:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"] or ""))
            found.append((labels, float(match["value"])))
    return found


def value(text: str, name: str, **labels: str) -> float:
    return sum(v for have, v in samples(text, name) if labels.items() <= have.items())


class TestProfileMetrics:
    def test_operations_errors_and_backlogs_without_personal_data(
        self,
        platform: Platform,
        gateway: GatewayClient,
        client_for: Callable[..., GatewayClient],
    ) -> None:
        customer = Customer()
        person_id = new_person(gateway, customer)
        before = scrape(platform, "profile")
        steward = client_for("steward")

        steward.execute(PERSON, {"id": person_id})
        steward.execute(PERSON, {"id": person_id})
        with pytest.raises(GraphQLError):
            steward.execute(FORBIDDEN_READ)
        after = scrape(platform, "profile")

        requests = "mdm_graphql_requests_total"
        assert (
            value(after, requests, operation="MetricsProbe", type="query")
            - value(before, requests, operation="MetricsProbe", type="query")
            == 2
        )
        errors = "mdm_graphql_errors_total"
        assert (
            value(after, errors, operation="NotMine", code="FORBIDDEN")
            - value(before, errors, operation="NotMine", code="FORBIDDEN")
            == 1
        )
        assert value(after, "mdm_graphql_request_duration_seconds_count", operation="MetricsProbe")
        assert samples(after, "mdm_outbox_pending")
        assert samples(after, "mdm_read_audit_pending")
        [(labels, _)] = samples(after, "mdm_broker_queue_depth")
        assert labels["queue"] == "profile"
        for personal in (*customer.values, person_id):
            assert personal not in after

    def test_merges_are_counted(self, platform: Platform, gateway: GatewayClient) -> None:
        survivor, merged = new_person(gateway, Customer()), new_person(gateway, Customer())
        before = value(scrape(platform, "profile"), "mdm_merges_total", kind="merge")
        gateway.execute(
            "mutation M($s: ID!, $m: ID!) { mergePersons(survivorId: $s, mergedId: $m) "
            "{ merge { id } } }",
            {"s": survivor, "m": merged},
        )
        assert value(scrape(platform, "profile"), "mdm_merges_total", kind="merge") == before + 1

    def test_needs_no_gateway_signature_but_graphql_still_does(self, platform: Platform) -> None:
        url = platform.config.service_url("profile")
        assert httpx.get(f"{url}/metrics", timeout=10).status_code == 200
        unsigned = httpx.post(f"{url}/graphql", json={"query": "{ __typename }"}, timeout=10)
        assert unsigned.status_code == 401


class TestMatchingAndConsentMetrics:
    def test_review_queue_and_queue_depth(self, platform: Platform) -> None:
        text = scrape(platform, "matching")
        statuses = {labels["status"] for labels, _ in samples(text, "mdm_review_queue_size")}
        assert statuses == {"open", "deferred"}
        assert [labels["queue"] for labels, _ in samples(text, "mdm_broker_queue_depth")] == [
            "matching"
        ]

    def test_contact_checks_are_counted_by_outcome(
        self, platform: Platform, gateway: GatewayClient
    ) -> None:
        person_id = new_person(gateway, Customer())
        before = value(scrape(platform, "consent"), "mdm_contact_checks_total", channel="EMAIL")
        gateway.execute(CONTACT_CHECK, {"id": person_id})
        after = scrape(platform, "consent")
        # At least this one: the distribution worker checks each new person for the
        # change stream's subscribers too, the newsletter's over EMAIL among them.
        assert value(after, "mdm_contact_checks_total", channel="EMAIL") >= before + 1
        assert value(after, "mdm_contact_checks_total", channel="EMAIL", allowed="false") >= 1
