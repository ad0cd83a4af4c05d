"""Compliance views through the gateway: history document, figures, records of processing."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterator

import pytest

from mdm_infra.client import GatewayClient, GraphQLError

from .test_consent import NOTICE, codes, event, import_past, new_person, new_purpose

DOCUMENT = """
query Document($personId: ID!) {
  consentHistoryDocument(personId: $personId) { personId generatedBy mediaType text }
}
"""
FIGURES = """
query Figures($purpose: String!, $since: DateTime!, $until: DateTime!, $bucket: TimeBucket!) {
  consentFigures(purpose: $purpose, since: $since, until: $until, bucket: $bucket) {
    purpose bucket personsWithEvents
    buckets { start end counts { type count } }
    allowedNow { channel persons }
  }
}
"""
RECORDS = """
query Records {
  recordsOfProcessing {
    generatedBy csv
    records { code name legalBasis channels dataCategories retentionDays directMarketing
              noticeVersion noticeSha256 }
  }
}
"""
READS = """
query Reads($personId: ID!) { consentReads(personId: $personId) { reader operation } }
"""
VIEW_READS = "query { complianceViewReads(first: 50) { reader operation scope } }"


@pytest.fixture
def compliance(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("compliance")


@pytest.fixture
def app(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("app")


@pytest.fixture
def officer(compliance: GatewayClient, token_for: Callable[..., str]) -> Iterator[GatewayClient]:
    client = GatewayClient(compliance.url, token_for("compliance", subject="officer-9"))
    yield client
    client.close()


def figures(client: GatewayClient, purpose: str, since: str, until: str,
            bucket: str = "WEEK") -> dict[str, object]:  # fmt: skip
    found: dict[str, object] = client.execute(FIGURES, {
        "purpose": purpose, "since": since, "until": until, "bucket": bucket,
    })["consentFigures"]  # fmt: skip
    return found


class TestRoles:
    def test_app_may_read_none_of_the_views(self, app: GatewayClient) -> None:
        person = new_person(app)
        for query, variables in (
            (DOCUMENT, {"personId": person}),
            (FIGURES, {"purpose": "profiling", "since": "2025-01-01T00:00:00Z",
                       "until": "2025-02-01T00:00:00Z", "bucket": "DAY"}),
            (RECORDS, {}),
            (VIEW_READS, {}),
        ):  # fmt: skip
            body = app.post(query, variables).json()
            assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


def past(compliance: GatewayClient, values: dict[str, object]) -> dict[str, str]:
    """An event of the past: imported by a compliance officer."""
    return import_past(compliance, values)[0]


class TestHistoryDocument:
    def test_the_document_holds_each_event_and_the_exact_notice_text(
        self, app: GatewayClient, compliance: GatewayClient, officer: GatewayClient
    ) -> None:
        purpose, person = new_purpose(compliance), new_person(app)
        past(compliance, event(person, purpose, occurredAt="2025-03-03T10:00:00+00:00"))
        past(compliance, event(person, purpose, "WITHDRAWN", noticeVersion=None,
                          occurredAt="2025-03-04T10:00:00+00:00"))  # fmt: skip
        found = officer.execute(DOCUMENT, {"personId": person})["consentHistoryDocument"]
        assert (found["personId"], found["generatedBy"]) == (person, "officer-9")
        text = found["text"]
        assert f"person {person}" in text
        assert "by officer-9" in text
        assert text.index("1. GRANTED, 2025-03-03T10:00:00Z") < text.index("2. WITHDRAWN")
        assert text.count(NOTICE) == 1
        assert hashlib.sha256(NOTICE.encode()).hexdigest() in text
        for proof in ("shop-newsletter-box", "WEB_FORM", "DATA_SUBJECT", "submission-1",
                      "Language: de", "Channel: EMAIL", f"{purpose} (Offers)"):  # fmt: skip
            assert proof in text
        reads = compliance.execute(READS, {"personId": person})["consentReads"]
        assert {"reader": "officer-9", "operation": "consent history document"} in reads

    def test_a_bad_person_id_is_bad_input(self, compliance: GatewayClient) -> None:
        with pytest.raises(GraphQLError) as raised:
            compliance.execute(DOCUMENT, {"personId": "not-a-person"})
        assert codes(raised) == ["BAD_USER_INPUT"]


class TestFigures:
    def test_figures_of_a_small_known_history(
        self, app: GatewayClient, compliance: GatewayClient
    ) -> None:
        purpose = new_purpose(compliance)
        a, b, c = new_person(app), new_person(app), new_person(app)
        past(compliance, event(a, purpose, occurredAt="2025-03-03T10:00:00+00:00"))
        past(compliance, event(a, purpose, channel="PHONE", occurredAt="2025-03-04T10:00:00+00:00"))
        past(compliance, event(b, purpose, occurredAt="2025-03-05T10:00:00+00:00"))
        past(compliance, event(b, purpose, "WITHDRAWN", noticeVersion=None,
                          occurredAt="2025-03-12T10:00:00+00:00"))  # fmt: skip
        pending = past(compliance, event(c, purpose, "PENDING_DOUBLE_OPT_IN",
                                    occurredAt="2025-03-13T10:00:00+00:00"))  # fmt: skip
        past(compliance, event(c, purpose, "CONFIRMED", channel=None, noticeVersion=None,
                          confirms=pending["id"], method="EMAIL_LINK",
                          occurredAt="2025-03-14T10:00:00+00:00"))  # fmt: skip
        # Outside the range: counted for "allowed now", not in the buckets.
        past(compliance, event(c, purpose, channel="POST", occurredAt="2025-04-01T10:00:00+00:00"))
        found = figures(compliance, purpose, "2025-03-03T00:00:00Z", "2025-03-17T00:00:00Z")
        nonzero = [
            {x["type"]: x["count"] for x in bucket["counts"] if x["count"]}  # type: ignore[index]
            for bucket in found["buckets"]  # type: ignore[attr-defined]
        ]
        assert nonzero == [
            {"GRANTED": 3},
            {"WITHDRAWN": 1, "PENDING_DOUBLE_OPT_IN": 1, "CONFIRMED": 1},
        ]
        assert found["personsWithEvents"] == 3
        assert found["allowedNow"] == [
            {"channel": "EMAIL", "persons": 2}, {"channel": "PHONE", "persons": 1},
            {"channel": "POST", "persons": 1},
        ]  # fmt: skip
        days = figures(compliance, purpose, "2025-03-03T00:00:00Z", "2025-03-05T00:00:00Z",
                       "DAY")["buckets"]  # fmt: skip
        assert len(days) == 2  # type: ignore[arg-type]
        views = compliance.execute(VIEW_READS)["complianceViewReads"]
        assert any(r["operation"] == "consent figures" and purpose in r["scope"] for r in views)

    @pytest.mark.parametrize(
        ("purpose", "until", "code"),
        [
            ("unknown-purpose", "2025-03-17T00:00:00Z", "NOT_FOUND"),
            ("profiling", "2025-03-01T00:00:00Z", "BAD_USER_INPUT"),
            ("profiling", "2099-03-01T00:00:00Z", "BAD_USER_INPUT"),
        ],
    )
    def test_bad_input_is_a_typed_error(
        self, compliance: GatewayClient, purpose: str, until: str, code: str
    ) -> None:
        with pytest.raises(GraphQLError) as raised:
            figures(compliance, purpose, "2025-03-03T00:00:00Z", until, "DAY")
        assert codes(raised) == [code]


class TestRecordsOfProcessing:
    def test_every_purpose_as_records_and_as_csv(
        self, compliance: GatewayClient, officer: GatewayClient
    ) -> None:
        purpose = new_purpose(compliance)
        found = officer.execute(RECORDS)["recordsOfProcessing"]
        assert found["generatedBy"] == "officer-9"
        by_code = {r["code"]: r for r in found["records"]}
        assert by_code[purpose] == {
            "code": purpose, "name": "Offers", "legalBasis": "CONSENT",
            "channels": ["EMAIL", "PHONE", "POST"], "dataCategories": ["identity", "email"],
            "retentionDays": 730, "directMarketing": True, "noticeVersion": 1,
            "noticeSha256": hashlib.sha256(NOTICE.encode()).hexdigest(),
        }  # fmt: skip
        rows = list(csv.DictReader(io.StringIO(found["csv"], newline="")))
        assert [r["code"] for r in rows] == [r["code"] for r in found["records"]]
        assert len(rows) == len({r["code"] for r in rows})
        row = next(r for r in rows if r["code"] == purpose)
        assert (row["legal_basis"], row["channels"], row["notice_sha256"]) == (
            "CONSENT", "EMAIL;PHONE;POST", hashlib.sha256(NOTICE.encode()).hexdigest(),
        )  # fmt: skip
        views = compliance.execute(VIEW_READS)["complianceViewReads"]
        assert any(r["reader"] == "officer-9" and r["operation"] == "records of processing"
                   for r in views)  # fmt: skip
