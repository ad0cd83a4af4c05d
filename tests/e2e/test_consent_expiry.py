"""Consent expiry as an event and the re-consent worklist, through the gateway with the
roles in force (GDPR Art. 7(1), 5(2), 5(1)(e))."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mdm_infra.client import GatewayClient

from .runs import when_done
from .test_consent import (
    HISTORY,
    PUBLISH,
    check,
    event,
    import_past,
    new_person,
    new_purpose,
    record,
)
from .test_data_subject_requests import error_of

START = "mutation { startExpiryRun { id status startedBy } }"
RUN = "query Run($id: ID!) { expiryRun(id: $id) { id status checked expired error } }"
DOCUMENT = "query D($personId: ID!) { consentHistoryDocument(personId: $personId) { text } }"
WORKLIST = """
query Worklist($purpose: String!, $channel: Channel!, $first: Int, $after: ID) {
  reconsentWorklist(purpose: $purpose, channel: $channel, first: $first, after: $after) {
    totalCount hasNextPage endCursor csv
    entries { personId channel agreedVersion requiredVersion requiredPublishedAt currentVersion }
  }
}
"""
VIEW_READS = "{ complianceViewReads(first: 20) { operation scope } }"


@pytest.fixture
def compliance(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("compliance")


@pytest.fixture
def app(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("app")


def finished(compliance: GatewayClient, run_id: str) -> dict[str, Any]:
    return when_done(compliance, RUN, "expiryRun", run_id)


class TestExpiry:
    def test_a_lapsed_consent_gets_its_expired_event_from_the_run(
        self, compliance: GatewayClient, app: GatewayClient
    ) -> None:
        purpose, person = new_purpose(compliance, consentValidityDays=30), new_person(app)
        granted_at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=40)
        # A former system's confirmed double opt-in (e-mail marketing needs one).
        import_past(
            compliance,
            event(person, purpose, method="EMAIL_LINK", occurredAt=granted_at.isoformat()),
        )

        forbidden = error_of(lambda: app.execute(START))
        assert forbidden["code"] == "FORBIDDEN"
        started = compliance.execute(START)["startExpiryRun"]
        assert started["startedBy"] != "schedule"
        run = finished(compliance, started["id"])
        assert (run["status"], run["error"]) == ("DONE", None)
        assert run["expired"] >= 1
        assert error_of(lambda: app.execute(RUN, {"id": run["id"]}))["code"] == "FORBIDDEN"

        found = check(app, person, purpose)
        assert (found["allowed"], found["reason"], found["decidingEventType"]) == (
            False,
            "CONSENT_EXPIRED",
            "EXPIRED",
        )
        history = compliance.execute(HISTORY, {"personId": person})["consentHistory"]
        (expired,) = [e for e in history if e["type"] == "EXPIRED"]
        assert expired["id"] == found["decidingEventId"]
        assert (expired["purpose"], expired["channel"]) == (purpose, "EMAIL")
        assert (expired["method"], expired["actor"]) == ("SYSTEM", "SYSTEM")
        lapse = datetime.fromisoformat(expired["occurredAt"].replace("Z", "+00:00"))
        assert lapse == granted_at + timedelta(days=30)
        text = compliance.execute(DOCUMENT, {"personId": person})["consentHistoryDocument"]["text"]
        assert f"expiry run {run['id']}" in text

        again = finished(compliance, compliance.execute(START)["startExpiryRun"]["id"])
        assert again["status"] == "DONE"
        history = compliance.execute(HISTORY, {"personId": person})["consentHistory"]
        assert [e["type"] for e in history].count("EXPIRED") == 1  # one grant expires once

    def test_nobody_records_as_the_system(
        self, compliance: GatewayClient, app: GatewayClient
    ) -> None:
        purpose, person = new_purpose(compliance), new_person(app)
        refused = error_of(
            lambda: record(compliance, event(person, purpose, "EXPIRED", actor="SYSTEM"))
        )
        assert (refused["code"], refused["field"], refused["reason"]) == (
            "BAD_USER_INPUT",
            "actor",
            "SYSTEM_ONLY",
        )


class TestReconsentWorklist:
    def test_lists_who_must_be_asked_again_after_a_material_notice(
        self, compliance: GatewayClient, app: GatewayClient
    ) -> None:
        purpose = new_purpose(compliance)
        due = sorted(new_person(app) for _ in range(2))
        renewed = new_person(app)
        for person in (*due, renewed):
            record(app, event(person, purpose, channel="PHONE"))
        material = {"purpose": purpose, "language": "de", "text": "Neu.", "material": True}
        published = compliance.execute(PUBLISH, {"input": material})["publishNotice"]
        record(app, event(renewed, purpose, channel="PHONE", noticeVersion=published["version"]))

        variables = {"purpose": purpose, "channel": "PHONE", "first": 1}
        assert error_of(lambda: app.execute(WORKLIST, variables))["code"] == "FORBIDDEN"
        first = compliance.execute(WORKLIST, variables)["reconsentWorklist"]
        assert (first["totalCount"], first["hasNextPage"]) == (2, True)
        (entry,) = first["entries"]
        assert (entry["personId"], entry["agreedVersion"], entry["requiredVersion"]) == (
            due[0],
            1,
            2,
        )
        assert entry["currentVersion"] == 2
        assert entry["requiredPublishedAt"]
        rest = compliance.execute(WORKLIST, variables | {"after": first["endCursor"], "first": 10})
        page = rest["reconsentWorklist"]
        assert [e["personId"] for e in page["entries"]] == [due[1]]
        assert page["hasNextPage"] is False
        rows = list(csv.DictReader(io.StringIO(page["csv"])))
        assert [(r["person_id"], r["required_version"]) for r in rows] == [(due[1], "2")]
        assert check(app, due[1], purpose, "PHONE")["reason"] == "RENEWAL_REQUIRED"

        views = compliance.execute(VIEW_READS)["complianceViewReads"]
        assert f"purpose {purpose} channel PHONE: 1 of 2 listed" in [v["scope"] for v in views]
