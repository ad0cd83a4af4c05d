"""As-of reads through the gateway: `person(id:, asOf:)` before, during and after a merge,
with the consent state of the time from the consent subgraph."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from mdm_infra.client import GatewayClient

from .queries import INGEST, MERGE, RECORD_CONSENT, UNMERGE, consent_input, unique_letters

AS_OF = """query AsOf($id: ID!, $at: DateTime) { person(id: $id, asOf: $at) {
  id asOf givenName familyName email phone mergedFrom
  lineage { attribute source sourceId }
  consentState { purpose channel allowed reason }
} }"""
RECORDS_AS_OF = """query($id: ID!, $at: DateTime) {
  person(id: $id, asOf: $at) { id sourceRecords { source } } }"""


def ingest_one(gateway: GatewayClient, source: str, **fields: str) -> str:
    record = {"sourceId": uuid.uuid4().hex[:16], **fields}
    result = gateway.execute(INGEST, {"source": source, "records": [record]})
    return str(result["ingestSourceRecords"]["records"][0]["personId"])


def moment() -> str:
    """Now, between two writes: the writes before it are older, those after newer."""
    time.sleep(0.05)
    at = datetime.now(UTC)
    time.sleep(0.05)
    return at.isoformat()


def read(gateway: GatewayClient, person_id: str, at: str) -> dict[str, Any]:
    return dict(gateway.execute(AS_OF, {"id": person_id, "at": at})["person"])


def allowed(person: dict[str, Any], purpose: str, channel: str) -> bool:
    [decision] = [
        d for d in person["consentState"] if (d["purpose"], d["channel"]) == (purpose, channel)
    ]
    return bool(decision["allowed"])


def test_as_of_before_during_and_after_a_merge(gateway: GatewayClient) -> None:
    tag = unique_letters()
    before_anything = moment()
    a = ingest_one(
        gateway, "crm", fullName=f"Theda Zeitreise{tag}", email=f"theda.{tag}@crm.example"
    )
    b = ingest_one(gateway, "shop", fullName=f"Udo Vormals{tag}", phone="0151 24681357")
    before = moment()
    gateway.execute(RECORD_CONSENT, {"input": consent_input(a)})
    merge = gateway.execute(MERGE, {"survivorId": a, "mergedId": b, "reason": "as-of test"})
    during = moment()
    gateway.execute(UNMERGE, {"mergeId": merge["mergePersons"]["merge"]["id"]})
    after = moment()

    a_before, b_before = read(gateway, a, before), read(gateway, b, before)
    a_during, b_during = read(gateway, a, during), read(gateway, b, during)
    a_after, b_after = read(gateway, a, after), read(gateway, b, after)

    # Before the merge: two persons, each with its own values and lineage.
    assert (a_before["id"], a_before["phone"], a_before["mergedFrom"]) == (a, None, [])
    assert datetime.fromisoformat(a_before["asOf"]) == datetime.fromisoformat(before)
    assert {(x["attribute"], x["source"]) for x in a_before["lineage"]} >= {("email", "crm")}
    assert (b_before["id"], b_before["email"], b_before["phone"]) == (b, None, "+4915124681357")
    # During it: the merged-away id answers with its survivor, which had both.
    assert (a_during["id"], a_during["mergedFrom"]) == (a, [b])
    assert (a_during["email"], a_during["phone"]) == (f"theda.{tag}@crm.example", "+4915124681357")
    assert ("phone", "shop") in {(x["attribute"], x["source"]) for x in a_during["lineage"]}
    assert b_during["id"] == a
    assert b_during["mergedFrom"] == [b]
    # After the unmerge: two again, as before.
    assert (a_after["id"], a_after["phone"], a_after["mergedFrom"]) == (a, None, [])
    assert (b_after["id"], b_after["phone"]) == (b, "+4915124681357")
    # The consent state of the time: the grant came after `before`.
    assert not allowed(a_before, "profiling", "PERSONALISED_WEB")
    assert allowed(a_during, "profiling", "PERSONALISED_WEB")
    assert allowed(a_after, "profiling", "PERSONALISED_WEB")

    body = gateway.post(AS_OF, {"id": a, "at": before_anything}).json()
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert body["errors"][0]["extensions"]["field"] == "asOf"


def test_source_records_are_not_read_as_of(gateway: GatewayClient) -> None:
    tag = unique_letters()
    a = ingest_one(gateway, "crm", fullName=f"Wiebke Quelle{tag}")
    at = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    body = gateway.post(RECORDS_AS_OF, {"id": a, "at": at}).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["field"] == "sourceRecords"
