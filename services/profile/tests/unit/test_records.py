from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mdm_common.errors import InvalidInput
from mdm_profile.domain.records import RawRecord, RecordRejected, clean
from mdm_profile.domain.sources import SourceRegistry, SourceSystem

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CRM = SourceSystem("crm", 1)


def codes(report: object) -> set[tuple[str, str]]:
    return {(i.field, i.code) for i in report.issues}  # type: ignore[attr-defined]


def test_a_messy_german_record_comes_out_clean() -> None:
    record = clean(
        RawRecord(
            source_id="K-1001", full_name="HERR PROF. DR. HANS-JÜRGEN MÜLLER JUN.",
            email=" Hans.Mueller@Beispiel.DE ", phone="0171 / 123 45 67",
            street="Königstr. 12 A", postal_code="1067", city="Dresden", country="Deutschland",
            birth_date="12.04.1961", language="Deutsch",
        ),
        source=CRM, received_at=NOW,
    )  # fmt: skip
    assert (record.given_name, record.family_name) == ("Hans-Jürgen", "Müller")
    assert (record.titles, record.suffix, record.salutation) == (("Prof. Dr.",), "jun.", "Herr")
    assert record.email == "Hans.Mueller@beispiel.de"
    assert record.phone is not None
    assert (record.phone.e164, record.phone.kind) == ("+491711234567", "MOBILE")
    assert record.address is not None
    assert (record.address.street, record.address.house_number) == ("Königstraße", "12a")
    assert (record.address.postal_code, record.address.country) == ("01067", "DE")
    assert record.birth_date == date(1961, 4, 12)
    assert record.language == "de"
    assert record.recorded_at == NOW
    fixes = {f.code for f in record.quality.fixes}
    assert {"NAME_SPLIT", "TITLE_EXTRACTED", "SUFFIX_EXTRACTED", "CASE_FIXED", "EMAIL_NORMALISED",
            "PHONE_E164", "STREET_NORMALISED", "LEADING_ZERO_RESTORED",
            "DATE_FORMAT_NORMALISED", "LANGUAGE_ISO_CODE"} <= fixes  # fmt: skip


def test_missing_mandatory_fields_are_flagged_not_invented() -> None:
    record = clean(RawRecord(source_id="1", family_name="Weber"), source=CRM, received_at=NOW)
    assert record.language is None
    assert record.salutation is None
    assert {("language", "MISSING"), ("givenName", "MISSING"), ("contact", "NO_CONTACT_POINT"),
            ("salutation", "MISSING")} <= codes(record.quality)  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "field", "code"),
    [(RawRecord("1", family_name="A", email="not-an-address"), "email", "INVALID"),
     (RawRecord("1", family_name="A", phone="ruf mich an"), "phone", "UNPARSEABLE"),
     (RawRecord("1", family_name="A", phone="+49 123"), "phone", "INVALID"),
     (RawRecord("1", given_name="Anna"), "familyName", "MISSING")],
)  # fmt: skip
def test_unusable_records_are_rejected(raw: RawRecord, field: str, code: str) -> None:
    with pytest.raises(RecordRejected) as raised:
        clean(raw, source=CRM, received_at=NOW)
    assert raised.value.field == field
    assert (field, code) in {(i.field, i.code) for i in raised.value.report.errors}


@pytest.mark.parametrize(
    ("raw", "field"),
    [(RawRecord("has space", family_name="A"), "sourceId"),
     (RawRecord("", family_name="A"), "sourceId"),
     (RawRecord("1", family_name="A" * 301), "familyName")],
)  # fmt: skip
def test_malformed_ids_and_oversized_fields(raw: RawRecord, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        clean(raw, source=CRM, received_at=NOW)
    assert raised.value.field == field


@pytest.mark.parametrize("birth", ["31.02.1980", "2090-01-01", "1780-01-01", "gestern"])
def test_implausible_birth_dates_are_dropped_with_a_warning(birth: str) -> None:
    record = clean(RawRecord("1", family_name="A", birth_date=birth), source=CRM, received_at=NOW)
    assert record.birth_date is None
    assert any(i.field == "birthDate" for i in record.quality.issues)


def test_national_phone_numbers_are_read_in_the_address_country() -> None:
    record = clean(RawRecord("1", family_name="A", phone="01 234 56 78", country="AT", city="Wien"),
                   source=CRM, received_at=NOW)  # fmt: skip
    assert record.phone is not None
    assert record.phone.e164 == "+4312345678"


def test_unknown_sources_are_refused_by_name() -> None:
    with pytest.raises(
        InvalidInput, match=r"Unknown source system 'fax'\. Known: crm, shop"
    ) as raised:
        SourceRegistry({"crm": 1, "shop": 2}).get("fax")
    assert raised.value.field == "source"
