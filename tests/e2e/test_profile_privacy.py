"""The profile's part of data-subject requests, through the gateway with roles in force:
export, erasure (checked in the raw graph), suppression at ingestion, restriction."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mdm_common.graph import GraphClient
from mdm_common.text import fold
from mdm_infra.client import GatewayClient
from mdm_infra.platform import Platform

from .matching_support import birth_date, family_name, phone, place
from .queries import unique_letters

UNKNOWN_ID = "00000000-0000-4000-8000-00000000d5a0"

EXPORT = """query Export($id: ID!) { profilePersonalData(personId: $id) {
  personIds erased restricted
  items { personId origin category field value source sourceId recordedAt }
} }"""
ERASE = """mutation Erase($id: ID!, $requestId: ID!) {
  eraseProfileData(personId: $id, requestId: $requestId) {
    personIds removedRecords suppressionEntries alreadyErased
  }
}"""
RESTRICT = """mutation Restrict($id: ID!, $requestId: ID!, $restricted: Boolean!) {
  restrictProfileProcessing(personId: $id, requestId: $requestId, restricted: $restricted) {
    personIds restricted
  }
}"""
MERGE = """mutation Merge($survivorId: ID!, $mergedId: ID!) {
  mergePersons(survivorId: $survivorId, mergedId: $mergedId, reason: "same customer") {
    merge { id } survivor { id processingRestricted }
  }
}"""
PERSON = "query P($id: ID!) { person(id: $id) { id givenName processingRestricted } }"
INGEST_SUPPRESSED = """mutation Ingest($source: String!, $records: [SourceRecordInput!]!) {
  ingestSourceRecords(source: $source, records: $records) {
    created updated suppressed records { sourceId personId created }
  }
}"""
ACTIVE_IDS = "query A($after: ID!) { activePersonIds(after: $after, first: 1) }"
CREATE = """mutation C($input: CreatePersonInput!) { createPerson(input: $input) { id } }"""
SEARCH = """query S($postalCode: String!) {
  searchPersons(postalCode: $postalCode) { edges { node { id } } }
}"""


class Customer:
    """Values of the test's own (names, e-mail, phones, postal code and birth date are
    matching's blocking keys: no other test's persons may share them)."""

    def __init__(self) -> None:
        self.given = "Gudrun" + unique_letters(6)
        self.family = family_name()
        self.email = f"gudrun.{unique_letters()}@example.org"
        self.mobile = f"+49151{10_000_000 + uuid.uuid4().int % 89_999_999}"
        self.street = "Ulmenweg" + unique_letters()
        self.place = place()
        self.birth_date = birth_date()

    def record(self, **overrides: Any) -> dict[str, Any]:
        return {
            "sourceId": uuid.uuid4().hex[:16], "givenName": self.given,
            "familyName": self.family, "email": self.email, "phone": self.mobile,
            "street": self.street, "houseNumber": "7", **self.place,
            "birthDate": self.birth_date, "language": "de",
        } | overrides  # fmt: skip

    @property
    def values(self) -> list[str]:
        return [self.given, self.family, self.email, self.mobile, self.street]


def ingest(gateway: GatewayClient, source: str, *records: dict[str, Any]) -> dict[str, Any]:
    result = gateway.execute(INGEST_SUPPRESSED, {"source": source, "records": list(records)})
    return dict(result["ingestSourceRecords"])


def new_person(gateway: GatewayClient, customer: Customer, source: str = "crm") -> str:
    [record] = ingest(gateway, source, customer.record())["records"]
    return str(record["personId"])


def errors_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    assert body.get("errors"), body
    return [e.get("extensions", {}) for e in body["errors"]]


async def nodes_holding(graph: GraphClient, values: list[str]) -> list[dict[str, Any]]:
    """Every node of the profile database with a property that contains one of ``values``
    (compared folded, so keys built from them are found too)."""
    rows = await graph.read(
        lambda tx: tx.run("test.all_nodes", "MATCH (n) RETURN labels(n) AS labels, n {.*} AS n")
    )
    wanted = [fold(v) for v in values]
    return [
        {"labels": row["labels"], "props": row["n"]}
        for row in rows
        if any(w in fold(str(value)) for value in row["n"].values() for w in wanted)
    ]


@pytest.fixture
def compliance(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("compliance")


@pytest.fixture
def profile_graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    return graph_for("profile")


def merged_pair(gateway: GatewayClient, one: Customer, other: Customer) -> tuple[str, str]:
    """Two persons a steward merged (different values, so that the matching worker
    leaves them alone until then)."""
    survivor = new_person(gateway, one, "crm")
    merged = new_person(gateway, other, "shop")
    gateway.execute(MERGE, {"survivorId": survivor, "mergedId": merged})
    return survivor, merged


class TestExport:
    def test_golden_values_with_lineage_and_the_records_of_a_merged_pair(
        self, gateway: GatewayClient, compliance: GatewayClient
    ) -> None:
        one, other = Customer(), Customer()
        survivor, merged = merged_pair(gateway, one, other)

        found = compliance.execute(EXPORT, {"id": merged})["profilePersonalData"]

        assert found["personIds"] == [survivor, merged]
        assert (found["erased"], found["restricted"]) == (False, False)
        golden = {i["field"]: i for i in found["items"]
                  if i["origin"] == "golden" and i["personId"] == survivor}  # fmt: skip
        assert golden["givenName"]["value"] == one.given  # crm is trusted more than shop
        assert (golden["givenName"]["source"], golden["givenName"]["category"]) == (
            "crm", "identity")  # fmt: skip
        assert golden["email"]["sourceId"] is not None
        records = [i for i in found["items"] if i["origin"] == "sourceRecord"]
        assert {i["value"].split("|")[0] for i in records if i["field"] == "sourceRecord"} == {
            "crm", "shop"}  # fmt: skip
        emails = {i["value"] for i in records if i["field"] == "email"}
        assert emails == {one.email, other.email}
        addresses = [json.loads(i["value"]) for i in records if i["category"] == "postal_address"]
        assert {a["street"] for a in addresses} == {one.street, other.street}
        [merge] = [i for i in found["items"] if i["origin"] == "merge"]
        assert json.loads(merge["value"])["actor"] == "test-user"
        assert merge["recordedAt"] is not None

    @pytest.mark.parametrize("roles", [("app",), ("steward",), ("app", "steward")])
    def test_forbidden_without_the_compliance_role(
        self, gateway: GatewayClient, client_for: Callable[..., GatewayClient],
        roles: tuple[str, ...],
    ) -> None:  # fmt: skip
        person = new_person(gateway, Customer())
        caller = client_for(*roles)
        for query, variables in (
            (EXPORT, {"id": person}),
            (ERASE, {"id": person, "requestId": "dsr-forbidden"}),
            (RESTRICT, {"id": person, "requestId": "dsr-forbidden", "restricted": True}),
        ):
            assert [e["code"] for e in errors_of(caller.post(query, variables).json())] == [
                "FORBIDDEN"]  # fmt: skip
        assert gateway.execute(PERSON, {"id": person})["person"]["processingRestricted"] is False

    def test_admin_may(self, gateway: GatewayClient,
                       client_for: Callable[..., GatewayClient]) -> None:  # fmt: skip
        person = new_person(gateway, Customer())
        found = client_for("admin").execute(EXPORT, {"id": person})["profilePersonalData"]
        assert found["personIds"] == [person]

    def test_unknown_ids_are_not_found(self, compliance: GatewayClient) -> None:
        for query, variables in (
            (EXPORT, {"id": UNKNOWN_ID}),
            (ERASE, {"id": UNKNOWN_ID, "requestId": "dsr-unknown"}),
            (RESTRICT, {"id": UNKNOWN_ID, "requestId": "dsr-unknown", "restricted": True}),
        ):
            [error] = errors_of(compliance.post(query, variables).json())
            assert (error["code"], error["field"]) == ("NOT_FOUND", "personId")

    def test_a_bad_request_id_is_bad_input(
        self, gateway: GatewayClient, compliance: GatewayClient
    ) -> None:
        person = new_person(gateway, Customer())
        body = compliance.post(ERASE, {"id": person, "requestId": "no spaces please"}).json()
        [error] = errors_of(body)
        assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "requestId")
        assert gateway.execute(PERSON, {"id": person})["person"]["id"] == person


class TestErasure:
    async def test_no_personal_value_is_left_in_the_profile_database(
        self, gateway: GatewayClient, compliance: GatewayClient, profile_graph: GraphClient
    ) -> None:
        one, other = Customer(), Customer()
        survivor, merged = merged_pair(gateway, one, other)
        values = one.values + other.values
        assert await nodes_holding(profile_graph, values)

        erased = compliance.execute(ERASE, {"id": survivor, "requestId": "dsr-e2e-1"})

        assert erased["eraseProfileData"] == {
            "personIds": [survivor, merged], "removedRecords": 2,
            "suppressionEntries": 8, "alreadyErased": False,
        }  # fmt: skip
        assert await nodes_holding(profile_graph, values) == []

        again = compliance.execute(ERASE, {"id": merged, "requestId": "dsr-e2e-1"})
        assert again["eraseProfileData"] == {
            "personIds": [survivor, merged], "removedRecords": 0, "suppressionEntries": 0,
            "alreadyErased": True,
        }  # fmt: skip
        export = compliance.execute(EXPORT, {"id": merged})["profilePersonalData"]
        assert (export["erased"], export["items"]) == (True, [])

    def test_an_erased_person_reads_as_not_found_erased(
        self, gateway: GatewayClient, compliance: GatewayClient
    ) -> None:
        customer = Customer()
        person = new_person(gateway, customer)
        before = gateway.execute(ACTIVE_IDS, {"after": person[:-1]})["activePersonIds"]
        assert before == [person]
        compliance.execute(ERASE, {"id": person, "requestId": "dsr-e2e-2"})

        [error] = errors_of(gateway.post(PERSON, {"id": person}).json())
        assert (error["code"], error["reason"], error["field"]) == ("NOT_FOUND", "ERASED", "id")
        [unknown] = errors_of(gateway.post(PERSON, {"id": UNKNOWN_ID}).json())
        assert "reason" not in unknown
        found = gateway.execute(SEARCH, {"postalCode": customer.place["postalCode"]})
        assert found["searchPersons"]["edges"] == []
        # The page after a prefix of the id starts with the id itself while it is active.
        next_ids = gateway.execute(ACTIVE_IDS, {"after": person[:-1]})["activePersonIds"]
        assert person not in next_ids

    def test_a_merged_away_id_reads_as_erased_too(
        self, gateway: GatewayClient, compliance: GatewayClient
    ) -> None:
        survivor, merged = merged_pair(gateway, Customer(), Customer())
        compliance.execute(ERASE, {"id": survivor, "requestId": "dsr-e2e-3"})
        [error] = errors_of(gateway.post(PERSON, {"id": merged}).json())
        assert (error["code"], error["reason"]) == ("NOT_FOUND", "ERASED")


class TestSuppression:
    def test_the_same_record_again_is_suppressed(
        self, gateway: GatewayClient, compliance: GatewayClient
    ) -> None:
        customer = Customer()
        record = customer.record()
        [stored] = ingest(gateway, "crm", record)["records"]
        compliance.execute(ERASE, {"id": stored["personId"], "requestId": "dsr-e2e-4"})

        again = ingest(gateway, "crm", record)

        assert again == {"created": 0, "updated": 0, "suppressed": [record["sourceId"]],
                         "records": []}  # fmt: skip

    def test_the_same_email_and_given_name_from_another_source(
        self, gateway: GatewayClient, compliance: GatewayClient
    ) -> None:
        customer = Customer()
        person = new_person(gateway, customer, "crm")
        compliance.execute(ERASE, {"id": person, "requestId": "dsr-e2e-5"})
        same = {"sourceId": uuid.uuid4().hex[:16], "givenName": customer.given.upper(),
                "familyName": family_name(), "email": customer.email.upper()}  # fmt: skip
        stranger = Customer().record()

        batch = ingest(gateway, "shop", same, stranger)

        assert batch["suppressed"] == [same["sourceId"]]
        assert (batch["created"], [r["sourceId"] for r in batch["records"]]) == (
            1, [stranger["sourceId"]])  # fmt: skip
        body = gateway.post(CREATE, {"input": {
            "givenName": customer.given, "familyName": customer.family, "email": customer.email,
        }}).json()  # fmt: skip
        [error] = errors_of(body)
        assert (error["code"], error["reason"]) == ("CONFLICT", "SUPPRESSED")

    def test_a_household_member_sharing_landline_and_address_is_ingested(
        self, gateway: GatewayClient, compliance: GatewayClient
    ) -> None:
        customer = Customer()
        landline = phone()
        person = new_person_with(gateway, customer.record(phone=landline, email=None))
        compliance.execute(ERASE, {"id": person, "requestId": "dsr-e2e-6"})

        member = customer.record(givenName="Waltraud" + unique_letters(6), phone=landline,
                                 email=None, birthDate=birth_date())  # fmt: skip
        result = ingest(gateway, "crm", member)

        assert (result["created"], result["suppressed"]) == (1, [])

    def test_an_import_sets_an_erased_person_s_rows_aside(
        self, gateway: GatewayClient, compliance: GatewayClient, platform: Platform,
        token_for: Callable[..., str], tmp_path: Path,
    ) -> None:  # fmt: skip
        customer, newcomer = Customer(), Customer()
        record = customer.record()
        erased = new_person_with(gateway, record)
        compliance.execute(ERASE, {"id": erased, "requestId": "dsr-e2e-9"})
        path = tmp_path / "kunden.csv"
        path.write_text(
            "Kundennummer;Vorname;Nachname;E-Mail\n"
            f"{record['sourceId']};{customer.given};{customer.family};{customer.email}\n"
            f"{uuid.uuid4().hex[:16]};{newcomer.given};{newcomer.family};{newcomer.email}\n"
        )

        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "mdm_profile.cli",
                "import",
                str(path),
                "--source",
                "crm",
                "--quiet",
                "--url",
                platform.config.gateway_url,
                "--token",
                token_for("app"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )

        assert result.returncode == 0, result.stderr
        assert "refused 0, suppressed 1" in result.stdout
        set_aside = (tmp_path / "kunden.csv.rejected.jsonl").read_text().splitlines()
        [entry] = [json.loads(line) for line in set_aside]
        assert (entry["line"], entry["sourceId"], entry["field"], entry["code"]) == (
            2, record["sourceId"], "record", "SUPPRESSED"
        )  # fmt: skip


def new_person_with(gateway: GatewayClient, record: dict[str, Any]) -> str:
    [stored] = ingest(gateway, "crm", record)["records"]
    return str(stored["personId"])


class TestRestriction:
    def test_restriction_blocks_a_merge_until_lifted(
        self, gateway: GatewayClient, compliance: GatewayClient
    ) -> None:
        one = new_person(gateway, Customer())
        other = new_person(gateway, Customer())

        restricted = compliance.execute(
            RESTRICT, {"id": other, "requestId": "dsr-e2e-7", "restricted": True}
        )
        assert restricted["restrictProfileProcessing"] == {"personIds": [other],
                                                           "restricted": True}  # fmt: skip
        assert gateway.execute(PERSON, {"id": other})["person"]["processingRestricted"] is True
        [error] = errors_of(gateway.post(MERGE, {"survivorId": one, "mergedId": other}).json())
        assert (error["code"], error["reason"], error["field"]) == (
            "CONFLICT", "PROCESSING_RESTRICTED", "mergedId")  # fmt: skip
        exported = compliance.execute(EXPORT, {"id": other})["profilePersonalData"]
        assert exported["restricted"] is True

        compliance.execute(RESTRICT, {"id": other, "requestId": "dsr-e2e-7", "restricted": False})
        merged = gateway.execute(MERGE, {"survivorId": one, "mergedId": other})
        assert merged["mergePersons"]["survivor"] == {"id": one, "processingRestricted": False}

    def test_a_restricted_person_s_records_are_still_stored(
        self, gateway: GatewayClient, compliance: GatewayClient
    ) -> None:
        customer = Customer()
        record = customer.record()
        person = new_person_with(gateway, record)
        compliance.execute(RESTRICT, {"id": person, "requestId": "dsr-e2e-8", "restricted": True})

        result = ingest(gateway, "crm", record | {"language": "en"})

        assert (result["updated"], result["records"][0]["personId"]) == (1, person)
