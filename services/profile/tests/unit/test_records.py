from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mdm_common.errors import InvalidInput
from mdm_profile.domain.quality.identifiers import Identifier, RawIdentifier
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


class TestNoCustomerRefusedForOneBadValue:
    @pytest.mark.parametrize(
        ("raw", "field", "code"),
        [
            (RawRecord("1", family_name="A", email="a..b@web.de"), "email", "INVALID"),
            (RawRecord("1", family_name="A", phone="ruf mich an"), "phone", "UNPARSEABLE"),
            (RawRecord("1", family_name="A", phone="0171 12"), "phone", "INVALID"),
            (RawRecord("1", family_name="A", postal_code="123456", city="Berlin"), "postalCode",
             "INVALID_FOR_COUNTRY"),
            (RawRecord("1", family_name="A", birth_date="gestern"), "birthDate", "INVALID"),
            (RawRecord("1", family_name="A", birth_date="2090-01-01"), "birthDate", "IN_FUTURE"),
        ],
    )  # fmt: skip
    def test_an_invalid_value_is_kept_raw_and_flagged(
        self, raw: RawRecord, field: str, code: str
    ) -> None:
        record = clean(raw, source=CRM, received_at=NOW)
        assert (field, code) in codes(record.quality)
        assert not record.quality.errors
        sent = {"email": raw.email, "phone": raw.phone, "postalCode": raw.postal_code,
                "birthDate": raw.birth_date}[field]  # fmt: skip
        assert (field, sent) in record.kept_raw
        # ... and used nowhere: not as the clean value
        assert record.email is None
        assert record.phone is None
        assert record.birth_date is None
        assert record.birth_date_partial is None
        assert record.address is None or record.address.postal_code is None

    def test_a_record_without_family_name_is_stored(self) -> None:
        record = clean(RawRecord("1", given_name="Anna", email="anna@example.de"), source=CRM,
                       received_at=NOW)  # fmt: skip
        assert (record.given_name, record.family_name) == ("Anna", "")
        assert ("familyName", "MISSING") in codes(record.quality)
        assert record.kept_raw == ()

    def test_valid_values_leave_nothing_raw(self) -> None:
        record = clean(
            RawRecord("1", family_name="A", email="a@example.de", phone="030 1234567",
                      birth_date="12.04.1961", postal_code="10115", city="Berlin"),
            source=CRM, received_at=NOW,
        )  # fmt: skip
        assert record.kept_raw == ()
        assert record.birth_date == date(1961, 4, 12)


class TestRefusal:
    @pytest.mark.parametrize(
        "raw",
        [
            RawRecord("1"),
            RawRecord("1", email="a..b@web.de", phone="12", birth_date="1980-01-01"),
            RawRecord("1", city="Berlin", language="de", salutation="Frau"),
        ],
    )
    def test_a_record_that_identifies_nobody_is_refused(self, raw: RawRecord) -> None:
        with pytest.raises(RecordRejected) as raised:
            clean(raw, source=CRM, received_at=NOW)
        assert raised.value.field == "record"
        assert [i.code for i in raised.value.report.errors] == ["NOT_IDENTIFIABLE"]

    @pytest.mark.parametrize(
        "raw",
        [
            RawRecord("1", given_name="Anna"),
            RawRecord("1", email="anna@example.de"),
            RawRecord("1", phone="030 1234567"),
            RawRecord("1", street="Hauptstr. 1", city="Berlin"),
            RawRecord("1", identifiers=(RawIdentifier("CUSTOMER_NUMBER", "K-1001"),)),
        ],
    )
    def test_a_name_a_contact_point_or_an_identifier_is_enough(self, raw: RawRecord) -> None:
        assert not clean(raw, source=CRM, received_at=NOW).quality.errors


class TestPartialBirthDates:
    @pytest.mark.parametrize(
        ("raw", "partial"),
        [("1987-13-45", "1987"), ("1987-05-92", "1987-05"), ("31.02.1980", "1980-02"),
         ("1987", "1987"), ("05/1987", "1987-05")],
    )  # fmt: skip
    def test_the_plausible_part_survives(self, raw: str, partial: str) -> None:
        record = clean(RawRecord("1", family_name="A", birth_date=raw), source=CRM, received_at=NOW)
        assert (record.birth_date, record.birth_date_partial) == (None, partial)
        assert ("birthDate", raw) in record.kept_raw


class TestIdentifiers:
    def test_valid_identifiers_are_compacted_and_invalid_ones_kept_raw(self) -> None:
        raw = RawRecord(
            "1",
            family_name="A",
            identifiers=(
                RawIdentifier("TAX_ID_DE", "36 574 261 809"),
                RawIdentifier("TAX_ID_DE", "36574261808"),
                RawIdentifier("CUSTOMER_NUMBER", "k-1001"),
            ),
        )
        record = clean(raw, source=CRM, received_at=NOW)
        assert record.identifiers == (
            Identifier("CUSTOMER_NUMBER", "crm", "K1001"),
            Identifier("TAX_ID_DE", "DE", "36574261809"),
        )
        assert record.kept_raw == (("identifiers[1]", "36574261808"),)
        assert ("identifiers[1]", "INVALID") in codes(record.quality)


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


@pytest.mark.parametrize("birth", ["2090-01-01", "1780-01-01", "gestern"])
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
