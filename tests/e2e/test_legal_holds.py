"""Legal holds and the UWG §7a phone proof through the gateway, with the roles in force:
compliance registers retention duties and carries out an erasure; an application
records contact uses; what a duty covers stays, restricted, and the erasure says so."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from mdm_common.graph import GraphClient
from mdm_infra.client import GatewayClient

from .matching_support import birth_date, family_name, place
from .test_consent import NOTICE, PUBLISH, REGISTER, event, record
from .test_data_subject_fulfilment import INGEST, START_RUN, finished, holding
from .test_data_subject_requests import error_of, submit

REGISTER_DUTY = """
mutation Duty($input: RetentionDutyInput!) {
  registerRetentionDuty(input: $input) { code legalReference sourceSystems periodYears starts }
}
"""
DUTIES = "query { retentionDuties { code legalReference } }"
RECORD_USE = """
mutation Use($input: ContactUseInput!) {
  recordContactUse(input: $input) {
    id allowed reason decidingEventId compliance optOutNoticeIncluded
  }
}
"""
USES = """
query Uses($personId: ID!) {
  contactUses(personId: $personId) { id channel campaign allowed reason compliance }
  phoneConsentProofs(personId: $personId) { purpose channel keepUntil }
}
"""
CARRY_OUT = """
mutation CarryOut($id: ID!) {
  carryOutDataSubjectRequest(id: $id) {
    status
    steps { service erased restricted { what categories duty legalReference until why } }
  }
}
"""
PERSON = "query Person($id: ID!) { person(id: $id) { id phone } }"
PURGES = """
query Purges($personId: ID!) {
  retentionPurges(personId: $personId) { categories status detail phoneProofUntil }
}
"""


@pytest.fixture
def compliance(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("compliance")


@pytest.fixture
def app(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("app")


class Customer:
    """A person of the test's own, sent by one source system."""

    def __init__(self, app: GatewayClient, source: str) -> None:
        tag = uuid.uuid4().hex[:8]
        self.family = family_name()
        self.email = f"ilse.{tag}@example.org"
        self.street = f"Ahornweg{tag}"
        self.phone = f"+49 151 {10_000_000 + uuid.uuid4().int % 80_000_000}"
        fields = {
            "sourceId": uuid.uuid4().hex[:16],
            "givenName": "Ilse",
            "familyName": self.family,
            "email": self.email,
            "birthDate": birth_date(),
            "phone": self.phone,
            "street": self.street,
            "houseNumber": "3",
            **place(),
        }
        done = app.execute(INGEST, {"source": source, "records": [fields]})
        self.id = str(done["ingestSourceRecords"]["records"][0]["personId"])


def phone_purpose(compliance: GatewayClient) -> str:
    code = "calls-" + uuid.uuid4().hex[:8]
    compliance.execute(
        REGISTER,
        {
            "input": {
                "code": code,
                "name": "Calls",
                "description": "We call with offers.",
                "legalBasis": "CONSENT",
                "channels": ["PHONE", "EMAIL"],
                "dataCategories": ["phone"],
                "retentionDays": 730,
                "directMarketing": True,
            }
        },
    )
    compliance.execute(PUBLISH, {"input": {"purpose": code, "language": "de", "text": NOTICE}})
    return code


def use(app: GatewayClient, person: str, purpose: str, channel: str = "PHONE") -> dict[str, Any]:
    found: dict[str, Any] = app.execute(
        RECORD_USE,
        {
            "input": {
                "personId": person,
                "purpose": purpose,
                "channel": channel,
                "campaign": "spring-2026",
            }
        },
    )["recordContactUse"]
    return found


def erase(compliance: GatewayClient, person: str) -> dict[str, dict[str, Any]]:
    request = submit(compliance, person, "ERASURE")
    done = compliance.execute(CARRY_OUT, {"id": request["id"]})["carryOutDataSubjectRequest"]
    assert done["status"] == "COMPLETED"
    return {s["service"]: s for s in done["steps"]}


class TestRoles:
    def test_compliance_registers_duties_and_an_application_may_not(
        self, compliance: GatewayClient, app: GatewayClient
    ) -> None:
        duty = {
            "code": "tax-" + uuid.uuid4().hex[:8],
            "name": "Tax records",
            "legalReference": "AO_147",
            "periodYears": 10,
            # A system of this test's own: duties are master data for every erasure.
            "sourceSystems": ["ledger-" + uuid.uuid4().hex[:8]],
        }
        refused = error_of(lambda: app.execute(REGISTER_DUTY, {"input": duty}))
        assert refused["code"] == "FORBIDDEN"
        made = compliance.execute(REGISTER_DUTY, {"input": duty})["registerRetentionDuty"]
        assert (made["legalReference"], made["starts"]) == ("AO_147", "END_OF_YEAR")
        again = error_of(lambda: compliance.execute(REGISTER_DUTY, {"input": duty}))
        assert (again["code"], again.get("reason")) == ("CONFLICT", "DUPLICATE_DUTY")
        bad = error_of(
            lambda: compliance.execute(
                REGISTER_DUTY,
                {"input": duty | {"code": "x-" + uuid.uuid4().hex[:8], "sourceSystems": []}},
            )
        )
        assert (bad["code"], bad.get("reason")) == ("BAD_USER_INPUT", "COVERS_NOTHING")
        listed = compliance.execute(DUTIES)["retentionDuties"]
        assert duty["code"] in {d["code"] for d in listed}


