"""Rectification (GDPR Art. 16, 19) through the gateway: a compliance officer records
the request, a steward decides it, the profile shows the corrected value with its
lineage while the source system's record keeps what it sent."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from mdm_infra.client import GatewayClient

from .queries import INGEST, unique_letters
from .test_data_subject_requests import error_of

REQUEST = """
  id type status personIds settledBy steps { service detail }
  rectification { field value recipients decision decidedBy reason }
"""
SUBMIT = f"""
mutation Submit($input: DataSubjectRequestInput!) {{
  submitDataSubjectRequest(input: $input) {{ {REQUEST} }}
}}
"""
QUEUE = """
query Queue { rectificationRequests(first: 200) { requests { id } hasNextPage } }
"""
DECIDE = f"""
mutation Decide($id: ID!, $approve: Boolean!, $reason: String!) {{
  decideRectification(id: $id, approve: $approve, reason: $reason) {{ {REQUEST} }}
}}
"""
PERSON = """
query Person($id: ID!) {
  person(id: $id) {
    email familyName lineage { attribute source sourceId rule }
    sourceRecords { source sourceId email }
  }
}
"""
REASON = "The person showed the contract that carries this address."


@pytest.fixture
def compliance(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("compliance")


@pytest.fixture
def steward(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("steward")


@pytest.fixture
def app(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("app")


def crm_customer(app: GatewayClient) -> tuple[str, str, str]:
    """A person of its own from one crm record: (person id, source id, e-mail address)."""
    tag = unique_letters()
    source_id = "crm-" + uuid.uuid4().hex
    email = f"ida.{tag}@example.org"
    record = {
        "sourceId": source_id,
        "givenName": "Ida",
        "familyName": f"Quast{tag}",
        "email": email,
    }
    found = app.execute(INGEST, {"source": "crm", "records": [record]})
    return found["ingestSourceRecords"]["records"][0]["personId"], source_id, email


def rectification(person_id: str, field: str, value: str) -> dict[str, Any]:
    return {
        "input": {
            "personId": person_id,
            "type": "RECTIFICATION",
            "receivedVia": "LETTER",
            "identityCheck": "ID_DOCUMENT",
            "rectification": {"field": field, "value": value},
        }
    }


def test_a_steward_approves_and_the_golden_value_changes_with_its_lineage(
    compliance: GatewayClient, steward: GatewayClient, app: GatewayClient
) -> None:
    person, source_id, old_email = crm_customer(app)
    corrected = f"ida.{unique_letters()}@example.org"
    asked = compliance.execute(SUBMIT, rectification(person, "email", corrected))
    request = asked["submitDataSubjectRequest"]
    assert (request["type"], request["status"]) == ("RECTIFICATION", "OPEN")
    assert request["rectification"]["recipients"] == ["crm"]  # Art. 19, no values
    queue = steward.execute(QUEUE)["rectificationRequests"]["requests"]
    assert request["id"] in {r["id"] for r in queue}

    decided = steward.execute(DECIDE, {"id": request["id"], "approve": True, "reason": REASON})
    done = decided["decideRectification"]
    assert (done["status"], done["personIds"]) == ("COMPLETED", [person])
    assert done["rectification"] | {"decidedBy": None} == {
        "field": "email",
        "value": None,
        "recipients": ["crm"],
        "decision": "APPROVED",
        "decidedBy": None,
        "reason": REASON,
    }
    assert done["rectification"]["decidedBy"].startswith("test-")

    golden = app.execute(PERSON, {"id": person})["person"]
    assert golden["email"] == corrected
    lineage = {x["attribute"]: x for x in golden["lineage"]}
    assert lineage["email"] == {
        "attribute": "email",
        "source": "rectification",
        "sourceId": request["id"],
        "rule": "RECTIFIED",
    }
    records = {(r["source"], r["sourceId"]): r["email"] for r in golden["sourceRecords"]}
    assert records == {("crm", source_id): old_email, ("rectification", request["id"]): corrected}


def test_a_bad_value_is_refused_with_its_field_and_a_rejection_keeps_its_reason(
    compliance: GatewayClient, steward: GatewayClient, app: GatewayClient
) -> None:
    person, _, _ = crm_customer(app)
    bad = error_of(lambda: compliance.execute(SUBMIT, rectification(person, "email", "a..b@x.de")))
    assert (bad["code"], bad["field"], bad["reason"]) == ("BAD_USER_INPUT", "email", "INVALID")
    date = error_of(lambda: compliance.execute(SUBMIT, rectification(person, "birthDate", "1987")))
    assert (date["code"], date["field"]) == ("BAD_USER_INPUT", "birthDate")

    asked = compliance.execute(SUBMIT, rectification(person, "familyName", "Quast-Lenz"))
    request = asked["submitDataSubjectRequest"]
    reason = "The register of births shows the family name as recorded."
    rejected = compliance.execute(DECIDE, {"id": request["id"], "approve": False, "reason": reason})
    outcome = rejected["decideRectification"]
    assert outcome["status"] == "COMPLETED"
    assert (outcome["rectification"]["decision"], outcome["rectification"]["reason"]) == (
        "REJECTED",
        reason,
    )
    assert app.execute(PERSON, {"id": person})["person"]["familyName"].startswith("Quast")
    assert not app.execute(PERSON, {"id": person})["person"]["familyName"].endswith("-Lenz")


def test_the_app_may_neither_ask_nor_see_nor_decide(
    compliance: GatewayClient, app: GatewayClient
) -> None:
    person, _, _ = crm_customer(app)
    asked = compliance.execute(SUBMIT, rectification(person, "language", "Englisch"))
    request_id = asked["submitDataSubjectRequest"]["id"]
    for call in (
        lambda: app.execute(SUBMIT, rectification(person, "language", "fr")),
        lambda: app.execute(QUEUE),
        lambda: app.execute(DECIDE, {"id": request_id, "approve": True, "reason": REASON}),
    ):
        assert error_of(call)["code"] == "FORBIDDEN"
