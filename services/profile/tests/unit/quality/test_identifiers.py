from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdm_common.errors import InvalidInput
from mdm_profile.domain.quality.identifiers import (
    Identifier,
    RawIdentifier,
    Scheme,
    normalise_identifiers,
)
from mdm_profile.domain.quality.report import QualityReport


def normalise(*raws: RawIdentifier) -> tuple[tuple[Identifier, ...], tuple[tuple[str, str], ...]]:
    return normalise_identifiers(raws, source="crm", report=QualityReport())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(RawIdentifier("TAX_ID_DE", "36 574 261 809"), Identifier("TAX_ID_DE", "DE", "36574261809")),
     (RawIdentifier("VAT_ID", "de 136 695 976"), Identifier("VAT_ID", "DE", "DE136695976")),
     (RawIdentifier("SOCIAL_SECURITY", "536-90-4399", "US"),
      Identifier("SOCIAL_SECURITY", "US", "536904399")),
     (RawIdentifier("SOCIAL_SECURITY", "1234567", "Australia"),
      Identifier("SOCIAL_SECURITY", "AU", "1234567")),
     (RawIdentifier("CUSTOMER_NUMBER", "k-1001"), Identifier("CUSTOMER_NUMBER", "crm", "K1001")),
     (RawIdentifier("CUSTOMER_NUMBER", "1001", "erp"),
      Identifier("CUSTOMER_NUMBER", "erp", "1001")),
     (RawIdentifier("LOYALTY_CARD", "4992 7398 7160 0000 0"),
      Identifier("LOYALTY_CARD", "", "49927398716000000"))],
)  # fmt: skip
def test_valid_identifiers(raw: RawIdentifier, expected: Identifier) -> None:
    assert normalise(raw) == ((expected,), ())


@pytest.mark.parametrize(
    "raw",
    [RawIdentifier("TAX_ID_DE", "36574261808"), RawIdentifier("VAT_ID", "DE136695977"),
     RawIdentifier("SOCIAL_SECURITY", "000-12-3456", "US"), RawIdentifier("CUSTOMER_NUMBER", "-"),
     RawIdentifier("LOYALTY_CARD", "49927398716000001")],
)  # fmt: skip
def test_a_failed_checksum_is_kept_raw_with_a_warning(raw: RawIdentifier) -> None:
    report = QualityReport()
    assert normalise_identifiers((raw,), source="crm", report=report) == (
        (),
        (("identifiers[0]", raw.value),),
    )
    assert [(i.field, i.code) for i in report.issues] == [("identifiers[0]", "INVALID")]


@pytest.mark.parametrize(
    ("raw", "field"),
    [(RawIdentifier("SHOE_SIZE", "42"), "identifiers.scheme"),
     (RawIdentifier("NATIONAL_ID", "T22000129"), "identifiers.issuer"),
     (RawIdentifier("PASSPORT", "C01X00T47", "Atlantis"), "identifiers.issuer"),
     (RawIdentifier("CUSTOMER_NUMBER", "1" * 65), "identifiers.value"),
     (RawIdentifier("LOYALTY_CARD", "123", "x" * 65), "identifiers.value")],
)  # fmt: skip
def test_contract_breaches_are_invalid_input(raw: RawIdentifier, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        normalise(raw)
    assert raised.value.field == field


def test_the_same_identifier_twice_is_one() -> None:
    found, _ = normalise(
        RawIdentifier("TAX_ID_DE", "36574261809"), RawIdentifier("TAX_ID_DE", "36 57 42 61 809")
    )
    assert len(found) == 1


def test_unique_per_person_schemes() -> None:
    from mdm_profile.domain.quality.identifiers import UNIQUE_PER_PERSON

    assert Scheme.CUSTOMER_NUMBER not in UNIQUE_PER_PERSON
    assert Scheme.TAX_ID_DE in UNIQUE_PER_PERSON


@given(st.text(max_size=40), st.sampled_from(list(Scheme)))
def test_any_value_is_valid_compact_or_kept_raw(value: str, scheme: Scheme) -> None:
    by_country = {Scheme.NATIONAL_ID, Scheme.PASSPORT, Scheme.SOCIAL_SECURITY}
    issuer = "DE" if scheme in by_country else None
    found, kept = normalise(RawIdentifier(scheme.value, value, issuer))
    assert len(found) + len(kept) == 1
    for identifier in found:
        assert identifier.value.isalnum()
        assert identifier.value == identifier.value.upper()
