"""Consent that cannot be forged, through the gateway with the roles in force.

An ``app`` token records what a customer does now: a grant dated 2001, or an expiry,
a guardian's authorisation, evidence of age or a sale, are refused and write nothing.
The past comes in by ``importConsentEvents`` (compliance only), marked as imported
with its evidence in the history, the printable document and the export; an
imported grant never lifts an objection.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mdm_infra.client import GatewayClient

pytestmark = pytest.mark.e2e

RECORD = """mutation($input: ConsentEventInput!) {
  recordConsentEvent(input: $input) { id type occurredAt imported { importId } } }"""
IMPORT = """mutation($input: ConsentImportInput!) { importConsentEvents(input: $input) {
  proof { importId source reference documentSha256 importedBy importedAt }
  events { id type occurredAt recordedBy } } }"""
HISTORY = """query($id: ID!) { consentHistory(personId: $id) {
  id type occurredAt recordedBy method
  imported { importId source reference documentSha256 importedBy importedAt } } }"""
CHECK = """query($id: ID!, $purpose: String!, $at: DateTime) {
  contactCheck(personId: $id, purpose: $purpose, channel: EMAIL, at: $at) { allowed reason } }"""
DOCUMENT = "query($id: ID!) { consentHistoryDocument(personId: $id) { text } }"
CREATE_PERSON = "mutation($input: CreatePersonInput!) { createPerson(input: $input) { id } }"
SUBMIT = """mutation($input: DataSubjectRequestInput!) {
  submitDataSubjectRequest(input: $input) { id } }"""
EXPORT = """query($id: ID!) { dataSubjectExport(requestId: $id, format: JSON) { content } }"""

EVIDENCE = b"scanned paper forms, old CRM export 2001-2003"
DIGEST = hashlib.sha256(EVIDENCE).hexdigest()
IN_2001 = "2001-05-04T10:00:00+00:00"


@pytest.fixture(scope="module")
def purpose(platform: Any, token_for: Callable[..., str]) -> str:
    code = "letters-" + uuid.uuid4().hex[:8]
    officer = GatewayClient(platform.config.gateway_url, token_for("compliance"))
    try:
        officer.execute(
            "mutation($input: RegisterPurposeInput!) { registerPurpose(input: $input) { code } }",
            {
                "input": {
                    "code": code,
                    "name": "Letters",
                    "description": "Offers by e-mail.",
                    "legalBasis": "CONSENT",
                    "channels": ["EMAIL"],
                    "dataCategories": ["identity", "email"],
                    "retentionDays": 730,
                    "directMarketing": True,
                }
            },
        )
        officer.execute(
            "mutation($input: PublishNoticeInput!) { publishNotice(input: $input) { version } }",
            {"input": {"purpose": code, "language": "de", "text": "Ja, Angebote per E-Mail."}},
        )
    finally:
        officer.close()
    return code


@pytest.fixture
def app(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("app")


@pytest.fixture
def officer(platform: Any, token_for: Callable[..., str]) -> GatewayClient:
    return GatewayClient(platform.config.gateway_url, token_for("compliance", subject="officer-3"))


@pytest.fixture
def person(app: GatewayClient) -> str:
    tag = uuid.uuid4().hex[:8]
    found = app.execute(CREATE_PERSON, {"input": {"familyName": f"Alt{tag}", "givenName": "Ida"}})
    return str(found["createPerson"]["id"])


def event(person: str, purpose: str, type_: str = "GRANTED", **change: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "personId": person,
        "type": type_,
        "purpose": purpose,
        "channel": "EMAIL",
        "noticeVersion": 1,
        "language": "de",
        "collectionPoint": "shop-newsletter-box",
        "method": "WEB_FORM",
        "actor": "DATA_SUBJECT",
        "evidenceRef": "submission-1",
    }
    return values | change


def refusal(client: GatewayClient, document: str, values: dict[str, Any]) -> dict[str, Any]:
    body = client.post(document, {"input": values}).json()
    [error] = body["errors"]
    return dict(error["extensions"])


def history(officer: GatewayClient, person: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = officer.execute(HISTORY, {"id": person})["consentHistory"]
    return found


def an_import(*events: dict[str, Any], digest: str = DIGEST) -> dict[str, Any]:
    return {
        "source": "old-crm",
        "reference": "export-2003-11",
        "documentSha256": digest,
        "events": list(events),
    }


class TestAnApplication:
    def test_records_what_a_customer_does_now(
        self, app: GatewayClient, officer: GatewayClient, person: str, purpose: str
    ) -> None:
        for type_ in ("GRANTED", "WITHDRAWN", "OBJECTED"):
            recorded = app.execute(RECORD, {"input": event(person, purpose, type_)})
            assert recorded["recordConsentEvent"]["imported"] is None
        assert len(history(officer, person)) == 3

    @pytest.mark.parametrize("when", [IN_2001, "past hour", "next hour"])
    def test_may_not_date_an_event_away_from_now(
        self, app: GatewayClient, officer: GatewayClient, person: str, purpose: str, when: str
    ) -> None:
        now = datetime.now(UTC)
        at = {"past hour": now - timedelta(hours=1), "next hour": now + timedelta(hours=1)}
        occurred = at[when].isoformat() if when in at else when
        found = refusal(app, RECORD, event(person, purpose, occurredAt=occurred))
        assert found["code"] == "BAD_USER_INPUT"
        assert (found["field"], found["reason"]) == ("occurredAt", "NOT_NOW")
        assert history(officer, person) == []

    @pytest.mark.parametrize(
        "change",
        [
            {"type": "EXPIRED"},
            {"type": "PARENTAL_AUTHORISATION", "actor": "GUARDIAN", "channel": None},
            {"type": "AGE_EVIDENCE", "purpose": None, "channel": None, "birthDate": "1990-01-01"},
            {"type": "SALE_RECORDED", "channel": None, "method": "ORDER"},
        ],
    )
    def test_may_not_record_what_the_controller_asserts(
        self,
        app: GatewayClient,
        officer: GatewayClient,
        person: str,
        purpose: str,
        change: dict[str, Any],
    ) -> None:
        found = refusal(app, RECORD, event(person, purpose) | change)
        assert (found["code"], found["field"], found["reason"]) == (
            "FORBIDDEN",
            "type",
            "NOT_A_CUSTOMER_ACT",
        )
        assert history(officer, person) == []

    def test_may_not_record_an_import_or_import(
        self,
        app: GatewayClient,
        client_for: Callable[..., GatewayClient],
        person: str,
        purpose: str,
    ) -> None:
        found = refusal(app, RECORD, event(person, purpose, method="IMPORT"))
        assert (found["code"], found["reason"]) == ("BAD_USER_INPUT", "USE_IMPORT")
        past = event(person, purpose, occurredAt=IN_2001)
        for role in ("app", "steward"):
            found = refusal(client_for(role), IMPORT, an_import(past))
            assert found["code"] == "FORBIDDEN"


class TestAComplianceOfficer:
    def test_records_the_controllers_assertions_now_but_not_the_past(
        self, officer: GatewayClient, person: str, purpose: str
    ) -> None:
        guardian = event(person, purpose, "PARENTAL_AUTHORISATION", actor="GUARDIAN")
        officer.execute(RECORD, {"input": guardian})
        found = refusal(officer, RECORD, event(person, purpose, occurredAt=IN_2001))
        assert found["reason"] == "NOT_NOW"

    def test_imports_the_past_with_its_evidence(
        self, officer: GatewayClient, person: str, purpose: str
    ) -> None:
        grant = event(person, purpose, occurredAt=IN_2001, method="PAPER_FORM")
        expiry = event(
            person,
            purpose,
            "EXPIRED",
            occurredAt="2003-05-04T10:00:00+00:00",
            method="SYSTEM",
            actor="STAFF",
            staffId="batch",
        )
        done = officer.execute(IMPORT, {"input": an_import(grant, expiry)})["importConsentEvents"]
        proof = done["proof"]
        assert (proof["source"], proof["reference"], proof["documentSha256"]) == (
            "old-crm",
            "export-2003-11",
            DIGEST,
        )
        assert proof["importedBy"] == "officer-3"
        stored = history(officer, person)
        assert [(e["type"], e["method"], e["recordedBy"]) for e in stored] == [
            ("EXPIRED", "SYSTEM", "officer-3"),
            ("GRANTED", "PAPER_FORM", "officer-3"),
        ]
        assert all(e["imported"] == proof for e in stored)
        at = {"id": person, "purpose": purpose, "at": "2002-01-01T00:00:00Z"}
        assert officer.execute(CHECK, at)["contactCheck"]["allowed"] is True
        now = officer.execute(CHECK, at | {"at": None})["contactCheck"]
        assert now["reason"] == "CONSENT_EXPIRED"

        document = officer.execute(DOCUMENT, {"id": person})["consentHistoryDocument"]["text"]
        assert f"Imported: from old-crm (reference export-2003-11, document SHA-256 {DIGEST})" in (
            document
        )
        request = officer.execute(
            SUBMIT,
            {
                "input": {
                    "personId": person,
                    "type": "ACCESS",
                    "receivedVia": "EMAIL",
                    "identityCheck": "ACCOUNT_LOGIN",
                }
            },
        )["submitDataSubjectRequest"]
        content = officer.execute(EXPORT, {"id": request["id"]})["dataSubjectExport"]["content"]
        assert content.count(DIGEST) == 2
        assert json.loads(content)

    @pytest.mark.parametrize(
        ("change", "field"),
        [({"documentSha256": "scan.pdf"}, "documentSha256"), ({"source": " "}, "source")],
    )
    def test_an_import_needs_its_evidence(
        self,
        officer: GatewayClient,
        person: str,
        purpose: str,
        change: dict[str, str],
        field: str,
    ) -> None:
        found = refusal(
            officer, IMPORT, an_import(event(person, purpose, occurredAt=IN_2001)) | change
        )
        assert (found["code"], found["field"]) == ("BAD_USER_INPUT", field)

    def test_an_import_is_whole_or_absent(
        self, officer: GatewayClient, person: str, purpose: str
    ) -> None:
        good = event(person, purpose, occurredAt=IN_2001)
        unknown_notice = event(person, purpose, occurredAt=IN_2001, noticeVersion=9)
        found = refusal(officer, IMPORT, an_import(good, unknown_notice))
        assert (found["code"], found["index"]) == ("NOT_FOUND", 1)
        assert history(officer, person) == []

    def test_an_imported_grant_never_lifts_an_objection(
        self, app: GatewayClient, officer: GatewayClient, person: str, purpose: str
    ) -> None:
        app.execute(
            RECORD,
            {"input": event(person, purpose, "OBJECTED") | {"purpose": None, "channel": None}},
        )
        later = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
        officer.execute(IMPORT, {"input": an_import(event(person, purpose, occurredAt=later))})
        after = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
        check = {"id": person, "purpose": purpose, "at": after}
        assert officer.execute(CHECK, check)["contactCheck"]["reason"] == "OBJECTED"
