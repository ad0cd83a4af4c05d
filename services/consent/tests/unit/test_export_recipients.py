"""The recipients and third-country transfers an access export names (pure, no servers)."""

from __future__ import annotations

from datetime import timedelta

from mdm_common.contracts import DataCategory, PersonalDataItem
from mdm_consent.domain import export_recipients as rec
from mdm_consent.domain.fulfilment import Held
from mdm_consent.domain.processing import (
    DataSubjectCategory,
    ProcessingDescription,
    Recipient,
    RecipientKind,
    Safeguard,
    Transfer,
)

from .export_items import T0, A, item


class TestRecipients:
    def test_source_systems_readers_and_no_change_stream_subscriber(self) -> None:
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
            item(
                "consent",
                "readAudit",
                {"reader": "officer-1", "roles": ["compliance"]},
                category=DataCategory.CONSENT,
                field="consent history",
                source_id="a1",
                recorded_at=T0,
            ),
            item(
                "consent",
                "readAudit",
                {"reader": "officer-1", "roles": ["admin"]},
                category=DataCategory.CONSENT,
                field="data-subject export",
                source_id="a2",
                recorded_at=T0 + timedelta(hours=1),
            ),
        ]
        found = rec.recipients([record, golden, *reads]).document()
        assert [e["category"] for e in found] == [
            "SOURCE_SYSTEMS",
            "PURPOSE_RECIPIENTS",
            "CONSENT_RECORD_READERS",
            "CHANGE_STREAM_SUBSCRIBERS",
        ]
        assert found[0]["recipients"] == ["crm", "shop"]
        assert found[2]["recipients"] == [
            {
                "reader": "officer-1",
                "roles": ["admin", "compliance"],
                "operations": ["consent history", "data-subject export"],
                "reads": 2,
                "lastReadAt": (T0 + timedelta(hours=1)).isoformat(),
            }
        ]
        assert found[3]["recipients"] == []
        assert "change stream" in found[3]["description"]

    def test_the_change_stream_subscribers_the_person_was_sent_to(self) -> None:
        told = {
            "subscriberId": "s1",
            "purpose": "newsletter",
            "firstSentAt": T0.isoformat(),
            "stoppedAt": None,
            "erasureNotifiedAt": None,
        }
        sent = item(
            "distribution",
            "recipient",
            told,
            category=DataCategory.DISTRIBUTION,
            field="mailer",
            recorded_at=T0,
        )
        state = item(
            "distribution",
            "distributionState",
            {},
            category=DataCategory.DISTRIBUTION,
            field="digests",
        )
        found = rec.recipients([sent, state]).document()
        assert found[3]["recipients"] == [{"name": "mailer"} | told]

    def test_the_recipients_and_transfers_of_the_purposes_that_apply(self) -> None:
        mail = ProcessingDescription(
            "newsletter",
            (DataSubjectCategory.CUSTOMERS,),
            (
                Recipient("Mailversand AG", RecipientKind.PROCESSOR, "DE"),
                Recipient("Cloud Inc.", RecipientKind.PROCESSOR, "US"),
            ),
            (Transfer("US", "Cloud Inc.", Safeguard.STANDARD_CONTRACTUAL_CLAUSES, "SCC-7"),),
        )
        billing = ProcessingDescription(
            "billing",
            (DataSubjectCategory.CUSTOMERS,),
            (Recipient("Mailversand AG", RecipientKind.PROCESSOR, "DE"),),
        )
        unused = ProcessingDescription(
            "lottery", (), (Recipient("Glück GmbH", RecipientKind.THIRD_PARTY, "DE"),)
        )
        found = rec.recipients(
            [],
            purposes=["newsletter", "billing", "profiling"],
            described={"newsletter": mail, "billing": billing, "lottery": unused},
        )
        assert [(r.name, r.country, r.purposes) for r in found.purpose_recipients] == [
            ("Cloud Inc.", "US", ("newsletter",)),
            ("Mailversand AG", "DE", ("billing", "newsletter")),
        ]
        assert found.undescribed == ("profiling",)
        assert found.transfers_document() == [
            {
                "country": "US",
                "recipient": "Cloud Inc.",
                "safeguard": "STANDARD_CONTRACTUAL_CLAUSES",
                "documentRef": "SCC-7",
                "purposes": ["newsletter"],
            }
        ]
        (entry,) = [e for e in found.document() if e["category"] == "PURPOSE_RECIPIENTS"]
        assert entry["purposesNotDescribed"] == ["profiling"]
        assert entry["recipients"][1] == {
            "name": "Mailversand AG",
            "kind": "PROCESSOR",
            "country": "DE",
            "purposes": ["billing", "newsletter"],
        }
