"""Stewards merge and unmerge through the gateway; old ids keep resolving."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from mdm_infra.client import GatewayClient

from .queries import GOLDEN, INGEST, MERGE, MERGE_BULK, UNMERGE, unique_letters

PROFILE = """query P($id: ID!) { person(id: $id) {
  id givenName familyName email phone mergedFrom
  consents { purpose } lineage { attribute source sourceId }
  sourceRecords { source sourceId }
} }"""


def ingest_one(gateway: GatewayClient, source: str, **fields: str) -> str:
    record = {"sourceId": uuid.uuid4().hex[:16], **fields}
    result = gateway.execute(INGEST, {"source": source, "records": [record]})
    return str(result["ingestSourceRecords"]["records"][0]["personId"])


def test_merge_read_by_old_id_and_unmerge(gateway: GatewayClient) -> None:
    a = ingest_one(gateway, "crm", fullName="Sabine Krüger", email="sabine@crm.example")
    b = ingest_one(gateway, "shop", fullName="Sabine Krueger", phone="0151 23456789")
    before = {pid: gateway.execute(PROFILE, {"id": pid})["person"] for pid in (a, b)}

    merged = gateway.execute(MERGE, {"survivorId": a, "mergedId": b, "reason": "ticket 42"})
    merge = merged["mergePersons"]["merge"]
    assert (merge["survivorId"], merge["mergedId"], merge["state"]) == (a, b, "ACTIVE")
    assert (merge["actor"], merge["reason"]) == ("test-user", "ticket 42")
    assert merged["mergePersons"]["survivor"]["phone"] == "+4915123456789"

    via_old_id = gateway.execute(PROFILE, {"id": b})["person"]
    assert via_old_id["id"] == a
    assert via_old_id["mergedFrom"] == [b]
    assert sorted(r["source"] for r in via_old_id["sourceRecords"]) == ["crm", "shop"]

    undone = gateway.execute(UNMERGE, {"mergeId": merge["id"]})["unmergePersons"]
    assert undone["merge"]["state"] == "UNDONE"
    after = {pid: gateway.execute(PROFILE, {"id": pid})["person"] for pid in (a, b)}
    assert after == before


SUBJECT = "query($id: ID!) { matchSubject(personId: $id) { state { registered mergedInto } } }"


def wait_for(probe: Callable[[], object], expected: object, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while (seen := probe()) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert seen == expected


def test_the_matching_service_hears_of_merges_and_unmerges(gateway: GatewayClient) -> None:
    a = ingest_one(gateway, "crm", fullName="Ereignis Eins")
    b = ingest_one(gateway, "crm", fullName="Ereignis Zwei")

    def subject_b() -> object:
        return gateway.execute(SUBJECT, {"id": b})["matchSubject"]["state"]

    wait_for(subject_b, {"registered": True, "mergedInto": None})
    result = gateway.execute(MERGE, {"survivorId": a, "mergedId": b, "reason": ""})
    wait_for(subject_b, {"registered": True, "mergedInto": a})
    gateway.execute(UNMERGE, {"mergeId": result["mergePersons"]["merge"]["id"]})
    wait_for(subject_b, {"registered": True, "mergedInto": None})


def test_only_stewards_merge(
    client_for: Callable[..., GatewayClient], gateway: GatewayClient
) -> None:
    a = ingest_one(gateway, "crm", fullName="Rolle Eins")
    b = ingest_one(gateway, "crm", fullName="Rolle Zwei")
    body = client_for("app").post(MERGE, {"survivorId": a, "mergedId": b, "reason": ""}).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert gateway.execute(GOLDEN, {"id": b})["person"]["id"] == b


def test_merge_errors_are_typed(gateway: GatewayClient) -> None:
    a = ingest_one(gateway, "crm", fullName="Fehler Eins")
    missing = str(uuid.uuid4())
    body = gateway.post(MERGE, {"survivorId": a, "mergedId": missing, "reason": ""}).json()
    assert (body["errors"][0]["extensions"]["code"], body["errors"][0]["extensions"]["field"]) == (
        "NOT_FOUND", "mergedId")  # fmt: skip
    body = gateway.post(MERGE, {"survivorId": a, "mergedId": a, "reason": ""}).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = gateway.post(UNMERGE, {"mergeId": missing}).json()
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


KEYED_MERGE = """mutation($s: ID!, $m: ID!, $key: ID!) {
  mergePersons(survivorId: $s, mergedId: $m, reason: "batch", mergeId: $key) {
    merge { id survivorId mergedId } survivor { id mergedFrom } } }"""


def test_a_merge_with_its_own_id_is_idempotent(gateway: GatewayClient) -> None:
    a = ingest_one(gateway, "crm", fullName="Schluessel Eins")
    b = ingest_one(gateway, "crm", fullName="Schluessel Zwei")
    c = ingest_one(gateway, "crm", fullName="Schluessel Drei")
    key = str(uuid.uuid4())
    first = gateway.execute(KEYED_MERGE, {"s": a, "m": b, "key": key})["mergePersons"]
    again = gateway.execute(KEYED_MERGE, {"s": a, "m": b, "key": key})["mergePersons"]
    assert first["merge"] == again["merge"] == {"id": key, "survivorId": a, "mergedId": b}
    assert again["survivor"] == {"id": a, "mergedFrom": [b]}  # merged once

    body = gateway.post(KEYED_MERGE, {"s": a, "m": c, "key": key}).json()
    assert (body["errors"][0]["extensions"]["code"], body["errors"][0]["extensions"]["field"]) == (
        "CONFLICT", "mergeId")  # fmt: skip
    body = gateway.post(KEYED_MERGE, {"s": a, "m": c, "key": "not a key!"}).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert gateway.execute(PROFILE, {"id": c})["person"]["id"] == c  # nothing merged


def test_a_bulk_merge_answers_each_item_and_is_for_stewards(
    client_for: Callable[..., GatewayClient], gateway: GatewayClient
) -> None:
    a, b, c, d = [ingest_one(gateway, "crm", fullName=f"Stapel Person{i}") for i in range(4)]
    key = str(uuid.uuid4())
    merges = [
        {"survivorId": a, "mergedId": b, "mergeId": key, "reason": "batch"},
        {"survivorId": a, "mergedId": c},
        {"survivorId": d, "mergedId": b},  # b is merged into a by the first item
        {"survivorId": d, "mergedId": str(uuid.uuid4())},
        {"survivorId": d, "mergedId": d},
    ]
    body = client_for("app").post(MERGE_BULK, {"merges": merges}).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    result = gateway.execute(MERGE_BULK, {"merges": merges})["mergePersonsBulk"]
    assert (result["merged"], result["replayed"], result["skipped"]) == (2, 0, 3)
    items = result["results"]
    assert [i["status"] for i in items] == ["MERGED", "MERGED", "SKIPPED", "SKIPPED", "SKIPPED"]
    assert items[0]["mergeId"] == key
    assert [(i["skip"]["reason"], i["skip"]["code"], i["skip"]["field"]) for i in items[2:]] == [
        ("MERGED_ALREADY", "CONFLICT", "mergedId"),
        ("NOT_FOUND", "NOT_FOUND", "mergedId"),
        ("INVALID", "BAD_USER_INPUT", "mergedId"),
    ]
    assert sorted(gateway.execute(PROFILE, {"id": a})["person"]["mergedFrom"]) == sorted([b, c])

    again = gateway.execute(MERGE_BULK, {"merges": merges[:1]})["mergePersonsBulk"]
    assert again["results"][0]["status"] == "REPLAYED"
    assert again["results"][0]["mergeId"] == key
    too_many = [{"survivorId": a, "mergedId": d}] * 1001
    body = gateway.post(MERGE_BULK, {"merges": too_many}).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert gateway.execute(PROFILE, {"id": d})["person"]["id"] == d  # nothing merged


EMPLOYEES = "query($id: ID!) { company(id: $id) { employees { personId role } } }"


def test_a_merge_moves_employment_and_unmerge_moves_it_back(gateway: GatewayClient) -> None:
    a = ingest_one(gateway, "crm", fullName="Jonas Wechsel")
    b = ingest_one(gateway, "shop", fullName="Jonas Wechsel")
    company = gateway.execute('mutation { createCompany(name: "Wechsel KG") { id } }')
    company_id = company["createCompany"]["id"]
    gateway.execute(
        "mutation($p: ID!, $c: ID!) { linkEmployee(personId: $p, companyId: $c, role: "
        '"Vertrieb") { id } }',
        {"p": b, "c": company_id},
    )

    def employees() -> object:
        return gateway.execute(EMPLOYEES, {"id": company_id})["company"]["employees"]

    merged = gateway.execute(MERGE, {"survivorId": a, "mergedId": b, "reason": ""})
    assert employees() == [{"personId": a, "role": "Vertrieb"}]
    gateway.execute(UNMERGE, {"mergeId": merged["mergePersons"]["merge"]["id"]})
    assert employees() == [{"personId": b, "role": "Vertrieb"}]


PREVIEW = """query($survivorId: ID!, $mergedId: ID!) {
  mergePreview(survivorId: $survivorId, mergedId: $mergedId) {
    survivorId mergedId
    fields { field survivorValue mergedValue resultValue resultSource }
  }
}"""
# Each Person field of the preview, the golden attribute its lineage is under, as text.
AS_TEXT: dict[str, tuple[str, Callable[[dict[str, Any]], str | None]]] = {
    "givenName": ("name", lambda p: p["givenName"] or None),
    "familyName": ("name", lambda p: p["familyName"] or None),
    "titles": ("name", lambda p: " ".join(p["titles"]) or None),
    "suffix": ("name", lambda p: p["suffix"]),
    "salutation": ("salutation", lambda p: p["salutation"]),
    "birthDate": ("birthDate", lambda p: p["birthDate"]),
    "email": ("email", lambda p: p["email"]),
    "phone": ("phone", lambda p: p["phone"]),
    "address": ("address", lambda p: _one_line(p["address"])),
    "language": ("language", lambda p: p["language"]),
}


def _one_line(address: dict[str, str | None] | None) -> str | None:
    if address is None:
        return None
    parts = (
        " ".join(v for v in (address["street"], address["houseNumber"]) if v),
        " ".join(v for v in (address["postalCode"], address["city"]) if v),
        address["country"] or "",
    )
    return ", ".join(p for p in parts if p) or None


def _error_code(client: GatewayClient, survivor: str, merged: str) -> tuple[str, str]:
    body = client.post(PREVIEW, {"survivorId": survivor, "mergedId": merged}).json()
    error = body["errors"][0]
    return error["extensions"]["code"], error["message"]


def test_a_merge_preview_is_the_golden_record_the_merge_then_makes(
    client_for: Callable[..., GatewayClient], gateway: GatewayClient
) -> None:
    steward = client_for("steward")
    a = ingest_one(
        gateway,
        "crm",
        fullName=f"Vera Vorschau{unique_letters()}",
        email="vera@crm.example",
        street="Lindenstr. 5",
        postalCode="10115",
        city="Berlin",
        country="DE",
    )
    b = ingest_one(
        gateway,
        "shop",
        fullName=f"Dr. Vera Vorschau{unique_letters()}",
        phone="0151 98765432",
        birthDate="1980-05-17",
        language="de",
        email="vera@shop.example",
    )
    before = {pid: gateway.execute(PROFILE, {"id": pid})["person"] for pid in (a, b)}

    preview = steward.execute(PREVIEW, {"survivorId": a, "mergedId": b})["mergePreview"]
    assert (preview["survivorId"], preview["mergedId"]) == (a, b)
    assert [f["field"] for f in preview["fields"]] == list(AS_TEXT)
    # Nothing written: both profiles read exactly as before.
    assert {pid: gateway.execute(PROFILE, {"id": pid})["person"] for pid in (a, b)} == before

    survivor_before, merged_before = (gateway.execute(GOLDEN, {"id": p})["person"] for p in (a, b))
    steward.execute(MERGE, {"survivorId": a, "mergedId": b, "reason": "preview check"})
    after = gateway.execute(GOLDEN, {"id": a})["person"]
    sources = {x["attribute"]: x["source"] for x in after["lineage"]}
    for row in preview["fields"]:
        attribute, text = AS_TEXT[row["field"]]
        assert row["survivorValue"] == text(survivor_before), row["field"]
        assert row["mergedValue"] == text(merged_before), row["field"]
        assert row["resultValue"] == text(after), row["field"]
        expected_source = sources.get(attribute) if row["resultValue"] is not None else None
        assert row["resultSource"] == expected_source, row["field"]
    # Both sides gave something the result kept (not one profile copied over the other).
    results = {row["field"]: row["resultSource"] for row in preview["fields"]}
    assert {results["address"], results["phone"]} == {"crm", "shop"}

    # b is merged away now: previewing it again is bad input naming its survivor.
    code, message = _error_code(steward, a, b)
    assert code == "BAD_USER_INPUT"
    assert a in message


def test_merge_previews_are_refused_like_merges(
    client_for: Callable[..., GatewayClient], gateway: GatewayClient
) -> None:
    a = ingest_one(gateway, "crm", fullName=f"Rolf Vorschau{unique_letters()}")
    b = ingest_one(gateway, "crm", fullName=f"Rita Vorschau{unique_letters()}")
    steward = client_for("steward")
    assert _error_code(client_for("app"), a, b)[0] == "FORBIDDEN"
    assert _error_code(steward, a, a)[0] == "BAD_USER_INPUT"
    assert _error_code(steward, a, str(uuid.uuid4()))[0] == "NOT_FOUND"


PERSONS = "query P($ids: [ID!]!) { persons(ids: $ids) { id mergedFrom } }"


def test_persons_by_ids_resolve_merged_ids_in_the_order_asked(gateway: GatewayClient) -> None:
    a = ingest_one(gateway, "crm", fullName="Jonas Vielfach", email="jonas@crm.example")
    b = ingest_one(gateway, "shop", fullName="Jonas Vielfach", phone="0151 76543210")
    c = ingest_one(gateway, "crm", fullName="Lena Einzeln")
    gateway.execute(MERGE, {"survivorId": a, "mergedId": b, "reason": "same customer"})
    unknown = str(uuid.uuid4())

    found = gateway.execute(PERSONS, {"ids": [c, b, unknown, a]})["persons"]

    assert [p and p["id"] for p in found] == [c, a, None, a]
    assert found[1]["mergedFrom"] == [b]


def test_persons_by_ids_refuses_too_many(gateway: GatewayClient) -> None:
    body = gateway.post(PERSONS, {"ids": [str(uuid.uuid4()) for _ in range(501)]}).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["field"] == "ids"


FEATURES = "query MatchingFeatures($ids: [ID!]!) { personFeatures(ids: $ids) }"
FEATURE_FIELDS = """query P($id: ID!) { person(id: $id) {
  id createdAt givenName familyName suffix birthDate birthDatePartial email phone
  identifiers { scheme issuer value } address { street houseNumber postalCode city }
  sourceRecords { source }
} }"""


def test_person_features_are_the_person_fields_matching_compares(gateway: GatewayClient) -> None:
    a = ingest_one(
        gateway,
        "crm",
        fullName="Jonas Merkmal",
        email="jonas@merkmal.example",
        birthDate="12.05.1987",
        street="Hauptstr. 5",
        postalCode="10115",
        city="Berlin",
        phone="030 4455667",
    )
    b = ingest_one(gateway, "shop", fullName="Jonas Merkmal", phone="0151 11223344")
    c = ingest_one(gateway, "crm", familyName="Ohneadresse", birthDate="1990")
    gateway.execute(MERGE, {"survivorId": a, "mergedId": b, "reason": "same customer"})
    unknown = str(uuid.uuid4())

    found = gateway.execute(FEATURES, {"ids": [c, b, unknown, a]})["personFeatures"]

    assert [f and f["id"] for f in found] == [c, a, None, a]
    for features in (found[0], found[3]):
        person = dict(gateway.execute(FEATURE_FIELDS, {"id": features["id"]})["person"])
        person["sources"] = sorted({r["source"] for r in person.pop("sourceRecords")})
        assert features == person
    assert found[3]["sources"] == ["crm", "shop"]


def test_person_features_refuse_too_many(gateway: GatewayClient) -> None:
    body = gateway.post(FEATURES, {"ids": [str(uuid.uuid4()) for _ in range(501)]}).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["field"] == "ids"
