from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdm_profile.domain.quality.addresses import (
    PostalAddress,
    address_key,
    normalise_address,
    normalise_house_number,
    normalise_postal_code,
    normalise_street,
)
from mdm_profile.domain.quality.report import QualityReport


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Hauptstr.", "Hauptstraße"), ("Hauptstrasse", "Hauptstraße"), ("Hauptstraße", "Hauptstraße"),
     ("Berliner Str.", "Berliner Straße"), ("Berliner Strasse", "Berliner Straße"),
     ("Str. des 17. Juni", "Straße des 17. Juni"), ("Am  Stadtpark", "Am Stadtpark"),
     ("Strandweg", "Strandweg")],
)  # fmt: skip
def test_street_spellings(raw: str, expected: str) -> None:
    assert normalise_street(raw) == expected


@given(st.text(max_size=40))
def test_street_normalisation_is_idempotent(raw: str) -> None:
    once = normalise_street(raw)
    assert normalise_street(once) == once


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12", "12"), ("12 A", "12a"), ("12a", "12a"), ("12 - 14", "12-14"), ("7/9", "7/9"),
     ("x", None), ("", None)],
)  # fmt: skip
def test_house_numbers(raw: str, expected: str | None) -> None:
    assert normalise_house_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "country", "expected", "valid"),
    [("10115", "DE", "10115", True), ("1067", "DE", "01067", True),
     ("1234", "DE", "01234", True), ("123456", "DE", None, False),
     ("1010", "AT", "1010", True), ("1234ab", "NL", "1234 AB", True),
     ("00950", "PL", "00-950", True), ("sw1a1aa", "GB", "SW1A 1AA", True),
     ("8001", "CH", "8001", True)],
)  # fmt: skip
def test_postal_codes(raw: str, country: str, expected: str | None, valid: bool) -> None:
    report = QualityReport()
    assert normalise_postal_code(raw, country, report=report) == expected
    assert (not any(i.code == "INVALID_FOR_COUNTRY" for i in report.issues)) == valid


class TestAddress:
    def test_one_line_street_and_country_name(self) -> None:
        report = QualityReport()
        address = normalise_address(
            street="Hauptstr. 12 a", house_number=None, postal_code="1067", city=" Dresden ",
            country="Deutschland", report=report,
        )  # fmt: skip
        assert address == PostalAddress("Hauptstraße", "12a", "01067", "Dresden", "DE")
        assert {f.code for f in report.fixes} >= {"SPLIT_FROM_STREET", "STREET_NORMALISED"}

    def test_spelling_variants_share_one_key(self) -> None:
        def key(street: str, number: str, city: str) -> str:
            address = normalise_address(
                street=street, house_number=number, postal_code="80331", city=city,
                country="DE", report=QualityReport(),
            )  # fmt: skip
            assert address is not None
            return address_key(address)

        assert key("Münchner Str.", "5 B", "München") == key("Muenchner Strasse", "5b", "MUENCHEN")
        assert key("Münchner Str.", "5", "München") != key("Münchner Str.", "7", "München")

    def test_missing_parts_are_reported(self) -> None:
        report = QualityReport()
        normalise_address(street="Hauptstraße", house_number=None, postal_code=None, city=None,
                          country=None, report=report)  # fmt: skip
        codes = {(i.field, i.code) for i in report.issues}
        assert {("houseNumber", "MISSING"), ("postalCode", "MISSING"), ("city", "MISSING"),
                ("country", "ASSUMED")} <= codes  # fmt: skip

    def test_no_address_at_all(self) -> None:
        assert normalise_address(street=None, house_number=None, postal_code=None, city=None,
                                 country="DE", report=QualityReport()) is None  # fmt: skip
