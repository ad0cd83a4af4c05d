"""Identity guards: each fires on the pairs it is meant for, and only on them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdm_matching.domain.engine.comparisons import compare
from mdm_matching.domain.engine.features import MatchRecord, make_record
from mdm_matching.domain.engine.guards import (
    ALIKE_ONLY_BY_CODE,
    BIRTH_DATES_DIFFER,
    GIVEN_NAMES_DIFFER,
    PAIRED_FORMS,
    SUFFIXES_DIFFER,
    TAX_IDS_DIFFER,
    alike_only_by_code,
    conflicts_of,
    paired_given_names,
)
from mdm_matching.domain.engine.identifiers import DIFFERENT
from mdm_matching.domain.engine.model import Scorer, default_parameters

HOME = {"street": "Hauptstraße", "house_number": "3", "postal_code": "10115", "city": "Berlin"}
TAX_ID = ("TAX_ID_DE", "DE", "65929970489")
OTHER_TAX_ID = ("TAX_ID_DE", "DE", "26954371827")


def _conflicts(a: MatchRecord, b: MatchRecord) -> tuple[str, ...]:
    found = conflicts_of(compare(a, b), a, b)
    assert found == conflicts_of(compare(b, a), b, a)  # the order of a pair never matters
    return found


def _person(given: str, *, birth: str = "1975-03-14", **fields: object) -> MatchRecord:
    return make_record("x", given=given, family="Kessel", birth=birth, **HOME, **fields)  # type: ignore[arg-type]


class TestMaleAndFemaleForms:
    @pytest.mark.parametrize(
        ("a", "b"),
        [("Paul", "Paula"), ("Peter", "Petra"), ("Michael", "Michaela"), ("Stefan", "Stefanie"),
         ("Christian", "Christiane"), ("Christian", "Christina"), ("Andreas", "Andrea"),
         ("Alexander", "Alexandra"), ("Paula Marie", "Paul"), ("Jan", "Jana"),
         ("Mario", "Maria"), ("Sven", "Svenja"), ("Julius", "Julia")],
    )  # fmt: skip
    def test_two_known_names_of_opposite_gender_one_formed_from_the_other(
        self, a: str, b: str
    ) -> None:
        x, y = make_record("a", given=a).given, make_record("b", given=b).given
        assert paired_given_names(x, y)
        assert paired_given_names(y, x)

    @pytest.mark.parametrize(
        ("a", "b"),
        [("Marisa", "Marisaa"), ("Luise", "Luisee"),  # a vowel appended: no name
         ("Dorothea", "Dorothe"),  # a letter dropped: a rare spelling, but female as well
         ("Rebecca", "Rebecc"), ("Sabine", "Sabiine"), ("Jürgen", "Jürgena"),
         ("Anna", "Anna Maria"), ("Jürgen", "Juergen"), ("Paul", "Paul"), ("Lena", "Lea"),
         ("Paula", "Pauline"),  # two female names
         ("Kim", "Kima"), ("", "Paula")],
    )  # fmt: skip
    def test_slips_and_names_of_one_gender_are_no_pair(self, a: str, b: str) -> None:
        x, y = make_record("a", given=a).given, make_record("b", given=b).given
        assert not paired_given_names(x, y)
        assert not paired_given_names(y, x)

    def test_the_names_the_data_knows_confirm_the_lexicon(self) -> None:
        known = {"paul", "paula", "christian"}.__contains__
        assert paired_given_names("paul", "paula", is_name=known)
        # Christiane is in the lexicon, but nobody in this data is called so: a slip.
        assert not paired_given_names("christian", "christiane", is_name=known)

    def test_twins_named_paul_and_paula_are_not_merged_automatically(self) -> None:
        paul, paula = _person("Paul"), _person("Paula")
        score = Scorer(default_parameters()).score(paul, paula)
        assert score.probability > 0.99  # the fields alone would merge them
        assert score.conflicts == (PAIRED_FORMS,)

    @pytest.mark.parametrize(
        ("a", "b"), [("Marisa", "Marisaa"), ("Luise", "Luisee"), ("Dorothea", "Dorothe")]
    )
    def test_a_duplicate_with_a_slip_in_the_given_name_is_not_vetoed(self, a: str, b: str) -> None:
        assert _conflicts(_person(a), _person(b)) == ()


@given(st.text(alphabet="abeilnoprsu ", max_size=10), st.text(alphabet="abeilnoprsu ", max_size=10))
def test_paired_forms_are_symmetric_and_never_one_name(x: str, y: str) -> None:
    assert paired_given_names(x, y) == paired_given_names(y, x)
    assert not paired_given_names(x, x)


class TestAlikeOnlyByCode:
    @pytest.mark.parametrize(
        ("a", "b"), [("Nicole", "Michael"), ("Anna", "Ina"), ("Christoph", "Kristof")]
    )
    def test_two_known_names_sharing_only_their_code(self, a: str, b: str) -> None:
        x, y = make_record("a", given=a), make_record("b", given=b)
        assert alike_only_by_code(x.given, y.given, x.given_code, y.given_code)
        assert alike_only_by_code(y.given, x.given, y.given_code, x.given_code)
        assert _conflicts(_person(a), _person(b)) == (ALIKE_ONLY_BY_CODE,)

    @pytest.mark.parametrize(
        ("a", "b"),
        [("Sam", "Sma"),  # one slip
         ("Carsten", "Karsten"), ("Claus", "Klaus"),  # alike in writing, too
         ("Nicole", "Nikkohl"),  # a misspelling that kept the sound: nobody is called so
         ("Anna Maria", "Anna"), ("Sabine", "Jürgen")],  # a shared part; level "different"
    )  # fmt: skip
    def test_slips_spellings_and_unrelated_names_are_not_meant(self, a: str, b: str) -> None:
        x, y = make_record("a", given=a), make_record("b", given=b)
        assert not alike_only_by_code(x.given, y.given, x.given_code, y.given_code)
        assert not alike_only_by_code(y.given, x.given, y.given_code, x.given_code)

    def test_a_name_the_data_knows_counts_as_a_name(self) -> None:
        x, y = make_record("a", given="Nicole"), make_record("b", given="Nikkohl")
        known = {"nikkohl"}.__contains__
        assert alike_only_by_code(x.given, y.given, x.given_code, y.given_code, is_name=known)

    def test_twins_named_nicole_and_michael_are_not_merged_automatically(self) -> None:
        home = {"street": "Am Markt", "house_number": "143", "postal_code": "20095",
                "city": "Hamburg", "birth": "1998-02-05"}  # fmt: skip
        nicole = make_record("a", given="Nicole", family="von der Heide", **home)  # type: ignore[arg-type]
        michael = make_record("b", given="Michael", family="von der Heide", **home)  # type: ignore[arg-type]
        assert Scorer(default_parameters()).score(nicole, michael).vetoed


@given(
    st.text(alphabet="abcdeiklmnorst ", max_size=10),
    st.text(alphabet="abcdeiklmnorst ", max_size=10),
)
def test_alike_only_by_code_is_symmetric(x: str, y: str) -> None:
    a, b = make_record("a", given=x), make_record("b", given=y)
    assert alike_only_by_code(a.given, b.given, a.given_code, b.given_code) == alike_only_by_code(
        b.given, a.given, b.given_code, a.given_code
    )


class TestGivenNamesDiffer:
    def test_two_different_names(self) -> None:
        assert _conflicts(_person("Sabine"), _person("Jürgen")) == (GIVEN_NAMES_DIFFER,)

    @pytest.mark.parametrize(
        ("a", "b"),
        [("Sabine", "Sabien"), ("J.", "Jürgen"), ("Anna Maria", "Maria"), ("Thomas", "Tomas")],
    )
    def test_slips_initials_and_second_names_are_no_other_name(self, a: str, b: str) -> None:
        assert _conflicts(_person(a), _person(b)) == ()

    def test_an_unknown_given_name_is_no_evidence(self) -> None:
        assert _conflicts(_person("Sabine"), make_record("y", family="Kessel", **HOME)) == ()


class TestBirthDatesDiffer:
    @pytest.mark.parametrize("other", ["2001-05-02", "1975-11-29"])
    def test_another_year_or_another_day_and_month(self, other: str) -> None:
        assert _conflicts(_person("Anna"), _person("Anna", birth=other)) == (BIRTH_DATES_DIFFER,)

    @pytest.mark.parametrize(
        "other",
        ["1975-03-15",  # one typo
         "1975-14-03",  # day and month swapped (an impossible month: kept as digits)
         "1975-03-28",  # same year and month
         "1900-01-01", "1111-11-11"],  # placeholders of systems that know no date
    )  # fmt: skip
    def test_typos_swaps_and_placeholders_are_no_other_date(self, other: str) -> None:
        assert _conflicts(_person("Anna"), _person("Anna", birth=other)) == ()

    def test_two_placeholders_are_no_agreement_either(self) -> None:
        a, b = _person("Anna", birth="1900-01-01"), _person("Anna", birth="1900-01-01")
        assert compare(a, b)[2] is None


class TestGenerationalSuffixes:
    def test_junior_and_senior(self) -> None:
        jun, sen = _person("Klaus", suffix="jun."), _person("Klaus", suffix="sen.")
        assert _conflicts(jun, sen) == (SUFFIXES_DIFFER,)

    @pytest.mark.parametrize(("a", "b"), [("jun.", "Jr."), ("sen.", None), (None, None)])
    def test_spellings_of_one_suffix_or_a_missing_one_do_not_differ(
        self, a: str | None, b: str | None
    ) -> None:
        assert _conflicts(_person("Klaus", suffix=a), _person("Klaus", suffix=b)) == ()


class TestUniqueIdentifiers:
    def test_two_different_tax_ids_are_two_persons(self) -> None:
        a = _person("Anna", identifiers=[TAX_ID])
        b = _person("Anna", identifiers=[OTHER_TAX_ID])
        assert _conflicts(a, b) == (TAX_IDS_DIFFER,)

    def test_other_social_security_numbers_are_evidence_not_a_guard(self) -> None:
        # A source holds the wrong person's number, too (FEBRL: 6 % of the duplicates).
        a = _person("Anna", identifiers=[("SOCIAL_SECURITY", "AU", "1234567")])
        b = _person("Anna", identifiers=[("SOCIAL_SECURITY", "AU", "7654321")])
        assert _conflicts(a, b) == ()
        assert compare(a, b)[-1] == DIFFERENT

    @pytest.mark.parametrize(
        "other",
        [("CUSTOMER_NUMBER", "crm", "C100234"),  # another scheme: nothing to compare
         ("TAX_ID_DE", "DE", "65929970498"),  # one typo apart: no proof of two persons
         ("PASSPORT", "DE", "C01X00T47")],
    )  # fmt: skip
    def test_other_schemes_and_one_typo_are_no_guard(self, other: tuple[str, str, str]) -> None:
        a = _person("Anna", identifiers=[TAX_ID])
        b = _person("Anna", identifiers=[other])
        assert _conflicts(a, b) == ()

    def test_two_customer_numbers_of_one_system_are_no_guard(self) -> None:
        # One person with two accounts in one system: the duplicate we look for.
        a = _person("Anna", identifiers=[("CUSTOMER_NUMBER", "crm", "C100234")])
        b = _person("Anna", identifiers=[("CUSTOMER_NUMBER", "crm", "C200871")])
        assert _conflicts(a, b) == ()

    @pytest.mark.parametrize(
        ("b_given", "b_birth"),
        [("Hans", "1975-03-14"),  # a nickname of Johannes: "given names differ"
         ("Johannes", "1957-08-14")],  # a birth date typed badly
    )  # fmt: skip
    def test_the_same_tax_id_outweighs_a_single_guard(self, b_given: str, b_birth: str) -> None:
        a = _person("Johannes", identifiers=[TAX_ID])
        b = _person(b_given, birth=b_birth, identifiers=[TAX_ID])
        without_ids = _person("Johannes"), _person(b_given, birth=b_birth)
        assert len(_conflicts(*without_ids)) == 1
        assert _conflicts(a, b) == ()

    def test_the_same_tax_id_does_not_outweigh_two_guards(self) -> None:
        # Another given name and another birth date: a child with a parent's id.
        parent = _person("Johannes", identifiers=[TAX_ID])
        child = _person("Lena", birth="2004-06-01", identifiers=[TAX_ID])
        assert _conflicts(parent, child) == (GIVEN_NAMES_DIFFER, BIRTH_DATES_DIFFER)

    def test_the_same_customer_number_outweighs_no_guard(self) -> None:
        number = ("CUSTOMER_NUMBER", "crm", "C100234")
        a = _person("Sabine", identifiers=[number])
        b = _person("Jürgen", identifiers=[number])
        assert _conflicts(a, b) == (GIVEN_NAMES_DIFFER,)
