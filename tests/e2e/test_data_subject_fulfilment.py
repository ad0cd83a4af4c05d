"""Data-subject requests carried out across all three services, through the gateway
(issue 5, items 5 and 6): export, erasure with suppression, restriction, retention."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import redis

from mdm_common.events import make_celery
from mdm_common.graph import GraphClient
from mdm_infra.client import GatewayClient
from mdm_infra.platform import Platform
from mdm_infra.testing import eventually

from .matching_support import birth_date, family_name, place
from .runs import when_done
from .test_consent import NOTICE, PUBLISH, REGISTER, check, event, record
from .test_data_subject_requests import CARRY_OUT, EXPORT, LIFT, REASON, error_of, submit

PERSON = "query Person($id: ID!) { person(id: $id) { id email processingRestricted } }"
MATCHING_DATA = """
query Held($ids: [ID!]!) { matchingPersonalData(personIds: $ids) { personIds items { field } } }
"""
HISTORY = "query H($personId: ID!) { consentHistory(personId: $personId) { type birthDate } }"
READS = "query R($personId: ID!) { consentReads(personId: $personId) { operation } }"
START_RUN = "mutation { startRetentionRun { id status } }"
RUN = "query Run($id: ID!) { retentionRun(id: $id) { id status checked purged error } }"
RESUME_RUN = "mutation Resume($id: ID!) { resumeRetentionRun(id: $id) { id status } }"
PURGES = """
query Purges($personId: ID!) {
  retentionPurges(personId: $personId) {
    categories status detail purposes { purpose standing since }
  }
}
"""
SOURCE_RECORD = """
query Record($source: String!, $sourceId: String!) {
  sourceRecord(source: $source, sourceId: $sourceId) { email givenName }
}
"""
INGEST = """
mutation Ingest($source: String!, $records: [SourceRecordInput!]!) {
  ingestSourceRecords(source: $source, records: $records) {
    created suppressed records { personId }
  }
}
"""
DATABASES = ("profile", "matching", "consent")


@pytest.fixture
def compliance(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("compliance")


@pytest.fixture
def app(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("app")


class Customer:
    """A person of the test's own, ingested from the shop, with values to look for."""

    def __init__(self, app: GatewayClient) -> None:
        tag = uuid.uuid4().hex[:8]
        self.family = family_name()
        self.email = f"hedwig.{tag}@example.org"
        self.street = f"Lindenweg{tag}"
        self.birth = birth_date()
        self.phone = f"+49 151 {10_000_000 + uuid.uuid4().int % 80_000_000}"
        self.source_id = uuid.uuid4().hex[:16]
        self.fields = {
            "givenName": "Hedwig", "familyName": self.family, "email": self.email,
            "birthDate": self.birth, "phone": self.phone, "street": self.street,
            "houseNumber": "7", **place(),
        }  # fmt: skip
        result = app.execute(INGEST, {"source": "shop", "records": [
            {"sourceId": self.source_id} | self.fields]})["ingestSourceRecords"]  # fmt: skip
        self.id = str(result["records"][0]["personId"])

    @property
    def needles(self) -> list[str]:
        """Values that must be gone after an erasure (the phone by its digits)."""
        return [self.family, self.email, self.street, self.birth, self.phone[-8:]]


def purpose_using(compliance: GatewayClient, *categories: str) -> str:
    code = "letters-" + uuid.uuid4().hex[:8]
    compliance.execute(REGISTER, {"input": {
        "code": code, "name": "Letters", "description": "Letters about our offers.",
        "legalBasis": "CONSENT", "channels": ["POST"], "dataCategories": list(categories),
        "retentionDays": 730, "directMarketing": True,
    }})  # fmt: skip
    compliance.execute(PUBLISH, {"input": {"purpose": code, "language": "de", "text": NOTICE}})
    return code


def matched(compliance: GatewayClient, person: str) -> bool:
    held = compliance.execute(MATCHING_DATA, {"ids": [person]})["matchingPersonalData"]
    return bool(held["items"])


async def holding(graph_for: Callable[[str], GraphClient], needles: list[str]) -> list[str]:
    """Every database, label and property whose value contains one of the needles."""
    found = []
    for database in DATABASES:
        graph = graph_for(database)
        scan = "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props"
        rows = await graph.read(lambda tx, scan=scan: tx.run("test.scan", scan))
        for row in rows:
            for key, value in (row["props"] or {}).items():
                text = json.dumps(value, default=str, ensure_ascii=False)
                if any(n.lower() in text.lower() for n in needles):
                    found.append(f"{database}:{row['labels']}.{key}")
    return found


