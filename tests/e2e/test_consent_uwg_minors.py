"""The existing-customer e-mail exception (UWG §7(3) Nr. 1-4) and minors (GDPR Art. 8)
through the gateway, with the roles in force: compliance registers purposes and records
sales and parental authorisations, an application records consent and checks."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from mdm_infra.client import GatewayClient, GraphQLError

from .matching_support import family_name
from .queries import INGEST
from .test_consent import NOTICE, PUBLISH, REGISTER, event, import_past, record

CHECK = """
query Check($personId: ID!, $purpose: String!) {
  contactCheck(personId: $personId, purpose: $purpose, channel: EMAIL) {
    allowed reason decidingEventType obligations
  }
}
"""
BATCH = """
query Batch($ids: [ID!]!, $purpose: String!) {
  contactCheckBatch(personIds: $ids, purpose: $purpose, channel: EMAIL) {
    personId reason obligations
  }
}
"""
UPDATE = """
mutation Update($input: UpdatePurposeInput!) { updatePurpose(input: $input) { productCategories } }
"""
CHANGES = """
query Changes($code: String!) { purposeChanges(code: $code) { changes { field before after } } }
"""
HISTORY = """
query History($personId: ID!) {
  consentHistory(personId: $personId) { type method actor collectionPoint birthDate }
}
"""
OPT_OUT = ["OPT_OUT_NOTICE_IN_EVERY_MESSAGE"]


@pytest.fixture
def compliance(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("compliance")


@pytest.fixture
def app(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("app")


def new_purpose(compliance: GatewayClient, basis: str, categories: list[str]) -> str:
    code = "shop-mail-" + uuid.uuid4().hex[:8]
    compliance.execute(
        REGISTER,
        {
            "input": {
                "code": code,
                "name": "Shop mail",
                "description": "Offers for our customers.",
                "legalBasis": basis,
                "channels": ["EMAIL", "PHONE"],
                # Not "email": see BINDS_LITTLE in test_consent.
                "dataCategories": ["postal_address"],
                "retentionDays": 730,
                "directMarketing": True,
                "productCategories": categories,
            }
        },
    )
    compliance.execute(PUBLISH, {"input": {"purpose": code, "language": "de", "text": NOTICE}})
    return code


def new_person(gateway: GatewayClient, birth_date: str | None = None) -> str:
    """A person of the test's own, ingested as a source sends it (with a birth date)."""
    tag = uuid.uuid4().hex[:16]
    found = {
        "sourceId": tag,
        "givenName": "Lena",
        "familyName": family_name(),
        "email": f"lena.{tag}@example.org",
        "birthDate": birth_date,
    }
    result = gateway.execute(INGEST, {"source": "crm", "records": [found]})
    return str(result["ingestSourceRecords"]["records"][0]["personId"])


def sale(person: str, purpose: str, **values: object) -> dict[str, object]:
    return (
        event(
            person,
            purpose,
            "SALE_RECORDED",
            channel=None,
            language=None,
            method="ORDER",
            evidenceRef="order-100234",
            productCategory="shoes",
        )
        | values
    )


def refusal(client: GatewayClient, values: dict[str, object]) -> dict[str, Any]:
    with pytest.raises(GraphQLError) as raised:
        record(client, values)
    found: dict[str, Any] = raised.value.errors[0]["extensions"]
    return found


def check(app: GatewayClient, person: str, purpose: str) -> dict[str, Any]:
    found: dict[str, Any] = app.execute(CHECK, {"personId": person, "purpose": purpose})[
        "contactCheck"
    ]
    return found


