"""Source records in, golden profiles with lineage out, through the gateway."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from mdm_infra.client import GatewayClient

from .queries import GOLDEN, INGEST, SOURCE_RECORD


def sid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def codes(errors: list[dict[str, object]]) -> list[object]:
    return [e["extensions"]["code"] for e in errors]  # type: ignore[index]


class TestMessyGermanRecords:
    def test_become_a_clean_golden_profile_with_lineage(self, gateway: GatewayClient) -> None:
        crm_id = sid("crm")
        result = gateway.execute(INGEST, {"source": "crm", "records": [{
            "sourceId": crm_id, "fullName": "HERR DR. KARL-HEINZ VON DER HEIDE JUN.",
            "email": " KH.Heide@Example.DE ", "phone": "0171/1234567", "street": "Schloßstr. 7 b",
            "postalCode": "1067", "city": "Dresden", "country": "Deutschland",
            "birthDate": "03.10.1960", "language": "Deutsch",
        }]})["ingestSourceRecords"]  # fmt: skip
        assert (result["created"], result["updated"]) == (1, 0)
        [record] = result["records"]
        fixes = {f["code"] for f in record["quality"]["fixes"]}
        assert {"NAME_SPLIT", "CASE_FIXED", "TITLE_EXTRACTED", "SUFFIX_EXTRACTED", "PHONE_E164",
                "STREET_NORMALISED", "LEADING_ZERO_RESTORED"} <= fixes  # fmt: skip

        person = gateway.execute(GOLDEN, {"id": record["personId"]})["person"]

        assert (person["givenName"], person["familyName"]) == ("Karl-Heinz", "von der Heide")
        assert (person["titles"], person["suffix"], person["salutation"]) == (
            ["Dr."],
            "jun.",
            "Herr",
        )
        assert (person["email"], person["phone"]) == ("KH.Heide@example.de", "+491711234567")
        assert person["address"] == {
            "street": "Schloßstraße", "houseNumber": "7b", "postalCode": "01067",
            "city": "Dresden", "country": "DE",
        }  # fmt: skip
        assert (person["birthDate"], person["language"]) == ("1960-10-03", "de")
        lineage = {entry["attribute"]: entry for entry in person["lineage"]}
        assert lineage["name"] == {"attribute": "name", "source": "crm", "sourceId": crm_id,
                                   "rule": "SOURCE_PRIORITY"}  # fmt: skip

    def test_a_second_source_adds_to_the_profile_by_its_rules(self, gateway: GatewayClient) -> None:
        crm_id = sid("crm")
        person_id = gateway.execute(INGEST, {"source": "crm", "records": [{
            "sourceId": crm_id, "givenName": "Johanna", "familyName": "Schmidt",
            "email": "johanna@crm.example", "language": "de",
        }]})["ingestSourceRecords"]["records"][0]["personId"]  # fmt: skip
        # Linking a second source's record to this profile is matching's job (issue 4);
        # a record that updates the same source id shows survivorship at work here.
        gateway.execute(INGEST, {"source": "crm", "records": [{
            "sourceId": crm_id, "givenName": "Johanna", "familyName": "Schmidt-Weber",
            "email": "johanna@neu.example", "language": "de",
        }]})  # fmt: skip
        person = gateway.execute(GOLDEN, {"id": person_id})["person"]
        assert (person["familyName"], person["email"]) == ("Schmidt-Weber", "johanna@neu.example")
        assert len(person["sourceRecords"]) == 1


class TestIdempotency:
    def test_reingesting_updates_and_never_duplicates(self, gateway: GatewayClient) -> None:
        records = [{"sourceId": sid("shop"), "fullName": f"Test Person{i}", "language": "de"}
                   for i in range(3)]  # fmt: skip
        first = gateway.execute(INGEST, {"source": "shop", "records": records})[
            "ingestSourceRecords"
        ]
        again = gateway.execute(INGEST, {"source": "shop", "records": records})[
            "ingestSourceRecords"
        ]

        assert (first["created"], again["created"], again["updated"]) == (3, 0, 3)
        assert [r["personId"] for r in again["records"]] == [
            r["personId"] for r in first["records"]
        ]


class TestQualityReport:
    def test_is_queryable_later(self, gateway: GatewayClient) -> None:
        source_id = sid("news")
        gateway.execute(
            INGEST,
            {
                "source": "newsletter",
                "records": [
                    {"sourceId": source_id, "familyName": "Nguyen", "email": "n@example.org"}
                ],
            },
        )
        record = gateway.execute(SOURCE_RECORD, {"source": "newsletter", "sourceId": source_id})
        issues = {
            (i["field"], i["code"], i["severity"])
            for i in record["sourceRecord"]["quality"]["issues"]
        }
        assert ("language", "MISSING", "WARNING") in issues
        assert ("givenName", "MISSING", "WARNING") in issues
        assert ("salutation", "MISSING", "INFO") in issues

    def test_unknown_record_is_not_found(self, gateway: GatewayClient) -> None:
        body = gateway.post(SOURCE_RECORD, {"source": "crm", "sourceId": "never-sent"}).json()
        assert codes(body["errors"]) == ["NOT_FOUND"]


INGEST_RESULTS = """
mutation Ingest($source: String!, $records: [SourceRecordInput!]!, $atomic: Boolean! = false) {
  ingestSourceRecords(source: $source, records: $records, atomic: $atomic) {
    created updated withWarnings refused
    results {
      index sourceId status personId created
      refusal { field code message }
      warnings { field code severity }
    }
  }
}
"""
KEPT = """
query Kept($id: ID!) {
  person(id: $id) {
    email phone birthDate birthDatePartial address { postalCode city }
    identifiers { scheme issuer value source sourceId }
    sourceRecords { sourceId email phone birthDate birthDatePartial keptRaw { field value }
                    identifiers { scheme issuer value } }
  }
}
"""


class TestNoCustomerRefusedForOneBadValue:
    def test_each_record_is_answered_and_bad_values_are_kept_raw(
        self, gateway: GatewayClient
    ) -> None:
        ids = [sid("good"), sid("mail"), sid("phone"), sid("date"), sid("nobody"), sid("ids")]
        result = gateway.execute(
            INGEST_RESULTS,
            {
                "source": "crm",
                "records": [
                    {
                        "sourceId": ids[0],
                        "givenName": "Greta",
                        "familyName": "Gut",
                        "language": "de",
                        "salutation": "Frau",
                        "email": "greta@example.de",
                    },
                    {"sourceId": ids[1], "familyName": "Mail", "email": "a..b@web.de"},
                    {
                        "sourceId": ids[2],
                        "givenName": "Pia",
                        "phone": "0171 12",
                        "postalCode": "123456",
                        "city": "Köln",
                    },
                    {"sourceId": ids[3], "familyName": "Datum", "birthDate": "1987-13-45"},
                    {"sourceId": ids[4], "email": "kaputt@", "birthDate": "1980-01-01"},
                    {
                        "sourceId": ids[5],
                        "familyName": "Nummer",
                        "identifiers": [
                            {"scheme": "TAX_ID_DE", "value": "36 574 261 809"},
                            {"scheme": "TAX_ID_DE", "value": "36574261808"},
                            {"scheme": "CUSTOMER_NUMBER", "value": "k-1001"},
                        ],
                    },
                ],
            },
        )["ingestSourceRecords"]

        assert (result["created"], result["refused"], result["withWarnings"]) == (5, 1, 4)
        status = {r["sourceId"]: r["status"] for r in result["results"]}
        assert status == {
            ids[0]: "STORED",
            **dict.fromkeys(ids[1:4], "STORED_WITH_WARNINGS"),
            ids[4]: "REFUSED",
            ids[5]: "STORED_WITH_WARNINGS",
        }
        results = {r["sourceId"]: r for r in result["results"]}
        assert [r["index"] for r in result["results"]] == list(range(6))
        assert results[ids[4]]["refusal"]["code"] == "NOT_IDENTIFIABLE"
        assert results[ids[4]]["personId"] is None
        assert "kaputt@" not in str(result)  # no personal data in the answer
        warned = {(w["field"], w["code"]) for w in results[ids[1]]["warnings"]}
        assert ("email", "INVALID") in warned

        mail = gateway.execute(KEPT, {"id": results[ids[1]]["personId"]})["person"]
        assert mail["email"] is None
        assert mail["sourceRecords"][0]["keptRaw"] == [{"field": "email", "value": "a..b@web.de"}]
        phone = gateway.execute(KEPT, {"id": results[ids[2]]["personId"]})["person"]
        assert (phone["phone"], phone["address"]) == (None, {"postalCode": None, "city": "Köln"})
        assert phone["sourceRecords"][0]["keptRaw"] == [
            {"field": "phone", "value": "0171 12"},
            {"field": "postalCode", "value": "123456"},
        ]
        date = gateway.execute(KEPT, {"id": results[ids[3]]["personId"]})["person"]
        assert (date["birthDate"], date["birthDatePartial"]) == (None, "1987")
        assert date["sourceRecords"][0]["keptRaw"] == [
            {"field": "birthDate", "value": "1987-13-45"}
        ]
        numbers = gateway.execute(KEPT, {"id": results[ids[5]]["personId"]})["person"]
        assert numbers["identifiers"] == [
            {
                "scheme": "CUSTOMER_NUMBER",
                "issuer": "crm",
                "value": "K1001",
                "source": "crm",
                "sourceId": ids[5],
            },
            {
                "scheme": "TAX_ID_DE",
                "issuer": "DE",
                "value": "36574261809",
                "source": "crm",
                "sourceId": ids[5],
            },
        ]
        assert numbers["sourceRecords"][0]["keptRaw"] == [
            {"field": "identifiers[1]", "value": "36574261808"}
        ]

    def test_atomic_refuses_the_whole_batch(self, gateway: GatewayClient) -> None:
        good, nobody, twice = sid("ok"), sid("nobody"), sid("twice")
        body = gateway.post(INGEST_RESULTS, {"source": "crm", "atomic": True, "records": [
            {"sourceId": good, "familyName": "Gut", "email": "nobody@"},
            {"sourceId": nobody, "phone": "bitte anrufen"},
            {"sourceId": twice, "familyName": "Eins"},
            {"sourceId": twice, "familyName": "Zwei"},
        ]}).json()  # fmt: skip

        [error] = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["rejected"] == [
            {"index": 1, "sourceId": nobody, "field": "record", "code": "NOT_IDENTIFIABLE"},
            {"index": 3, "sourceId": twice, "field": "sourceId", "code": "DUPLICATE_IN_BATCH"},
        ]
        assert "nobody@" not in str(body)  # no personal data echoed
        for source_id in (good, twice):
            missing = gateway.post(SOURCE_RECORD, {"source": "crm", "sourceId": source_id}).json()
            assert codes(missing["errors"]) == ["NOT_FOUND"]

    def test_a_batch_of_refused_records_writes_nothing_and_says_why(
        self, gateway: GatewayClient
    ) -> None:
        result = gateway.execute(
            INGEST_RESULTS,
            {
                "source": "crm",
                "records": [
                    {"sourceId": "has space", "familyName": "Kaputt"},
                    {"sourceId": sid("x")},
                ],
            },
        )["ingestSourceRecords"]
        assert (result["created"], result["refused"]) == (0, 2)
        assert [(r["refusal"]["field"], r["refusal"]["code"]) for r in result["results"]] == [
            ("sourceId", "INVALID"),
            ("record", "NOT_IDENTIFIABLE"),
        ]


class TestBadInput:
    def test_unknown_source(self, gateway: GatewayClient) -> None:
        source_id = sid("fax")
        body = gateway.post(
            INGEST, {"source": "fax", "records": [{"sourceId": source_id, "familyName": "Fax"}]}
        ).json()
        assert codes(body["errors"]) == ["BAD_USER_INPUT"]
        assert body["errors"][0]["extensions"]["field"] == "source"
        assert "Unknown source system 'fax'" in body["errors"][0]["message"]

    def test_oversized_batch(self, gateway: GatewayClient) -> None:
        records = [{"sourceId": f"b{i}", "familyName": "X"} for i in range(501)]
        body = gateway.post(INGEST, {"source": "crm", "records": records}).json()
        assert codes(body["errors"]) == ["BAD_USER_INPUT"]
        assert "At most 500 records" in body["errors"][0]["message"]


def test_app_may_ingest_but_compliance_may_not(client_for: Callable[..., GatewayClient]) -> None:
    record = {"source": "crm", "records": [{"sourceId": sid("role"), "familyName": "Rolle"}]}
    assert "errors" not in client_for("app").post(INGEST, record).json()
    body = client_for("compliance").post(INGEST, record).json()
    assert codes(body["errors"]) == ["FORBIDDEN"]
