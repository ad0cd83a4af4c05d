"""What an access export says beside the items: recipients, retention per category,
sources, merges in the document (pure, no servers)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

from mdm_common.contracts import DataCategory, PersonalDataItem
from mdm_consent.domain import export_document as doc
from mdm_consent.domain.access_export import ExportFormat, render
from mdm_consent.domain.fulfilment import Held
from mdm_consent.domain.processing import (
    DataSubjectCategory,
    ProcessingDescription,
    Recipient,
    RecipientKind,
    Safeguard,
    Transfer,
)
from mdm_consent.domain.requests import (
    DataSubjectRequest,
    IdentityCheck,
    ReceivedVia,
    RequestType,
)

from .export_items import COMPARED, ENGINE, T0, A, B, decision, item, profile_merge
from .facts import NEWSLETTER


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
        item(
            "consent",
            "request",
            {"type": "ACCESS", "receivedVia": "LETTER"},
            category=DataCategory.CONSENT,
        ),
        profile_merge("m1", B, actor=ENGINE),
        decision("m1", "AUTO_MERGE", actor=ENGINE, other=B, comparisons=COMPARED),
    )

    def _render(self, fmt: ExportFormat) -> str:
        purpose = replace(NEWSLETTER, data_categories=("email",))
        described = ProcessingDescription(
            "newsletter",
            (DataSubjectCategory.CUSTOMERS,),
            (Recipient("Cloud Inc.", RecipientKind.PROCESSOR, "US"),),
            (Transfer("US", "Cloud Inc.", Safeguard.STANDARD_CONTRACTUAL_CLAUSES, "SCC-7"),),
        )
        return render(
            _request(),
            self.ITEMS,
            [purpose],
            person_ids=(A, B),
            fmt=fmt,
            by="officer",
            now=T0,
            described={"newsletter": described},
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
        assert [(t["recipient"], t["documentRef"]) for t in document["transfers"]] == [
            ("Cloud Inc.", "SCC-7")
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
            "PURPOSE_RECIPIENTS",
            "CONSENT_RECORD_READERS",
            "CHANGE_STREAM_SUBSCRIBERS",
        ]
        by_category = {r["field"]: r["value"] for r in derived if r["origin"] == "recipients"}
        assert by_category["SOURCE_SYSTEMS"] == "shop"
        assert by_category["PURPOSE_RECIPIENTS"] == "Cloud Inc. (PROCESSOR, US)"
        assert "change stream" in by_category["CHANGE_STREAM_SUBSCRIBERS"]
        (transfer,) = [r for r in derived if r["origin"] == "transfer"]
        assert (transfer["field"], transfer["value"], transfer["purposes"]) == (
            "US",
            "Cloud Inc. (STANDARD_CONTRACTUAL_CLAUSES, SCC-7)",
            "newsletter",
        )
