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


class TestBadInput:
    def test_a_batch_with_bad_records_is_refused_whole(self, gateway: GatewayClient) -> None:
        good, bad_mail, bad_phone = sid("ok"), sid("mail"), sid("phone")
        body = gateway.post(INGEST, {"source": "crm", "records": [
            {"sourceId": good, "familyName": "Gut"},
            {"sourceId": bad_mail, "familyName": "Mail", "email": "nobody@"},
            {"sourceId": bad_phone, "familyName": "Phone", "phone": "bitte anrufen"},
        ]}).json()  # fmt: skip

        [error] = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["rejected"] == [
            {"index": 1, "sourceId": bad_mail, "field": "email", "code": "INVALID"},
            {"index": 2, "sourceId": bad_phone, "field": "phone", "code": "UNPARSEABLE"},
        ]
        assert "nobody@" not in str(body)  # no personal data echoed
        missing = gateway.post(SOURCE_RECORD, {"source": "crm", "sourceId": good}).json()
        assert codes(missing["errors"]) == ["NOT_FOUND"]

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
