"""The complete access export (GDPR Art. 15, 20: why records were joined, recipients,
retention per category) and objections as requests (Art. 21), through the gateway
with the real worker and the roles in force."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from mdm_infra.client import GatewayClient
from mdm_infra.testing import eventually

from .matching_support import birth_date, family_name, ingest, place
from .test_consent import BINDS_LITTLE, HISTORY, check, event, new_person, new_purpose, record
from .test_data_subject_requests import EXPORT, error_of, submit
from .test_records_of_processing import describe

PERSON = "query($id: ID!) { person(id: $id) { id } }"
MATCHING_DATA = """query($ids: [ID!]!) {
  matchingPersonalData(personIds: $ids) { items { origin value } } }"""
OBJECTION_FIELDS = "id type status purpose objection consentEventId rejectionReason settledBy"
SUBMIT = f"""mutation($input: DataSubjectRequestInput!) {{
  submitDataSubjectRequest(input: $input) {{ {OBJECTION_FIELDS} }} }}"""
UPHOLD = f"mutation($id: ID!) {{ upholdObjection(id: $id) {{ {OBJECTION_FIELDS} }} }}"
REJECT = f"""mutation($id: ID!, $grounds: String!) {{
  rejectObjection(id: $id, grounds: $grounds) {{ {OBJECTION_FIELDS} }} }}"""
GROUNDS = "The processing is needed to defend the pending legal claim of 3 March."


@pytest.fixture
def compliance(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("compliance")


@pytest.fixture
def app(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("app")


def automatically_merged(app: GatewayClient, compliance: GatewayClient) -> tuple[str, str, str]:
    """A typo duplicate the online matching merges (docs/matching.md): survivor, merged
    id, and the e-mail address both records share."""
    family, here, born = family_name(), place(), birth_date()
    email = f"juergen@{family}.example"
    original = ingest(
        app,
        "crm",
        givenName="Jürgen",
        familyName=family,
        birthDate=born,
        email=email,
        street="Hauptstraße 5",
        **here,
    )
    assert eventually(
        lambda: bool(
            compliance.execute(MATCHING_DATA, {"ids": [original]})["matchingPersonalData"]["items"]
        )
    )
    german_date = ".".join(reversed(born.split("-")))
    duplicate = ingest(
        app,
        "shop",
        givenName="Juergen",
        familyName=family[:-1],
        birthDate=german_date,
        email=email,
        street="Hauptstr. 5",
        **here,
    )
    assert eventually(lambda: app.execute(PERSON, {"id": duplicate})["person"]["id"] == original)

    def audited() -> bool:
        items = compliance.execute(MATCHING_DATA, {"ids": [original, duplicate]})[
            "matchingPersonalData"
        ]["items"]
        return any(i["origin"] == "decision" and "AUTO_MERGE" in i["value"] for i in items)

    assert eventually(audited), "the automatic merge was never audited"
    return original, duplicate, email


class TestAccessExport:
    def test_a_merged_persons_export_says_why_the_records_were_joined(
        self, app: GatewayClient, compliance: GatewayClient
    ) -> None:
        survivor, merged, email = automatically_merged(app, compliance)
        letters = new_purpose(compliance)  # described in the record of processing
        describe(compliance, letters)
        record(app, event(survivor, letters, channel="PHONE"))
        request = submit(compliance, merged, "ACCESS")  # recorded under the survivor
        assert (
            error_of(lambda: app.execute(EXPORT, {"id": request["id"], "format": "JSON"}))["code"]
            == "FORBIDDEN"
        )

        export = compliance.execute(EXPORT, {"id": request["id"], "format": "JSON"})[
            "dataSubjectExport"
        ]
        document = json.loads(export["content"])
        (merge,) = document["merges"]
        assert (merge["survivorId"], merge["mergedId"], merge["state"]) == (
            survivor,
            merged,
            "ACTIVE",
        )
        assert (merge["decidedBy"], merge["actor"]) == ("MATCHING_MODEL", "service:matching-engine")
        assert merge["probability"] >= 0.99
        assert merge["modelVersion"]
        levels = {c["field"]: c["level"] for c in merge["comparisons"]}
        assert levels["email"] == "exact"
        assert all(isinstance(c["weight"], float | int) for c in merge["comparisons"])
        assert merge["explanation"].startswith(
            f"Merged automatically by the matching model (version {merge['modelVersion']}): "
        )
        assert "e-mail equal" in merge["explanation"]
        assert email not in json.dumps(merge)  # levels and weights, never a compared value

        recipients = {r["category"]: r["recipients"] for r in document["recipients"]}
        assert recipients["SOURCE_SYSTEMS"] == ["crm", "shop"]
        assert recipients["CHANGE_STREAM_SUBSCRIBERS"] == []
        assert {
            (r["name"], r["country"])
            for r in recipients["PURPOSE_RECIPIENTS"]
            if letters in r["purposes"]
        } == {("Mailversand AG", "DE"), ("Cloud Inc.", "US")}
        (transfer,) = [t for t in document["transfers"] if letters in t["purposes"]]
        assert (transfer["country"], transfer["recipient"], transfer["safeguard"]) == (
            "US",
            "Cloud Inc.",
            "STANDARD_CONTRACTUAL_CLAUSES",
        )
        assert {r["category"] for r in document["retention"]} >= {
            "identity",
            "email",
            "birth_date",
            "source_record",
            "relationships",
            "matching",
        }
        assert all(r["criteria"] for r in document["retention"])
        unsourced = [
            (i["service"], i["origin"], i["field"])
            for i in document["items"]
            if i["source"] is None
        ]
        assert unsourced == [], "every item names its source where the platform knows it"

        as_csv = compliance.execute(EXPORT, {"id": request["id"], "format": "CSV"})[
            "dataSubjectExport"
        ]
        rows = list(csv.DictReader(io.StringIO(as_csv["content"])))
        (explained,) = [r for r in rows if r["origin"] == "mergeEvidence"]
        assert (explained["personId"], explained["sourceId"]) == (survivor, merge["mergeId"])
        assert explained["value"] == merge["explanation"]


def objection(client: GatewayClient, person: str, purpose: str | None) -> dict[str, Any]:
    found: dict[str, Any] = client.execute(
        SUBMIT,
        {
            "input": {
                "personId": person,
                "type": "OBJECTION",
                "receivedVia": "LETTER",
                "identityCheck": "ID_DOCUMENT",
                "purpose": purpose,
            }
        },
    )["submitDataSubjectRequest"]
    return found


class TestObjection:
    def test_an_objection_to_direct_marketing_takes_effect_at_once(
        self, app: GatewayClient, compliance: GatewayClient
    ) -> None:
        person, newsletter = new_person(app), new_purpose(compliance)
        record(app, event(person, newsletter, channel="PHONE"))
        assert check(app, person, newsletter, "PHONE")["allowed"] is True
        assert error_of(lambda: objection(app, person, None))["code"] == "FORBIDDEN"

        done = objection(compliance, person, None)
        assert (done["status"], done["objection"], done["purpose"]) == (
            "COMPLETED",
            "DIRECT_MARKETING_STOPPED",
            None,
        )
        verdict = check(app, person, newsletter, "PHONE")
        assert (verdict["allowed"], verdict["reason"]) == (False, "OBJECTED")
        assert verdict["decidingEventId"] == done["consentEventId"]
        history = compliance.execute(HISTORY, {"personId": person})["consentHistory"]
        objected = next(e for e in history if e["id"] == done["consentEventId"])
        assert (objected["type"], objected["actor"], objected["method"]) == (
            "OBJECTED",
            "DATA_SUBJECT",
            "PAPER_FORM",
        )
        assert objected["evidenceRef"] == f"data-subject-request:{done['id']}"
        settled = error_of(lambda: compliance.execute(UPHOLD, {"id": done["id"]}))
        assert (settled["code"], settled["reason"]) == ("CONFLICT", "REQUEST_SETTLED")

    def test_an_objection_on_legitimate_interest_waits_for_the_officers_decision(
        self, app: GatewayClient, compliance: GatewayClient
    ) -> None:
        person = new_person(app)
        profiling = new_purpose(
            compliance,
            legalBasis="LEGITIMATE_INTEREST",
            directMarketing=False,
            channels=["POST"],
            **BINDS_LITTLE,
        )
        consented = new_purpose(compliance, directMarketing=False)
        for purpose, reason in (
            (consented, "USE_WITHDRAWAL"),
            ("no-such-" + uuid.uuid4().hex[:6], "UNKNOWN_PURPOSE"),
        ):
            assert error_of(lambda p=purpose: objection(compliance, person, p))["reason"] == reason

        upheld, rejected = (objection(compliance, person, profiling) for _ in range(2))
        assert (upheld["status"], upheld["objection"], upheld["consentEventId"]) == (
            "OPEN",
            None,
            None,
        )
        assert check(app, person, profiling, "POST")["allowed"] is True
        assert error_of(lambda: app.execute(UPHOLD, {"id": upheld["id"]}))["code"] == "FORBIDDEN"
        short = error_of(
            lambda: compliance.execute(REJECT, {"id": rejected["id"], "grounds": "no"})
        )
        assert (short["code"], short["field"]) == ("BAD_USER_INPUT", "grounds")

        refused = compliance.execute(REJECT, {"id": rejected["id"], "grounds": GROUNDS})[
            "rejectObjection"
        ]
        assert (refused["status"], refused["objection"], refused["rejectionReason"]) == (
            "REJECTED",
            "REJECTED",
            GROUNDS,
        )
        assert check(app, person, profiling, "POST")["allowed"] is True

        done = compliance.execute(UPHOLD, {"id": upheld["id"]})["upholdObjection"]
        assert (done["status"], done["objection"]) == ("COMPLETED", "UPHELD")
        verdict = check(app, person, profiling, "POST")
        assert (verdict["allowed"], verdict["reason"]) == (False, "OBJECTED")
