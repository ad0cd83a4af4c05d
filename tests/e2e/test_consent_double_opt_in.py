"""Double opt-in for e-mail marketing (UWG §7(2) Nr. 2) and forms asking for several
purposes (GDPR Art. 7(2)) through the gateway, with the roles in force: applications
record, compliance reads the history, a steward may do neither."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mdm_common.graph import GraphClient
from mdm_common.outbox import OUTBOX_EVENT
from mdm_infra.client import GatewayClient, GraphQLError

from .queries import RECORD_CONSENT
from .test_consent import PUBLISH, check, codes, event, import_past, new_person, new_purpose

TOKEN = "Zk3-link-token-8f2c1b9e77a4"
HISTORY = """query($personId: ID!) { consentHistory(personId: $personId) {
  id type purpose channel noticeVersion noticeSha256 confirms confirmBy
  confirmationTokenSha256 ipNetwork submissionId } }"""
SUBMIT = """mutation($input: ConsentSubmissionInput!) { recordConsentSubmission(input: $input) {
  submissionId events { id type purpose channel noticeVersion submissionId confirmBy } } }"""
DOCUMENT = """query($personId: ID!) { consentHistoryDocument(personId: $personId) { text } }"""


@pytest.fixture
def compliance(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("compliance")


@pytest.fixture
def app(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("app")


def record(client: GatewayClient, values: dict[str, object]) -> str:
    return str(client.execute(RECORD_CONSENT, {"input": values})["recordConsentEvent"]["id"])


def confirmation(person: str, purpose: str, pending: str, **change: object) -> dict[str, object]:
    return event(
        person,
        purpose,
        "CONFIRMED",
        confirms=pending,
        channel=None,
        noticeVersion=None,
        method="EMAIL_LINK",
        collectionPoint="confirmation-mail",
        evidenceRef="click-1",
        confirmationToken=TOKEN,
        ipAddress="203.0.113.77",
        **change,
    )


def refusal(client: GatewayClient, document: str, values: dict[str, object]) -> dict[str, Any]:
    body = client.post(document, {"input": values}).json()
    [error] = body["errors"]
    return dict(error["extensions"])


def history(compliance: GatewayClient, person: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = compliance.execute(HISTORY, {"personId": person})[
        "consentHistory"
    ]
    return found


async def announced(graph_for: Callable[[str], GraphClient], pending: str) -> list[Any]:
    """The consent.doi_requested outbox events naming the pending opt-in."""
    rows = await graph_for("consent").read(
        lambda tx: tx.run(
            "test.doi_outbox",
            f"MATCH (e:{OUTBOX_EVENT}) WHERE e.name = $name AND "
            "e.payload CONTAINS $id RETURN e.payload AS payload",
            name="consent.doi_requested",
            id=pending,
        )
    )
    return [json.loads(r["payload"]) for r in rows]


class TestDoubleOptIn:
    async def test_email_marketing_counts_only_a_confirmed_opt_in(
        self,
        app: GatewayClient,
        compliance: GatewayClient,
        graph_for: Callable[[str], GraphClient],
    ) -> None:
        purpose, person = new_purpose(compliance), new_person(app)
        refused = refusal(app, RECORD_CONSENT, event(person, purpose))
        assert (refused["code"], refused["field"], refused["reason"]) == (
            "BAD_USER_INPUT",
            "type",
            "DOUBLE_OPT_IN_REQUIRED",
        )
        pending = record(
            app, event(person, purpose, "PENDING_DOUBLE_OPT_IN", ipAddress="2001:db8:abcd:12::7")
        )
        assert check(app, person, purpose)["reason"] == "DOUBLE_OPT_IN_PENDING"
        assert await announced(graph_for, pending) == [
            {
                "person_id": person,
                "purpose": purpose,
                "channel": "EMAIL",
                "pending_event_id": pending,
            }
        ]
        confirmed = record(app, confirmation(person, purpose, pending))
        found = check(app, person, purpose)
        assert (found["allowed"], found["reason"], found["decidingEventId"]) == (
            True,
            "CONSENT_GIVEN",
            confirmed,
        )
        again = refusal(app, RECORD_CONSENT, confirmation(person, purpose, pending))
        assert (again["code"], again["reason"]) == ("CONFLICT", "ALREADY_CONFIRMED")

        stored = {e["type"]: e for e in history(compliance, person)}
        assert stored["CONFIRMED"] | {"id": None, "confirmBy": None} == {
            "id": None,
            "type": "CONFIRMED",
            "purpose": purpose,
            "channel": "EMAIL",
            "noticeVersion": 1,
            "noticeSha256": stored["PENDING_DOUBLE_OPT_IN"]["noticeSha256"],
            "confirms": pending,
            "confirmBy": None,
            "confirmationTokenSha256": hashlib.sha256(TOKEN.encode()).hexdigest(),
            "ipNetwork": "203.0.113.0/24",
            "submissionId": None,
        }
        asked = stored["PENDING_DOUBLE_OPT_IN"]
        assert asked["ipNetwork"] == "2001:db8:abcd::/48"
        assert datetime.fromisoformat(asked["confirmBy"]) > datetime.now(UTC) + timedelta(days=1)

    def test_a_request_lapses_and_a_plain_imported_grant_is_no_opt_in(
        self, app: GatewayClient, compliance: GatewayClient
    ) -> None:
        purpose, person = new_purpose(compliance), new_person(app)
        long_ago = (datetime.now(UTC) - timedelta(days=400)).isoformat()
        (old,) = import_past(
            compliance, event(person, purpose, "PENDING_DOUBLE_OPT_IN", occurredAt=long_ago)
        )
        assert check(app, person, purpose)["reason"] == "DOUBLE_OPT_IN_LAPSED"
        late = refusal(app, RECORD_CONSENT, confirmation(person, purpose, old["id"]))
        assert (late["code"], late["field"], late["reason"]) == (
            "CONFLICT",
            "confirms",
            "DOUBLE_OPT_IN_LAPSED",
        )
        later = (datetime.now(UTC) - timedelta(days=300)).isoformat()
        import_past(compliance, event(person, purpose, occurredAt=later))
        assert check(app, person, purpose)["reason"] == "DOUBLE_OPT_IN_REQUIRED"
        import_past(compliance, event(person, purpose, method="EMAIL_LINK", occurredAt=later))
        assert check(app, person, purpose)["allowed"] is True  # a former system's opt-in


class TestFormSubmission:
    def test_one_event_per_purpose_and_channel_ticked_linked_and_no_more(
        self, app: GatewayClient, compliance: GatewayClient
    ) -> None:
        offers, raffle, unticked = (new_purpose(compliance) for _ in range(3))
        compliance.execute(
            PUBLISH, {"input": {"purpose": raffle, "language": "de", "text": "Gewinnspiel, neu."}}
        )
        person = new_person(app)
        form = {
            "personId": person,
            "collectionPoint": "shop-signup",
            "method": "WEB_FORM",
            "actor": "DATA_SUBJECT",
            "language": "de",
            "evidenceRef": "form-8812",
            "ipAddress": "198.51.100.23",
            "items": [
                {"purpose": offers, "channel": "EMAIL", "noticeVersion": 1},
                {"purpose": offers, "channel": "PHONE", "noticeVersion": 1},
                {"purpose": raffle, "channel": "POST", "noticeVersion": 2},
            ],
        }
        done = app.execute(SUBMIT, {"input": form})["recordConsentSubmission"]
        submission = done["submissionId"]
        assert [
            (e["type"], e["purpose"], e["channel"], e["noticeVersion"], e["submissionId"])
            for e in done["events"]
        ] == [
            ("PENDING_DOUBLE_OPT_IN", offers, "EMAIL", 1, submission),
            ("GRANTED", offers, "PHONE", 1, submission),
            ("GRANTED", raffle, "POST", 2, submission),
        ]
        assert check(app, person, offers)["reason"] == "DOUBLE_OPT_IN_PENDING"
        assert check(app, person, offers, "PHONE")["allowed"] is True
        assert check(app, person, raffle, "POST")["allowed"] is True
        assert check(app, person, raffle, "EMAIL")["reason"] == "NO_CONSENT"
        assert check(app, person, unticked, "PHONE")["reason"] == "NO_CONSENT"

        stored = history(compliance, person)
        assert {(e["purpose"], e["submissionId"]) for e in stored} == {
            (offers, submission),
            (raffle, submission),
        }
        hashes = {e["purpose"]: e["noticeSha256"] for e in stored}
        assert hashes[raffle] == hashlib.sha256(b"Gewinnspiel, neu.").hexdigest() != hashes[offers]
        text = compliance.execute(DOCUMENT, {"personId": person})["consentHistoryDocument"]["text"]
        assert text.count(f"Form submission: {submission}") == 3

    def test_refused_as_a_whole_and_only_for_applications_and_compliance(
        self,
        app: GatewayClient,
        compliance: GatewayClient,
        client_for: Callable[..., GatewayClient],
    ) -> None:
        purpose, person = new_purpose(compliance), new_person(app)
        item = {"purpose": purpose, "channel": "PHONE", "noticeVersion": 1}
        mail = item | {"channel": "EMAIL"}
        form = {
            "personId": person,
            "collectionPoint": "shop-signup",
            "method": "WEB_FORM",
            "actor": "DATA_SUBJECT",
            "language": "de",
            "evidenceRef": "form-1",
            "items": [item, mail],
        }
        twice = refusal(app, SUBMIT, form | {"items": [item, item]})
        assert (twice["code"], twice["field"], twice["reason"], twice["index"]) == (
            "BAD_USER_INPUT",
            "items",
            "DUPLICATE_ITEM",
            1,
        )
        unknown = refusal(app, SUBMIT, form | {"items": [item, mail | {"noticeVersion": 7}]})
        assert (unknown["code"], unknown["field"], unknown["index"]) == (
            "NOT_FOUND",
            "noticeVersion",
            1,
        )
        old = (datetime.now(UTC) - timedelta(days=2)).isoformat()
        assert refusal(app, SUBMIT, form | {"occurredAt": old})["reason"] == "NOT_NOW"
        assert history(compliance, person) == []

        steward = client_for("steward")
        assert refusal(steward, SUBMIT, form)["code"] == "FORBIDDEN"
        with pytest.raises(GraphQLError) as raised:
            history(app, person)
        assert codes(raised) == ["FORBIDDEN"]
        done = compliance.execute(SUBMIT, {"input": form})["recordConsentSubmission"]
        stored = history(compliance, person)
        assert {(e["type"], e["submissionId"]) for e in stored} == {
            ("GRANTED", done["submissionId"]),
            ("PENDING_DOUBLE_OPT_IN", done["submissionId"]),
        }