class TestAccess:
    def test_the_export_holds_what_every_service_keeps_with_purposes_and_sources(
        self, compliance: GatewayClient, app: GatewayClient
    ) -> None:
        code = purpose_using(compliance, "email", "identity")
        customer = Customer(app)
        record(app, event(customer.id, code, channel="POST"))
        assert eventually(lambda: matched(compliance, customer.id))
        request = submit(compliance, customer.id, "PORTABILITY")

        export = compliance.execute(EXPORT, {"id": request["id"],
                                             "format": "JSON"})["dataSubjectExport"]  # fmt: skip
        document = json.loads(export["content"])
        assert (export["mediaType"], export["personIds"]) == ("application/json", [customer.id])
        items = document["items"]
        assert export["items"] == len(items)
        by_service = {s: [i for i in items if i["service"] == s]
                      for s in ("profile", "matching", "consent")}  # fmt: skip
        assert all(by_service.values()), "every service holds something on the person"
        email = next(i for i in by_service["profile"]
                     if i["category"] == "email" and i["value"] == customer.email)  # fmt: skip
        # Other modules' purposes on a basis other than consent may bind e-mail too.
        named = {p["code"]: p for p in document["purposes"]}
        assert (email["source"], code in email["purposes"]) == ("shop", True)
        assert email["retentionDays"] == max(named[c]["retentionDays"] for c in email["purposes"])
        events = {i["field"]: i for i in by_service["consent"] if i["origin"] == "consentEvent"}
        assert events["GRANTED"]["purposes"] == [code]
        # The profile's birth date, kept as evidence of age with the grant (GDPR Art. 8).
        assert events["AGE_EVIDENCE"]["purposes"] == []
        assert code in named

        as_csv = compliance.execute(EXPORT, {"id": request["id"],
                                             "format": "CSV"})["dataSubjectExport"]  # fmt: skip
        rows = list(csv.DictReader(io.StringIO(as_csv["content"])))
        assert len(rows) == as_csv["items"] >= len(items)  # the first export's audit is new
        assert {r["value"] for r in rows} >= {customer.email, customer.family}

        reads = compliance.execute(READS, {"personId": customer.id})["consentReads"]
        assert [r["operation"] for r in reads].count("data-subject export") == 2
        done = compliance.execute(
            "query G($id: ID!) { dataSubjectRequest(id: $id) { status exports } }",
            {"id": request["id"]})["dataSubjectRequest"]  # fmt: skip
        assert done == {"status": "COMPLETED", "exports": 2}


class TestErasure:
    async def test_nothing_personal_is_left_anywhere_and_a_reimport_is_suppressed(
        self, compliance: GatewayClient, app: GatewayClient,
        graph_for: Callable[[str], GraphClient],
    ) -> None:  # fmt: skip
        code = purpose_using(compliance, "email")
        customer = Customer(app)
        record(app, event(customer.id, code, channel="POST"))
        record(compliance, event(customer.id, None, "AGE_EVIDENCE", birthDate=customer.birth,
                          channel=None, noticeVersion=None, language=None))  # fmt: skip
        assert eventually(lambda: matched(compliance, customer.id))
        assert await holding(graph_for, customer.needles)  # the scan finds them before
        request = submit(compliance, customer.id, "ERASURE", note=f"For {customer.family}")

        done = compliance.execute(CARRY_OUT, {"id": request["id"]})["carryOutDataSubjectRequest"]
        assert done["status"] == "COMPLETED"
        assert [s["service"] for s in done["steps"]] == ["profile", "matching", "consent"]
        assert done["note"] is None
        assert await holding(graph_for, customer.needles) == []

        gone = error_of(lambda: app.execute(PERSON, {"id": customer.id}))
        assert (gone["code"], gone.get("reason")) == ("NOT_FOUND", "ERASED")
        verdict = check(app, customer.id, code, "POST")
        assert (verdict["allowed"], verdict["reason"]) == (False, "ERASED")
        history = compliance.execute(HISTORY, {"personId": customer.id})["consentHistory"]
        # As proof: the grant, the officer's evidence of age and the profile's birth date
        # taken as evidence when the grant was recorded (GDPR Art. 8).
        assert sorted(e["type"] for e in history) == ["AGE_EVIDENCE", "AGE_EVIDENCE", "GRANTED"]
        assert all(e["birthDate"] is None for e in history)

        same = {"sourceId": customer.source_id} | customer.fields
        again = app.execute(INGEST, {"source": "shop", "records": [same]})["ingestSourceRecords"]
        other = {"sourceId": uuid.uuid4().hex[:16], "givenName": "Hedwig",
                 "familyName": customer.family, "email": customer.email}  # fmt: skip
        elsewhere = app.execute(INGEST, {"source": "newsletter",
                                         "records": [other]})["ingestSourceRecords"]  # fmt: skip
        assert (again["created"], again["suppressed"]) == (0, [customer.source_id])
        assert (elsewhere["created"], elsewhere["suppressed"]) == (0, [other["sourceId"]])
        assert await holding(graph_for, customer.needles) == []

        settled = error_of(lambda: compliance.execute(CARRY_OUT, {"id": request["id"]}))
        assert (settled["code"], settled["reason"]) == ("CONFLICT", "REQUEST_SETTLED")


