"""A company's golden record from its records: identity from the most trusted source,
contact from the latest, domains from all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mdm_profile.domain.company_golden import build_company_golden
from mdm_profile.domain.company_records import RawCompanyRecord, clean_company
from mdm_profile.domain.sources import SourceSystem

T0 = datetime(2026, 12, 1, tzinfo=UTC)
PRIORITY = {"erp": 1, "crm": 2}


def _record(source: str, days: int, **values: str):  # type: ignore[no-untyped-def]
    raw = RawCompanyRecord(f"{source}-1", recorded_at=T0 + timedelta(days=days), **values)
    return clean_company(raw, source=SourceSystem(source, PRIORITY[source]), received_at=T0)


def test_identity_from_the_trusted_source_contact_from_the_latest() -> None:
    erp = _record(
        "erp",
        0,
        name="Müller Maschinenbau GmbH",
        vat_id="DE136695976",
        street="Alte Str. 1",
        postal_code="80331",
        city="München",
        website="mueller.de",
    )
    crm = _record(
        "crm",
        5,
        name="Mueller Maschinenbau",
        legal_form="AG",
        vat_id="",
        street="Neue Str. 2",
        postal_code="80333",
        city="München",
        email="info@mueller-maschinenbau.de",
        registry_number="HRB 1, AG München",
    )
    golden = build_company_golden([crm, erp], priority_of=PRIORITY.__getitem__)
    assert (golden.name, golden.legal_form) == ("Müller Maschinenbau GmbH", "GmbH")
    assert golden.name_key == "mueller maschinenbau"
    assert golden.vat_id == "DE136695976"
    assert str(golden.register) == "HRB 1, München"  # only the CRM has one
    assert golden.address is not None
    assert (golden.address.street, golden.address.house_number) == ("Neue Straße", "2")
    assert golden.domains == ("mueller.de", "mueller-maschinenbau.de")
    assert golden.sources == ("crm", "erp")
    assert golden.lineage["name"] == ("erp", "erp-1")
    assert golden.lineage["address"] == ("crm", "crm-1")
    assert golden.parents == ()


def test_the_order_of_the_records_does_not_matter() -> None:
    a = _record("crm", 1, name="A GmbH", website="a.de", parent_vat_id="DE136695976")
    b = _record("erp", 0, name="A AG", website="b.de", parent_source_id="p-1")
    first = build_company_golden([a, b], priority_of=PRIORITY.__getitem__)
    assert first == build_company_golden([b, a], priority_of=PRIORITY.__getitem__)
    assert [r.source for r, _ in first.parents] == ["erp", "crm"]  # the most trusted first
