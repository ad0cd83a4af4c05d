"""Company records cleaned by the persons' policy: a dirty value costs only itself."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mdm_common.errors import InvalidInput
from mdm_profile.domain.company_records import ParentReference, RawCompanyRecord, clean_company
from mdm_profile.domain.quality.company_ids import RegisterEntry
from mdm_profile.domain.records import RecordRejected
from mdm_profile.domain.sources import SourceSystem

CRM = SourceSystem("crm", 1)
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _clean(**values: str):  # type: ignore[no-untyped-def]
    return clean_company(RawCompanyRecord("c-1", **values), source=CRM, received_at=NOW)


def _issues(record) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(i.field, i.code) for i in record.quality.issues]


def test_a_clean_record() -> None:
    record = _clean(
        name="Müller Maschinenbau G.m.b.H.",
        registry_number="HRB 123456",
        registry_court="Amtsgericht München",
        vat_id="DE 136 695 976",
        lei="529900T8BM49AURSDO55",
        street="Industriestr. 5",
        postal_code="80331",
        city="München",
        country="DE",
        website="https://www.mueller-maschinenbau.de",
        email="info@mueller-maschinenbau.de",
        phone="089 1234567",
        industry_code="C 28.41",
    )
    assert (record.name, record.legal_form) == ("Müller Maschinenbau", "GmbH")
    assert record.register == RegisterEntry("München", "HRB", "123456")
    assert (record.vat_id, record.lei) == ("DE136695976", "529900T8BM49AURSDO55")
    assert record.domains == ("mueller-maschinenbau.de",)
    assert record.phone is not None
    assert record.phone.e164 == "+49891234567"
    assert record.industry_code == "28.41"
    assert [i for i in record.quality.issues if i.severity.value == "WARNING"] == []
    assert record.kept_raw == ()


def test_dirty_optional_values_are_kept_raw_and_flagged_not_a_refusal() -> None:
    record = _clean(
        name="Schmidt Logistik GmbH & Co. KG",
        vat_id="DE 136 695 977",
        lei="not-a-lei",
        website="n/a",
        email="info@@schmidt",
        registry_number="Handelsregister",
        industry_code="Spedition",
    )
    assert (record.name, record.legal_form) == ("Schmidt Logistik", "GmbH & Co. KG")
    assert (record.vat_id, record.lei, record.register, record.email) == (None, None, None, None)
    assert record.domains == ()
    assert dict(record.kept_raw) == {
        "vatId": "DE 136 695 977",
        "lei": "not-a-lei",
        "website": "n/a",
        "email": "info@@schmidt",
        "registryNumber": "Handelsregister",
        "industryCode": "Spedition",
    }
    assert set(_issues(record)) >= {
        ("vatId", "INVALID"),
        ("lei", "INVALID"),
        ("website", "INVALID"),
    }


def test_a_mass_mail_address_gives_no_domain() -> None:
    assert _clean(name="Bäckerei Schulz e.K.", email="baeckerei.schulz@web.de").domains == ()


def test_the_legal_form_field_wins_over_the_name_and_a_disagreement_is_flagged() -> None:
    record = _clean(name="Weber KG", legal_form="ohg")
    assert (record.name, record.legal_form) == ("Weber", "OHG")
    assert ("legalForm", "CONFLICT") in _issues(record)
    unknown = _clean(name="Weber KG", legal_form="Genossenschaftsbank")
    assert unknown.legal_form == "KG"
    assert dict(unknown.kept_raw) == {"legalForm": "Genossenschaftsbank"}


def test_a_record_with_only_an_identifier_is_kept() -> None:
    assert _clean(vat_id="DE136695976").vat_id == "DE136695976"


def test_a_record_that_names_no_company_is_refused() -> None:
    with pytest.raises(RecordRejected) as refused:
        _clean(website="https://example.de", vat_id="DE000")
    assert refused.value.report.errors[0].code == "NOT_IDENTIFIABLE"


def test_the_parent_as_the_source_names_it() -> None:
    record = _clean(
        name="Müller Service GmbH",
        parent_source_id="c-0",
        parent_vat_id="DE136695976",
        parent_registry_number="HRB 123456, AG München",
        parent_lei="bad",
    )
    assert record.parent == ParentReference(
        "c-0", "DE136695976", None, RegisterEntry("München", "HRB", "123456")
    )
    assert ("parentLei", "INVALID") in _issues(record)
    assert dict(record.kept_raw) == {"parentLei": "bad"}


def test_contract_breaches_are_refused_with_their_field() -> None:
    with pytest.raises(InvalidInput) as own:
        _clean(name="Loop GmbH", parent_source_id="c-1")
    assert own.value.field == "parentSourceId"
    with pytest.raises(InvalidInput) as long:
        _clean(name="x" * 301)
    assert long.value.field == "name"
    with pytest.raises(InvalidInput) as malformed:
        clean_company(RawCompanyRecord("a b", name="X AG"), source=CRM, received_at=NOW)
    assert malformed.value.field == "sourceId"
