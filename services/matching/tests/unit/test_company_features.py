"""Company features: the branch part of a name, folded and normalised values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdm_matching.domain.engine.companies.features import make_company_record, split_branch


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("mueller bau niederlassung koeln", ("mueller bau", "koeln")),
        ("mueller bau zweigniederlassung hamburg nord", ("mueller bau", "hamburg nord")),
        ("mueller bau niederlasung koeln", ("mueller bau", "koeln")),  # one typo
        ("mueller bau filiale", ("mueller bau", "")),  # a branch without its place
        ("mueller bauniederlassung koeln", ("mueller bau", "koeln")),  # a space lost
        ("mueller bau niederlassungkoeln", ("mueller bau", "koeln")),
        ("filiale schmidt", ("filiale schmidt", None)),  # the first word is the name's
        ("mueller bau", ("mueller bau", None)),
        ("Müller Bau Standort Köln", ("mueller bau", "koeln")),  # folded
    ],
)
def test_split_branch(key: str, expected: tuple[str, str | None]) -> None:
    assert split_branch(key) == expected


@given(st.lists(st.sampled_from(["mueller", "bau", "nord", "technik", "werk"]), min_size=1))
def test_a_name_without_branch_words_is_kept_whole(words: list[str]) -> None:
    assert split_branch(" ".join(words)) == (" ".join(words), None)


def test_make_company_record_normalises_for_comparison() -> None:
    record = make_company_record(
        "c1",
        name_key="mueller bau niederlassung koeln",
        register="HRB 12345 B",
        court="München",
        vat="de 123456789",
        domains=["Mueller-Bau.de", "mueller-bau.de"],
        postal_code="50 667",
        street="Hauptstraße",
        house_number="5 a",
        city="Köln",
    )
    assert (record.name, record.branch, record.is_branch) == ("mueller bau", "koeln", True)
    assert (record.register, record.court, record.vat) == ("HRB|12345 B", "muenchen", "DE123456789")
    assert record.domains == ("mueller-bau.de",)
    assert (record.postal_code, record.street, record.house_number, record.city) == (
        "50667",
        "hauptstr",
        "5a",
        "koeln",
    )