class TestPhoneProof:
    async def test_uses_are_recorded_with_their_verdict_and_the_phone_outlives_the_erasure(
        self,
        compliance: GatewayClient,
        app: GatewayClient,
        graph_for: Callable[[str], GraphClient],
    ) -> None:
        code = phone_purpose(compliance)
        customer = Customer(app, "shop")
        grant = record(app, event(customer.id, code, channel="PHONE"))
        allowed = use(app, customer.id, code)
        refused = use(app, customer.id, code, "EMAIL")  # no e-mail consent: recorded anyway
        assert (allowed["allowed"], allowed["compliance"], allowed["decidingEventId"]) == (
            True,
            "COMPLIANT",
            grant["id"],
        )
        assert (refused["allowed"], refused["reason"], refused["compliance"]) == (
            False,
            "NO_CONSENT",
            "NOT_ALLOWED",
        )
        assert error_of(lambda: app.execute(USES, {"personId": customer.id}))["code"] == (
            "FORBIDDEN"
        )
        read = compliance.execute(USES, {"personId": customer.id})
        assert {u["id"] for u in read["contactUses"]} == {allowed["id"], refused["id"]}
        (proof,) = read["phoneConsentProofs"]
        assert (proof["purpose"], proof["channel"]) == (code, "PHONE")

        steps = erase(compliance, customer.id)

        (phone,) = steps["profile"]["restricted"]
        assert (phone["categories"], phone["legalReference"], phone["until"]) == (
            ["phone"],
            "UWG_7A",
            proof["keepUntil"],
        )
        assert "email" in steps["profile"]["erased"]
        (events,) = steps["consent"]["restricted"]
        assert (events["what"], events["legalReference"]) == ("consent events", "UWG_7A")
        gone = error_of(lambda: app.execute(PERSON, {"id": customer.id}))
        assert gone.get("reason") == "ERASED"
        assert await holding(graph_for, [customer.family, customer.email, customer.street]) == []
        kept = await holding(graph_for, [customer.phone[-8:]])
        assert kept == ["profile:['HeldRecord'].phoneE164"]


class TestLegalHold:
    def test_records_of_a_covered_system_stay_restricted_with_duty_and_end(
        self, compliance: GatewayClient, app: GatewayClient
    ) -> None:
        duty = {
            "code": "invoices-" + uuid.uuid4().hex[:8],
            "name": "Invoices and contracts",
            "legalReference": "HGB_257",
            "periodYears": 10,
            "sourceSystems": ["erp"],
        }
        compliance.execute(REGISTER_DUTY, {"input": duty})
        customer = Customer(app, "erp")

        steps = erase(compliance, customer.id)

        held = [r for r in steps["profile"]["restricted"] if r["duty"] == duty["code"]]
        (record_held,) = held
        assert record_held["what"].startswith("erp record ")
        assert record_held["legalReference"] == "HGB_257"
        assert record_held["until"].endswith("-12-31")  # HGB §257(5): end of the year
        assert "HGB §257" in record_held["why"]
        gone = error_of(lambda: app.execute(PERSON, {"id": customer.id}))
        assert gone.get("reason") == "ERASED"


class TestRetention:
    async def test_a_lapsed_phone_is_removed_but_kept_restricted_as_proof(
        self,
        compliance: GatewayClient,
        app: GatewayClient,
        graph_for: Callable[[str], GraphClient],
    ) -> None:
        code = phone_purpose(compliance)
        customer = Customer(app, "shop")
        record(app, event(customer.id, code, channel="PHONE"))
        use(app, customer.id, code)
        record(
            app,
            event(
                customer.id,
                code,
                "WITHDRAWN",
                channel=None,
                noticeVersion=None,
                language=None,
                evidenceRef=None,
            ),
        )
        proof = compliance.execute(USES, {"personId": customer.id})["phoneConsentProofs"][0]

        run = compliance.execute(START_RUN)["startRetentionRun"]
        assert finished(compliance, run["id"])["status"] == "DONE"

        (purge,) = compliance.execute(PURGES, {"personId": customer.id})["retentionPurges"]
        assert (purge["categories"], purge["status"]) == (["phone"], "DONE")
        assert purge["phoneProofUntil"] == proof["keepUntil"]
        assert "UWG_7A" in purge["detail"]
        assert app.execute(PERSON, {"id": customer.id})["person"]["phone"] is None
        kept = await holding(graph_for, [customer.phone[-8:]])
        assert kept == ["profile:['HeldRecord'].phoneE164"]
