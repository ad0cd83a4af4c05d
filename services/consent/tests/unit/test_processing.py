"""The record of processing (GDPR Art. 30): validation of the controller and of the
purposes' descriptions, the gaps a record shows, and its JSON and CSV documents."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from mdm_common.errors import InvalidInput
from mdm_consent.domain.models import Channel, LegalBasis, NoticeVersion, Purpose
from mdm_consent.domain.processing import (
    Controller,
    DataSubjectCategory,
    Gap,
    ProcessingDescription,
    Recipient,
    RecipientKind,
    Safeguard,
    Transfer,
    checked_controller,
    checked_description,
    gaps_of,
    record_of,
)
from mdm_consent.domain.processing_report import CSV_COLUMNS, records_csv, records_json
from mdm_consent.domain.purposes import PurposeDraft

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
NOTICE = NoticeVersion("offers", 1, "de", NoticeVersion.hash_of("Text"), False, NOW, "o")
PURPOSE = Purpose(
    code="offers",
    name="Offers",
    description="By e-mail",
    legal_basis=LegalBasis.CONSENT,
    channels=(Channel.EMAIL,),
    data_categories=("identity", "email"),
    retention_days=730,
    direct_marketing=True,
    consent_validity_days=None,
    created_at=NOW,
    created_by="o",
    notices=(NOTICE,),
)
CONTROLLER = Controller(
    name="Beispiel GmbH",
    address="Hauptstraße 1, 04109 Leipzig",
    email="datenschutz@example.org",
    security_measures_ref="TOM v3, 2026-10-01",
    dpo_name="Dr. Datenschutz",
    dpo_email="dpo@example.org",
)
MAILER = Recipient("Mailversand AG", RecipientKind.PROCESSOR, "DE")
US_CLOUD = Recipient("Cloud Inc.", RecipientKind.PROCESSOR, "US")
DESCRIPTION = ProcessingDescription(
    purpose="offers",
    data_subject_categories=(DataSubjectCategory.CUSTOMERS,),
    recipients=(MAILER,),
)


def draft(categories: tuple[str, ...]) -> PurposeDraft:
    return PurposeDraft(
        code="offers",
        name="Offers",
        description="By e-mail",
        legal_basis=LegalBasis.CONSENT,
        channels=(Channel.EMAIL,),
        data_categories=categories,
        retention_days=730,
        direct_marketing=True,
    )


class TestDataCategories:
    def test_a_purpose_names_only_categories_the_platform_holds(self) -> None:
        purpose = draft(("identity", "email", "identifiers")).to_purpose(now=NOW, created_by="o")
        assert purpose.data_categories == ("identity", "email", "identifiers")

    def test_free_text_categories_are_refused_with_the_known_ones(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            draft(("email", "contact")).to_purpose(now=NOW, created_by="o")
        assert raised.value.field == "dataCategories"
        assert raised.value.details["reason"] == "UNKNOWN_DATA_CATEGORY"
        assert raised.value.details["unknown"] == ["contact"]
        assert "postal_address" in str(raised.value)


class TestValidation:
    def test_a_controller_needs_name_address_email_and_its_security_measures(self) -> None:
        assert checked_controller(CONTROLLER).dpo_email == "dpo@example.org"
        for field, change in (
            ("name", {"name": " "}),
            ("email", {"email": "not-an-address"}),
            ("securityMeasuresRef", {"security_measures_ref": ""}),
            ("dpoEmail", {"dpo_email": "nope"}),
        ):
            with pytest.raises(InvalidInput) as raised:
                checked_controller(replace(CONTROLLER, **change))  # type: ignore[arg-type]
            assert raised.value.field == field

    def test_countries_are_iso_codes_and_a_transfer_leaves_the_eea(self) -> None:
        checked = checked_description(
            replace(
                DESCRIPTION,
                data_subject_categories=(DataSubjectCategory.CUSTOMERS,) * 2,
                recipients=(replace(US_CLOUD, country="us"),),
                transfers=(
                    Transfer("us", "Cloud Inc.", Safeguard.STANDARD_CONTRACTUAL_CLAUSES, "DPA"),
                ),
            )
        )
        assert (checked.recipients[0].country, checked.transfers[0].country) == ("US", "US")
        assert checked.data_subject_categories == (DataSubjectCategory.CUSTOMERS,)
        with pytest.raises(InvalidInput) as raised:
            checked_description(replace(DESCRIPTION, recipients=(replace(MAILER, country="XX"),)))
        assert raised.value.details["reason"] == "UNKNOWN_COUNTRY"
        with pytest.raises(InvalidInput) as raised:
            checked_description(
                replace(DESCRIPTION, transfers=(Transfer("NO", "x", Safeguard.DEROGATION, "r"),))
            )
        assert raised.value.details["reason"] == "NOT_A_THIRD_COUNTRY"

    def test_a_description_names_whose_data_it_is(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            checked_description(replace(DESCRIPTION, data_subject_categories=()))
        assert raised.value.field == "dataSubjectCategories"


class TestGaps:
    def test_a_described_purpose_with_a_notice_is_complete(self) -> None:
        assert gaps_of(PURPOSE, DESCRIPTION) == ()

    def test_what_is_missing_is_named(self) -> None:
        assert gaps_of(replace(PURPOSE, notices=()), None) == (Gap.NO_NOTICE, Gap.NOT_DESCRIBED)
        assert gaps_of(PURPOSE, replace(DESCRIPTION, recipients=())) == (Gap.NO_RECIPIENTS,)

    def test_a_recipient_outside_the_eea_needs_a_transfer_safeguard(self) -> None:
        abroad = replace(DESCRIPTION, recipients=(MAILER, US_CLOUD))
        assert gaps_of(PURPOSE, abroad) == (Gap.TRANSFER_WITHOUT_SAFEGUARD,)
        covered = replace(
            abroad, transfers=(Transfer("US", "Cloud Inc.", Safeguard.ADEQUACY_DECISION, "DPF"),)
        )
        assert gaps_of(PURPOSE, covered) == ()

    def test_a_record_without_a_controller_says_so(self) -> None:
        record = record_of([PURPOSE], {}, None, by="officer", now=NOW)
        assert record.gaps == (Gap.NO_CONTROLLER,)
        assert record.records[0].gaps == (Gap.NOT_DESCRIBED,)


class TestDocuments:
    def record(self) -> object:
        description = replace(
            DESCRIPTION,
            recipients=(MAILER, US_CLOUD),
            transfers=(
                Transfer("US", "Cloud Inc.", Safeguard.STANDARD_CONTRACTUAL_CLAUSES, "DPA 7"),
            ),
            revision=2,
        )
        return record_of([PURPOSE], {"offers": description}, CONTROLLER, by="officer", now=NOW)

    def test_json_holds_every_part_of_article_30(self) -> None:
        document = json.loads(records_json(self.record()))  # type: ignore[arg-type]
        assert document["controller"]["name"] == "Beispiel GmbH"
        assert document["controller"]["dataProtectionOfficer"]["email"] == "dpo@example.org"
        assert document["controller"]["securityMeasuresRef"] == "TOM v3, 2026-10-01"
        [entry] = document["processing"]
        assert entry["dataSubjectCategories"] == ["CUSTOMERS"]
        assert entry["dataCategories"][1] == {"code": "email", "description": "e-mail addresses"}
        assert entry["recipients"][1] == {
            "name": "Cloud Inc.",
            "kind": "PROCESSOR",
            "country": "US",
        }
        assert entry["thirdCountryTransfers"][0]["safeguard"] == "STANDARD_CONTRACTUAL_CLAUSES"
        assert (entry["retentionDays"], entry["gaps"], document["gaps"]) == (730, [], [])

    def test_csv_is_one_row_per_purpose_that_the_csv_module_reads_back(self) -> None:
        rows = list(csv.DictReader(io.StringIO(records_csv(self.record()))))  # type: ignore[arg-type]
        assert list(rows[0]) == list(CSV_COLUMNS)
        assert len(rows) == 1
        row = rows[0]
        assert row["recipients"] == "Mailversand AG (PROCESSOR, DE);Cloud Inc. (PROCESSOR, US)"
        assert (
            row["third_country_transfers"] == "US: Cloud Inc. (STANDARD_CONTRACTUAL_CLAUSES, DPA 7)"
        )
        assert (row["data_categories"], row["controller"]) == ("identity;email", "Beispiel GmbH")
        assert row["security_measures_ref"] == "TOM v3, 2026-10-01"
