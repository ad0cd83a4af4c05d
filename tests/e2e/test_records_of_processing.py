"""The record of processing activities (GDPR Art. 30(1)) through the gateway: the
controller, each purpose's data subjects, recipients and transfers, gaps, JSON and CSV."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable

import pytest

from mdm_infra.client import GatewayClient, GraphQLError

from .test_consent import codes, new_purpose

SET_CONTROLLER = """
mutation Controller($input: ControllerInput!) {
  setController(input: $input) { name revision changedBy securityMeasuresRef }
}
"""
DESCRIBE = """
mutation Describe($input: DescribeProcessingInput!) {
  describeProcessing(input: $input) {
    purpose revision dataSubjectCategories recipients { name kind country }
    transfers { country safeguard documentRef }
  }
}
"""
RECORDS = """
query Records {
  recordsOfProcessing {
    controller { name email dpoEmail securityMeasuresRef }
    gaps json sha256 csv
    records { code dataCategories gaps processing { dataSubjectCategories revision } }
  }
}
"""
WHY = "The annual review of the record of processing."
CONTROLLER = {
    "name": "Beispiel Handel GmbH",
    "address": "Hauptstraße 1, 04109 Leipzig",
    "email": "datenschutz@example.org",
    "securityMeasuresRef": "TOM 2026-10, section 4",
    "dpoName": "Dr. Eva Roth",
    "dpoEmail": "dpo@example.org",
    "reason": WHY,
}


@pytest.fixture
def compliance(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("compliance")


def describe(client: GatewayClient, purpose: str, **overrides: object) -> dict[str, object]:
    found: dict[str, object] = client.execute(
        DESCRIBE,
        {
            "input": {
                "purpose": purpose,
                "dataSubjectCategories": ["CUSTOMERS", "SUBSCRIBERS"],
                "recipients": [
                    {"name": "Mailversand AG", "kind": "PROCESSOR", "country": "DE"},
                    {"name": "Cloud Inc.", "kind": "PROCESSOR", "country": "US"},
                ],
                "transfers": [
                    {
                        "country": "US",
                        "recipient": "Cloud Inc.",
                        "safeguard": "STANDARD_CONTRACTUAL_CLAUSES",
                        "documentRef": "DPA 2026-7",
                    }
                ],
                "reason": WHY,
            }
            | overrides
        },
    )["describeProcessing"]
    return found


def test_the_record_holds_controller_subjects_recipients_transfers_and_retention(
    compliance: GatewayClient,
) -> None:
    stored = compliance.execute(SET_CONTROLLER, {"input": CONTROLLER})["setController"]
    assert stored["changedBy"] == "test-user"
    purpose, undescribed = new_purpose(compliance), new_purpose(compliance)
    assert describe(compliance, purpose)["revision"] == 1
    assert describe(compliance, purpose, dataSubjectCategories=["CUSTOMERS"])["revision"] == 2

    found = compliance.execute(RECORDS)["recordsOfProcessing"]
    assert found["controller"]["dpoEmail"] == "dpo@example.org"
    assert found["gaps"] == []
    by_code = {r["code"]: r for r in found["records"]}
    assert by_code[purpose]["processing"] == {"dataSubjectCategories": ["CUSTOMERS"], "revision": 2}
    assert by_code[purpose]["gaps"] == []
    assert by_code[undescribed]["processing"] is None
    assert by_code[undescribed]["gaps"] == ["NOT_DESCRIBED"]

    assert hashlib.sha256(found["json"].encode()).hexdigest() == found["sha256"]
    document = json.loads(found["json"])
    entry = next(e for e in document["processing"] if e["code"] == purpose)
    assert document["controller"]["name"] == "Beispiel Handel GmbH"
    assert [c["code"] for c in entry["dataCategories"]] == ["identity", "email"]
    assert entry["thirdCountryTransfers"][0]["documentRef"] == "DPA 2026-7"
    assert entry["retentionDays"] == 730
    row = next(
        r for r in csv.DictReader(io.StringIO(found["csv"], newline="")) if r["code"] == purpose
    )
    assert row["recipients"] == "Mailversand AG (PROCESSOR, DE);Cloud Inc. (PROCESSOR, US)"
    assert row["security_measures_ref"] == "TOM 2026-10, section 4"


def test_a_recipient_abroad_without_a_safeguard_is_a_gap(compliance: GatewayClient) -> None:
    purpose = new_purpose(compliance)
    describe(compliance, purpose, transfers=[])
    found = compliance.execute(RECORDS)["recordsOfProcessing"]
    record = next(r for r in found["records"] if r["code"] == purpose)
    assert record["gaps"] == ["TRANSFER_WITHOUT_SAFEGUARD"]


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (
            {"recipients": [{"name": "X", "kind": "PROCESSOR", "country": "Germany"}]},
            "recipients.country",
            "UNKNOWN_COUNTRY",
        ),
        (
            {
                "transfers": [
                    {
                        "country": "NO",
                        "recipient": "X",
                        "safeguard": "DEROGATION",
                        "documentRef": "r",
                    }
                ]
            },
            "transfers.country",
            "NOT_A_THIRD_COUNTRY",
        ),
        ({"dataSubjectCategories": []}, "dataSubjectCategories", None),
        ({"reason": "short"}, "reason", None),
    ],
)
def test_bad_descriptions_are_refused_with_their_field(
    compliance: GatewayClient, change: dict[str, object], field: str, reason: str | None
) -> None:
    purpose = new_purpose(compliance)
    with pytest.raises(GraphQLError) as raised:
        describe(compliance, purpose, **change)
    [error] = raised.value.errors
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field)
    assert error["extensions"].get("reason") == reason


def test_free_text_data_categories_are_refused(compliance: GatewayClient) -> None:
    with pytest.raises(GraphQLError) as raised:
        new_purpose(compliance, dataCategories=["email", "contact"])
    assert raised.value.errors[0]["extensions"]["reason"] == "UNKNOWN_DATA_CATEGORY"


def test_only_compliance_keeps_the_record(
    client_for: Callable[..., GatewayClient], compliance: GatewayClient
) -> None:
    purpose = new_purpose(compliance)
    for role in ("app", "steward"):
        client = client_for(role)
        for query, variables in ((SET_CONTROLLER, {"input": CONTROLLER}), (RECORDS, {})):
            with pytest.raises(GraphQLError) as raised:
                client.execute(query, variables)
            assert codes(raised) == ["FORBIDDEN"]
        with pytest.raises(GraphQLError) as raised:
            describe(client, purpose)
        assert codes(raised) == ["FORBIDDEN"]