class TestRestriction:
    def test_restricted_data_is_not_used_until_the_restriction_is_lifted(
        self, compliance: GatewayClient, app: GatewayClient
    ) -> None:
        code = purpose_using(compliance, "email")
        customer = Customer(app)
        record(app, event(customer.id, code, channel="POST"))
        assert check(app, customer.id, code, "POST")["allowed"] is True
        request = submit(compliance, customer.id, "RESTRICTION")

        done = compliance.execute(CARRY_OUT, {"id": request["id"]})["carryOutDataSubjectRequest"]
        assert [s["service"] for s in done["steps"]] == ["profile", "matching", "consent"]
        verdict = check(app, customer.id, code, "POST")
        assert (verdict["allowed"], verdict["reason"]) == (False, "PROCESSING_RESTRICTED")
        person = app.execute(PERSON, {"id": customer.id})["person"]
        assert (person["processingRestricted"], person["email"]) == (True, customer.email)

        lifted = compliance.execute(LIFT, {"id": request["id"], "reason": REASON})[
            "liftRestriction"
        ]
        assert lifted["liftReason"] == REASON
        assert lifted["liftedAt"]
        assert check(app, customer.id, code, "POST")["allowed"] is True
        assert app.execute(PERSON, {"id": customer.id})["person"]["processingRestricted"] is False
        twice = error_of(lambda: compliance.execute(LIFT, {"id": request["id"],
                                                           "reason": REASON}))  # fmt: skip
        assert (twice["code"], twice["reason"]) == ("CONFLICT", "ALREADY_LIFTED")


def finished(compliance: GatewayClient, run_id: str) -> dict[str, Any]:
    return when_done(compliance, RUN, "retentionRun", run_id)


class TestRetention:
    def test_a_lapsed_purpose_purges_its_attributes_with_evidence(
        self, compliance: GatewayClient, app: GatewayClient
    ) -> None:
        code = purpose_using(compliance, "email")
        withdrawn, kept = Customer(app), Customer(app)
        for customer in (withdrawn, kept):
            record(app, event(customer.id, code, channel="POST"))
        record(app, event(withdrawn.id, code, "WITHDRAWN", channel=None, noticeVersion=None,
                          language=None, evidenceRef=None))  # fmt: skip

        run = compliance.execute(START_RUN)["startRetentionRun"]
        run = finished(compliance, run["id"])
        assert run["status"] == "DONE", run
        assert run["purged"] >= 1

        (purge,) = compliance.execute(PURGES, {"personId": withdrawn.id})["retentionPurges"]
        assert (purge["categories"], purge["status"]) == (["email"], "DONE")
        assert [(p["purpose"], p["standing"]) for p in purge["purposes"]] == [(code, "WITHDRAWN")]
        assert app.execute(PERSON, {"id": withdrawn.id})["person"]["email"] is None
        stored = app.execute(SOURCE_RECORD, {"source": "shop", "sourceId": withdrawn.source_id})
        assert stored["sourceRecord"] == {"email": None, "givenName": "Hedwig"}
        assert app.execute(PERSON, {"id": kept.id})["person"]["email"] == kept.email
        assert compliance.execute(PURGES, {"personId": kept.id})["retentionPurges"] == []

    def test_a_run_whose_message_was_lost_goes_on_when_resumed(
        self, compliance: GatewayClient, platform: Platform
    ) -> None:
        platform.stop_worker("consent")
        try:
            run = compliance.execute(START_RUN)["startRetentionRun"]
            # The outbox relay sends the first page's message in the background: lose
            # it once it is in the queue.
            queue = redis.Redis.from_url(platform.config.broker.url)
            assert eventually(lambda: queue.llen("consent") >= 1), "the page was never queued"
            queue.close()
            app = make_celery("consent", platform.config.broker.url)
            try:
                with app.connection_for_write() as connection:
                    connection.default_channel.queue_purge("consent")  # the page is lost
            finally:
                app.close()
        finally:
            platform.start_worker("consent")
        time.sleep(1)
        assert compliance.execute(RUN, {"id": run["id"]})["retentionRun"]["status"] == "RUNNING"
        # One run at a time (checked here, where the run cannot finish meanwhile).
        busy = error_of(lambda: compliance.execute(START_RUN))
        assert (busy["code"], busy["reason"]) == ("CONFLICT", "RUN_IN_PROGRESS")
        resumed = compliance.execute(RESUME_RUN, {"id": run["id"]})["resumeRetentionRun"]
        assert resumed["id"] == run["id"]
        assert finished(compliance, run["id"])["status"] == "DONE"
        over = error_of(lambda: compliance.execute(RESUME_RUN, {"id": run["id"]}))
        assert (over["code"], over["reason"]) == ("CONFLICT", "RUN_FINISHED")
