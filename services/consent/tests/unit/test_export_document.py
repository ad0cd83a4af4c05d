"""What an access export says beside the items: recipients, retention per category,
sources, merges in the document (pure, no servers)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from mdm_common.contracts import DataCategory, PersonalDataItem
from mdm_consent.domain import export_document as doc
from mdm_consent.domain.fulfilment import ExportFormat, Held, render
from mdm_consent.domain.requests import (
    DataSubjectRequest,
    IdentityCheck,
    ReceivedVia,
    RequestType,
)

from .facts import NEWSLETTER

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
A, B, C = "a" * 8 + "-0000-4000-8000-" + "0" * 12, "b" * 36, "c" * 36
ENGINE = "service:matching-engine"
COMPARED: list[dict[str, Any]] = [
    {"field": "givenName", "level": "exact", "weight": 3.1},
    {
        "field": "familyName",
        "level": "similar (Jaro-Winkler >= 0.8, one edit or initial)",
        "weight": 2.0,
    },
    {"field": "birthDate", "level": "exact", "weight": 9.5},
    {"field": "email", "level": "exact", "weight": 12.25},
    {"field": "phone", "level": None, "weight": 0.0},
]


def _item(service: str, origin: str, value: dict[str, Any], **more: Any) -> Held:
    category = more.pop("category", DataCategory.RELATIONSHIPS)
    field = more.pop("field", origin)
    return Held(service, PersonalDataItem(A, origin, category, field, json.dumps(value), **more))


def _profile_merge(
    merge_id: str,
    merged: str,
    *,
    actor: str,
    reason: str = "",
    state: str = "ACTIVE",
    at: datetime = T0,
) -> Held:
    value = {
        "mergeId": merge_id,
        "survivorId": A,
        "mergedId": merged,
        "actor": actor,
        "reason": reason,
        "state": state,
    }
    return _item("profile", "merge", value, recorded_at=at)


def _decision(
    merge_id: str,
    verdict: str,
    *,
    actor: str,
    other: str,
    note: str = "",
    task: str | None = None,
    comparisons: list[dict[str, Any]] | None = None,
    at: datetime = T0,
) -> Held:
    value = {
        "decisionId": f"d-{verdict}-{merge_id}",
        "verdict": verdict,
        "at": at.isoformat(),
        "actor": actor,
        "note": note,
        "otherPersonId": other,
        "taskId": task,
        "mergeId": merge_id,
        "score": 0.9981,
        "comparisons": comparisons or [],
        "guards": [],
        "modelVersion": "2026-05-01T00:00:00/m1" if comparisons else None,
    }
    return _item("matching", "decision", value, category=DataCategory.MATCHING, field="decision")


class TestRecipients:
    def test_source_systems_readers_and_the_change_stream_placeholder(self) -> None:
        record = Held(
            "profile",
            PersonalDataItem(
                A, "sourceRecord", "source_record", "sourceRecord", "crm|1", source="crm"
            ),
        )
        golden = Held(
            "profile",
            PersonalDataItem(A, "golden", "email", "email", "x@example.org", source="shop"),
        )
        reads = [
            _item(
                "consent",
                "readAudit",
                {"reader": "officer-1", "roles": ["compliance"]},
                category=DataCategory.CONSENT,
                field="consent history",
                source_id="a1",
                recorded_at=T0,
            ),
            _item(
                "consent",
                "readAudit",
                {"reader": "officer-1", "roles": ["admin"]},
                category=DataCategory.CONSENT,
                field="data-subject export",
                source_id="a2",
                recorded_at=T0 + timedelta(hours=1),
            ),
        ]
        found = doc.recipients([record, golden, *reads]).document()
        assert [e["category"] for e in found] == [
            "SOURCE_SYSTEMS",
            "CONSENT_RECORD_READERS",
            "CHANGE_STREAM_SUBSCRIBERS",
        ]
        assert found[0]["recipients"] == ["crm", "shop"]
        assert found[1]["recipients"] == [
            {
                "reader": "officer-1",
                "roles": ["admin", "compliance"],
                "operations": ["consent history", "data-subject export"],
                "reads": 2,
                "lastReadAt": (T0 + timedelta(hours=1)).isoformat(),
            }
        ]
        assert found[2]["recipients"] == []
        assert "no change stream yet" in found[2]["description"]


class TestRetention:
    def test_per_category_the_binding_purposes_and_the_longest_retention_or_the_criteria(
        self,
    ) -> None:
        rows = [
            {"category": "email", "purposes": ["newsletter"]},
            {"category": "email", "purposes": ["billing"]},
            {"category": "birth_date", "purposes": []},
            {"category": "matching", "purposes": []},
            {"category": "consent", "purposes": ["newsletter"]},
        ]
        kept = doc.retention(rows, {"newsletter": 730, "billing": 3650})
        assert [(k.category, k.purposes, k.retention_days) for k in kept] == [
            ("birth_date", (), None),
            ("email", ("billing", "newsletter"), 3650),
            ("matching", (), None),
            ("consent", ("newsletter",), 730),
        ]
        criteria = {k.category: k.criteria for k in kept}
        assert criteria["email"] == doc.PURPOSE_BOUND
        assert criteria["birth_date"] == doc.UNBOUND
        assert "audit trail" in criteria["matching"]
        assert "Art. 7(1)" in criteria["consent"]


def _request() -> DataSubjectRequest:
    return DataSubjectRequest(
        id="r1",
        type=RequestType.ACCESS,
        person_id=A,
        received_at=T0,
        received_via=ReceivedVia.LETTER,
        identity_check=IdentityCheck.ID_DOCUMENT,
        submitted_at=T0,
        submitted_by="officer",
    )


class TestTheDocument:
    ITEMS = (
        Held(
            "profile",
            PersonalDataItem(
                A, "golden", "email", "email", "x@example.org", source="shop", source_id="s1"
            ),
        ),
        Held("profile", PersonalDataItem(A, "golden", "identity", "givenName", "Hedwig")),
        Held("matching", PersonalDataItem(A, "subject", "email", "email", "x@example.org")),
        _item(
            "consent",
            "request",
            {"type": "ACCESS", "receivedVia": "LETTER"},
            category=DataCategory.CONSENT,
        ),
        _profile_merge("m1", B, actor=ENGINE),
        _decision("m1", "AUTO_MERGE", actor=ENGINE, other=B, comparisons=COMPARED),
    )

    def _render(self, fmt: ExportFormat) -> str:
        purpose = replace(NEWSLETTER, data_categories=("email",))
        return render(
            _request(), self.ITEMS, [purpose], person_ids=(A, B), fmt=fmt, by="officer", now=T0
        ).content

    def test_json_has_merges_recipients_retention_and_a_source_for_each_item_it_knows(
        self,
    ) -> None:
        document = json.loads(self._render(ExportFormat.JSON))
        assert [r["article"] for r in document["rights"]] == [
            "GDPR Art. 16",
            "GDPR Art. 17",
            "GDPR Art. 18",
            "GDPR Art. 21",
            "GDPR Art. 77",
        ]
        (merge,) = document["merges"]
        assert (merge["mergeId"], merge["decidedBy"], merge["probability"]) == (
            "m1",
            "MATCHING_MODEL",
            0.9981,
        )
        assert merge["explanation"].startswith("Merged automatically by the matching model")
        assert {"field": "email", "level": "exact", "weight": 12.25} in merge["comparisons"]
        assert document["recipients"][0]["recipients"] == ["shop"]
        assert {r["category"]: r["retentionDays"] for r in document["retention"]} == {
            "identity": None,
            "email": 730,
            "relationships": None,
            "matching": None,
            "consent": None,
        }
        sources = {(i["service"], i["origin"], i["field"]): i["source"] for i in document["items"]}
        assert sources == {
            ("profile", "golden", "email"): "shop",
            ("profile", "golden", "givenName"): None,  # kept before lineage: not known
            ("matching", "subject", "email"): "profile",
            ("consent", "request", "request"): "the data subject (LETTER)",
            ("profile", "merge", "merge"): "profile",
            ("matching", "decision", "decision"): "matching",
        }

    def test_csv_lists_the_merge_in_plain_words_and_the_retention_per_category(self) -> None:
        rows = list(csv.DictReader(io.StringIO(self._render(ExportFormat.CSV))))
        derived = [r for r in rows if r["service"] == "export"]
        (merge,) = [r for r in derived if r["origin"] == "mergeEvidence"]
        assert (merge["personId"], merge["sourceId"], merge["source"]) == (A, "m1", "matching")
        assert "e-mail equal" in merge["value"]
        assert "probability 0.998" in merge["value"]
        email = next(r for r in derived if r["origin"] == "retention" and r["category"] == "email")
        assert (email["purposes"], email["retentionDays"]) == ("newsletter", "730")
        assert [r["field"] for r in derived if r["origin"] == "recipients"] == [
            "SOURCE_SYSTEMS",
            "CONSENT_RECORD_READERS",
            "CHANGE_STREAM_SUBSCRIBERS",
        ]
