"""What identifies a company: register entry, VAT id, LEI, domain, industry code."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdm_profile.domain.quality.company_ids import (
    REGISTERS,
    RegisterEntry,
    email_domain,
    normalise_industry_code,
    normalise_lei,
    normalise_vat_id,
    parse_register_entry,
    website_domain,
)
from mdm_profile.domain.quality.report import QualityReport


def _codes(report: QualityReport) -> list[tuple[str, str]]:
    return [(i.field, i.code) for i in report.issues]


@pytest.mark.parametrize(
    ("number", "court", "entry"),
    [
        ("HRB 123456", "München", RegisterEntry("München", "HRB", "123456")),
        ("Amtsgericht München HRB 123456", None, RegisterEntry("München", "HRB", "123456")),
        ("HRB123456, AG München", None, RegisterEntry("München", "HRB", "123456")),
        ("München, HRB 123 456", None, RegisterEntry("München", "HRB", "123456")),
        (
            "hrb 12345 b",
            "Amtsgericht Charlottenburg",
            RegisterEntry("Charlottenburg", "HRB", "12345 B"),
        ),
        ("HRA 4711", "Köln", RegisterEntry("Köln", "HRA", "4711")),
        ("GnR 88", "Registergericht Hamburg", RegisterEntry("Hamburg", "GnR", "88")),
        ("VR 1234", "Frankfurt am Main", RegisterEntry("Frankfurt am Main", "VR", "1234")),
        ("HRB Nr. 99", "Bonn", RegisterEntry("Bonn", "HRB", "99")),
    ],
)
def test_a_register_entry_is_read_however_it_is_written(
    number: str, court: str | None, entry: RegisterEntry
) -> None:
    report = QualityReport()
    assert parse_register_entry(number, court, report=report) == entry
    assert _codes(report) == []


def test_a_number_without_its_court_is_kept_and_said_to_repeat() -> None:
    report = QualityReport()
    assert parse_register_entry("HRB 5", None, report=report) == RegisterEntry(None, "HRB", "5")
    assert _codes(report) == [("registryCourt", "MISSING")]


def test_two_courts_that_disagree_are_flagged_and_the_given_one_kept() -> None:
    report = QualityReport()
    found = parse_register_entry("HRB 5, AG Köln", "Bonn", report=report)
    assert found == RegisterEntry("Bonn", "HRB", "5")
    assert _codes(report) == [("registryCourt", "CONFLICT")]


@pytest.mark.parametrize("number", ["12345", "Handelsregister", "HRC 123", "XHRB 123"])
def test_no_register_no_entry(number: str) -> None:
    report = QualityReport()
    assert parse_register_entry(number, "Köln", report=report) is None
    assert _codes(report) == [("registryNumber", "INVALID")]


@given(
    st.sampled_from(REGISTERS),
    st.integers(min_value=1, max_value=999_999),
    st.sampled_from(["", "B", "HB"]),
    st.sampled_from(["Köln", "Frankfurt am Main", "Berlin (Charlottenburg)"]),
)
def test_an_entry_written_out_is_read_back(
    register: str, number: int, suffix: str, court: str
) -> None:
    entry = RegisterEntry(court, register, f"{number} {suffix}" if suffix else str(number))
    for written, given_court in [(str(entry), None), (f"{register} {entry.number}", court)]:
        assert parse_register_entry(written, given_court, report=QualityReport()) == entry


def test_vat_ids_and_leis_are_compacted_and_checked() -> None:
    report = QualityReport()
    assert normalise_vat_id("DE 136 695 976", report=report) == "DE136695976"
    assert normalise_lei("5299 00T8BM49AURSDO55", report=report) == "529900T8BM49AURSDO55"
    assert _codes(report) == []
    assert normalise_vat_id("DE 136 695 977", report=report) is None
    assert normalise_lei("529900T8BM49AURSDO56", report=report) is None
    assert _codes(report) == [("vatId", "INVALID"), ("lei", "INVALID")]


@pytest.mark.parametrize(
    ("website", "domain"),
    [
        ("https://www.mueller-maschinenbau.de/kontakt", "mueller-maschinenbau.de"),
        ("www.Mueller-Maschinenbau.DE", "mueller-maschinenbau.de"),
        ("mueller-maschinenbau.de", "mueller-maschinenbau.de"),
        ("http://shop.example.co.uk:8080/?q=1", "shop.example.co.uk"),
        ("https://www.müller-bau.de", "xn--mller-bau-q9a.de"),
    ],
)
def test_the_domain_of_a_website(website: str, domain: str) -> None:
    assert website_domain(website, report=QualityReport()) == domain


@pytest.mark.parametrize("website", ["n/a", "http://", "localhost", "www.", "-", "https://a b.de"])
def test_a_website_without_a_domain_is_flagged(website: str) -> None:
    report = QualityReport()
    assert website_domain(website, report=report) is None
    assert _codes(report) == [("website", "INVALID")]


def test_a_mass_providers_domain_is_not_a_companys() -> None:
    assert email_domain("info@mueller-maschinenbau.de") == "mueller-maschinenbau.de"
    assert email_domain("mueller.maschinenbau@web.de") is None
    assert email_domain(None) is None


@pytest.mark.parametrize(
    ("raw", "code"), [("62.01", "62.01"), ("C 28.41", "28.41"), ("c28.41", "28.41"), ("47", "47")]
)
def test_industry_codes(raw: str, code: str) -> None:
    assert normalise_industry_code(raw, report=QualityReport()) == code


def test_an_unreadable_industry_code_is_flagged() -> None:
    report = QualityReport()
    assert normalise_industry_code("Maschinenbau", report=report) is None
    assert _codes(report) == [("industryCode", "INVALID")]