class TestExistingCustomerEmail:
    def test_each_condition_has_its_reason_and_the_exception_its_obligation(
        self, app: GatewayClient, compliance: GatewayClient, gateway: GatewayClient
    ) -> None:
        purpose = new_purpose(compliance, "LEGITIMATE_INTEREST", ["shoes"])
        buyer, sofa, objector, stranger, past = (new_person(gateway) for _ in range(5))
        # Nr. 1: a sale is the controller's assertion, not a customer act.
        found = refusal(app, sale(buyer, purpose))
        assert (found["code"], found["reason"]) == ("FORBIDDEN", "NOT_A_CUSTOMER_ACT")
        found = refusal(compliance, sale(buyer, purpose, productCategory=None))
        assert (found["reason"], found["missing"]) == ("PROOF_MISSING", ["productCategory"])
        for person in (buyer, objector):
            record(compliance, sale(person, purpose))
        record(compliance, sale(sofa, purpose, productCategory="furniture"))  # Nr. 2
        record(app, event(objector, None, "OBJECTED", channel=None, noticeVersion=None))  # Nr. 3
        # Nr. 4: a sale before the notice was published cannot have told the customer.
        import_past(
            compliance,
            sale(past, purpose, occurredAt=(datetime.now(UTC) - timedelta(days=1)).isoformat()),
        )
        answers = app.execute(
            BATCH, {"ids": [buyer, sofa, objector, stranger, past], "purpose": purpose}
        )["contactCheckBatch"]
        assert [(a["reason"], a["obligations"]) for a in answers] == [
            ("EXISTING_CUSTOMER", OPT_OUT),
            ("NOT_SIMILAR_PRODUCTS", []),
            ("OBJECTED", []),
            ("NO_CONSENT_OR_SALE", []),
            ("NO_OPT_OUT_NOTICE", []),
        ]
        assert check(app, buyer, purpose) == {
            "allowed": True,
            "reason": "EXISTING_CUSTOMER",
            "decidingEventType": "SALE_RECORDED",
            "obligations": OPT_OUT,
        }

    def test_the_purposes_categories_change_with_their_audit(
        self, app: GatewayClient, compliance: GatewayClient, gateway: GatewayClient
    ) -> None:
        purpose = new_purpose(compliance, "LEGITIMATE_INTEREST", ["shoes"])
        sofa = new_person(gateway)
        record(compliance, sale(sofa, purpose, productCategory="furniture"))
        assert check(app, sofa, purpose)["reason"] == "NOT_SIMILAR_PRODUCTS"
        change = {
            "code": purpose,
            "reason": "We sell furniture now, too.",
            "productCategories": ["shoes", "furniture"],
        }
        with pytest.raises(GraphQLError) as raised:
            app.execute(UPDATE, {"input": change})
        assert raised.value.codes == ["FORBIDDEN"]
        updated = compliance.execute(UPDATE, {"input": change})["updatePurpose"]
        assert updated["productCategories"] == ["shoes", "furniture"]
        changes = compliance.execute(CHANGES, {"code": purpose})["purposeChanges"][-1]["changes"]
        assert changes == [
            {"field": "productCategories", "before": '["shoes"]', "after": '["shoes", "furniture"]'}
        ]
        assert check(app, sofa, purpose)["reason"] == "EXISTING_CUSTOMER"


def _years_ago(years: int) -> date:
    today = datetime.now(UTC).date()
    return today.replace(year=today.year - years, day=min(today.day, 28))


class TestMinors:
    def test_the_profiles_birth_date_counts_and_a_guardian_authorises(
        self, app: GatewayClient, compliance: GatewayClient, gateway: GatewayClient
    ) -> None:
        purpose = new_purpose(compliance, "CONSENT", [])
        child = new_person(gateway, _years_ago(14).isoformat())
        record(app, event(child, purpose))
        found = check(app, child, purpose)
        assert (found["reason"], found["decidingEventType"]) == (
            "PARENTAL_AUTHORISATION_REQUIRED",
            "AGE_EVIDENCE",
        )
        history = compliance.execute(HISTORY, {"personId": child})["consentHistory"]
        assert {
            "type": "AGE_EVIDENCE",
            "method": "SYSTEM",
            "actor": "SYSTEM",
            "collectionPoint": "profile",
            "birthDate": _years_ago(14).isoformat(),
        } in history
        found = refusal(
            app,
            event(
                child,
                purpose,
                "PARENTAL_AUTHORISATION",
                channel=None,
                actor="GUARDIAN",
                evidenceRef="signed-form-88",
            ),
        )
        assert found["code"] == "FORBIDDEN"
        record(
            compliance,
            event(
                child,
                purpose,
                "PARENTAL_AUTHORISATION",
                channel=None,
                actor="GUARDIAN",
                evidenceRef="signed-form-88",
            ),
        )
        assert check(app, child, purpose)["reason"] == "CONSENT_GIVEN"

    def test_a_partial_birth_date_is_read_protectively(
        self, app: GatewayClient, compliance: GatewayClient, gateway: GatewayClient
    ) -> None:
        # Born "in the year 16 years ago": under 16 until 31 December (bar that day).
        today = datetime.now(UTC).date()
        year = today.year - (15 if (today.month, today.day) == (12, 31) else 16)
        purpose = new_purpose(compliance, "CONSENT", [])
        person = new_person(gateway, str(year))
        record(app, event(person, purpose))
        assert check(app, person, purpose)["reason"] == "PARENTAL_AUTHORISATION_REQUIRED"

    def test_the_age_at_the_consent_decides_not_the_age_now(
        self, app: GatewayClient, compliance: GatewayClient, gateway: GatewayClient
    ) -> None:
        purpose = new_purpose(compliance, "CONSENT", [])
        person = new_person(gateway, _years_ago(17).isoformat())
        # Consent given two years ago, at 15, taken over from the old shop system.
        import_past(
            compliance,
            event(
                person, purpose, occurredAt=(datetime.now(UTC) - timedelta(days=730)).isoformat()
            ),
        )
        record(
            compliance,
            event(
                person,
                None,
                "AGE_EVIDENCE",
                channel=None,
                noticeVersion=None,
                birthDate=_years_ago(17).isoformat(),
                method="ID_DOCUMENT",
                actor="STAFF",
                staffId="s-7",
                evidenceRef="id-check-1",
            ),
        )
        assert check(app, person, purpose)["reason"] == "PARENTAL_AUTHORISATION_REQUIRED"
        record(app, event(person, purpose))  # a new consent, given at 17
        assert check(app, person, purpose)["reason"] == "CONSENT_GIVEN"
