from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mdm_profile.domain.quality.names import PersonName, parse_name
from mdm_profile.domain.quality.report import QualityReport, Severity


def parse(**kwargs: str) -> tuple[PersonName, QualityReport]:
    report = QualityReport()
    return parse_name(**kwargs, report=report), report


@pytest.mark.parametrize(
    ("full", "expected"),
    [
        ("Anna Müller", PersonName("Anna", "Müller")),
        ("Anna Maria Müller", PersonName("Anna Maria", "Müller")),
        ("Müller, Anna", PersonName("Anna", "Müller")),
        ("MÜLLER, ANNA", PersonName("Anna", "Müller")),
        ("anna müller-lüdenscheidt", PersonName("Anna", "Müller-Lüdenscheidt")),
        ("Prof. Dr. Anna Müller", PersonName("Anna", "Müller", ("Prof. Dr.",))),
        ("Dr.med. Jens Ölkers", PersonName("Jens", "Ölkers", ("Dr. med.",))),
        ("Dipl.-Ing. Karl Weber", PersonName("Karl", "Weber", ("Dipl.-Ing.",))),
        ("Prof. Dr. Dipl.-Ing. Eva Roth", PersonName("Eva", "Roth", ("Prof. Dr.", "Dipl.-Ing."))),
        ("Hans Meier jun.", PersonName("Hans", "Meier", suffix="jun.")),
        ("Meier jun., Hans", PersonName("Hans", "Meier", suffix="jun.")),
        ("Ludwig van Beethoven", PersonName("Ludwig", "van Beethoven")),
        ("Karl-Heinz von der Heide", PersonName("Karl-Heinz", "von der Heide")),
        ("KARL VON DER HEIDE", PersonName("Karl", "von der Heide")),
        ("Herr Karl Weber", PersonName("Karl", "Weber", salutation="Herr")),
        ("Sean O'Brien", PersonName("Sean", "O'Brien")),
        ("McDonald", PersonName("", "McDonald")),
    ],
)
def test_full_names(full: str, expected: PersonName) -> None:
    assert parse(full=full)[0] == expected


def test_separate_fields_win_and_keep_spelling() -> None:
    name, report = parse(given=" Jürgen ", family="Groß", full="ignored Name")
    assert name == PersonName("Jürgen", "Groß")
    assert [f.code for f in report.fixes] == []


def test_titles_and_suffixes_in_separate_fields() -> None:
    name, report = parse(given="Dr. Anna", family="Meier sen.")
    assert name == PersonName("Anna", "Meier", ("Dr.",), "sen.")
    assert {f.code for f in report.fixes} == {"TITLE_EXTRACTED", "SUFFIX_EXTRACTED"}


class TestNeverGuess:
    @pytest.mark.parametrize("given_name", ["Anna", "Hans", "Andrea", "Kim", "Maria"])
    def test_no_salutation_from_a_first_name(self, given_name: str) -> None:
        name, report = parse(given=given_name, family="Schmidt")
        assert name.salutation is None
        assert any(i.field == "salutation" and i.code == "MISSING" for i in report.issues)

    def test_an_explicit_salutation_is_kept(self) -> None:
        assert parse(given="Kim", family="Lee", salutation="frau")[0].salutation == "Frau"

    def test_an_unknown_salutation_is_reported_not_invented(self) -> None:
        name, report = parse(given="Kim", family="Lee", salutation="Sir Excellency")
        assert name.salutation is None
        assert any(i.code == "SALUTATION_UNKNOWN" for i in report.issues)


def test_a_missing_family_name_is_a_warning() -> None:
    name, report = parse(given="Anna")
    assert (name.given, name.family) == ("Anna", "")
    assert ("familyName", "MISSING", Severity.WARNING) in {
        (i.field, i.code, i.severity) for i in report.issues
    }
    assert not report.errors


name_words = st.text(alphabet=st.characters(categories=["Lu", "Ll"]), min_size=1, max_size=12)


def comparable(words: list[str]) -> list[str]:
    # Upper first: case fixing may turn a dotless i into "I" and "ß" into "SS", as it should.
    return [
        unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", w).upper().casefold())
        for w in words
    ]


@given(st.lists(name_words, min_size=2, max_size=4))
def test_splitting_loses_no_word(words: list[str]) -> None:
    name, _ = parse(full=" ".join(words))
    assume(not (name.titles or name.suffix or name.salutation))
    assert comparable(f"{name.given} {name.family}".split()) == comparable(words)


@given(name_words, name_words)
def test_parsing_a_parsed_name_changes_nothing(given_name: str, family: str) -> None:
    first, _ = parse(given=given_name, family=family)
    assume(not (first.titles or first.suffix or first.salutation))
    second, report = parse(given=first.given, family=first.family)
    assert second == first
    assert not any(f.code == "CASE_FIXED" for f in report.fixes)


@given(st.text(max_size=60))
def test_never_crashes_and_severity_is_typed(text: str) -> None:
    _, report = parse(full=text)
    assert all(isinstance(i.severity, Severity) for i in report.issues)
